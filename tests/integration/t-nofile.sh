#!/bin/bash
# t-nofile.sh: greenwichd takes the descriptors it is allowed (daemon/sofia/nofile.c).
# Started under a soft limit of 256 open files and a hard one of 4096, it raises the
# soft limit to 4096, says so in event=started, and 400 TCP connections held at once
# (100 from each of four source addresses, under the per-source cap of 128) are all
# accepted and each answered on its own connection; under the soft limit alone the
# last 150 or so would have been refused.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf
GWD_WRAP="prlimit --nofile=256:4096" start_gwd

soft=$(awk '/^Max open files/ { print $4 }' "/proc/$GWD_PID/limits")
check "the soft descriptor limit is raised to the hard one (${soft:-none})" test "${soft:-0}" -eq 4096
check "event=started says the limit: $(grep -m1 'event=started' "$T/greenwichd.log")" \
	grep -q "event=started .* descriptors=4096" "$T/greenwichd.log"

/usr/bin/python3 - "$PORT" > "$T/conns.out" 2>&1 <<'PY'
import socket, sys
port = int(sys.argv[1])
held = []
for i in range(400):
    src = "127.3.0.%d" % (1 + i // 100)
    s = socket.socket()
    s.settimeout(5)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
    except OSError as e:
        print("connect %d failed: %s" % (i, e))
        continue
    held.append(s)
answered = 0
for i, s in enumerate(held):
    lh, lp = s.getsockname()
    msg = ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/TCP %s:%d;branch=z9hG4bKnf%d\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:probe@outside.test>;tag=%d\r\n"
           "To: <sip:127.0.0.1:%d>\r\nCall-ID: nofile-%d\r\nCSeq: 1 OPTIONS\r\n"
           "Content-Length: 0\r\n\r\n" % (port, lh, lp, i, i, port, i)).encode()
    try:
        s.sendall(msg)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if data.startswith(b"SIP/2.0 "):
            answered += 1
    except OSError:
        pass
print("held=%d answered=%d" % (len(held), answered))
PY
check "400 connections held at once, each answered: $(tail -1 "$T/conns.out")" \
	grep -qx "held=400 answered=400" "$T/conns.out"
finish
