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

# ldap_dn BASE ATTR [SCOPE]: the values of ATTR below BASE (objects of any class), sorted
ldap_dn()
{
	"$ADDC" run-with-hosts "$D" -- sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache exec ldapsearch \
		-LLL -Q -o ldif-wrap=no -Y GSSAPI -H "ldap://$ADDC_DC_FQDN" -b "$0,CN=Configuration,$ADDC_BASE_DN" \
		-s "$2" "(objectClass=*)" "$1"' "$1" "$2" "${3:-base}" 2>/dev/null | sed -n "s/^$2: //p" | sort
}
GWC="CN=Greenwich,CN=Services"
fed_stored() { ldap_dn "CN=Federation,$GWC" msDS-Settings | tr '\n' '|'; }
# rules_stored: "name priority uSNChanged" of each rule object in AD, sorted
rules_stored()
{
	"$ADDC" run-with-hosts "$D" -- sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache exec ldapsearch \
		-LLL -Q -o ldif-wrap=no -Y GSSAPI -H "ldap://$ADDC_DC_FQDN" \
		-b "CN=Policies,CN=Greenwich,CN=Services,CN=Configuration,$ADDC_BASE_DN" -s one \
		"(objectClass=*)" msDS-Settings uSNChanged' 2>/dev/null | /usr/bin/python3 -c '
import re, sys
out = []
for block in sys.stdin.read().split("\n\n"):
    m = re.search(r"rule \"?([^\" ]+)\"? priority (\d+)", block.replace("\\\"", "\""))
    u = re.search(r"^uSNChanged: (\d+)", block, re.M)
    if not m:
        import base64
        b = re.search(r"^msDS-Settings:: (\S+)", block, re.M)
        if b:
            m = re.search(r"rule \"?([^\" ]+)\"? priority (\d+)", base64.b64decode(b.group(1)).decode())
    if m and u:
        out.append("%s %s %s" % (m.group(1), m.group(2), u.group(1)))
print("\n".join(sorted(out)))'
}
# prio_of NAME: the rule's priority in AD
prio_of() { rules_stored | awk -v n="$1" '$1 == n { print $2 }'; }
usn_of() { rules_stored | awk -v n="$1" '$1 == n { print $3 }'; }
# unchanged WHAT BEFORE AFTER: nothing was written
unchanged() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (before: $2; after: $3)"; fi; }

dc_domain_up

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
check "alice: SIP URI from mail, enabled" grep -qE "^alice +sip:alice@corp.example.com +yes +active$" "$T/out"
check "bob: SIP URI from proxyAddresses SIP:" grep -qE "^bob +sip:robert@corp.example.com +yes" "$T/out"
check "carol enabled (direct and nested)" grep -qE "^carol +sip:carol@corp.example.com +yes" "$T/out"
check "erin: disabled account" grep -qE "^erin +.* +yes +disabled$" "$T/out"
check "dave (no SIP URI) not listed" sh -c "! grep -q '^dave ' '$T/out'"
mmc --json users list >"$T/list.json" 2>&1 || true
jsonok "users list --json matches users-list" users-list 0 users list
check "users list --json parses, five users" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(u["user"] for u in d["users"]) == ["alice", "bob", "carol", "erin", "frank"], d
assert all(isinstance(u["enabled"], bool) for u in d["users"])' "$T/list.json"

expect "users show bob" 0 "^sip-uri +sip:robert@corp.example.com$" mmc users show bob
check "bob's alias" grep -qE "^aliases +sip:bobby@corp.example.com$" "$T/out"
check "bob's groups from tokenGroups" grep -qE "^groups +.*Greenwich Users" "$T/out"
check "devices unknown without greenwichd" grep -qE "^devices +unknown" "$T/out"
expect "users show by SIP address" 0 "^user +bob$" mmc users show sip:bobby@corp.example.com
expect "users show carol: nested groups" 0 "^groups +.*Staff" mmc users show carol
check "carol: Support too" grep -qE "^groups +.*Support" "$T/out"
expect "unknown user: exit 3" 3 "no user nosuch in corp.example.com" mmc users show nosuch
jsonok "unknown user --json: an error object, exit 3" error 3 users show nosuch
expect "unknown user: enable, exit 3" 3 "no user nosuch in corp.example.com" mmc users enable nosuch
jsonok "users show bob --json matches users-show" users-show 0 users show bob
check "... without greenwichd: devices and presence null" doc 'd["devices"] is None and d["presence"] is None'
check "presence unknown without greenwichd" sh -c "'$ADDC' run-with-hosts '$D' -- '$MMC' -c '$CONF' users show bob | grep -qE '^presence +unknown'"
expect "usage: exit 2" 2 "usage: users set-uri USER sip:USER@DOMAIN" mmc users set-uri bob

echo "# enable and disable"
expect "dave is not enabled" 0 "^enabled +no$" mmc users show dave
expect "enable dave" 0 "dave is now enabled for Greenwich \(member of Greenwich Users\)" mmc users enable dave
expect "dave enabled now" 0 "^enabled +yes$" mmc users show dave
expect "enable dave again" 0 "dave was already enabled" mmc users enable dave
jsonok "enable --json matches users-member" users-member 0 users enable dave
check "... not changed, enabled" doc 'd == {"user": "dave", "enabled": True, "changed": False}'
expect "disable dave" 0 "dave is now disabled for Greenwich" mmc users disable dave
expect "dave disabled again" 0 "^enabled +no$" mmc users show dave
expect "disable carol: still enabled through Staff, exit 1" 1 "carol is no longer a direct member of Greenwich Users but still enabled through a nested group" \
	mmc users disable carol
expect "carol still enabled" 0 "^enabled +yes$" mmc users show carol

echo "# set-uri"
expect "set-uri bob" 0 "the SIP URI of bob is now sip:bob@corp.example.com" \
	mmc users set-uri bob sip:bob@corp.example.com
check "proxyAddresses: new primary, alias kept, old primary gone" \
	test "$(ldap_attr bob proxyAddresses | tr '\n' ' ')" = "SIP:bob@corp.example.com sip:bobby@corp.example.com "
expect "set-uri to the alias: the alias becomes primary" 0 "now sip:bobby@corp.example.com" \
	mmc users set-uri bob sip:bobby@corp.example.com
check "proxyAddresses: only the new primary" \
	test "$(ldap_attr bob proxyAddresses | tr '\n' ' ')" = "SIP:bobby@corp.example.com "
expect "set-uri alice (mail only)" 0 "now sip:alice.w@corp.example.com" \
	mmc users set-uri alice sip:alice.w@corp.example.com
expect "alice shows the new URI" 0 "^sip-uri +sip:alice.w@corp.example.com$" mmc users show alice
expect "set-uri with a bad URI: exit 2" 2 "is not a SIP URI" mmc users set-uri bob bob@corp
jsonok "set-uri --json matches users-set-uri" users-set-uri 0 users set-uri frank sip:frank@corp.example.com

echo "# set-uri and reset-uri check before they write"
before=$(ldap_attr alice proxyAddresses | tr '\n' ' ')
for bad in 'sip:a@' 'sip:a@b@corp.example.com' 'sip:@corp.example.com' 'sip:a b@corp.example.com' \
	'sip:alice@corp example.com' 'tel:+4930123' 'sips:alice@corp.example.com' 'mailto:alice@corp.example.com' \
	'sip:alice@corp..example.com' 'sip:alice@localhost'; do
	expect "set-uri '$bad': not a SIP URI, exit 2" 2 "is not a SIP URI like sip:user@domain" \
		mmc users set-uri alice "$bad"
done
unchanged "... alice's proxyAddresses untouched" "$before" "$(ldap_attr alice proxyAddresses | tr '\n' ' ')"
expect "set-uri in a domain the server does not serve: exit 2" 2 "other.example.org is not a domain this server serves" \
	mmc users set-uri alice sip:alice@other.example.org
jsonok "... --json: an error object, exit 2" error 2 users set-uri alice sip:alice@other.example.org
expect "set-uri to bob's URI: refused, exit 7" 7 "sip:bobby@corp.example.com is already the SIP URI \(or an alias\) of bob" \
	mmc users set-uri alice sip:bobby@corp.example.com
expect "set-uri to carol's mail-derived URI: refused, exit 7" 7 "sip:Carol@corp.example.com is already the SIP URI \(or an alias\) of carol" \
	mmc users set-uri alice SIP:Carol@corp.example.com
unchanged "... alice's proxyAddresses untouched" "$before" "$(ldap_attr alice proxyAddresses | tr '\n' ' ')"
unchanged "... bob's too" "SIP:bobby@corp.example.com " "$(ldap_attr bob proxyAddresses | tr '\n' ' ')"
expect "bob's mail is not his URI (he has SIP:), so alice may take it" 0 "the SIP URI of alice is now sip:bob@corp.example.com" \
	mmc users set-uri alice sip:bob@corp.example.com
expect "reset-uri bob: his mail-derived URI is alice's now, refused, exit 7" 7 "sip:bob@corp.example.com is already the SIP URI \(or an alias\) of alice" \
	mmc users reset-uri bob
unchanged "... bob's proxyAddresses untouched" "SIP:bobby@corp.example.com " "$(ldap_attr bob proxyAddresses | tr '\n' ' ')"
expect "users show alice: where the URI comes from" 0 "^sip-uri-from +proxyAddresses SIP:" mmc users show alice
jsonok "reset-uri alice --json matches users-reset-uri" users-reset-uri 0 users reset-uri alice
check "... back to her mail, changed" doc 'd == {"user": "alice", "sip_uri": "sip:alice@corp.example.com", "source": "mail", "changed": True}'
check "... the SIP: value is gone" test -z "$(ldap_attr alice proxyAddresses)"
expect "users show alice: from mail" 0 "^sip-uri-from +mail$" mmc users show alice
jsonok "users show alice --json: sip_uri_source mail" users-show 0 users show alice
check "... mail" doc 'd["sip_uri_source"] == "mail" and d["sip_uri"] == "sip:alice@corp.example.com"'
expect "reset-uri bob now works" 0 "the SIP URI of bob is now sip:bob@corp.example.com \(from mail\)" mmc users reset-uri bob
expect "reset-uri bob again: nothing to do" 0 "bob has no SIP: proxyAddresses value" mmc users reset-uri bob
jsonok "... --json: not changed" users-reset-uri 0 users reset-uri bob
check "... changed false" doc 'd["changed"] is False'
expect "set-uri dave (no mail)" 0 "now sip:dave@corp.example.com" mmc users set-uri dave sip:dave@corp.example.com
expect "reset-uri dave: no mail, no alias: refused, exit 7" 7 "dave has no mail and no other sip: address" mmc users reset-uri dave
unchanged "... dave keeps his URI" "SIP:dave@corp.example.com " "$(ldap_attr dave proxyAddresses | tr '\n' ' ')"
expect "reset-uri of an unknown user: exit 3" 3 "no user nosuch" mmc users reset-uri nosuch
expect "reset-uri usage: exit 2" 2 "usage: users reset-uri USER" mmc users reset-uri
jsonok "usage error --json: an error object, exit 2" error 2 users reset-uri
jsonok "enable --json: changed" users-member 0 users enable dave
check "... changed, enabled" doc 'd == {"user": "dave", "enabled": True, "changed": True}'
jsonok "disable --json matches users-member" users-member 0 users disable dave
check "... changed, not enabled" doc 'd == {"user": "dave", "enabled": False, "changed": True}'

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
"$top_builddir/daemon/greenwichd" --allow-root -c "$T/gwd.conf" -f >"$T/gwd.log" 2>&1 &
GWD_PID=$!
for _ in $(seq 1 100); do grep -q event=started "$T/gwd.log" 2>/dev/null && break; sleep 0.05; done
check "greenwichd started" grep -q event=started "$T/gwd.log"
check "carol registers and publishes away with a note" env PYTHONPATH="$top_srcdir/tests/integration" \
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
check "... and her presence: online, away, the note" grep -qE "^presence +online \(away: At lunch\)$" "$T/out"
jsonok "users show carol --json matches users-show" users-show 0 users show carol
check "... one device, presence away" doc \
	'len(d["devices"]) == 1 and d["devices"][0]["transport"] == "udp" and d["presence"] == {"status": "online", "activity": "away", "note": "At lunch"}'
expect "users show frank: no devices" 0 "^devices +none$" mmc users show frank
check "... offline" grep -qE "^presence +offline$" "$T/out"
kill "$GWD_PID"
wait "$GWD_PID" 2>/dev/null || true
GWD_PID=
check "greenwichd answered the presence question" grep -q "event=started" "$T/gwd.log"

echo "# federation in AD"
expect "federation allow" 0 "partner.example.net: allowed" mmc federation allow partner.example.net
fbefore=$(fed_stored)
check "... stored as 'allow partner.example.net'" test "$fbefore" = "allow partner.example.net|"
expect "federation allow 'not a domain': exit 2" 2 "'not a domain' is not a domain name" mmc federation allow 'not a domain'
expect "federation allow '*.example.net': no wildcards, exit 2" 2 "wildcards are not supported" mmc federation allow '*.example.net'
expect "federation block a single label: exit 2" 2 "at least two labels" mmc federation block localhost
expect "federation allow -bad-.example.net: exit 2" 2 "starts with '-'" mmc federation allow -bad-.example.net
expect "federation allow our own domain: refused, exit 7" 7 "CORP.example.com is one of this server's own domains" \
	mmc federation allow CORP.example.com
jsonok "... --json: an error object, exit 7" error 7 federation allow corp.example.com
unchanged "... nothing written to AD" "$fbefore" "$(fed_stored)"
echo "# entries an older version stored: listed, marked, removable"
"$ADDC" run-with-hosts "$D" -- sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache ldapmodify -Q -Y GSSAPI -H "ldap://$ADDC_DC_FQDN"' >"$T/seed.log" 2>&1 <<LDIF || true
dn: CN=Federation,CN=Greenwich,CN=Services,CN=Configuration,$ADDC_BASE_DN
changetype: modify
add: msDS-Settings
msDS-Settings: allow not a domain
msDS-Settings: allow *.example.net
msDS-Settings: block corp.example.com
msDS-Settings: permit odd.example.org
LDIF
check "seeded four bad values" test "$(fed_stored | tr '|' '\n' | grep -c .)" -eq 5
expect "federation list shows every stored entry" 0 "not a domain +allow +INVALID, ignored: not a valid domain name" mmc federation list
check "... the wildcard" grep -qE '^\*\.example\.net +allow +INVALID, ignored: not a valid domain name: wildcards' "$T/out"
check "... our own domain" grep -qE "^corp\.example\.com +block +INVALID, ignored: one of this server's own domains" "$T/out"
check "... a value that is no setting" grep -qE "^permit odd\.example\.org +unknown +INVALID" "$T/out"
check "... and the good one, unmarked" grep -qE "^partner\.example\.net +allow *$" "$T/out"
jsonok "federation list --json with invalid entries matches federation-list" federation-list 0 federation list
check "... marked valid false with the problem and the stored value" doc \
	'[e["stored"] for e in d if e.get("valid") is False] == ["allow *.example.net", "block corp.example.com", "allow not a domain", "permit odd.example.org"] and "valid" not in [e for e in d if e["domain"] == "partner.example.net"][0]'
expect "federation remove '*.example.net'" 0 "\*\.example\.net: removed" mmc federation remove '*.example.net'
expect "federation remove 'not a domain'" 0 "not a domain: removed" mmc federation remove 'not a domain'
expect "federation remove corp.example.com" 0 "corp.example.com: removed" mmc federation remove corp.example.com
expect "federation remove 'permit odd.example.org' (the value as stored)" 0 "removed" mmc federation remove 'permit odd.example.org'
check "... only the good entry is left in AD" test "$(fed_stored)" = "allow partner.example.net|"
jsonok "federation block --json matches federation-change" federation-change 0 federation block spam.example.org
check "... blocked" doc 'd == {"domain": "spam.example.org", "change": "blocked"}'
jsonok "federation list --json matches federation-list" federation-list 0 federation list
check "... both domains" doc 'sorted((e["domain"], e["setting"]) for e in d) == [("partner.example.net", "allow"), ("spam.example.org", "block")]'
jsonok "policy add in AD --json matches policy-change" policy-change 0 policy add \
	'rule "partner-im" priority 10 { from zone federated; class im; action allow; }'
jsonok "policy list in AD --json matches policy-list" policy-list 0 policy list
jsonok "policy test --json matches policy-test" policy-test 0 policy test \
	--from sip:x@partner.example.net --to sip:alice@corp.example.com --class im --arrival verified-peer
check "... allowed by partner-im, federated" doc 'd["decision"] == "allow" and d["rule"] == "partner-im" and d["zone"] == "federated"'
jsonok "policy test of a partner's user without --arrival" policy-test 0 policy test \
	--from sip:x@partner.example.net --to sip:alice@corp.example.com --class im
check "... unproven: external, the default denies, and a note says why" doc \
	'd["zone"] == "external" and d["decision"] == "deny" and d["default"] and "verified-peer" in d["notes"][0]'
jsonok "policy test from the blocked domain" policy-test 0 policy test \
	--from sip:x@spam.example.org --to sip:alice@corp.example.com --class im --arrival verified-peer
check "... federation-blocked, as greenwichd answers" doc 'd["blocked"] and d["rule"] == "federation-blocked" and d["code"] == 403'
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
	"a catch-all deny asks first" "policy add 'rule \"deny-all2\" { action deny; }'\\r" "Store rule 'deny-all2', which blocks internal users\\? \\[y/N\\]" \
	"no: not stored" "n\\r" "rule 'deny-all2' not stored" \
	"remove asks first" "policy remove partner-im\\r" "Delete rule 'partner-im' \\(priority 10\\)\\? \\[y/N\\]" \
	"no: kept" "n\\r" "rule 'partner-im' not deleted" \
	>"$T/steps"
"$ADDC" run-with-hosts "$D" -- /usr/bin/python3 "$HERE/ptysteps.py" "$T/steps" "$MMC" -c "$CONF" >"$T/pty.out" 2>&1 || true
sed 's/^/     /' "$T/pty.out"
CHECKS=$((CHECKS + $(grep -c '^\(ok\|FAILED\) - pty' "$T/pty.out" || true)))
FAILS=$((FAILS + $(grep -c '^FAILED - pty\|Traceback' "$T/pty.out" || true)))
check "the console session ran every step" test "$(grep -c '^ok - pty' "$T/pty.out")" -eq 17
check "... deny-all2 is not in AD, partner-im still is" test "$(rules_stored | cut -d' ' -f1 | tr '\n' ' ')" = "partner-im "
expect "federation list after the console" 0 "partner.example.net +block" mmc federation list
check "spam.example.org is gone" sh -c "! grep -q spam '$T/out'"

echo "# policy changes in AD: checked first, only what changes written"
snap=$(rules_stored)
expect "move X --before X: exit 2" 2 "a rule cannot be moved before itself" mmc policy move partner-im --before partner-im
expect "move before an unknown rule: exit 3" 3 "no rule 'nosuch'" mmc policy move partner-im --after nosuch
expect "move an unknown rule: exit 3" 3 "no rule 'nosuch'" mmc policy move nosuch --before partner-im
unchanged "... no rule object was written" "$snap" "$(rules_stored)"
expect "add without a priority: the next free one" 0 "added rule 'ext-call' \(priority 20\)" \
	mmc policy add 'rule "ext-call" { from zone external; class call; action deny; }'
expect "... and again" 0 "added rule 'ext-presence' \(priority 30\)" \
	mmc policy add 'rule ext-presence { from zone external; class presence; action deny; }'
snap=$(rules_stored)
expect "move --dry-run: the plan, nothing written" 0 "ext-presence: priority 30 -> 15" \
	mmc policy move ext-presence --before ext-call --dry-run
unchanged "... no rule object was written" "$snap" "$(rules_stored)"
jsonok "move --dry-run --json matches policy-change" policy-change 0 policy move ext-presence --before ext-call --dry-run
check "... dry_run and the writes" doc 'd["dry_run"] is True and d["writes"] == [{"rule": "ext-presence", "from": 30, "to": 15}]'
expect "move ext-presence before ext-call" 0 "rule 'ext-presence' now has priority 15" \
	mmc policy move ext-presence --before ext-call
check "... only that rule was written" test "$(usn_of partner-im) $(usn_of ext-call)" = \
	"$(echo "$snap" | awk '$1 == "partner-im" { print $3 }') $(echo "$snap" | awk '$1 == "ext-call" { print $3 }')"
check "... priority 15 in AD" test "$(prio_of ext-presence)" = 15
expect "move to a priority another rule has: refused, exit 7" 7 "priority 20 is taken by rule 'ext-call'" \
	mmc policy move ext-presence --priority 20
echo "# a catch-all deny, a sender condition that cannot match, --dry-run, remove"
snap=$(rules_stored)
expect "catch-all deny: refused without --force, exit 7" 7 "denies internal users wholesale: not stored \(add --force" \
	mmc policy add 'rule "deny-all" { action deny; }'
check "... with a warning naming the classes" grep -q "warning: rule 'deny-all' denies every internal user (im, presence, call)" "$T/out"
expect "a deny of the served domain: refused too" 7 "denies internal users wholesale" \
	mmc policy add 'rule "deny-corp" { from domain corp.example.com; class im; action deny; }'
expect "a deny of one group is fine" 0 "added rule 'deny-staff'" \
	mmc policy add 'rule "deny-staff" { from group Staff; class call; action deny; }'
snap=$(rules_stored)
expect "catch-all --dry-run: shown, nothing written" 0 "would add rule 'deny-all' \(priority 40\), nothing written" \
	mmc policy add 'rule "deny-all" { action deny; }' --dry-run
unchanged "... no rule object was written" "$snap" "$(rules_stored)"
jsonok "catch-all --json --dry-run: the warning in the document" policy-change 0 policy add --dry-run 'rule "deny-all" { action deny; }'
check "... warnings" doc 'd["dry_run"] is True and "denies every internal user" in d["warnings"][0]'
expect "catch-all with --force: stored" 0 "added rule 'deny-all' \(priority 40\)" \
	mmc policy add --force 'rule "deny-all" { action deny; }'
check "... in AD" test "$(prio_of deny-all)" = 40
expect "from user for external senders: a warning" 0 "never matches an external sender" \
	mmc policy add 'rule "ext-user" { from zone external; from user sip:x@partner.example.net; action allow; }'
check "... this rule never applies" grep -q "so this rule never applies" "$T/out"
snap=$(rules_stored)
expect "remove --dry-run" 0 "would delete rule 'deny-all'" mmc policy remove deny-all --dry-run
unchanged "... nothing written" "$snap" "$(rules_stored)"
expect "remove (no terminal: no question)" 0 "deleted rule 'deny-all'" mmc policy remove deny-all
check "... gone from AD" test -z "$(prio_of deny-all)"
echo "# a write that fails part-way is rolled back"
mmc policy add 'rule "s1" priority 100 { from zone external; class im; action deny; }' >/dev/null 2>&1
mmc policy add 'rule "s2" priority 101 { from zone external; class call; action deny; }' >/dev/null 2>&1
"$ADDC" run-with-hosts "$D" -- sh -c 'samba-tool dsacl set -H "ldap://$ADDC_DC_FQDN" --use-kerberos=required \
	--use-krb5-ccache="$ADDC_DIR/admin.ccache" \
	--objectdn="CN=s2,CN=Policies,CN=Greenwich,CN=Services,CN=Configuration,$ADDC_BASE_DN" \
	--sddl="(D;;WP;;;DA)"' >"$T/dsacl.log" 2>&1 || cat "$T/dsacl.log"
snap=$(rules_stored | cut -d' ' -f1,2)
expect "move that renumbers, one rule not writable: exit 5, rolled back" 5 "writing rule 's2' failed: .*; the 4 rules already written have been put back, so nothing changed" \
	mmc policy move ext-user --after s1
unchanged "... every priority in AD as before" "$snap" "$(rules_stored | cut -d' ' -f1,2)"

echo "# the audit trail"
expect "audit lists the changes with the admin's principal" 0 'admin=Administrator@CORP.EXAMPLE.COM unix=[^ ]+ verb="users set-uri" object=alice uri=sip:bob@corp.example.com' mmc audit
check "... reset-uri" grep -q 'verb="users reset-uri" object=bob uri=sip:bob@corp.example.com old=sip:bobby@corp.example.com' "$T/out"
check "... federation remove of a stored value with blanks" grep -q 'verb="federation remove" object="not a domain"' "$T/out"
check "... policy move with the rules written" grep -q 'verb="policy move" object=ext-presence priority=15 rules_written=1' "$T/out"
check "... the failed move" grep -q 'verb="policy move" object=ext-user after=s1 result=failed' "$T/out"
check "... refused changes are not there" sh -c "! grep -q 'deny-corp\|other.example.org' '$T/out'"
check "the file under the state directory" test -s "$T/state/mmc-audit.log"
jsonok "audit --json --since 1h matches audit" audit 0 audit --since 1h
check "... objects with verb and admin" doc 'all(e["admin"] == "Administrator@CORP.EXAMPLE.COM" for e in d) and any(e["verb"] == "users enable" for e in d)'
expect "audit --since the future: none" 0 "no changes recorded since then" mmc audit --since 2999-01-01
expect "audit --since rubbish: exit 2" 2 "usage: audit" mmc audit --since yesterdayish
# syslog: a private /dev in a mount namespace whose /dev/log is a socket of ours
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
open(sys.argv[2], "w").close()
try:
    d = s.recv(4096)
    open(sys.argv[2], "wb").write(d)
except socket.timeout:
    pass' "$T/log.sock" "$T/syslog.got" &
LOGPID=$!
for _ in $(seq 1 50); do [ -S "$T/log.sock" ] && break; sleep 0.1; done
unshare -m sh -c 'set -e; mount --make-rprivate /; mkdir -p "$1/olddev"; mount --rbind /dev "$1/olddev"
	mount -t tmpfs none /dev
	for f in null zero random urandom; do touch "/dev/$f"; mount --bind "$1/olddev/$f" "/dev/$f"; done
	touch /dev/log; mount --bind "$1/log.sock" /dev/log
	shift; exec "$@"' sh "$T" "$ADDC" run-with-hosts "$D" -- "$MMC" -c "$CONF" federation block spam2.example.org \
	>"$T/syslog.out" 2>&1 || cat "$T/syslog.out"
wait "$LOGPID" || true
check "syslog: facility auth, notice, ident greenwich-mmc, the same key=value line" \
	grep -qE '^<37>.*greenwich-mmc\[[0-9]+\]: admin=Administrator@CORP.EXAMPLE.COM unix=[^ ]+ verb="federation block" object=spam2.example.org$' "$T/syslog.got"

echo "# set enabled-group: only a group that exists"
cp "$CONF" "$T/conf.before"
expect "set enabled-group to a group AD does not have: exit 3" 3 "'No Such Group' is not a group in corp.example.com" \
	mmc set /corp.example.com enabled-group "No Such Group"
check "... greenwich.conf untouched" cmp -s "$CONF" "$T/conf.before"
expect "set enabled-group Staff" 0 "\[domain\] enabled-group = Staff" mmc set /corp.example.com enabled-group Staff
expect "... and back" 0 "\[domain\] enabled-group = Greenwich Users" mmc set /corp.example.com enabled-group "Greenwich Users"
check "... audited" sh -c "grep -q 'verb=set object=enabled-group value=Staff' '$T/state/mmc-audit.log'"

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
checks_summary
