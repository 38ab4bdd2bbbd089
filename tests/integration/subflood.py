#!/usr/bin/env python3
"""subflood.py PORT SOURCE N: from SOURCE, over 32 UDP sockets (so both workers get
a part), send N presence SUBSCRIBEs of an outside watcher as fast as possible; they
need no credentials and every one that reaches a worker other than 0 is handed to
worker 0.  Then collect answers for a few seconds and print one line:
"sent N answered A share-503 S" (S: 503s refused for the address's share)."""
import select
import socket
import sys
import time

port, source, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
socks = []
for _ in range(32):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((source, 0))
    s.setblocking(False)
    socks.append(s)


def subscribe(i, s):
    lport = s.getsockname()[1]
    return ("SUBSCRIBE sip:alice@example.test SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-flood%d;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:guest@outside.test>;tag=f%d\r\n"
            "To: <sip:alice@example.test>\r\n"
            "Call-ID: flood-%d@outside.test\r\n"
            "CSeq: 1 SUBSCRIBE\r\n"
            "Contact: <sip:guest@%s:%d>\r\n"
            "Event: presence\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n"
            % (source, lport, i, i, i, source, lport)).encode()


answered = share = 0


def drain(timeout):
    global answered, share
    r, _, _ = select.select(socks, [], [], timeout)
    for s in r:
        while True:
            try:
                pkt = s.recv(65535)
            except BlockingIOError:
                break
            line = pkt.split(b"\r\n", 1)[0]
            if line.startswith(b"SIP/2.0 1"):
                continue
            answered += 1
            if line.startswith(b"SIP/2.0 503 Too many requests from your address"):
                share += 1


for i in range(n):
    s = socks[i % len(socks)]
    try:
        s.sendto(subscribe(i, s), ("127.0.0.1", port))
    except BlockingIOError:
        pass
    if i % 256 == 255:
        drain(0)
end = time.time() + 4
while time.time() < end:
    drain(0.2)
print("sent %d answered %d share-503 %d" % (n, answered, share), flush=True)
