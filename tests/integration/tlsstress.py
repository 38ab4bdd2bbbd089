#!/usr/bin/env python3
"""tlsstress.py PORT CAFILE SECONDS USERS SEED: USERS clients (users u0.. with
passwords pw-u0..) over TLS, each in a thread, for SECONDS: sign in (Digest),
subscribe to the presence of three others, publish changes (NOTIFYs go out to
the watchers, over their TLS connections), and at a random point go away
abruptly: a reset (SO_LINGER 0) right after a step, half a request written and
then a reset, or a plain close; then sign in again on a new connection.  The
server is left with NOTIFYs in flight to connections that are gone.
A connection the server refuses (out of descriptors) is tried again.
Prints "cycles C registered R notifies N publishes P refused F" at the end."""
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import presua  # noqa: E402

port, cafile, seconds, nusers, seed = (int(sys.argv[1]), sys.argv[2], float(sys.argv[3]),
                                       int(sys.argv[4]), int(sys.argv[5]))
deadline = time.time() + seconds
lock = threading.Lock()
stats = {"cycles": 0, "registered": 0, "notifies": 0, "publishes": 0, "refused": 0}


def bump(k, n=1):
    with lock:
        stats[k] += n


def reset(ua):
    try:
        raw = ua.sock
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
    except OSError:
        pass


def cycle(i, rnd):
    try:
        ua = presua.UA("u%d" % i, "pw-u%d" % i, port, "tls", cafile)
    except OSError:  # refused: the server is out of descriptors, or over the cap
        bump("refused")
        time.sleep(0.05)
        return
    ua.instance = "00000000-0000-4000-8000-%012d" % i  # one device per user, signing in again
    ua.auto_answer = rnd.random() < 0.7  # some never answer their NOTIFYs
    stop_after = rnd.randint(0, 5)
    try:
        r = ua.register(expires=300)
        if r is None or r.status != 200:
            return
        bump("registered")
        if stop_after == 0:
            return reset(ua)
        subs = []
        for t in rnd.sample([k for k in range(nusers) if k != i], 3):
            subs.append(presua.Sub(ua, "u%d@%s" % (t, presua.DOMAIN), expires=120))
        if stop_after == 1:
            return reset(ua)
        for step in range(rnd.randint(1, 4)):
            body = presua.pidf(ua.aor, activity=rnd.choice(["busy", "away", "on-the-phone"]))
            if stop_after == 2 and step == 1:
                # half a PUBLISH, then gone
                req = ua.build("PUBLISH", "sip:" + ua.aor, ["Event: presence",
                               "Content-Type: application/pidf+xml"], body, "x", "<sip:%s>" %
                               ua.aor, "half-%x" % rnd.getrandbits(32), 1)
                ua.sock.sendall(req[:len(req) // 2])
                return reset(ua)
            presua.publish(ua, body, expires=120)
            bump("publishes")
            ua.recv(rnd.random() * 0.3)
        got = len([m for m in ua.inbox if m.method == "NOTIFY"])
        bump("notifies", got)
        if stop_after == 3:
            return reset(ua)
        if stop_after == 4:
            for s in subs[:1]:
                s.refresh(0)
        ua.sock.close()
    except (OSError, ConnectionError, AttributeError, ValueError):
        reset(ua)


def run(i):
    rnd = random.Random(seed * 1000 + i)
    while time.time() < deadline:
        cycle(i, rnd)
        bump("cycles")
        time.sleep(rnd.random() * 0.05)


threads = [threading.Thread(target=run, args=(i,)) for i in range(nusers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("cycles %(cycles)d registered %(registered)d notifies %(notifies)d publishes %(publishes)d "
      "refused %(refused)d" % stats, flush=True)
