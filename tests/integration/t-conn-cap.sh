#!/bin/bash
# t-conn-cap.sh: TCP/TLS connections per client address are capped ([limits]
# connections-per-source): one address opening many connections gets the first
# ones and no more, a line in the log, and its connections back when it closes
# some; meanwhile users from another address register and message over TCP, and
# `greenwich-mmc server status` shows the cap and the refusals.
# a flood (or load) against greenwichd's capacity: the machine to itself (tests/lib/machine.sh)
TEST_ALONE=1
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf "[limits]" "connections-per-source = 5"
add_user alice alice-pw
add_user bob bob-pw
add_user carol carol-pw
start_gwd

python3 "$top_srcdir/tests/integration/connflood.py" "$PORT" 127.0.0.5 12 "$T/release" \
	> "$T/flood.out" 2>&1 &
FLOOD=$!
PIDS+=("$FLOOD")
for _ in $(seq 1 100); do grep -q "^kept" "$T/flood.out" && break; sleep 0.1; done
check "127.0.0.5 kept 5 connections of 12, 7 refused ($(head -1 "$T/flood.out"))" \
	grep -q "^kept 5 refused 7$" "$T/flood.out"
check "the log names the address and the cap" \
	grep -q "event=connection-refused source=127.0.0.5 limit=5" "$T/greenwichd.log"

# while 127.0.0.5 holds its 5: carol registers over TCP from 127.0.0.1 and gets a
# message over that connection; alice sends over TCP too
tcp_device uas-c carol 1
P3=$DEVICE_PID
sipp_run m1 uac_message.xml -t t1 -au alice -ap alice-pw -set user alice -set domain "$DOMAIN" \
	-set to "carol@$DOMAIN" -set body "during-the-flood"
check "alice's MESSAGE over TCP during the flood: 200" [ "$(last_status m1)" = 200 ]
check "carol received it over her TCP connection" sipp_wait "$P3"
check "... with its body" grep -q "during-the-flood" "$T/uas-c.msg"
legit_im udp-during-flood

"$MMC" -c "$T/greenwich.conf" server status > "$T/status.out" 2>&1
check "server status shows the cap" grep -qE "^limit connections-per-source +5$" "$T/status.out"
check "server status counts the refusals" grep -qE "^connections refused +([7-9]|[1-9][0-9]+)$" "$T/status.out"
check "server status counts 127.0.0.5's connections" grep -qE "^connections +([5-9]|[1-9][0-9]+)$" "$T/status.out"

touch "$T/release"
wait "$FLOOD" || true
check "once it closed them, 127.0.0.5 gets its 5 again ($(tail -1 "$T/flood.out"))" \
	grep -q "^after-release kept 5 refused 7$" "$T/flood.out"
"$MMC" -c "$T/greenwich.conf" server status > "$T/status2.out" 2>&1
check "after all closed, no connection is counted" grep -qE "^connections +0$" "$T/status2.out"
check "greenwichd still running" kill -0 "$GWD_PID"
finish
