#!/bin/bash
# Forking across front ends (issue 16, follow-up): dave has two contacts on front
# end 2, a live device and a UDP port nobody listens on (a phone that went away
# without unregistering).  alice on front end 1 sends him MESSAGEs at a steady
# rate: every one must be answered with the live device's 200 (RFC 3261 16.7:
# the best answer wins; the dead branch is "not available", not a server
# failure), and the live device receives each of them once.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/pg/pg-cluster.sh
. "$top_srcdir/tests/pg/pg-cluster.sh"
# shellcheck source=tests/integration/pool-lib.sh
. "$top_srcdir/tests/integration/pool-lib.sh"
trap 'cleanup; pg_cluster_stop' EXIT

check "a throw-away PostgreSQL cluster starts" pg_cluster_start
pool_key
for n in 1 2; do fe_conf "$n" "$(free_port)"; done
cp "$T/fe1/greenwich.conf" "$T/greenwich.conf" # add_user's configuration
P1=${FE_PORT[1]} P2=${FE_PORT[2]}
for u in alice dave; do add_user "$u" secret; done
for n in 1 2; do check "front end $n started" fe_start "$n"; done

D=$(free_port) X=$(free_port) # X: nobody listens there
TARGET_PORT=$P2 register rd dave secret "<sip:dave@127.0.0.1:$D>" 600
check "dave's device registered on front end 2" [ "$(last_status rd)" = 200 ]
TARGET_PORT=$P2 register rx dave secret "<sip:dave@127.0.0.1:$X>" 600
check "and a dead UDP contact next to it" [ "$(last_status rx)" = 200 ]
sipp_bg uas-dave uas_message.xml "$D"
sleep 2 # front end 1 reads dave's bindings from the store

# 20 s at 120 a second: with the dead branch kept for Timer F (32 s), past
# PCALLS_MAX (1024) calls on the receiving worker after ~9 s
N=${N:-2400} RATE=${RATE:-120}
msg_load msg1 alice dave "$P1" "$RATE" "$N"
wait "${LOAD[msg1]}" && RC[msg1]=0 || RC[msg1]=$?
got() { grep -c "^MESSAGE sip:" "$T/uas-dave.msg" 2>/dev/null || true; }
uniq_got() { grep -i "^Call-ID:" "$T/uas-dave.msg" | sort -u | wc -l; }
check "every MESSAGE front end 1 -> 2 answered 200 (SIPp exit ${RC[msg1]}: $(grep -c ' 500 ' "$T/msg1.msg" 2>/dev/null || true) lines with a 500)" \
	[ "${RC[msg1]}" = 0 ]
check "the live device received each of the $N MESSAGEs once ($(got) received)" [ "$(got)" = "$N" ]
check "no MESSAGE twice ($(uniq_got) distinct Call-IDs)" [ "$(uniq_got)" = "$N" ]
# shellcheck disable=SC2016 # $1 is the inner script's argument
check "no 500 reached the caller" bash -c '! grep -q "^SIP/2.0 500" "$1"' - "$T/msg1.msg"
finish
