#!/bin/bash
# t-fd-exhaustion.sh: out of file descriptors, greenwichd degrades and recovers by itself.
# Under a limit of 64 descriptors, 100 TCP connections are opened and held: the ones past
# the limit are refused, greenwichd does not spin on its listener (little CPU, a few log
# lines, not millions), UDP keeps working, and once the connections go a new TCP client
# registers again, without a restart.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf "[limits]" "connection-idle-timeout = 60"
add_user alice secret
add_user bob secret
GWD_WRAP="prlimit --nofile=64:64" start_gwd

cpu_ticks() { awk '{print $14 + $15}' "/proc/$GWD_PID/stat"; }

/usr/bin/python3 - "$PORT" > "$T/hold.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
held, refused = [], 0
for i in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        held.append(s)
    except OSError:
        refused += 1
time.sleep(1)
# a connection the server had to shed reads EOF or a reset at once
shed = 0
for s in held:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            shed += 1
    except BlockingIOError:
        pass
    except OSError:
        shed += 1
print("opened %d shed %d refused %d" % (len(held), shed, refused), flush=True)
print("holding", flush=True)
time.sleep(6)
for s in held:
    s.close()
print("released", flush=True)
PY
HOLD=$!
PIDS+=("$HOLD")
for _ in $(seq 1 100); do grep -q holding "$T/hold.out" && break; sleep 0.1; done
cat "$T/hold.out"
check "some connections past the limit were shed by the server" \
	bash -c "grep -Eq 'shed [1-9]' '$T/hold.out'"

t0=$(cpu_ticks)
sleep 3
t1=$(cpu_ticks)
# 3 s of wall time are 300 ticks of a spinning core; an idle server uses a handful
check "no spinning on the listener while out of descriptors ($((t1 - t0)) ticks in 3 s)" \
	[ $((t1 - t0)) -lt 100 ]
sipp_run udp-msg uac_message.xml -au alice -ap secret -set user alice -set domain "$DOMAIN" \
	-set to "bob@$DOMAIN" -set body during
check "UDP still served meanwhile (480: bob not signed in)" [ "$(last_status udp-msg)" = 480 ]
n=$(grep -c -i 'too many open files' "$T/greenwichd.log" || true)
check "the log says so a few times, not millions ($n lines)" bash -c "[ $n -ge 1 ] && [ $n -lt 50 ]"
check "logged as event=accept-failed" grep -q 'event=accept-failed reason="too many open files"' \
	"$T/greenwichd.log"

wait "$HOLD" || true
sleep 1
register tcp-reg bob secret "<sip:bob@127.0.0.1:5999;transport=tcp>" 60 1 -t t1
check "after the connections went, a TCP client registers again: 200" \
	[ "$(last_status tcp-reg)" = 200 ]
check "greenwichd still runs" kill -0 "$GWD_PID"
finish
