#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# t-users.sh - greenwich-mmc users list/show/enable/disable/set-uri against a real Samba
# AD DC (tests/addc/addc.sh, own network namespace) with the admin's own Kerberos ticket:
# the fixtures' SIP URIs (mail, proxyAddresses SIP: with aliases), enabled through nested
# groups, groups from tokenGroups, enable/disable as membership of [domain] enabled-group,
# set-uri keeping aliases (checked with ldapsearch); errors: no ticket, unknown user,
# access denied for a user without rights (alice's own ticket), unreachable DC.  Needs root.
set -eu
# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ADDC=${ADDC_SH:-$top_srcdir/tests/addc/addc.sh}
D=$T/dc
CONF=$T/greenwich.conf

trap dc_cleanup EXIT

mmc() { "$ADDC" run-with-hosts "$D" -- "$MMC" -c "$CONF" "$@"; }
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

echo "# the admin's own ticket"
export KRB5CCNAME=FILE:$D/admin.ccache
expect "users list" 0 "^USER +SIP-URI +ENABLED +ACCOUNT" mmc users list
check_that "alice: SIP URI from mail, enabled" grep -qE "^alice +sip:alice@corp.example.com +yes +active$" "$T/out"
check_that "bob: SIP URI from proxyAddresses SIP:" grep -qE "^bob +sip:robert@corp.example.com +yes" "$T/out"
check_that "carol enabled (direct and nested)" grep -qE "^carol +sip:carol@corp.example.com +yes" "$T/out"
check_that "erin: disabled account" grep -qE "^erin +.* +yes +disabled$" "$T/out"
check_that "dave (no SIP URI) not listed" sh -c "! grep -q '^dave ' '$T/out'"
mmc --json users list >"$T/list.json" 2>&1 || true
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
expect "usage: exit 2" 2 "usage: users set-uri USER sip:USER@DOMAIN" mmc users set-uri bob

echo "# enable and disable"
expect "dave is not enabled" 0 "^enabled +no$" mmc users show dave
expect "enable dave" 0 "dave is now enabled for Greenwich \(member of Greenwich Users\)" mmc users enable dave
expect "dave enabled now" 0 "^enabled +yes$" mmc users show dave
expect "enable dave again" 0 "dave was already enabled" mmc users enable dave
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
echo "# $CHECKS checks, $FAILS failed"
[ "$FAILS" -eq 0 ]
