#!/usr/bin/env python3
"""Send one raw SIP request over UDP to greenwichd and print the first line of
each answer received within the timeout (a test tool: it speaks only what the
test writes, so malformed input can be sent on purpose).

usage: sipsend.py PORT FILE|-  [timeout-seconds]
The request text may use {port} and {lport}; line ends become CRLF."""
import socket
import sys

port = int(sys.argv[1])
data = sys.stdin.read() if sys.argv[2] == "-" else open(sys.argv[2]).read()
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
lport = s.getsockname()[1]
text = data.replace("{port}", str(port)).replace("{lport}", str(lport))
if not text.startswith("RAW:"):
    head, _, body = text.partition("\n\n")
    text = "\r\n".join(head.split("\n")) + "\r\n\r\n" + body
else:
    text = text[4:]
s.sendto(text.encode(), ("127.0.0.1", port))
s.settimeout(timeout)
got = False
try:
    while True:
        pkt, _ = s.recvfrom(65535)
        line = pkt.split(b"\r\n", 1)[0].decode(errors="replace")
        print(line)
        got = True
        if not line.startswith("SIP/2.0 1"):
            break
except socket.timeout:
    pass
if not got:
    print("NO ANSWER")
