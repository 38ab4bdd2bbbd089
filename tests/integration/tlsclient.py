#!/usr/bin/env python3
"""A small SIP-over-TLS client for the tests: registers with Digest
(SHA-256 or MD5, whichever the test asks for, answering the server's
challenge for that algorithm), sends one MESSAGE, and answers MESSAGEs that
arrive over its TLS connection.  It verifies the server certificate against
the CA file given.  Prints one line per event for the test to check.

usage: tlsclient.py HOST PORT CAFILE USER PASSWORD DOMAIN ALG TO TEXT WAIT-SECONDS
"""
import hashlib
import re
import socket
import ssl
import sys
import time
import uuid

host, port, cafile, user, pw, domain, alg, to, text, wait = sys.argv[1:11]
port = int(port)
wait = float(wait)
H = hashlib.sha256 if alg == "SHA-256" else hashlib.md5


def h(s):
    return H(s.encode()).hexdigest()


ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
raw = socket.create_connection((host, port), timeout=5)
conn = ctx.wrap_socket(raw)
lport = conn.getsockname()[1]
print("tls", conn.version())
buf = b""
tag = uuid.uuid4().hex[:8]
cseq = [0]


def send(data):
    conn.sendall(data.encode())


def read_msg(timeout):
    global buf
    conn.settimeout(timeout)
    while True:
        if b"\r\n\r\n" in buf:
            head, rest = buf.split(b"\r\n\r\n", 1)
            m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
            n = int(m.group(1)) if m else 0
            if len(rest) >= n:
                buf = rest[n:]
                return head.decode(), rest[:n].decode()
        chunk = conn.recv(65536)
        if not chunk:
            raise EOFError
        buf += chunk


def request(method, ruri, extra="", body="", callid=None):
    cseq[0] += 1
    callid = callid or uuid.uuid4().hex
    msg = (f"{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:{lport};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
           f"From: <sip:{user}@{domain}>;tag={tag}\r\nTo: <{ruri if method != 'REGISTER' else f'sip:{user}@{domain}'}>\r\n"
           f"Call-ID: {callid}\r\nCSeq: {cseq[0]} {method}\r\nMax-Forwards: 70\r\n{extra}"
           f"Content-Length: {len(body)}\r\n\r\n{body}")
    send(msg)
    return callid


def final(expect_method):
    while True:
        head, body = read_msg(5)
        first = head.split("\r\n", 1)[0]
        if first.startswith("SIP/2.0"):
            code = int(first.split()[1])
            if code >= 200:
                return code, head
        else:
            answer(head, body)


def answer(head, body):
    lines = head.split("\r\n")
    keep = [l for l in lines[1:] if re.match(r"(?i)^(via|from|to|call-id|cseq)\s*:", l)]
    keep = [l + (";tag=" + tag if re.match(r"(?i)^to\s*:", l) and "tag=" not in l else "") for l in keep]
    send("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n")
    print("received", lines[0].split()[0], body.strip())


def authorize(method, ruri, head, hname):
    chal = [l for l in head.split("\r\n") if l.lower().startswith(hname.lower() + ":")]
    chal = [c for c in chal if f"algorithm={alg}" in c]
    if not chal:
        print("no challenge for", alg)
        sys.exit(1)
    c = chal[0]
    realm = re.search(r'realm="([^"]*)"', c).group(1)
    nonce = re.search(r'nonce="([^"]*)"', c).group(1)
    cnonce, nc = uuid.uuid4().hex[:8], "00000001"
    ha1 = h(f"{user}:{realm}:{pw}")
    resp = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{h(f'{method}:{ruri}')}")
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{ruri}", '
            f'response="{resp}", algorithm={alg}, qop=auth, nc={nc}, cnonce="{cnonce}"')


contact = f"Contact: <sip:{user}@127.0.0.1:{lport};transport=tls>\r\nExpires: 600\r\n"
reg_callid = request("REGISTER", f"sip:{domain}", contact)
code, head = final("REGISTER")
if code == 401:
    auth = authorize("REGISTER", f"sip:{domain}", head, "WWW-Authenticate")
    request("REGISTER", f"sip:{domain}", contact + f"Authorization: {auth}\r\n", callid=reg_callid)
    code, head = final("REGISTER")
print("register", code)
if to != "-":
    mid = request("MESSAGE", f"sip:{to}", "Content-Type: text/plain\r\n", text)
    code, head = final("MESSAGE")
    if code == 407:
        auth = authorize("MESSAGE", f"sip:{to}", head, "Proxy-Authenticate")
        request("MESSAGE", f"sip:{to}", f"Content-Type: text/plain\r\nProxy-Authorization: {auth}\r\n", text, callid=mid)
        code, head = final("MESSAGE")
    print("message", code)
end = time.time() + wait
while time.time() < end:
    try:
        head, body = read_msg(max(0.1, end - time.time()))
        if not head.startswith("SIP/2.0"):
            answer(head, body)
    except (socket.timeout, TimeoutError, ssl.SSLError):
        break
    except EOFError:
        break
sys.stdout.flush()
