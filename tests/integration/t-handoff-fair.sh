#!/bin/bash
# t-handoff-fair.sh: worker 0 (TCP/TLS connections, presence) takes requests the
# other workers hand it fairly: one address may have at most [limits]
# handoff-per-source of them waiting; beyond that it gets 503 at once.  A flood of
# outside SUBSCRIBEs from 127.0.0.5 meets that cap while alice, from 127.0.0.1,
# keeps reaching carol, whose device is reached only over its TCP connection
# (worker 0), and bob over UDP.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

WORKERS=2 write_conf "[limits]" "handoff-per-source = 4"
add_user alice alice-pw
add_user bob bob-pw
add_user carol carol-pw
start_gwd

# carol's device: registered over TCP, reachable only over that connection.  It
# stays 4 s after its last of 60 registrations at 10/s: long enough for the six
# MESSAGEs below, each a SIPp of its own (about 0.65 s each on a 2-core machine
# with the flood beside them; with 6 registrations the device was gone before
# the fourth)
tcp_device uas-c carol 60
P3=$DEVICE_PID

python3 "$top_srcdir/tests/integration/subflood.py" "$PORT" 127.0.0.5 20000 > "$T/flood.out" 2>&1 &
FLOOD=$!
PIDS+=("$FLOOD")
sleep 0.3
ok=0
# -nr: SIPp has no transaction layer, so when its first MESSAGE is repeated
# (its worker is behind the flood for 0.5 s) the 407 to the repeat, a fresh
# stateless challenge, reaches it after it sent its credentials and it gives up;
# a client with a transaction layer would drop that 407 as a repeat
for i in 1 2 3 4 5 6; do
	sipp_run "m$i" uac_message.xml -nr -au alice -ap alice-pw -set user alice -set domain "$DOMAIN" \
		-set to "carol@$DOMAIN" -set body "fair-$i"
	[ "$(last_status "m$i")" != 200 ] || ok=$((ok + 1))
done
check "during the flood, alice's 6 MESSAGEs to carol (over UDP, to her TCP device): 200 ($ok)" \
	[ "$ok" = 6 ]
check "carol's device received all six" sipp_wait "$P3"
check "... with their bodies" bash -c "[ \"\$(grep -c 'fair-[1-6]' '$T/uas-c.msg')\" -ge 6 ]"
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
