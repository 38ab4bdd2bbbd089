#!/bin/bash
# t-presence-policy.sh: watchers from other zones go through the policy engine (class
# presence).  A rules file allows presence from domain partner.test; the built-in default
# denies other outside senders.  A denied watcher gets exactly the answers an allowed one
# gets (200, NOTIFYs), saying closed: polite blocking, never a 403.
. "$(dirname "$0")/lib.sh"

RULES="$T/rules.pol"
cat > "$RULES" <<'POL'
rule "partner-presence" priority 10 {
	class presence;
	from domain partner.test;
	action allow;
}
POL
write_conf "[presence]" "max-expires = 600" "[policy]" "rules-file = $RULES"
add_user alice secret
start_gwd

out=$(/usr/bin/python3 "$top_srcdir/tests/integration/presence_cases.py" "$PORT" policy 2>&1) ||
	true
echo "$out"
CHECKS=$((CHECKS + $(echo "$out" | grep -c '^\(ok\|FAILED\) - ' || true)))
FAILS=$((FAILS + $(echo "$out" | grep -c '^FAILED - \|Traceback' || true)))
check "the policy decided eve's subscription: denied, logged" \
	grep -q -E 'event=policy .*from=sip:eve@other.test .*SUBSCRIBE class=presence .*result=deny' \
	"$T/greenwichd.log"
check "and pat's: allowed by rule partner-presence" grep -q -E \
	'event=policy rule=partner-presence from=sip:pat@partner.test .*result=allow' \
	"$T/greenwichd.log"
check "greenwichd still runs" kill -0 "$GWD_PID"
finish
