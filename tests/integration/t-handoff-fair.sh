#!/bin/bash
# t-handoff-fair.sh: worker 0 (TCP/TLS connections, presence) takes requests the
# other workers hand it fairly: one address may have at most [limits]
# handoff-per-source of them waiting; beyond that it gets 503 at once.  A flood of
# outside SUBSCRIBEs from 127.0.0.5 meets that cap while alice, from 127.0.0.1,
# keeps reaching carol, whose device is reached only over its TCP connection
# (worker 0), and bob over UDP.
# a flood (or load) against greenwichd's capacity: the machine to itself (tests/lib/machine.sh)
TEST_ALONE=1
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

WORKERS=2 write_conf "[limits]" "handoff-per-source = 4"
add_user alice alice-pw
add_user bob bob-pw
add_user carol carol-pw
start_gwd

# carol's device: registered over TCP, reachable only over that connection.  It
# stays 4 s after its last of 60 registrations at 10/s: long enough for the six
# MESSAGEs below, each a client process of its own, with the flood beside them on
# a 2-core machine (a SIPp took about 0.65 s a MESSAGE there)
tcp_device uas-c carol 60
P3=$DEVICE_PID

python3 "$top_srcdir/tests/integration/subflood.py" "$PORT" 127.0.0.5 20000 > "$T/flood.out" 2>&1 &
FLOOD=$!
PIDS+=("$FLOOD")
sleep 0.3
ok=0
# each MESSAGE from a client that repeats it as a UDP client transaction does: in
# the flood a datagram may be dropped from a full socket buffer (a sanitizer build
# is slow enough for that), and a late 407 to a repeat must not end the exchange
for i in 1 2 3 4 5 6; do
	st=$(python3 "$top_srcdir/tests/integration/imsend.py" "$PORT" alice alice-pw \
		"carol@$DOMAIN" "fair-$i" 2>> "$T/imsend.err") || st=error
	echo "fair-$i: $st" >> "$T/imsend.out"
	[ "$st" != 200 ] || ok=$((ok + 1))
done
check "during the flood, alice's 6 MESSAGEs to carol (over UDP, to her TCP device): 200 ($ok)" \
	[ "$ok" = 6 ]
check "carol's device received all six" sipp_wait "$P3"
check "... with their bodies" bash -c "[ \"\$(grep -o 'fair-[1-6]' '$T/uas-c.msg' | sort -u | wc -l)\" = 6 ]"
legit_im during-flood
wait "$FLOOD" || true
check "the flood was answered ($(cat "$T/flood.out"))" grep -qE "^sent 20000 answered [1-9]" "$T/flood.out"
check "... and met its address's share of worker 0's queue (503s)" \
	grep -qE " share-503 [1-9][0-9]*$" "$T/flood.out"
check "the log names the address" \
	grep -q "event=handoff-refused source=127.0.0.5 limit=4" "$T/greenwichd.log"
check "... and never alice's" bash -c "! grep -q 'event=handoff-refused source=127.0.0.1' '$T/greenwichd.log'"
"$MMC" -c "$T/greenwich.conf" server status > "$T/status.out" 2>&1
check "server status shows the share" grep -qE "^limit handoff-per-source +4$" "$T/status.out"
check "server status counts the refusals" grep -qE "^handoffs refused +[1-9][0-9]*$" "$T/status.out"
check "greenwichd still running" kill -0 "$GWD_PID"
finish
