#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# t-users.sh - greenwich-mmc users list/show/enable/disable/set-uri against a real Samba
# AD DC (tests/addc/addc.sh, own network namespace) with the admin's own Kerberos ticket:
# the fixtures' SIP URIs (mail, proxyAddresses SIP: with aliases), enabled through nested
# groups, groups from tokenGroups, enable/disable as membership of [domain] enabled-group,
# set-uri keeping aliases (checked with ldapsearch); `users show` with a running greenwichd
# (a local-account server for the same domain): a registered, publishing user's devices
# and composed presence; federation list/allow/block/remove and a console session under a
# pty in Federation (cd by completion, show, set setting, delete); --json of every verb
# validated against mmc-schema.json; errors: no ticket (users, policy, federation),
# unknown user, access denied for a user without rights (alice's own ticket), DC
# unreachable (users, policy, federation).  Needs root.
set -eu
# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ADDC=${ADDC_SH:-$top_srcdir/tests/addc/addc.sh}
D=$T/dc
CONF=$T/greenwich.conf

GWD_PID=
cleanup()
{
	if [ -n "$GWD_PID" ]; then kill "$GWD_PID" 2>/dev/null || true; wait "$GWD_PID" 2>/dev/null || true; fi
	dc_cleanup
}
trap cleanup EXIT

mmc() { "$ADDC" run-with-hosts "$D" -- "$MMC" -c "$CONF" "$@"; }
# jsonok WHAT DEF RC ARG...: `greenwich-mmc --json ARG...` exits RC, stdout matches $defs/DEF
# of mmc-schema.json; the document is left in $T/doc.json.
jsonok()
{
	local what=$1 def=$2 want=$3 rc=0
	shift 3
	mmc --json "$@" >"$T/doc.json" 2>"$T/doc.err" || rc=$?
	if [ "$rc" -eq "$want" ] &&
		/usr/bin/python3 "$HERE/schemacheck.py" "$HERE/mmc-schema.json" "$def" "$T/doc.json" >"$T/why"; then
		pass "$what"
	else
		fail "$what (exit $rc, wanted $want; $(cat "$T/why" 2>/dev/null))"
		sed 's/^/     /' "$T/doc.json" "$T/doc.err"
	fi
}
# doc EXPR: a python expression on the last document d is true.
doc() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$T/doc.json"; }
ldap_attr() # ldap_attr USER ATTR: the values, one a line, sorted
{
	"$ADDC" run-with-hosts "$D" -- sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache exec ldapsearch \
		-LLL -Q -Y GSSAPI -H "ldap://$ADDC_DC_FQDN" -b "$ADDC_BASE_DN" \
		"(sAMAccountName=$0)" "$1"' "$1" "$2" | sed -n "s/^$2: //p" | sort
}

cat >"$CONF" <<CONF
[server]
domains = corp.example.com
state-directory = $T/state
control-socket = $T/control.sock

[domain]
name = corp.example.com
enabled-group = Greenwich Users
CONF

echo "# provisioning and starting a test DC in $D"
"$ADDC" provision "$D" >"$T/provision.log" 2>&1 || { cat "$T/provision.log"; exit 1; }
"$ADDC" start "$D" >"$T/start.log" 2>&1 || { cat "$T/start.log"; exit 1; }
# shellcheck disable=SC1091
. "$D/env"

echo "# errors before any ticket"
export KRB5CCNAME=FILE:$T/no-ccache
expect "no ticket: exit 5, says kinit" 5 "no Kerberos ticket: run .kinit YOUR-ADMIN-ACCOUNT@CORP.EXAMPLE.COM" \
	mmc users list
expect "no ticket, --json: an error object" 5 '^\{"error":"no Kerberos ticket' mmc --json users list
expect "no ticket: users show, exit 5" 5 "no Kerberos ticket" mmc users show bob
expect "no ticket: policy list, exit 5, says kinit" 5 "no Kerberos ticket: run kinit as a user allowed to manage Greenwich" \
	mmc policy list
expect "no ticket: policy add, exit 5" 5 "no Kerberos ticket" \
	mmc policy add 'rule "x" priority 1 { class im; action allow; }'
expect "no ticket: federation list, exit 5" 5 "no Kerberos ticket" mmc federation list
expect "no ticket: federation allow, exit 5" 5 "no Kerberos ticket" mmc federation allow partner.example.net
jsonok "no ticket: federation block --json is an error object, exit 5" error 5 federation block x.example.org

echo "# the admin's own ticket"
export KRB5CCNAME=FILE:$D/admin.ccache
expect "users list" 0 "^USER +SIP-URI +ENABLED +ACCOUNT" mmc users list
check_that "alice: SIP URI from mail, enabled" grep -qE "^alice +sip:alice@corp.example.com +yes +active$" "$T/out"
check_that "bob: SIP URI from proxyAddresses SIP:" grep -qE "^bob +sip:robert@corp.example.com +yes" "$T/out"
check_that "carol enabled (direct and nested)" grep -qE "^carol +sip:carol@corp.example.com +yes" "$T/out"
check_that "erin: disabled account" grep -qE "^erin +.* +yes +disabled$" "$T/out"
check_that "dave (no SIP URI) not listed" sh -c "! grep -q '^dave ' '$T/out'"
mmc --json users list >"$T/list.json" 2>&1 || true
jsonok "users list --json matches users-list" users-list 0 users list
check_that "users list --json parses, five users" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(u["user"] for u in d["users"]) == ["alice", "bob", "carol", "erin", "frank"], d
assert all(isinstance(u["enabled"], bool) for u in d["users"])' "$T/list.json"

expect "users show bob" 0 "^sip-uri +sip:robert@corp.example.com$" mmc users show bob
check_that "bob's alias" grep -qE "^aliases +sip:bobby@corp.example.com$" "$T/out"
check_that "bob's groups from tokenGroups" grep -qE "^groups +.*Greenwich Users" "$T/out"
check_that "devices unknown without greenwichd" grep -qE "^devices +unknown" "$T/out"
expect "users show by SIP address" 0 "^user +bob$" mmc users show sip:bobby@corp.example.com
expect "users show carol: nested groups" 0 "^groups +.*Staff" mmc users show carol
check_that "carol: Support too" grep -qE "^groups +.*Support" "$T/out"
expect "unknown user: exit 3" 3 "no user nosuch in corp.example.com" mmc users show nosuch
jsonok "unknown user --json: an error object, exit 3" error 3 users show nosuch
expect "unknown user: enable, exit 3" 3 "no user nosuch in corp.example.com" mmc users enable nosuch
jsonok "users show bob --json matches users-show" users-show 0 users show bob
check_that "... without greenwichd: devices and presence null" doc 'd["devices"] is None and d["presence"] is None'
check_that "presence unknown without greenwichd" sh -c "'$ADDC' run-with-hosts '$D' -- '$MMC' -c '$CONF' users show bob | grep -qE '^presence +unknown'"
expect "usage: exit 2" 2 "usage: users set-uri USER sip:USER@DOMAIN" mmc users set-uri bob

echo "# enable and disable"
expect "dave is not enabled" 0 "^enabled +no$" mmc users show dave
expect "enable dave" 0 "dave is now enabled for Greenwich \(member of Greenwich Users\)" mmc users enable dave
expect "dave enabled now" 0 "^enabled +yes$" mmc users show dave
expect "enable dave again" 0 "dave was already enabled" mmc users enable dave
jsonok "enable --json matches users-member" users-member 0 users enable dave
check_that "... not changed, enabled" doc 'd == {"user": "dave", "enabled": True, "changed": False}'
expect "disable dave" 0 "dave is now disabled for Greenwich" mmc users disable dave
expect "dave disabled again" 0 "^enabled +no$" mmc users show dave
expect "disable carol: still enabled through Staff, exit 1" 1 "carol is no longer a direct member of Greenwich Users but still enabled through a nested group" \
	mmc users disable carol
expect "carol still enabled" 0 "^enabled +yes$" mmc users show carol

echo "# set-uri"
expect "set-uri bob" 0 "the SIP URI of bob is now sip:bob@corp.example.com" \
	mmc users set-uri bob sip:bob@corp.example.com
check_that "proxyAddresses: new primary, alias kept, old primary gone" \
	test "$(ldap_attr bob proxyAddresses | tr '\n' ' ')" = "SIP:bob@corp.example.com sip:bobby@corp.example.com "
expect "set-uri to the alias: the alias becomes primary" 0 "now sip:bobby@corp.example.com" \
	mmc users set-uri bob sip:bobby@corp.example.com
check_that "proxyAddresses: only the new primary" \
	test "$(ldap_attr bob proxyAddresses | tr '\n' ' ')" = "SIP:bobby@corp.example.com "
expect "set-uri alice (mail only)" 0 "now sip:alice.w@corp.example.com" \
	mmc users set-uri alice sip:alice.w@corp.example.com
expect "alice shows the new URI" 0 "^sip-uri +sip:alice.w@corp.example.com$" mmc users show alice
expect "set-uri with a bad URI: exit 2" 2 "is not a SIP URI" mmc users set-uri bob bob@corp
jsonok "set-uri --json matches users-set-uri" users-set-uri 0 users set-uri frank sip:frank@corp.example.com
jsonok "enable --json: changed" users-member 0 users enable dave
check_that "... changed, enabled" doc 'd == {"user": "dave", "enabled": True, "changed": True}'
jsonok "disable --json matches users-member" users-member 0 users disable dave
check_that "... changed, not enabled" doc 'd == {"user": "dave", "enabled": False, "changed": True}'

echo "# users show with greenwichd: carol signed in and publishing"
GPORT=$(/usr/bin/python3 -c '
import random, socket
for _ in range(100):
    p = random.randint(20000, 59000)
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.1", p))
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).bind(("127.0.0.1", p))
        print(p); break
    except OSError:
        pass')
mkdir -p "$T/gwd-state"
cat >"$T/gwd.conf" <<CONF
[server]
udp = 127.0.0.1:$GPORT
tcp = 127.0.0.1:$GPORT
domains = corp.example.com
state-directory = $T/gwd-state
pid-file = $T/gwd.pid
control-socket = $T/control.sock
[auth]
digest-algorithms = MD5
CONF
echo Carol-Pw-1 | "$MMC" -c "$T/gwd.conf" local-user add carol@corp.example.com --password-stdin >/dev/null
"$top_builddir/daemon/greenwichd" -c "$T/gwd.conf" -f >"$T/gwd.log" 2>&1 &
GWD_PID=$!
for _ in $(seq 1 100); do grep -q event=started "$T/gwd.log" 2>/dev/null && break; sleep 0.05; done
check_that "greenwichd started" grep -q event=started "$T/gwd.log"
check_that "carol registers and publishes away with a note" env PYTHONPATH="$top_srcdir/tests/integration" \
	/usr/bin/python3 - "$GPORT" <<'PY'
import sys
import presua
presua.DOMAIN = "corp.example.com"
ua = presua.UA("carol", "Carol-Pw-1", int(sys.argv[1]))
r = ua.register()
assert r is not None and r.status == 200, r and r.first
p = presua.publish(ua, presua.pidf(ua.aor, activity="away", note="At lunch"))
assert p is not None and p.status == 200, p and p.first
PY
expect "users show carol: her device" 0 "^devices +udp 127.0.0.1:[0-9]+$" mmc users show carol
check_that "... and her presence: online, away, the note" grep -qE "^presence +online \(away: At lunch\)$" "$T/out"
jsonok "users show carol --json matches users-show" users-show 0 users show carol
check_that "... one device, presence away" doc \
	'len(d["devices"]) == 1 and d["devices"][0]["transport"] == "udp" and d["presence"] == {"status": "online", "activity": "away", "note": "At lunch"}'
expect "users show frank: no devices" 0 "^devices +none$" mmc users show frank
check_that "... offline" grep -qE "^presence +offline$" "$T/out"
kill "$GWD_PID"
wait "$GWD_PID" 2>/dev/null || true
GWD_PID=
check_that "greenwichd answered the presence question" grep -q "event=started" "$T/gwd.log"

echo "# federation in AD"
expect "federation allow" 0 "partner.example.net: allowed" mmc federation allow partner.example.net
jsonok "federation block --json matches federation-change" federation-change 0 federation block spam.example.org
check_that "... blocked" doc 'd == {"domain": "spam.example.org", "change": "blocked"}'
jsonok "federation list --json matches federation-list" federation-list 0 federation list
check_that "... both domains" doc 'sorted((e["domain"], e["setting"]) for e in d) == [("partner.example.net", "allow"), ("spam.example.org", "block")]'
jsonok "policy add in AD --json matches policy-change" policy-change 0 policy add \
	'rule "partner-im" priority 10 { from zone federated; class im; action allow; }'
jsonok "policy list in AD --json matches policy-list" policy-list 0 policy list
jsonok "policy test --json matches policy-test" policy-test 0 policy test \
	--from sip:x@partner.example.net --to sip:alice@corp.example.com --class im
check_that "... allowed by partner-im, federated" doc 'd["decision"] == "allow" and d["rule"] == "partner-im" and d["zone"] == "federated"'
jsonok "federation remove of an unknown domain: error object, exit 3" error 3 federation remove nowhere.example.org
printf '%s\t%s\t%s\n' \
	"prompt" "" "Greenwich> " \
	"cd Federation" "cd /corp.example.com/Federation\\r" "Federation> " \
	"ls lists the domains" "ls\\r" "spam\\.example\\.org +block" \
	"completion of a domain" "cd par\\t" "tner\\.example\\.net " \
	"the prompt shows the domain" "\\r" "Federation > partner\\.example\\.net> " \
	"show" "show\\r" "setting +allow" \
	"completion of the property" "set se\\t" "tting " \
	"set setting block" "block\\r" "partner\\.example\\.net: blocked" \
	"show again" "show\\r" "setting +block" \
	"delete the other domain" "delete ../spam.example.org\\r" "spam\\.example\\.org: removed" \
	"cd to a domain without a setting is refused" "cd ../nowhere.example.org\\r" "no domain nowhere\\.example\\.org" \
	"cd to the rule in Policies" "cd /corp.example.com/Policies/partner-im\\r" "Policies > partner-im> " \
	"the rule's text" "show\\r" "from zone federated" \
	>"$T/steps"
"$ADDC" run-with-hosts "$D" -- /usr/bin/python3 "$HERE/ptysteps.py" "$T/steps" "$MMC" -c "$CONF" >"$T/pty.out" 2>&1 || true
sed 's/^/     /' "$T/pty.out"
CHECKS=$((CHECKS + $(grep -c '^\(ok\|FAILED\) - pty' "$T/pty.out" || true)))
FAILS=$((FAILS + $(grep -c '^FAILED - pty\|Traceback' "$T/pty.out" || true)))
check_that "the console session ran every step" test "$(grep -c '^ok - pty' "$T/pty.out")" -eq 13
expect "federation list after the console" 0 "partner.example.net +block" mmc federation list
check_that "spam.example.org is gone" sh -c "! grep -q spam '$T/out'"

echo "# a user without rights: alice's own ticket"
export KRB5CCNAME=FILE:$T/alice.ccache
"$ADDC" run-with-hosts "$D" -- sh -c 'echo Apple-Pie-11 | kinit alice@CORP.EXAMPLE.COM' >"$T/kinit.log" 2>&1
expect "alice may read" 0 "^user +frank$" mmc users show frank
expect "alice: enable is access denied, exit 5" 5 "access denied: alice@CORP.EXAMPLE.COM may not change the members" \
	mmc users enable dave
expect "alice: set-uri is access denied, exit 5" 5 "access denied: alice@CORP.EXAMPLE.COM may not change the SIP URI of frank" \
	mmc users set-uri frank sip:f@corp.example.com

echo "# the DC stopped"
export KRB5CCNAME=FILE:$D/admin.ccache
"$ADDC" stop "$D" >/dev/null 2>&1
sed -i 's/^enabled-group/dcs = 127.0.0.9\nenabled-group/' "$CONF"
expect "unreachable DC: exit 6" 6 "domain controller 127.0.0.9 unreachable" \
	"$ADDC" run-with-hosts "$D" -- "$MMC" -c "$CONF" users list
expect "unreachable DC: users show, exit 6" 6 "domain controller 127.0.0.9 unreachable" \
	"$ADDC" run-with-hosts "$D" -- "$MMC" -c "$CONF" users show bob
expect "unreachable DC: policy list, exit 6" 6 "no domain controller answers" \
	"$ADDC" run-with-hosts "$D" -- "$MMC" -c "$CONF" policy list
expect "unreachable DC: policy delete, exit 6" 6 "no domain controller answers" \
	"$ADDC" run-with-hosts "$D" -- "$MMC" -c "$CONF" policy delete partner-im
expect "unreachable DC: federation list, exit 6" 6 "no domain controller answers" \
	"$ADDC" run-with-hosts "$D" -- "$MMC" -c "$CONF" federation list
expect "unreachable DC: federation allow, exit 6" 6 "no domain controller answers" \
	"$ADDC" run-with-hosts "$D" -- "$MMC" -c "$CONF" federation allow partner.example.net
jsonok "unreachable DC --json: an error object, exit 6" error 6 federation list
echo "# $CHECKS checks, $FAILS failed"
[ "$FAILS" -eq 0 ]
