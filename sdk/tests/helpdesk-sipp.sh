#!/bin/bash
# helpdesk-router under SIPp (31 free ports from P, or GWP_PORT_BASE): three operators (alice registers, bob and carol
# come from the config), least-loaded distribution, 486 when all are busy,
# failover on 486 and on no answer, CANCEL, BYE through the Record-Route.
set -eu

SIPP=${SIPP:-sipp}
LIB=${GW_TESTLIB:-$GWP_SRCDIR/../tests/lib}
# shellcheck source=tests/lib/ports.sh
. "$LIB/ports.sh"
# shellcheck source=tests/lib/checks.sh
. "$LIB/checks.sh"
# shellcheck source=tests/lib/wait.sh
. "$LIB/wait.sh"
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
	if [ "$FAILS" -ne 0 ]; then echo "--- router log"; tail -40 "$W/router.log"; fi
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

# not CMD...: CMD fails
not() { ! "$@"; }

# expect WHAT TEST...: a counted check (tests/lib/checks.sh); a failed one ends the test,
# as every later step builds on the ones before
expect() {
	local what=$1
	shift
	if "$@"; then
		pass "$what"
	else
		fail "$what"
		checks_summary
		exit 1
	fi
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
expect "router started" kill -0 "$RPID"

echo "== alice has not registered: she is skipped"
expect "phase 0 call" call helpdesk $((P + 20)) 1 200 phase0
expect "unregistered alice got no call" [ "$(invites alice)" = 0 ]
expect "bob (idle longest, reachable) has the call" [ "$(invites bob)" = 1 ]
expect "carol was not tried" [ "$(invites carol)" = 0 ]
expect "BYE freed the load" [ "$(last_loads)" = "loads: alice=0 bob=0 carol=0" ]
expect "bob saw the BYE" grep -q '^BYE ' "$W/bob.uas-answer.xml.msg"

echo "== a caller over TCP: carol (idle longest now), record-routed on TCP"
expect "TCP call" call helpdesk $((P + 27)) 1 200 tcp -t t1
expect "carol has the TCP call" [ "$(invites carol)" = 1 ]
expect "a TCP Record-Route in the answer" \
	grep -q "^Record-Route: <sip:127.0.0.1:$P;transport=tcp;lr>" "$W/tcp.msg"
expect "carol saw the BYE" grep -q '^BYE ' "$W/carol.uas-answer.xml.msg"

echo "== alice registers"
register_alice() {
	timeout 20 "$SIPP" -sf "$SC/register.xml" -i 127.0.0.1 -p $((P + 30)) -s alice -au alice \
		-ap alice-pw -auth_uri helpdesk.test -key contact_port "$A" -key expires 3600 -m 1 \
		-nostdin "127.0.0.1:$P" >"$W/register.out" 2>&1
}
expect "alice's REGISTER" register_alice
expect "the router saw the registration" \
	wait_for "$W/router.log" "^register alice sip:alice@127.0.0.1:$A" 20

echo "== least loaded: alice holds 2 direct calls, then a burst of 5 help-desk calls"
call alice $((P + 21)) 2 6000 direct1 -r 10 &
DIRECT=$!
sleep 1.5
expect "burst calls" call helpdesk $((P + 22)) 5 2500 burst -r 20
expect "direct calls" wait $DIRECT
# loads before: alice 2 (at max_calls), bob 0, carol 0; bob idle longest.
# bob, carol, bob (tie at 1, idle longest), carol, then everyone is busy.
expect "alice: $(invites alice) INVITEs, 2 expected (direct only)" [ "$(invites alice)" = 2 ]
expect "bob: $(invites bob) INVITEs, 1 + 2 expected" [ "$(invites bob)" = 3 ]
expect "carol: $(invites carol) INVITEs, 1 + 2 expected" [ "$(invites carol)" = 3 ]
burst_order() {
	grep '^route [0-9]*-' "$W/router.log" | tail -5 | awk '{print $4}' | tr '\n' ' ' |
		grep -qx 'bob carol bob carol all '
}
expect "burst order is least-loaded" burst_order
expect "one 486 (all busy)" [ "$(grep -c '^SIP/2.0 486' "$W/burst.msg")" = 1 ]
expect "loads back to zero: $(last_loads)" [ "$(last_loads)" = "loads: alice=0 bob=0 carol=0" ]

echo "== carol answers 486: skipped, the call goes to the next operator"
stop_operator carol
operator carol "$C" uas-busy.xml
call alice $((P + 23)) 1 8000 direct2 &
D2=$!
call bob $((P + 24)) 1 8000 direct3 &
D3=$!
sleep 1
before=$(( $(invites alice) + $(invites bob) ))
expect "failover call" call helpdesk $((P + 25)) 1 200 failover
expect "busy carol was tried first" [ "$(grep -c '^INVITE ' "$W/carol.uas-busy.xml.msg")" = 1 ]
expect "caller answered after the 486" grep -q '^SIP/2.0 200' "$W/failover.msg"
expect "failover to alice/bob" [ $(( $(invites alice) + $(invites bob) )) = $((before + 1)) ]
expect "a failed event for carol (486)" wait_for "$W/router.log" '^event failed carol .* status=486' 20

echo "== carol rings but never answers: cancelled after the 2 s timeout"
stop_operator carol
operator carol "$C" uas-noanswer.xml
sleep 0.3
start=$(date +%s%N)
expect "timeout call" call helpdesk $((P + 26)) 1 200 timeout
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect "carol got a CANCEL" grep -q '^CANCEL ' "$W/carol.uas-noanswer.xml.msg"
expect "caller answered after the timeout" grep -q '^SIP/2.0 200' "$W/timeout.msg"
expect "answered after $elapsed ms, not before the 2 s timeout" [ "$elapsed" -ge 2000 ]
expect "a timeout event for carol (408)" wait_for "$W/router.log" '^event failed carol .* status=408' 20
expect "direct call to alice" wait $D2
expect "direct call to bob" wait $D3
sleep 0.5
expect "loads back to zero: $(last_loads)" [ "$(last_loads)" = "loads: alice=0 bob=0 carol=0" ]
answered=$(grep -c '^event answered' "$W/router.log")
ended=$(grep -c '^event ended' "$W/router.log")
expect "$answered answered calls, $ended ended" [ "$answered" = "$ended" ]

echo "== the caller hangs up while carol rings: CANCEL relayed, 487"
stop_operator carol
operator carol "$C" uas-noanswer.xml
sleep 0.3
cancelled_call() {
	timeout 20 "$SIPP" -sf "$SC/uac-cancel.xml" -i 127.0.0.1 -p $((P + 28)) -s carol -m 1 \
		-nostdin -trace_msg -message_file "$W/cancel.msg" "127.0.0.1:$P" >"$W/cancel.out" 2>&1
}
expect "the cancelled call got its 487" cancelled_call
expect "CANCEL relayed to carol" grep -q '^CANCEL ' "$W/carol.uas-noanswer.xml.msg"
expect "a cancelled event (487)" wait_for "$W/router.log" '^event failed carol .* status=487' 20
sleep 0.5
expect "loads zero: $(last_loads)" [ "$(last_loads)" = "loads: alice=0 bob=0 carol=0" ]

kill -TERM "$RPID"
rc=0
wait "$RPID" || rc=$?
expect "router exited with $rc (0)" [ "$rc" = 0 ]
expect "no sanitizer report" not grep -q 'Sanitizer' "$W/router.log"
checks_summary
