#!/usr/bin/env python3
"""capflood.py PORT SOURCE SECONDS N SEED: for SECONDS, from address SOURCE, keep up to
N TCP connections open to greenwichd's TLS port on 127.0.0.1:PORT, more than its
[limits] connections-per-source, while closing others at random moments (a reset, a
plain close, half a TLS handshake then a reset): greenwichd refuses the connections
over the cap (it accepts and closes them at once) while connections of the same
address close around them and their descriptors are reused.
Prints "capflood opened O refused R" at the end (refused: closed by the server
before we closed them)."""
import random
import socket
import ssl
import struct
import sys
import time

port, source, seconds, n, seed = (int(sys.argv[1]), sys.argv[2], float(sys.argv[3]),
                                  int(sys.argv[4]), int(sys.argv[5]))
rnd = random.Random(seed)
deadline = time.time() + seconds
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
opened = refused = 0
held = []


def gone(s):
    """True when the server closed or reset s."""
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def drop(s):
    try:
        if rnd.random() < 0.5:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    except OSError:
        pass


while time.time() < deadline:
    while len(held) < n:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((source, 0))
            s.settimeout(0.5)
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        opened += 1
        if rnd.random() < 0.3:
            # the start of a TLS handshake, the rest never comes
            try:
                inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
                obj = ctx.wrap_bio(inc, out)
                try:
                    obj.do_handshake()
                except ssl.SSLWantReadError:
                    pass
                s.sendall(out.read())
            except OSError:
                pass
        held.append(s)
    time.sleep(rnd.uniform(0.01, 0.2))
    keep = []
    for s in held:
        if gone(s):
            refused += 1
            s.close()
        elif rnd.random() < 0.3:
            drop(s)
        else:
            keep.append(s)
    held = keep
for s in held:
    drop(s)
print("capflood opened %d refused %d" % (opened, refused), flush=True)
