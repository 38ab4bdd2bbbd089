#!/bin/bash
# `greenwich-mmc server ... --front-end ID` from front end 1's host reaches front
# end 2 through the store (table control_requests, LISTEN/NOTIFY): two greenwichd
# on one throw-away PostgreSQL.  Front end 2's own status and registrations come
# back (its pid, a device registered there only); a reload makes front end 2,
# and only it, apply its changed configuration; sign-out is refused (by
# greenwich-mmc, and by the front end for a request written into the table by
# hand) and the user stays signed in; an unknown id, a role without rights on
# the table, a stopped front end (SIGSTOP), a killed one (SIGKILL) give clear
# errors within the timeout; a request whose asker died and whose time passed
# is not run when the stopped front end comes back; the console takes the
# option too; on SQLite --front-end names this server only.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/pg/pg-cluster.sh
. "$top_srcdir/tests/pg/pg-cluster.sh"
# shellcheck source=tests/integration/pool-lib.sh
DEAD_AFTER=10 # a stopped front end stays "up" while we wait for it
. "$top_srcdir/tests/integration/pool-lib.sh"
trap 'cleanup; pg_cluster_stop' EXIT

check "a throw-away PostgreSQL cluster starts" pg_cluster_start
pool_key
for n in 1 2; do fe_conf "$n" "$(free_port)"; done
C1=$T/fe1/greenwich.conf C2=$T/fe2/greenwich.conf
cp "$C1" "$T/greenwich.conf" # add_user's configuration
P2=${FE_PORT[2]}
add_user bob secret
for n in 1 2; do check "front end $n started" fe_start "$n"; done
L2=$T/greenwichd-fe2.log
mmc1() { "$MMC" -c "$C1" "$@"; } # greenwich-mmc on front end 1's host
# run CMD...: its output in $T/out, its exit status in RC, its time in ELAPSED (s)
run() {
	local t0
	t0=$(date +%s.%N)
	"$@" > "$T/out" 2>&1 && RC=0 || RC=$?
	ELAPSED=$(echo "$(date +%s.%N) - $t0" | bc)
	echo "# exit $RC after ${ELAPSED}s: $(head -c 300 "$T/out" | tr '\n' '|')"
}
has() { grep -q -- "$1" "$T/out"; }
exit_within() { [ "$RC" = "$1" ] && [ "$(echo "$ELAPSED < $2" | bc)" = 1 ]; } # CODE SECONDS
lines() { grep -c -- "$1" "$2" || true; }
until_true() { # until_true FUNCTION TENTHS
	local _
	for _ in $(seq 1 "$2"); do "$1" && return 0; sleep 0.1; done
	return 1
}

# a device registered on front end 2 only
B=$(free_port)
TARGET_PORT=$P2 register rb bob secret "<sip:bob@127.0.0.1:$B>" 600
check "bob registered on front end 2" [ "$(last_status rb)" = 200 ]

# status: front end 2's own
run mmc1 server status --front-end fe2
check "server status --front-end fe2 answers (exit $RC)" [ "$RC" = 0 ]
check "... with front end 2's pid (${FE_PID[2]}), not front end 1's" has "(pid ${FE_PID[2]})"
check "front end 2 logged the request with who asked" \
	grep -qE "event=control-remote id=[0-9]+ cmd=status requester=[^ ]+@[^ ]+ role=greenwich" "$L2"
# the same output as front end 2's own control socket gives (but the clocks)
"$MMC" -c "$C2" server status | grep -vE "^(uptime|requests)" > "$T/local.txt"
grep -vE "^(uptime|requests)" "$T/out" > "$T/remote.txt"
check "the same table as on front end 2's host" cmp "$T/local.txt" "$T/remote.txt"
run mmc1 server registrations bob --front-end fe2
check "server registrations bob --front-end fe2 lists bob's device on front end 2" \
	has "sip:bob@127.0.0.1:$B"
run mmc1 --json server registrations --front-end=fe2
json_bob() {
	python3 - "$T/out" "sip:bob@127.0.0.1:$B" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert any(c["uri"] == sys.argv[2] for u in d["registrations"] for c in u["contacts"])
PY
}
check "--json and --front-end=ID: JSON with bob's device" json_bob
check "every answered request's row is gone" [ "$(pg_sql 'SELECT count(*) FROM control_requests')" = 0 ]

# the console takes the option too
printf 'server status --front-end fe2\nreload --front-end fe9\n' | "$MMC" -c "$C1" shell > "$T/out" 2>&1 || true
check "the console: server status --front-end fe2 is front end 2's" has "(pid ${FE_PID[2]})"
check "the console: reload --front-end fe9 is an error" has "no front end fe9"

# reload: front end 2 applies its own changed configuration; front end 1 does not reload
sed -i 's/^level = notice/level = info/' "$C2"
sed -i 's/^level = notice/level = info/' "$C1" # changed on disk, but nobody reloads fe1
R1=$(lines "event=reload" "$T/greenwichd-fe1.log")
run mmc1 server reload --front-end fe2
check "server reload --front-end fe2 answers (exit $RC)" [ "$RC" = 0 ]
check "... that front end 2 now logs at level info" has "reloaded its configuration (log level info)"
check "front end 2 applied [log] level at once" grep -q 'event=reload key="\[log\] level" applied=now' "$L2"
run "$MMC" -c "$C2" server status
check "front end 2's own socket says log-level info" grep -qE "^log-level +info" "$T/out"
run "$MMC" -c "$C1" server status
check "front end 1 still logs at notice (it was not reloaded)" grep -qE "^log-level +notice" "$T/out"
check "front end 1 logged no reload" [ "$(lines "event=reload" "$T/greenwichd-fe1.log")" = "$R1" ]
R2=$(lines "cmd=reload" "$L2")

# sign-out is not for another front end: greenwich-mmc refuses it, and so does
# the front end itself when the request is written into the table by hand
run mmc1 server sign-out bob --front-end fe2
check "sign-out --front-end fe2 is refused (exit 7: $RC)" [ "$RC" = 7 ]
check "... saying why" has "not allowed on another front end"
ID=$(pg_sql "INSERT INTO control_requests (frontend, request, requester, created, expires)
	VALUES ('fe2', '{\"cmd\":\"signout\",\"aor\":\"bob@$DOMAIN\"}', 'mallory@x',
	extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint + 30) RETURNING id")
pg_sql "SELECT pg_notify('gw_control', '$ID' || E'\t' || 'fe2')" > /dev/null
answered() { [ -n "$(pg_sql "SELECT reply FROM control_requests WHERE id = $ID")" ]; }
until_true answered 50 || true
check "front end 2 answered the hand-written sign-out 'refused'" \
	bash -c "[ \"\$1\" != \"\${1#*refused}\" ]" - "$(pg_sql "SELECT reply FROM control_requests WHERE id = $ID")"
check "front end 2 logged the refusal" grep -q "event=control-remote-refused id=$ID cmd=signout requester=mallory@x" "$L2"
check "bob is still registered on front end 2" \
	[ "$(pg_sql "SELECT count(*) FROM bindings WHERE aor = 'bob@$DOMAIN' AND frontend = 'fe2'")" = 1 ]
pg_sql "DELETE FROM control_requests WHERE id = $ID" # as its asker would

# an id the pool does not know
run mmc1 server status --front-end fe9
check "an unknown front end is an error (exit 3: $RC)" [ "$RC" = 3 ]
check "... naming the front ends there are" has "no front end fe9 in the pool (front ends: fe1, fe2)"

# a role without rights on the table
pg_sql "CREATE ROLE limited LOGIN; GRANT CREATE, USAGE ON SCHEMA public TO limited;
	GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO limited;
	REVOKE ALL ON control_requests FROM limited" > /dev/null
sed "s/user=greenwich/user=limited/" "$C1" > "$T/limited.conf"
run "$MMC" -c "$T/limited.conf" pool status
check "the role may read the pool (pool status, exit $RC)" [ "$RC" = 0 ]
N2=$(lines "event=control-remote " "$L2")
run "$MMC" -c "$T/limited.conf" server status --front-end fe2
check "without rights on control_requests: refused (exit 5: $RC)" [ "$RC" = 5 ]
check "... saying so and which rights it needs" has "permission denied for table control_requests"
check "... and nothing reached front end 2" [ "$(lines "event=control-remote " "$L2")" = "$N2" ]

# front end 2 stopped (SIGSTOP): the asker gives up after --timeout, saying so
kill -STOP "${FE_PID[2]}"
run mmc1 server status --front-end fe2 --timeout 2
check "a stopped front end: exit 6 ($RC)" [ "$RC" = 6 ]
check "... within the timeout (${ELAPSED}s)" [ "$(echo "$ELAPSED < 4" | bc)" = 1 ]
check "... and the error says so with its last heartbeat" \
	grep -qE "front end fe2 did not answer within 2 s \(last heartbeat [0-9]+ s ago\)" "$T/out"
# an asker killed while it waits leaves its row; its time passes
"$MMC" -c "$C1" server reload --front-end fe2 --timeout 2 > /dev/null 2>&1 &
ASKER=$!
sleep 1
kill -KILL "$ASKER"; wait "$ASKER" 2>/dev/null || true
check "the killed asker's request is still in the table" \
	[ "$(pg_sql "SELECT count(*) FROM control_requests WHERE request LIKE '%reload%'")" = 1 ]
sleep 3
kill -CONT "${FE_PID[2]}"
expired() { grep -q "event=control-remote-expired.*reload" "$L2"; }
until_true expired 50 || true
check "front end 2, back, dropped the stale reload unrun" expired
check "... and did not reload" [ "$(lines "cmd=reload" "$L2")" = "$R2" ]
check "... and the row is gone" [ "$(pg_sql 'SELECT count(*) FROM control_requests')" = 0 ]
run mmc1 server status --front-end fe2
check "front end 2 answers again after SIGCONT" has "(pid ${FE_PID[2]})"

# front end 2 killed: within the timeout while its heartbeat is recent, at once later
kill -KILL "${FE_PID[2]}"; wait "${FE_PID[2]}" 2>/dev/null || true
run mmc1 server reload --front-end fe2 --timeout 3
check "a killed front end: exit 6 ($RC) within the timeout (${ELAPSED}s)" \
	exit_within 6 5
check "... did not answer within 3 s (last heartbeat ...)" \
	grep -qE "front end fe2 did not answer within 3 s \(last heartbeat [0-9]+ s ago\)" "$T/out"
sleep "$DEAD_AFTER"
run mmc1 server status --front-end fe2
check "once out of the pool: down, not asked (exit $RC, ${ELAPSED}s)" \
	exit_within 6 2
check "... the error says so" grep -qE "front end fe2 is down \(last heartbeat [0-9]+ s ago\)" "$T/out"

# on SQLite (one server) --front-end names this server or nothing
sed -e 's/^backend = postgresql/backend = sqlite/' -e '/^conninfo/d' -e '/^\[pool\]/,$d' "$C1" > "$T/sqlite.conf"
run "$MMC" -c "$T/sqlite.conf" server status --front-end fe2
check "SQLite: another id is an error (exit 3: $RC)" [ "$RC" = 3 ]
check "... saying it is a single server" has "single server on SQLite"
run "$MMC" -c "$T/sqlite.conf" --socket "$T/fe1/control.sock" server status --front-end "$(hostname)"
check "SQLite: its own id (the host name) is its control socket" has "(pid ${FE_PID[1]})"
finish
