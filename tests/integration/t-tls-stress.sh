#!/bin/bash
# t-tls-stress.sh: TLS clients with presence subscriptions go away at random moments
# (resets, half-written requests, plain closes) while NOTIFYs are on their way to
# them, with two workers (UDP watchers handed to worker 0 as well).  greenwichd must
# neither abort (issue 18: Sofia's tport_wakeup_pri assertion once fired after a
# NOTIFY hit a broken TLS connection) nor leak, and must release every connection;
# a user registers and messages during it.  Meanwhile another address keeps more
# connections open than [limits] connections-per-source allows, dropping some at random:
# greenwichd accepts and closes those over the cap (daemon/sofia/accept_guard.c) while
# descriptors of that address's other connections are closed and reused around them.
# greenwichd runs with few descriptors (STRESS_NOFILE), so that accepts fail for lack of
# one at times (accept_guard.c sheds them) and numbers are reused at once.  No event loop
# may see a descriptor closed or reused under a registration, or an index used with
# another descriptor (daemon/sofia/wait_audit.c), and no listener may be released by a
# reference nobody took (daemon/sofia/tport_refs.c).
# STRESS_SECONDS (default 20) bounds it.
# a flood (or load) against greenwichd's capacity: the machine to itself (tests/lib/machine.sh)
TEST_ALONE=1
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.crt" \
	-days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
WORKERS=2 write_conf "[tls]" "certificate = $T/server.crt" "key = $T/server.key" \
	"[limits]" "connection-idle-timeout = 5" "connections-per-source = 24"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"
N=12
for i in $(seq 0 $((N - 1))); do add_user "u$i" "pw-u$i"; done
add_user alice alice-pw
add_user bob bob-pw
GWD_WRAP="prlimit --nofile=${STRESS_NOFILE:=72}:$STRESS_NOFILE" start_gwd

SECS=${STRESS_SECONDS:-20}
python3 "$top_srcdir/tests/integration/tlsstress.py" "$TLSPORT" "$T/server.crt" "$SECS" "$N" \
	"${STRESS_SEED:-$RANDOM}" > "$T/stress.out" 2>&1 &
STRESS=$!
PIDS+=("$STRESS")
# UDP watchers of the TLS users: their SUBSCRIBEs reach either worker, and NOTIFYs
# for them go out while the watched users' connections come and go
HERE="$top_srcdir/tests/integration" python3 - "$PORT" "$N" "$SECS" > "$T/udpwatch.out" 2>&1 <<'PY' &
import os, random, sys, time
sys.path.insert(0, os.environ["HERE"])
import presua
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
end, subs = time.time() + secs, 0
while time.time() < end:
    ua = presua.UA("alice", "alice-pw", port)
    for t in random.sample(range(n), 4):
        s = presua.Sub(ua, "u%d@%s" % (t, presua.DOMAIN), expires=60)
        subs += s.resp is not None and s.resp.status < 300
    ua.recv(1.0)
    ua.sock.close()
print("udp-subscriptions %d" % subs, flush=True)
PY
WATCH=$!
PIDS+=("$WATCH")
python3 "$top_srcdir/tests/integration/capflood.py" "$TLSPORT" 127.0.0.9 "$SECS" 40 \
	"${STRESS_SEED:-$RANDOM}" > "$T/capflood.out" 2>&1 &
FLOOD=$!
PIDS+=("$FLOOD")
sleep $((SECS / 2))
legit_im during-stress
check "greenwichd runs in the middle of the stress" kill -0 "$GWD_PID"
wait "$STRESS" || true
wait "$WATCH" || true
wait "$FLOOD" || true
check "the stress ran: $(cat "$T/stress.out")" \
	grep -qE "^cycles [0-9]+ registered [1-9][0-9]* notifies [0-9]+ publishes [1-9]" "$T/stress.out"
check "UDP watchers subscribed throughout: $(cat "$T/udpwatch.out")" \
	grep -qE "^udp-subscriptions [1-9]" "$T/udpwatch.out"
check "the cap refused connections of the flooding address: $(cat "$T/capflood.out")" \
	grep -qE "^capflood opened [0-9]+ refused [1-9]" "$T/capflood.out"
check "... and logged it" grep -q "event=connection-refused source=127.0.0.9 " "$T/greenwichd.log"
check "greenwichd did not abort" kill -0 "$GWD_PID"
check "no assertion failed" bash -c "! grep -q 'Assertion' '$T/greenwichd.log'"
check "descriptors ran out at times ($STRESS_NOFILE): accepts were shed" \
	grep -q "event=accept-failed" "$T/greenwichd.log"
check "no event-loop anomaly: $(grep -m1 'event=wait-anomaly' "$T/greenwichd.log")" \
	bash -c "! grep -q 'event=wait-anomaly' '$T/greenwichd.log'"
check "no listener released by a reference nobody took" \
	bash -c "! grep -q 'event=tport-unref-refused' '$T/greenwichd.log'"
legit_im after-stress
# every TLS connection is let go (clients gone: closed at once, or by the idle timeout)
tls_open() { ss -tanH "( sport = :$TLSPORT )" | awk '$1 != "LISTEN" && $1 != "TIME-WAIT"' | wc -l; }
for _ in $(seq 1 40); do [ "$(tls_open)" = 0 ] && break; sleep 0.5; done
check "every TLS connection released ($(tls_open) left)" [ "$(tls_open)" = 0 ]
finish
