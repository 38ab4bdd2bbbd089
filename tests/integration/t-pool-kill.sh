#!/bin/bash
# A front end killed with SIGKILL under SIPp load: three greenwichd share one
# throw-away PostgreSQL; SIPp sends REGISTERs (Digest) to each of them and
# MESSAGEs across the two that survive (front end 1 -> a device on front end 3
# and back).  Front end 2 is killed in the middle.  The clients of front ends 1
# and 3 see no failed request; bob, registered on front end 2 only, gets 480
# until he registers on front end 1 and is then reached there; every binding
# SIPp saw answered 200 (on any front end, the killed one too) is in the store.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/pg/pg-cluster.sh
. "$top_srcdir/tests/pg/pg-cluster.sh"
# shellcheck source=tests/integration/pool-lib.sh
. "$top_srcdir/tests/integration/pool-lib.sh"
trap 'cleanup; pg_cluster_stop' EXIT

check "a throw-away PostgreSQL cluster starts" pg_cluster_start
pool_key
for n in 1 2 3; do fe_conf "$n" "$(free_port)"; done
cp "$T/fe1/greenwich.conf" "$T/greenwich.conf" # add_user's configuration
P1=${FE_PORT[1]} P2=${FE_PORT[2]} P3=${FE_PORT[3]}
for u in alice bob dave erin frank; do add_user "$u" secret; done
for n in 1 2 3; do load_users "$T/users$n.csv" "u${n}x" 6; done
for n in 1 2 3; do check "front end $n started" fe_start "$n"; done

# the devices the MESSAGEs go to: dave's on front end 3, frank's on front end 1
D=$(free_port) F=$(free_port) B=$(free_port)
TARGET_PORT=$P3 register rd dave secret "<sip:dave@127.0.0.1:$D>" 600
check "dave's device registered on front end 3" [ "$(last_status rd)" = 200 ]
TARGET_PORT=$P1 register rf frank secret "<sip:frank@127.0.0.1:$F>" 600
check "frank's device registered on front end 1" [ "$(last_status rf)" = 200 ]
TARGET_PORT=$P2 register rb bob secret "<sip:bob@127.0.0.1:$B>" 600
check "bob registered on front end 2 (only there)" [ "$(last_status rb)" = 200 ]
sipp_bg uas-dave uas_message.xml "$D"
sipp_bg uas-frank uas_message.xml "$F"
sleep 1 # every front end hears of the bindings (gw_bindings)

# the load: REGISTERs on all three, MESSAGEs across front ends 1 and 3
reg_load 1 k1 12 120
reg_load 2 k2 12 120 -max_non_invite_retrans 2 # its calls fail fast once it is gone
reg_load 3 k3 12 120
msg_load msg1 alice dave "$P1" 8 80
msg_load msg3 erin frank "$P3" 8 80
sleep 3
kill -KILL "${FE_PID[2]}"
wait "${FE_PID[2]}" 2>/dev/null || true
echo "front end 2 killed at $(date +%T.%N)"

for l in reg1 reg3 msg1 msg3 reg2; do
	wait "${LOAD[$l]}" && RC[$l]=0 || RC[$l]=$?
done
R1=${RC[reg1]} R2=${RC[reg2]} R3=${RC[reg3]} M1=${RC[msg1]} M3=${RC[msg3]}
n200() { grep -c '^bound ' "$T/$1.log" 2>/dev/null || echo 0; }
all_ok() { [ "$1" = 0 ] && [ "$(n200 "$2")" = 120 ]; } # all_ok RC NAME
check "front end 1's REGISTER load: no failed request (SIPp exit $R1, $(n200 reg1) answered 200)" \
	all_ok "$R1" reg1
check "front end 3's REGISTER load: no failed request (SIPp exit $R3, $(n200 reg3) answered 200)" \
	all_ok "$R3" reg3
check "MESSAGEs front end 1 -> 3: no failed request (SIPp exit $M1)" [ "$M1" = 0 ]
check "MESSAGEs front end 3 -> 1: no failed request (SIPp exit $M3)" [ "$M3" = 0 ]
got() { grep -c '^MESSAGE ' "$T/$1.msg" || true; }
both_got() { [ "$(got uas-dave)" -ge 80 ] && [ "$(got uas-frank)" -ge 80 ]; }
check "the devices received them ($(got uas-dave) and $(got uas-frank))" both_got
some() { [ "$(n200 reg2)" -ge 5 ] && [ "$(n200 reg2)" -lt 120 ]; }
check "front end 2 answered some REGISTERs before it was killed, not all ($(n200 reg2), SIPp exit $R2)" some

# no binding answered 200 is lost
check "every binding answered 200 is in the store" bindings_lost
echo "# $(wc -l < "$T/acked.txt") bindings answered 200, $(wc -l < "$T/lost.txt") missing"

# the dead front end's users: 480 until they register elsewhere
for _ in $(seq 1 100); do grep -q "event=frontend-down frontend=fe2" "$T/greenwichd-fe1.log" && break; sleep 0.1; done
check "front end 1 took front end 2 out" grep -q "event=frontend-down frontend=fe2" "$T/greenwichd-fe1.log"
check "front end 3 too" grep -q "event=frontend-down frontend=fe2" "$T/greenwichd-fe3.log"
run_cases pool_cases.py down "$P1"
check "front ends 1 and 3 never took each other out" \
	bash -c '! grep -qE "event=frontend-down frontend=fe[13]" "$@"' - "$T/greenwichd-fe1.log" "$T/greenwichd-fe3.log"
finish
