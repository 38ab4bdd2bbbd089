#!/usr/bin/env python3
"""A signed-in TLS client goes (a close, or a reset) as another connects, so the
server's descriptor number of the first becomes the second's; then the second
keeps talking while the first's connection object is destroyed.  greenwichd
must not send anything of the first connection into the second's stream
(Sofia's tls_free() writes a close_notify through the old descriptor number
when it runs: daemon/sofia/tlsleak.c).

usage: tlsreuse.py PORT CAFILE ROUNDS
Prints "rounds N broken K" (K: rounds in which the second client's connection
broke) and one line per broken round.
"""
import os
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import presua  # noqa: E402

port, cafile, rounds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
broken = 0
for i in range(rounds):
    a = presua.UA("ra", "ra-pw", port, "tls", cafile)
    a.instance = "00000000-0000-4000-8000-0000000000aa"  # each round replaces the last
    r = a.register(600)
    if r is None or r.status != 200:
        print("round %d: first client not registered (%s)" % (i, r and r.status), flush=True)
        broken += 1
        continue
    if i % 2:
        a.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # the close (or reset) and the next connection reach the server together: it
    # closes the first one's descriptor and accepts the second on that number in
    # the next turn of its loop, before it destroys the first's object
    try:
        a.sock.close()
        b = presua.UA("rb", "rb-pw", port, "tls", cafile)
        end = time.time() + 2.5  # the first one's object goes within about a second
        while time.time() < end:
            r = b.register(600)
            if r is None or r.status != 200:
                raise ConnectionError("REGISTER answered %s" % (r and r.status))
            time.sleep(0.1)
        b.register(0)
        b.sock.close()
    except (ssl.SSLError, OSError, ConnectionError) as e:
        broken += 1
        print("round %d: second client's connection broke: %s" % (i, e), flush=True)
print("rounds %d broken %d" % (rounds, broken), flush=True)
