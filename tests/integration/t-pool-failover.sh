#!/bin/bash
# The PostgreSQL primary stopped and its standby promoted under load: a throw-away
# primary and a streaming standby (pg_basebackup, in the test's directory); two
# greenwichd whose [store] conninfo names both hosts with
# target_session_attrs=read-write.  SIPp sends REGISTERs (Digest) to both front
# ends and MESSAGEs across them; the primary is stopped for longer than
# dead-after, then the standby is promoted (pg_ctl promote).  Every REGISTER is
# answered 200 or 503 with a Retry-After, never anything else; every MESSAGE is
# delivered (the users' bindings and accounts are in memory) and neither front
# end takes the other out while neither can reach the store; the front ends
# reconnect by themselves to the new primary; every binding answered 200 is there.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/pg/pg-cluster.sh
. "$top_srcdir/tests/pg/pg-cluster.sh"
# shellcheck source=tests/integration/pool-lib.sh
. "$top_srcdir/tests/integration/pool-lib.sh"
trap 'cleanup; pg_cluster_stop' EXIT

check "a throw-away PostgreSQL cluster starts" pg_cluster_start
check "and a streaming standby of it (pg_basebackup -R)" pg_standby_start
pool_key
for n in 1 2; do fe_conf "$n" "$(free_port)"; done
cp "$T/fe1/greenwich.conf" "$T/greenwich.conf" # add_user's configuration
P1=${FE_PORT[1]} P2=${FE_PORT[2]}
for u in alice dave erin frank; do add_user "$u" secret; done
for n in 1 2; do load_users "$T/users$n.csv" "u${n}x" 6; done
for n in 1 2; do check "front end $n started on the multi-host conninfo" fe_start "$n"; done
# shellcheck disable=SC2016 # $1.. are the inner script's arguments
check "the standby has the front ends' rows (streaming replication works)" \
	bash -c '[ "$("$1/psql" -X -q -A -t -h "$2" -p "$3" -U greenwich greenwich \
		-c "SELECT count(*) FROM frontends")" = 2 ]' - "$PG_BIN" "$PG_DIR/sock2" "$PG_PORT2"

D=$(free_port) F=$(free_port)
TARGET_PORT=$P2 register rd dave secret "<sip:dave@127.0.0.1:$D>" 600
check "dave's device registered on front end 2" [ "$(last_status rd)" = 200 ]
TARGET_PORT=$P1 register rf frank secret "<sip:frank@127.0.0.1:$F>" 600
check "frank's device registered on front end 1" [ "$(last_status rf)" = 200 ]
sipp_bg uas-dave uas_message.xml "$D"
sipp_bg uas-frank uas_message.xml "$F"
sleep 1

reg_load 1 f1 10 150
reg_load 2 f2 10 150
msg_load msg1 alice dave "$P1" 5 75
msg_load msg2 erin frank "$P2" 5 75
sleep 3
check "the primary stops (fast shutdown)" pg_primary_stop
sleep $((DEAD_AFTER + 2)) # longer than dead-after: nobody can beat
check "the standby is promoted (pg_ctl promote)" pg_promote
for l in reg1 reg2 msg1 msg2; do
	wait "${LOAD[$l]}" && RC[$l]=0 || RC[$l]=$?
done
count() { grep -c "^$1 " "$T/$2.log" 2>/dev/null || true; }
for n in 1 2; do
	check "front end $n: every REGISTER answered 200 or 503 + Retry-After (SIPp exit ${RC[reg$n]}: $(count bound "reg$n") 200, $(count unavailable "reg$n") 503)" \
		[ "${RC[reg$n]}" = 0 ]
done
some_503() { [ $(($(count unavailable reg1) + $(count unavailable reg2))) -ge 1 ]; }
check "the outage met REGISTERs in flight (answered 503)" some_503
check "MESSAGEs front end 1 -> 2 during all of it: every one delivered (SIPp exit ${RC[msg1]})" \
	[ "${RC[msg1]}" = 0 ]
check "MESSAGEs front end 2 -> 1: every one delivered (SIPp exit ${RC[msg2]})" [ "${RC[msg2]}" = 0 ]
for n in 1 2; do
	check "front end $n saw the store go" grep -q "event=pool-heartbeat-failed" "$T/greenwichd-fe$n.log"
done
check "and neither took the other out meanwhile" \
	bash -c '! grep -q "event=frontend-down" "$@"' - "$T"/greenwichd-fe[12].log

# both front ends reach the new primary by themselves
reg_on() { # reg_on NAME PORT USER
	TARGET_PORT=$2 register "$1" "$3" secret "<sip:$3@127.0.0.1:$(free_port)>" 600
}
for n in 1 2; do
	check "a new REGISTER on front end $n gets 200 from the new primary" \
		until_status 200 20 0.5 reg_on "after$n" "${FE_PORT[n]}" "u${n}x1"
done
check "every binding answered 200 is on the promoted primary" bindings_lost
echo "# $(wc -l < "$T/acked.txt") bindings answered 200, $(wc -l < "$T/lost.txt") missing"
# shellcheck disable=SC2016 # $1.. are the inner script's arguments
check "pool status reads both front ends up from the new primary" \
	bash -c '"$1" -c "$2" pool status | grep -c " up" | grep -qx 2' - "$MMC" "$T/fe1/greenwich.conf"
finish
