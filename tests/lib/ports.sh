# ports.sh - free loopback ports for the tests (bash, sourced).
# shellcheck shell=bash

# free_port [SPAN]: a port P on 127.0.0.1 such that P .. P+SPAN-1 (SPAN 2 when not given:
# the integration tests put TLS on P+1) are each free for UDP and TCP now.  Chosen at
# random among 20000-59000, so that tests running side by side rarely meet; the caller
# binds them soon after.  No output and exit 1 when none is found.
free_port() {
	python3 - "${1:-2}" <<'PY'
import random, socket, sys
span = int(sys.argv[1])
for _ in range(500):
    base = random.randint(20000, 59000 - span)
    held = []
    try:
        for p in range(base, base + span):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, kind)
                held.append(s)
                s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in held:
            s.close()
    print(base)
    break
else:
    sys.exit("free_port: no %d free ports in a row on 127.0.0.1" % span)
PY
}
