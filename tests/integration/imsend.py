#!/usr/bin/env python3
"""imsend.py PORT USER PASSWORD TO BODY [TIMEOUT]: USER sends one MESSAGE with BODY to
TO (user@domain) over UDP, answering a Digest challenge, and repeats each request as a
UDP client transaction does (T1 doubling up to T2) until its final answer, ignoring
late answers to an earlier request.  Prints the final status code, or "none"."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from presua import UA  # noqa: E402

port, user, password, to, body = int(sys.argv[1]), *sys.argv[2:6]
timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 16.0
ua = UA(user, password, port)
ua.retransmit = True
r = ua.request("MESSAGE", "sip:" + to, ["Content-Type: text/plain"], body, timeout=timeout)
print(r.status if r else "none")
