#!/usr/bin/python3
"""Register USER over TCP with Digest MD5 and keep the connection open (a test
tool for `server connections`): prints the final status line, then waits
until stdin is closed or the peer closes.

usage: tcpreg.py PORT USER PASSWORD DOMAIN"""
import hashlib
import re
import socket
import sys

port, user, pw, dom = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port))
lport = s.getsockname()[1]
buf = b""


def md5(t):
    return hashlib.md5(t.encode()).hexdigest()


def request(cseq, auth=""):
    msg = (f"REGISTER sip:{dom} SIP/2.0\r\n"
           f"Via: SIP/2.0/TCP 127.0.0.1:{lport};branch=z9hG4bK-tcpreg{cseq}\r\n"
           f"From: <sip:{user}@{dom}>;tag=tcpreg\r\nTo: <sip:{user}@{dom}>\r\n"
           f"Call-ID: tcpreg-{user}@127.0.0.1\r\nCSeq: {cseq} REGISTER\r\n"
           f"Contact: <sip:{user}@127.0.0.1:{lport};transport=tcp>\r\n"
           f"{auth}Max-Forwards: 70\r\nExpires: 300\r\n"
           f"User-Agent: tcpreg/1\r\nContent-Length: 0\r\n\r\n")
    s.sendall(msg.encode())


def response():
    global buf
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            sys.exit("connection closed")
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    return head.decode()


request(1)
r = response()
realm = re.search(r'realm="([^"]+)"', r).group(1)
nonce = re.search(r'nonce="([^"]+)"', r).group(1)
uri = f"sip:{dom}"
resp = md5(f"{md5(f'{user}:{realm}:{pw}')}:{nonce}:{md5(f'REGISTER:{uri}')}")
request(2, f'Authorization: Digest username="{user}", realm="{realm}", nonce="{nonce}", '
        f'uri="{uri}", response="{resp}", algorithm=MD5\r\n')
print(response().split("\r\n", 1)[0], flush=True)
sys.stdin.read()
