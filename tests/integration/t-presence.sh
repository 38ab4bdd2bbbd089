#!/bin/bash
# t-presence.sh: presence (PUBLISH, SUBSCRIBE/NOTIFY, composition, expiry,
# restart, blocking, winfo, hostile XML, the legacy Microsoft events) and IM
# odds and ends, with presua.py (a small Python SIP client) as the clients.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
CASES="$top_srcdir/tests/integration/presence_cases.py"

write_conf "[presence]" "max-expires = 600"
for u in alice bob carol dave eve frank; do add_user "$u" secret; done
start_gwd
export GW_DB="$T/state/greenwich.db"

run_case() { # run_case NAME: the scenario's checks counted as ours
	local out
	out=$("$PY" "$CASES" "$PORT" "$1" 2>&1) || true
	# shellcheck disable=SC2001 # a prefix on every line
	echo "$out" | sed "s/^/[$1] /"
	CHECKS=$((CHECKS + $(echo "$out" | grep -c '^\(ok\|FAILED\) - ' || true)))
	FAILS=$((FAILS + $(echo "$out" | grep -c '^FAILED - \|Traceback' || true)))
	if ! echo "$out" | grep -q '^ok - '; then # a case that checked nothing failed
		echo "FAILED - [$1] checked nothing"
		FAILS=$((FAILS + 1))
	fi
}

for c in basic register compose expiry block hostile sipe im tcp fanout; do run_case "$c"; done

# restart: the subscription and the publication survive greenwichd
export RESTART_FLAG="$T/restarted"
"$PY" "$CASES" "$PORT" restart1 > "$T/restart.out" 2>&1 &
RPID=$!
PIDS+=("$RPID")
for _ in $(seq 1 100); do grep -q READY "$T/restart.out" && break; sleep 0.1; done
stop_gwd
start_gwd
touch "$RESTART_FLAG"
wait "$RPID" || true
sed "s/^/[restart] /" "$T/restart.out"
CHECKS=$((CHECKS + $(grep -c '^\(ok\|FAILED\) - ' "$T/restart.out" || true)))
FAILS=$((FAILS + $(grep -c '^FAILED - \|Traceback' "$T/restart.out" || true)))

check "greenwichd still runs" kill -0 "$GWD_PID"
finish
