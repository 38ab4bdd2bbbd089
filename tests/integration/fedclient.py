#!/usr/bin/python3
"""A partner server as greenwichd sees it: connects over TLS (optionally with a
client certificate), sends one MESSAGE from FROM to TO and prints the status of
the final answer ("status 480").

usage: fedclient.py HOST PORT CAFILE CERT|- KEY|- FROM TO TEXT
"""
import re
import socket
import ssl
import sys
import uuid

host, port, cafile, cert, key, frm, to, text = sys.argv[1:9]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(cafile)
ctx.check_hostname = False
if cert != "-":
    ctx.load_cert_chain(cert, key)
raw = socket.create_connection((host, int(port)), timeout=5)
conn = ctx.wrap_socket(raw)
lhost, lport = conn.getsockname()[:2]
branch = "z9hG4bK" + uuid.uuid4().hex[:12]
body = text.encode()
req = (f"MESSAGE sip:{to} SIP/2.0\r\n"
       f"Via: SIP/2.0/TLS {lhost}:{lport};branch={branch}\r\n"
       f"From: <sip:{frm}>;tag={uuid.uuid4().hex[:8]}\r\n"
       f"To: <sip:{to}>\r\n"
       f"Call-ID: {uuid.uuid4().hex}\r\n"
       "CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\n"
       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
conn.sendall(req)
buf = b""
conn.settimeout(10)
while True:
    try:
        chunk = conn.recv(65536)
    except (socket.timeout, ssl.SSLError, ConnectionError) as e:
        print("error", e)
        sys.exit(1)
    if not chunk:
        print("closed")
        sys.exit(1)
    buf += chunk
    for m in re.finditer(rb"SIP/2\.0 (\d{3})", buf):
        if int(m.group(1)) >= 200:
            print("status", m.group(1).decode())
            sys.exit(0)
