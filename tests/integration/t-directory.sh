#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# Domain users through the directory: a real Samba AD DC (tests/addc/addc.sh) in its own
# network namespace, greenwichd joined with adcli and running in that namespace. Requests
# for users of the domain are answered from Active Directory: unknown 404, refused
# accounts 403, known but not signed in 480 (aliases too), DC down 503 with Retry-After
# for users not cached, and lookups work again once the DC is back, without a restart.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/domain-lib.sh
. "$(dirname "$0")/domain-lib.sh"
domain_setup

write_conf "[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" \
	"fqdn = greenwich.$ADDC_DNS_DOMAIN" "enabled-group = Greenwich Users"
# senders from outside are denied by the built-in policy default: allow them here
KRB5CCNAME="FILE:$D/admin.ccache" "$ADDC" run-with-hosts "$D" -- "$MMC" -c "$T/greenwich.conf" \
	policy add 'rule "outside-ok" priority 1 { from zone external; action allow; }' > /dev/null
start_gwd
for _ in $(seq 1 100); do grep -q "event=policy-loaded source=ad rules=1" "$T/greenwichd.log" && break; sleep 0.1; done
GWD_PID=$(cat "$T/gwd.realpid")
PIDS+=("$GWD_PID")

msg() { # msg NAME USER: a MESSAGE from an outside sender (not challenged) to USER@DOMAIN
	sipp_run "$1" uac_message.xml -set user guest -set domain outside.test \
		-set to "$2@$DOMAIN" -set body hello
}
expect() { # expect USER STATUS [WHAT]
	msg "m-$1-$2" "$1"
	check "$1@$DOMAIN: $2${3:+ ($3)}" [ "$(last_status "m-$1-$2")" = "$2" ]
}

expect alice 480 "in the directory, not signed in"
expect robert 480 "bob's primary SIP URI"
expect bobby 480 "bob's alias"
expect bob 404 "bob's mail is not his SIP URI"
expect nobody 404 "no such user"
expect dave 404 "no SIP URI"
expect erin 403 "disabled"
check "erin's refusal says why" grep -aq "^SIP/2.0 403 Account disabled" "$T/m-erin-403.msg"
expect frank 403 "expired"
check "frank's refusal says why" grep -aq "^SIP/2.0 403 Account expired" "$T/m-frank-403.msg"
check "refusals logged with user and reason" \
	grep -Eq 'event=directory-refused user=sip:erin@.*reason=.* source=127\.0\.0\.1:[0-9]+$' "$T/greenwichd.log"
check "the DC's answers were looked up, not guessed" \
	grep -q 'event=directory-lookup user=robert@' "$T/greenwichd.log"

# the DC goes away while greenwichd runs
"$ADDC" stop "$D" > /dev/null
expect alice 480 "cached while the DC is down"
expect carol 503 "not cached, DC down"
check "503 carries Retry-After: 30" grep -aiq "^Retry-After: *30" "$T/m-carol-503.msg"
check "the outage is logged" grep -q "event=directory-unavailable user=sip:carol@" \
	"$T/greenwichd.log"

# a greenwichd started while the DC is down starts all the same and says so
mkdir -p "$T/second/state"
P2=$(free_port)
sed -e "s|127.0.0.1:$PORT|127.0.0.1:$P2|" -e "s|$T/state|$T/second/state|" \
	-e "s|$T/greenwichd.pid|$T/second/gwd.pid|" "$T/greenwich.conf" > "$T/second/greenwich.conf"
"$ADDC" run-with-hosts "$D" -- "$T/exec-pid" "$T/second/realpid" \
	"$GWD" --allow-root -c "$T/second/greenwich.conf" -f > "$T/second/gwd.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 50); do
	[ -s "$T/second/realpid" ] && break
	sleep 0.1
done
P2_PID=$(cat "$T/second/realpid")
PIDS+=("$P2_PID")
for _ in $(seq 1 200); do
	grep -q "event=directory-unreachable" "$T/second/gwd.log" && break
	kill -0 "$P2_PID" 2>/dev/null || break
	sleep 0.1
done
check "second greenwichd started with the DC down" grep -q "event=started" "$T/second/gwd.log"
check "it warns that the DC is unreachable" grep -q "\[warning\].*event=directory-unreachable" \
	"$T/second/gwd.log"
check "it is still running" kill -0 "$P2_PID"
kill "$P2_PID"

# the DC comes back: the same user resolves without restarting greenwichd
"$ADDC" start "$D" > /dev/null
until_status 480 30 1 msg m-carol-back carol || true
check "carol@$DOMAIN: 480 once the DC is back (in the group through nested Staff)" [ "$ST" = 480 ]
expect frank 403 "still refused after the outage"
check "greenwichd still running" kill -0 "$GWD_PID"
finish
