#!/bin/bash
# Interoperability: baresip, a standard SIP user agent, registers to greenwichd with
# Digest and exchanges MESSAGE requests with a SIPp device registered as bob.
#
# baresip runs headless with its own configuration directory: no audio or video
# modules, UDP on 127.0.0.1 only, the stdio UI reading its commands from a FIFO the
# test keeps open, and greenwichd as the account's outbound proxy.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

BARESIP="${BARESIP:-baresip}"
BARESIP_MODULES="${BARESIP_MODULES:-/usr/lib/baresip/modules}"

# forget_pid PID: a job that has been reaped leaves PIDS, so that the cleanup never
# signals a process that reused its number.
forget_pid() {
	local keep=() q
	for q in "${PIDS[@]}"; do
		[ "$q" = "$1" ] || keep+=("$q")
	done
	PIDS=("${keep[@]}")
}

# wait_exit PID [TENTHS]: bounded wait (default 10 s) for a background job of ours;
# its exit status, or 1 (after stopping it) when it is still running at the end.
wait_exit() {
	local p="$1" n="${2:-100}" rc=0
	for _ in $(seq 1 "$n"); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$p" 2>/dev/null; then
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		rc=1
	else
		wait "$p" || rc=$?
	fi
	forget_pid "$p"
	return "$rc"
}

# bs_responses METHOD: the status codes of the responses baresip received to its
# METHOD requests, in order, on one line (from its SIP trace, -s).
bs_responses() {
	awk -v m="$1" -v me="127.0.0.1:$BS_PORT" '{ sub(/\r$/, "") }
		/^(UDP|TCP) [^ ]+ -> / { to_me = ($4 == me); next }
		to_me && /^SIP\/2\.0 [0-9][0-9][0-9] / { st = $2; next }
		st != "" && $1 == "CSeq:" && $3 == m { printf "%s%s", sep, st; sep = " "; st = "" }
		/^$/ { st = "" }' "$T/baresip.log"
}

# bs_cmd COMMAND: one long command to baresip's menu, typed on its stdin.
bs_cmd() {
	printf '/%s\n' "$1" >&7
}

# start_baresip: config, account and contact for alice, then run it in the background.
start_baresip() {
	local d="$T/baresip"
	mkdir -p "$d"
	{
		echo "poll_method		epoll"
		echo "sip_listen		127.0.0.1:$BS_PORT"
		echo "net_interface		127.0.0.1"
		# nothing should need DNS; if something did, it stays on loopback
		echo "dns_server		127.0.0.1:9"
		echo "module_path		$BARESIP_MODULES"
		echo "module			stdio.so"
		echo "module			uuid.so"
		echo "module_app		account.so"
		echo "module_app		contact.so"
		echo "module_app		menu.so"
	} > "$d/config"
	echo "<sip:alice@$DOMAIN>;auth_pass=alice-pw;outbound=\"sip:127.0.0.1:$PORT\";regint=600" \
		> "$d/accounts"
	echo "\"Bob\" <sip:bob@$DOMAIN>" > "$d/contacts"
	mkfifo "$T/baresip.in"
	# read-write open: never blocks, and baresip never sees end of file
	exec 7<>"$T/baresip.in"
	"$BARESIP" -4 -s -f "$d" < "$T/baresip.in" > "$T/baresip.log" 2>&1 &
	BS_PID=$!
	PIDS+=("$BS_PID")
}

# stop_baresip: SIGTERM to our baresip, bounded wait for it to unregister and exit.
stop_baresip() {
	kill -TERM "$BS_PID" 2>/dev/null || return 1
	wait_exit "$BS_PID"
}

if ! command -v "$BARESIP" >/dev/null || [ ! -f "$BARESIP_MODULES/menu.so" ]; then
	echo "baresip and its modules are needed: apt-get install baresip-core"
	exit 1
fi

# shellcheck disable=SC2119 # the defaults are what this test wants
write_conf
add_user alice alice-pw
add_user bob bob-pw
start_gwd

BS_PORT=$(free_port)
start_baresip
check "baresip registered (200 OK after the challenge)" \
	wait_for "$T/baresip.log" "alice@$DOMAIN: \{0/UDP/v4\} 200 OK"
check "greenwichd challenged baresip's REGISTER with 401, then 200" \
	[ "$(bs_responses REGISTER)" = "401 200" ]
check "baresip answered with Digest credentials" \
	grep -a -q "^Authorization: Digest username=\"alice\"" "$T/baresip.log"
check "greenwichd logged alice's registration" \
	wait_for "$T/greenwichd.log" "event=register user=alice@$DOMAIN contacts=1 transport=udp"
if [ "$FAILS" -ne 0 ]; then
	echo "baresip is not registered: the MESSAGE exchange cannot work, stopping here"
	finish
fi

# bob: a SIPp device that registers, then accepts one MESSAGE.
B1=$(free_port)
register rb bob bob-pw "<sip:bob@127.0.0.1:$B1>" 600
check "bob (SIPp) registered" [ "$(last_status rb)" = 200 ]
sipp_bg uas-b uas_message.xml "$B1" -m 1
PB=$SIPP_BG_PID

bs_cmd "message hello-bob-from-baresip"
check "bob's device received baresip's MESSAGE" wait_exit "$PB"
check "with the text" grep -a -q "hello-bob-from-baresip" "$T/uas-b.msg"
check "from alice" grep -a -q -i "^From: .*<sip:alice@$DOMAIN>" "$T/uas-b.msg"
check "baresip's MESSAGE was challenged (407), then answered 200" \
	[ "$(bs_responses MESSAGE)" = "407 200" ]

# bob -> alice: SIPp sends, baresip shows the text.
sipp_run mb uac_message.xml -au bob -ap bob-pw -set user bob -set domain $DOMAIN \
	-set to "alice@$DOMAIN" -set body "hello-alice-from-sipp"
check "bob's MESSAGE to alice answered 200" [ "$(last_status mb)" = 200 ]
check "baresip displayed bob's text" \
	wait_for "$T/baresip.log" "sip:bob@$DOMAIN: \"hello-alice-from-sipp"

check "baresip stopped on SIGTERM" stop_baresip
check "baresip removed its binding on the way out" \
	wait_for "$T/greenwichd.log" "event=register user=alice@$DOMAIN contacts=0"
check "its un-REGISTER was challenged too" [ "$(bs_responses REGISTER)" = "401 200 401 200" ]
exec 7>&-

check "greenwichd still running" kill -0 "$GWD_PID"
kill -TERM "$GWD_PID"
check "greenwichd stopped cleanly on SIGTERM (status 0)" wait_exit "$GWD_PID"
check "no sanitizer report from greenwichd" \
	bash -c "! grep -a -q -E 'Sanitizer|runtime error:' '$T/greenwichd.log'"
finish
