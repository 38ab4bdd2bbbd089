#!/usr/bin/env python3
"""connflood.py PORT SOURCE N RELEASE-FILE: from address SOURCE, open N TCP
connections to greenwichd on 127.0.0.1:PORT and report how many the server kept
("kept K refused R"); hold the kept ones until RELEASE-FILE exists, close them,
then open N again and report once more ("after-release kept K refused R").
Connections that send nothing: the per-address cap, not the idle timeout, is
what a test of it sees (the idle timeout is far longer)."""
import os
import socket
import sys
import time

port, source, n, release = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]


def flood():
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        socks.append(s)
    time.sleep(1.0)
    kept = []
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                s.close()  # closed by the server
                continue
        except BlockingIOError:
            kept.append(s)  # still open, nothing to read
            continue
        except (ConnectionResetError, OSError):
            s.close()
            continue
        kept.append(s)
    return kept


kept = flood()
print("kept %d refused %d" % (len(kept), n - len(kept)), flush=True)
for _ in range(600):
    if os.path.exists(release):
        break
    time.sleep(0.1)
for s in kept:
    s.close()
time.sleep(1.0)
kept = flood()
print("after-release kept %d refused %d" % (len(kept), n - len(kept)), flush=True)
for s in kept:
    s.close()
