#!/bin/bash
# t-presence-policy.sh: watchers from other zones go through the policy engine (class
# presence).  A rules file lets outside watchers see alice; the built-in default denies
# them everyone else (dave).  An outside watcher's From proves nothing, so no rule names
# it.  A denied watcher gets exactly the answers an allowed one gets (200, NOTIFYs),
# saying closed: polite blocking, never a 403.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

RULES="$T/rules.pol"
cat > "$RULES" <<'POL'
rule "outside-may-watch-alice" priority 10 {
	class presence;
	from zone external;
	to user sip:alice@example.test;
	action allow;
}
rule "partner-presence" priority 20 {
	class presence;
	from domain partner.test;
	action allow;
}
POL
write_conf "[presence]" "max-expires = 600" "[policy]" "rules-file = $RULES"
add_user alice secret
add_user dave secret
start_gwd

out=$(/usr/bin/python3 "$top_srcdir/tests/integration/presence_cases.py" "$PORT" policy 2>&1) ||
	true
echo "$out"
CHECKS=$((CHECKS + $(echo "$out" | grep -c '^\(ok\|FAILED\) - ' || true)))
FAILS=$((FAILS + $(echo "$out" | grep -c '^FAILED - \|Traceback' || true)))
check "the policy decided eve's subscription: denied, logged" \
	grep -q -E 'event=policy .*from=sip:eve@other.test .*SUBSCRIBE class=presence .*result=deny' \
	"$T/greenwichd.log"
check "and pat's: allowed by the rule on alice, not by the one that names her domain" grep -q -E \
	'event=policy rule=outside-may-watch-alice from=sip:pat@partner.test .*zone=external .*result=allow' \
	"$T/greenwichd.log"
check "a spoofed partner.test From matched no rule" bash -c \
	"! grep -q 'event=policy rule=partner-presence' '$T/greenwichd.log'"
check "greenwichd still runs" kill -0 "$GWD_PID"
finish
