#!/bin/bash
# helpdesk-router under SIPp (31 free ports from P, or GWP_PORT_BASE): three operators (alice registers, bob and carol
# come from the config), least-loaded distribution, 486 when all are busy,
# failover on 486 and on no answer, CANCEL, BYE through the Record-Route.
set -eu

SIPP=${SIPP:-sipp}
# shellcheck source=tests/lib/ports.sh
. "${GW_TESTLIB:-$GWP_SRCDIR/../tests/lib}/ports.sh"
P=${GWP_PORT_BASE:-$(free_port 31)}
ROUTER=$GWP_BUILDDIR/helpdesk-router
SC=$GWP_SRCDIR/tests/sipp
A=$((P + 11)) B=$((P + 12)) C=$((P + 13))
W=$(mktemp -d /tmp/gwp-sipp-XXXXXX)
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	echo "--- router log"; tail -40 "$W/router.log"
	exit 1
}

# operator NAME PORT SCENARIO: start a SIPp UAS, remember its pid in OP_NAME
operator() {
	"$SIPP" -sf "$SC/$3" -i 127.0.0.1 -p "$2" -nostdin -trace_msg \
		-message_file "$W/$1.$3.msg" >/dev/null 2>&1 &
	PIDS+=($!)
	eval "OP_$1=$!"
}

stop_operator() {
	local var="OP_$1"
	kill "${!var}"
	wait "${!var}" 2>/dev/null || true
}

# call SERVICE PORT COUNT HOLD_MS LOGNAME [extra sipp args]: SIPp UAC to the router
call() {
	local svc=$1 port=$2 n=$3 hold=$4 log=$5
	shift 5
	timeout 60 "$SIPP" -sf "$SC/uac-call.xml" -i 127.0.0.1 -p "$port" -s "$svc" \
		-m "$n" -d "$hold" -nostdin -trace_msg -message_file "$W/$log.msg" "$@" \
		"127.0.0.1:$P" >"$W/$log.out" 2>&1
}

invites() {
	cat "$W/$1".*.msg 2>/dev/null | grep -c '^INVITE ' || true
}

last_loads() {
	grep '^loads:' "$W/router.log" | tail -1
}

cat > "$W/helpdesk.conf" <<CONF
domain helpdesk.test
listen udp 127.0.0.1 $P
listen tcp 127.0.0.1 $P
timeout 2
max_calls 2
operator alice
password alice alice-pw
operator bob sip:bob@127.0.0.1:$B
operator carol sip:carol@127.0.0.1:$C
CONF

# shellcheck disable=SC2086 # ROUTER_FLAGS: no option or one (-e)
"$ROUTER" -c "$W/helpdesk.conf" ${ROUTER_FLAGS:-} >"$W/router.log" 2>&1 &
RPID=$!
PIDS+=("$RPID")
operator alice "$A" uas-answer.xml
operator bob "$B" uas-answer.xml
operator carol "$C" uas-answer.xml
sleep 1
kill -0 "$RPID" || fail "router did not start"

echo "== alice has not registered: she is skipped"
call helpdesk $((P + 20)) 1 200 phase0 || fail "phase 0 call failed"
[ "$(invites alice)" = 0 ] || fail "unregistered alice got a call"
[ "$(invites bob)" = 1 ] || fail "bob (idle longest, reachable) should have the call"
[ "$(invites carol)" = 0 ] || fail "carol should not have been tried"
[ "$(last_loads)" = "loads: alice=0 bob=0 carol=0" ] || fail "BYE did not free the load"
grep -q '^BYE ' "$W/bob.uas-answer.xml.msg" || fail "bob never saw the BYE"

echo "== a caller over TCP: carol (idle longest now), record-routed on TCP"
call helpdesk $((P + 27)) 1 200 tcp -t t1 || fail "TCP call failed"
[ "$(invites carol)" = 1 ] || fail "carol should have the TCP call"
grep -q "^Record-Route: <sip:127.0.0.1:$P;transport=tcp;lr>" "$W/tcp.msg" ||
	fail "no TCP Record-Route in the answer"
grep -q '^BYE ' "$W/carol.uas-answer.xml.msg" || fail "carol never saw the BYE"

echo "== alice registers"
timeout 20 "$SIPP" -sf "$SC/register.xml" -i 127.0.0.1 -p $((P + 30)) -s alice -au alice -ap alice-pw -auth_uri helpdesk.test \
	-key contact_port "$A" -key expires 3600 -m 1 -nostdin "127.0.0.1:$P" \
	>"$W/register.out" 2>&1 || fail "REGISTER failed"
grep -q "^register alice sip:alice@127.0.0.1:$A" "$W/router.log" || fail "registration not seen"

echo "== least loaded: alice holds 2 direct calls, then a burst of 5 help-desk calls"
call alice $((P + 21)) 2 6000 direct1 -r 10 &
DIRECT=$!
sleep 1.5
call helpdesk $((P + 22)) 5 2500 burst -r 20 || fail "burst calls failed"
wait $DIRECT || fail "direct calls failed"
# loads before: alice 2 (at max_calls), bob 0, carol 0; bob idle longest.
# bob, carol, bob (tie at 1, idle longest), carol, then everyone is busy.
[ "$(invites alice)" = 2 ] || fail "alice: $(invites alice) INVITEs, expected 2 (direct only)"
[ "$(invites bob)" = 3 ] || fail "bob: $(invites bob) INVITEs, expected 1 + 2"
[ "$(invites carol)" = 3 ] || fail "carol: $(invites carol) INVITEs, expected 1 + 2"
grep '^route [0-9]*-' "$W/router.log" | tail -5 | awk '{print $4}' | tr '\n' ' ' |
	grep -qx 'bob carol bob carol all ' || fail "burst order is not least-loaded"
[ "$(grep -c '^SIP/2.0 486' "$W/burst.msg")" = 1 ] || fail "expected one 486 (all busy)"
[ "$(last_loads)" = "loads: alice=0 bob=0 carol=0" ] || fail "loads not back to zero: $(last_loads)"

echo "== carol answers 486: skipped, the call goes to the next operator"
stop_operator carol
operator carol "$C" uas-busy.xml
call alice $((P + 23)) 1 8000 direct2 &
D2=$!
call bob $((P + 24)) 1 8000 direct3 &
D3=$!
sleep 1
before=$(( $(invites alice) + $(invites bob) ))
call helpdesk $((P + 25)) 1 200 failover || fail "failover call failed"
[ "$(grep -c '^INVITE ' "$W/carol.uas-busy.xml.msg")" = 1 ] || fail "busy carol was not tried first"
grep -q '^SIP/2.0 200' "$W/failover.msg" || fail "caller was not answered after the 486"
[ $(( $(invites alice) + $(invites bob) )) = $((before + 1)) ] || fail "no failover to alice/bob"
grep -q '^event failed carol .* status=486' "$W/router.log" || fail "no failed event for carol"

echo "== carol rings but never answers: cancelled after the 2 s timeout"
stop_operator carol
operator carol "$C" uas-noanswer.xml
sleep 0.3
start=$(date +%s%N)
call helpdesk $((P + 26)) 1 200 timeout || fail "timeout call failed"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q '^CANCEL ' "$W/carol.uas-noanswer.xml.msg" || fail "carol got no CANCEL"
grep -q '^SIP/2.0 200' "$W/timeout.msg" || fail "caller was not answered after the timeout"
[ "$elapsed" -ge 2000 ] || fail "answered after $elapsed ms, before the 2 s timeout"
grep -q '^event failed carol .* status=408' "$W/router.log" || fail "no timeout event for carol"
wait $D2 || fail "direct call to alice failed"
wait $D3 || fail "direct call to bob failed"
sleep 0.5
[ "$(last_loads)" = "loads: alice=0 bob=0 carol=0" ] || fail "loads not back to zero: $(last_loads)"
answered=$(grep -c '^event answered' "$W/router.log")
ended=$(grep -c '^event ended' "$W/router.log")
[ "$answered" = "$ended" ] || fail "$answered answered calls but $ended ended"

echo "== the caller hangs up while carol rings: CANCEL relayed, 487"
stop_operator carol
operator carol "$C" uas-noanswer.xml
sleep 0.3
timeout 20 "$SIPP" -sf "$SC/uac-cancel.xml" -i 127.0.0.1 -p $((P + 28)) -s carol -m 1 \
	-nostdin -trace_msg -message_file "$W/cancel.msg" "127.0.0.1:$P" >"$W/cancel.out" 2>&1 ||
	fail "cancelled call did not get its 487"
grep -q '^CANCEL ' "$W/carol.uas-noanswer.xml.msg" || fail "CANCEL not relayed to carol"
grep -q '^event failed carol .* status=487' "$W/router.log" || fail "no cancelled event"
sleep 0.5
[ "$(last_loads)" = "loads: alice=0 bob=0 carol=0" ] || fail "loads not zero: $(last_loads)"

kill -TERM "$RPID"
rc=0
wait "$RPID" || rc=$?
[ "$rc" = 0 ] || fail "router exited with $rc"
! grep -q 'Sanitizer' "$W/router.log" || fail "sanitizer report"
echo "ok: helpdesk-router distribution, busy, failover, timeout and BYE checks passed"
