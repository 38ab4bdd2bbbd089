#!/bin/bash
# t-sockets.sh: TCP connections are always released.  Bytes that are not SIP,
# an oversized message, a half-sent message (slowloris) and a silent connection
# nobody registered over are closed by the server within the configured
# timeouts, with nothing left behind in CLOSE-WAIT; a connection a client
# registered over stays open past them and still delivers its messages.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf "[limits]" "connection-idle-timeout = 5" "message-timeout = 2" "max-message-size = 8192"
add_user alice secret
add_user bob secret
umask 000
start_gwd
umask 022

# server_side_sockets: TCP sockets of greenwichd's port still open toward clients
server_side_sockets() {
	ss -tanH "( sport = :$PORT )" | awk '$1 != "LISTEN" && $1 != "TIME-WAIT"' | wc -l
}

/usr/bin/python3 - "$PORT" > "$T/sockets.out" 2>&1 <<'PY' &
import os, socket, sys, time
sys.path.insert(0, os.environ.get("HERE", "."))
port = int(sys.argv[1])

def closed_by_server(s, within):
    """True when the server closes s (EOF or reset) within the time given."""
    s.settimeout(within)
    end = time.time() + within
    try:
        while time.time() < end:
            if s.recv(4096) == b"":
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False

# 1. not SIP, then the client goes away: nothing must stay open on our side
for payload in (b"hello\r\n\r\n", b"MESSAGE sip:bob@example.test SIP/2.0\r\nContent-Length: 99999\r\n\r\n" + b"x" * 9000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(payload)
    time.sleep(0.2)
    s.close()
print("closed-by-client")
sys.stdout.flush()
# 2. a half-sent message, kept open by the client
slow = socket.create_connection(("127.0.0.1", port))
slow.sendall(b"OPTIONS sip:example.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKslow\r\n")
print("slowloris-closed" if closed_by_server(slow, 8) else "slowloris-open")
# 3. a silent connection nobody registered over
idle = socket.create_connection(("127.0.0.1", port))
print("idle-closed" if closed_by_server(idle, 30) else "idle-open")
sys.stdout.flush()
PY
PYPID=$!
PIDS+=("$PYPID")

# alice registers over TCP and stays silent past every timeout
/usr/bin/python3 - "$PORT" "$top_srcdir/tests/integration" > "$T/alice.out" 2>&1 <<'PY' &
import sys, time
sys.path.insert(0, sys.argv[2])
from presua import UA
a = UA("alice", "secret", int(sys.argv[1]), "tcp")
r = a.register()
print("registered", r.status if r else None)
sys.stdout.flush()
m = a.wait_request(lambda m: m.method == "MESSAGE", 60)
print("got", m.body if m else None)
PY
APID=$!
PIDS+=("$APID")

for _ in $(seq 1 50); do grep -q closed-by-client "$T/sockets.out" && break; sleep 0.1; done
wait "$PYPID" || true
cat "$T/sockets.out"
check "a half-sent message: the server closes the connection" grep -q slowloris-closed "$T/sockets.out"
check "a silent connection without registration: closed after the idle timeout" \
	grep -q idle-closed "$T/sockets.out"
check "alice registered over TCP" grep -q "registered 200" "$T/alice.out"
# every connection but alice's is gone from our side (no CLOSE-WAIT left behind)
n=$(server_side_sockets)
ss -tanH "( sport = :$PORT )" | awk '$1 != "LISTEN"'
check "only alice's connection is left open on our side ($n)" [ "$n" = 1 ]
check "nothing in CLOSE-WAIT" bash -c "! ss -tanH state close-wait '( sport = :$PORT )' | grep -q ."

sipp_run msg uac_message.xml -au bob -ap secret -set user bob -set domain "$DOMAIN" \
	-set to "alice@$DOMAIN" -set body still-there
check "bob's MESSAGE to alice after every timeout: 200" [ "$(last_status msg)" = 200 ]
wait "$APID" || true
check "alice's registered connection delivered it" grep -q "got still-there" "$T/alice.out"
check "greenwichd still runs" kill -0 "$GWD_PID"
# started by hand under a permissive umask: what it creates is still not for others
check "location.db, which greenwichd created, is not for others (umask 027)" \
	bash -c "[ -f '$T/state/location.db' ] && [ -z \"\$(find '$T/state' -name 'location.db*' -perm /o=rwx)\" ]"
finish
