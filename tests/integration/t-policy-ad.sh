#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# Policies stored in AD, end to end: a real Samba AD DC (tests/addc/addc.sh), greenwichd
# joined and running in its network namespace, rules written with greenwich-mmc under the
# administrator's own ticket.  The headline: an unauthenticated sender from outside may IM
# the members of Support (carol, in the directory) and nobody else; a rule changed while
# greenwichd runs is in force within seconds; a user without rights cannot change policy;
# with the DC stopped the last rules hold, from the disk cache after a restart too.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/domain-lib.sh
. "$(dirname "$0")/domain-lib.sh"
domain_setup

write_conf "[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" \
	"fqdn = greenwich.$ADDC_DNS_DOMAIN" "enabled-group = Greenwich Users" \
	"[policy]" "poll-interval = 1"

mmc_as() { # mmc_as CCACHE ARGS...: greenwich-mmc in the domain with that user's ticket
	local cc=$1
	shift
	KRB5CCNAME="FILE:$cc" "$ADDC" run-with-hosts "$D" -- "$MMC" -c "$T/greenwich.conf" "$@"
}
ADMIN_CC="$D/admin.ccache"

# the administrator writes the headline rule (a group by name: stored by its SID)
mmc_as "$ADMIN_CC" policy add 'rule "internet-im" priority 100 {
	class im; from zone external; except to group Support; action deny; }' > "$T/add.out" 2>&1
check "admin adds a rule" grep -q "added rule 'internet-im'" "$T/add.out"
mmc_as "$ADMIN_CC" policy show internet-im > "$T/show.out" 2>&1
SUPPORT_SID=$(sed -n 's/.*except to group \(S-1-5-21-[0-9-]*\) "Support";.*/\1/p' "$T/show.out")
check "shown with the group's name" [ -n "$SUPPORT_SID" ]
"$ADDC" run-with-hosts "$D" -- sh -c 'KRB5CCNAME=FILE:$ADDC_DIR/admin.ccache \
	ldapsearch -LLL -o ldif-wrap=no -Q -Y GSSAPI -H ldap://$ADDC_DC_FQDN \
	-b "CN=internet-im,CN=Policies,CN=Greenwich,CN=Services,CN=Configuration,$ADDC_BASE_DN" \
	-s base objectClass msDS-Settings' > "$T/stored.ldif" 2>&1
check "stored as an msDS-App-Configuration object" \
	grep -q "^objectClass: msDS-App-Configuration" "$T/stored.ldif"
# the text has line breaks, so ldapsearch shows it in base64
sed -n 's/^msDS-Settings:: //p' "$T/stored.ldif" | base64 -d > "$T/stored.txt"
check "the stored text names the group by its SID" grep -q "group $SUPPORT_SID" "$T/stored.txt"

# a user without rights is refused, with the exit code for permission
echo Apple-Pie-11 | KRB5CCNAME="FILE:$T/alice.cc" "$ADDC" run-with-hosts "$D" -- kinit alice \
	> /dev/null
rc=0
mmc_as "$T/alice.cc" policy delete internet-im > "$T/alice.out" 2>&1 || rc=$?
check "alice cannot delete a rule: exit 5" [ "$rc" = 5 ]
check "... and is told access denied" grep -q "access denied: alice@" "$T/alice.out"
rc=0
mmc_as "$T/alice.cc" federation allow partner.test > "$T/alice-fed.out" 2>&1 || rc=$?
check "alice cannot change federation: exit 5" [ "$rc" = 5 ]
mmc_as "$ADMIN_CC" policy list > "$T/list.out" 2>&1
check "the rule is still there" grep -q "internet-im" "$T/list.out"
mmc_as "$ADMIN_CC" policy test --from sip:guest@outside.test --to "sip:carol@$DOMAIN" \
	--class im > "$T/test-carol.out" 2>&1
check "policy test: carol allowed by the exception" \
	grep -q "^allow  (rule internet-im, by its exception" "$T/test-carol.out"
mmc_as "$ADMIN_CC" policy test --from sip:guest@outside.test --to "sip:alice@$DOMAIN" \
	--class im > "$T/test-alice.out" 2>&1
check "policy test: alice denied by the rule" \
	grep -q "^deny 403 Forbidden  (rule internet-im;" "$T/test-alice.out"

start_gwd
GWD_PID=$(cat "$T/gwd.realpid")
PIDS+=("$GWD_PID")
check "greenwichd loads the rule from AD" wait_log "event=policy-loaded source=ad rules=1"

msg() { # msg NAME USER: a MESSAGE from an unauthenticated sender outside to USER@DOMAIN
	sipp_run "$1" uac_message.xml -set user guest -set domain outside.test \
		-set to "$2@$DOMAIN" -set body hello
}
expect() { # expect TAG USER STATUS WHAT
	msg "m-$1-$2" "$2"
	check "$2: $3 ($4)" [ "$(last_status "m-$1-$2")" = "$3" ]
}
expect a carol 480 "in Support: through to the directory, not signed in"
expect a alice 403 "not in Support"
expect a robert 403 "not in Support"
expect a nobody 403 "no such user: the outside learns nothing"
check "denial says only Forbidden" grep -aq "^SIP/2.0 403 Forbidden" "$T/m-a-alice.msg"
check "decisions logged at notice with rule, sender, recipient, result" \
	grep -q "\[notice\].*event=policy rule=internet-im from=sip:guest@outside.test to=sip:alice@$DOMAIN .*result=deny code=403" \
	"$T/greenwichd.log"
check "the allowed one too" \
	grep -q "event=policy rule=internet-im from=sip:guest@outside.test to=sip:carol@$DOMAIN .*result=allow by=exception" \
	"$T/greenwichd.log"

# a rule added while greenwichd runs is in force within seconds, without a restart
mmc_as "$ADMIN_CC" policy add "rule \"alice-too\" priority 50 { class im; from zone external;
	to user sip:alice@$DOMAIN; action allow; }" > "$T/add2.out" 2>&1
mmc_as "$ADMIN_CC" policy move alice-too --after internet-im > "$T/move.out" 2>&1
mmc_as "$ADMIN_CC" policy move alice-too --before internet-im >> "$T/move.out" 2>&1
check "moved after, then before" grep -q "now has priority" "$T/move.out"
until_status 480 20 0.5 msg m-live alice || true
check "alice reachable from outside $((TRIED / 2))s after the change (no restart)" [ "$ST" = 480 ]
check "same process" [ "$(cat "$T/gwd.realpid")" = "$GWD_PID" ]

# the directory changes for other reasons (a user's description): the rules are not
# loaded again (poll-interval 1 s: three polls see the DC's USN move)
# (first let the loads of the moves above settle: each poll may still pick one up)
loads=$(grep -c "event=policy-loaded source=ad" "$T/greenwichd.log")
for _ in 1 2 3 4 5 6 7 8; do
	sleep 2.5
	now=$(grep -c "event=policy-loaded source=ad" "$T/greenwichd.log")
	[ "$now" = "$loads" ] && break
	loads=$now
done
"$ADDC" run-with-hosts "$D" -- sh -c 'KRB5CCNAME=FILE:$ADDC_DIR/admin.ccache \
	ldapmodify -Q -Y GSSAPI -H ldap://$ADDC_DC_FQDN' > "$T/unrelated.out" 2>&1 <<LDIF
dn: CN=bob,CN=Users,$ADDC_BASE_DN
changetype: modify
replace: description
description: changed for no policy reason
LDIF
sleep 3.5
check "an unrelated change in AD ($(head -1 "$T/unrelated.out")) loads no rules again" \
	[ "$(grep -c "event=policy-loaded source=ad" "$T/greenwichd.log")" = "$loads" ]

# the DC goes away: the last rules (and Support's members) stay in force
"$ADDC" stop "$D" > /dev/null
sleep 2
expect down carol 480 "Support member, DC down"
expect down alice 480 "alice-too, DC down"
expect down robert 403 "still denied, DC down"
check "the outage is logged" wait_log "event=policy-ad-unreachable" 5

# greenwichd restarted while the DC is down: the rules come from the disk cache
check "cache file written" test -s "$T/state/policy-cache"
stop_gwd
while kill -0 "$GWD_PID" 2>/dev/null; do sleep 0.05; done
start_gwd
GWD_PID=$(cat "$T/gwd.realpid")
PIDS+=("$GWD_PID")
check "restart: rules from the cache" wait_log "event=policy-loaded source=cache rules=2" 5
# past the policy, the directory answers from its own cache on disk (the DC is still
# down): 480, the user is known but not signed in
expect cache carol 480 "Support member (cache): allowed; directory from its disk cache"
expect cache robert 403 "denied, from the cache"
expect cache alice 480 "allowed by alice-too; directory from its disk cache"
finish
