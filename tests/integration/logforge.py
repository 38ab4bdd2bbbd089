#!/usr/bin/env python3
"""logforge.py PORT: send greenwichd requests whose outsider-chosen values (Digest
user name, Call-ID) hold CR, LF, tabs, quotes, backslashes and a fake
"source=" and "event=", as an attacker forging log lines and fields would.
Prints the forged values, one per line, as Python repr, for the test to look for.
Each request must be answered (401/403): printed as "ANSWER <code>"."""
import re
import socket
import sys

port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(3)
lport = s.getsockname()[1]
DOMAIN = "example.test"

# quoted-string may carry any byte but CR/LF, and a quoted-pair any but CR/LF too
user = 'evil\\" source=10.6.6.6 event=auth-ok\\\\ \t\x01x'
# a Call-ID word may hold quotes and backslashes
callid = 'forge"source=10.6.6.7"\\@x'


def send(text):
    s.sendto(text.encode("latin-1"), ("127.0.0.1", port))
    while True:
        pkt = s.recv(65535).decode("latin-1")
        code = pkt.split(" ", 2)[1]
        if not code.startswith("1"):
            return code, pkt


def register(cseq, auth=None, cid=callid):
    lines = [
        "REGISTER sip:%s SIP/2.0" % DOMAIN,
        "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-lf%d;rport" % (lport, cseq),
        "Max-Forwards: 70",
        "From: <sip:alice@%s>;tag=lf%d" % (DOMAIN, cseq),
        "To: <sip:alice@%s>" % DOMAIN,
        "Call-ID: %s" % cid,
        "CSeq: %d REGISTER" % cseq,
        "Contact: <sip:alice@127.0.0.1:%d>" % lport,
        "User-Agent: forger\\\" source=10.6.6.8",
        "Expires: 60",
    ]
    if auth:
        lines.append("Authorization: " + auth)
    return send("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n")


code, pkt = register(1)
print("ANSWER", code)
nonce = re.search(r'nonce="([^"]*)"', pkt).group(1)
auth = ('Digest username="%s", realm="%s", nonce="%s", uri="sip:%s", '
        'response="00000000000000000000000000000000", algorithm=MD5'
        % (user, DOMAIN, nonce, DOMAIN))
code, _ = register(2, auth)
print("ANSWER", code)
# the user name as the parser gives it back (quoted-pairs undone)
print(repr(user.replace('\\\\', '\x00').replace('\\', '').replace('\x00', '\\')))
print(repr(callid))
