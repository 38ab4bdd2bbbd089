#!/bin/bash
# t-admission.sh: the admission of requests under attack, over UDP and TCP.
# Pre-loaded Route sets, dialog tokens reused outside their dialog, forged
# identity headers, another user's contact URI registered or addressed, and
# rules on a sender that only claims to be someone, PUBLISH and SERVICE
# without an authenticated owner, stray 2xx sent to be bounced elsewhere,
# captured Digest credentials played again, password guessing, a subscription
# flood:
# each attack is refused
# and the victim's device is checked to have received nothing
# (admission_cases.py, with presua.py's client).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
CASES="$top_srcdir/tests/integration/admission_cases.py"
RULES="$T/rules.pol"
cat > "$RULES" <<EOF
rule "outside-im-bob-only" priority 10 {
	class im;
	from zone external;
	except to user sip:bob@$DOMAIN;
	action deny 403 "Only bob takes outside messages";
}
rule "outside-calls-carol" priority 20 {
	class call;
	from zone external;
	to user sip:carol@$DOMAIN;
	action allow;
}
rule "no-mallory-to-carol" priority 30 {
	class im;
	from user sip:mallory@$DOMAIN;
	to user sip:carol@$DOMAIN;
	action deny 403 "Not to carol";
}
rule "partner-may-im" priority 40 {
	class im;
	from domain partner.test;
	action allow;
}
EOF
write_conf "[policy]" "rules-file = $RULES" "[presence]" "max-subscriptions-per-source = 20"
for u in alice bob carol mallory dave erin; do add_user "$u" secret; done
start_gwd
export GW_DB="$T/state/greenwich.db"

run_case() { # run_case NAME TRANSPORT: the scenario's checks counted as ours
	local out
	out=$("$PY" "$CASES" "$PORT" "$1" "$2" 2>&1) || true
	# shellcheck disable=SC2001 # a prefix on every line
	echo "$out" | sed "s/^/[$1] /"
	CHECKS=$((CHECKS + $(echo "$out" | grep -c '^\(ok\|FAILED\) - ' || true)))
	FAILS=$((FAILS + $(echo "$out" | grep -c '^FAILED - \|Traceback' || true)))
}

for tr in udp tcp; do
	for c in route dialog identity contact sender presence stray replay guess subflood; do run_case "$c" "$tr"; done
done
check "every refusal logged with its reason and source" \
	grep -q 'event=admission-refused method=MESSAGE status=403 reason="Route beyond this server outside a dialog" source=127.0.0.1:' \
	"$T/greenwichd.log"
check "replays logged with the source" grep -q 'event=auth-replay scheme=digest user=alice@example.test reason="uri is not the Request-URI" source=127.0.0.1:' "$T/greenwichd.log"
check "guessing held back and logged with the source" grep -q 'event=auth-throttled scheme=digest user=dave source=127.0.0.5 retry-after=' "$T/greenwichd.log"
check "... and with what is held back: the account" \
	grep -qE 'event=auth-throttled scheme=digest user=dave source=127.0.0.5 retry-after=[0-9]+ reason="too many failed sign-ins" held=account$' \
	"$T/greenwichd.log"
check "contact collisions logged" grep -q 'event=register-refused user=mallory@' "$T/greenwichd.log"
check "greenwichd still runs" kill -0 "$GWD_PID"
finish
