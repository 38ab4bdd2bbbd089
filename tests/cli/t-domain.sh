#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# t-domain.sh - greenwich-mmc domain join/test/leave against a real Samba AD DC
# (tests/addc/addc.sh, in its own network namespace): a wrong admin password and an
# unknown domain first (clear error, exit code, no keytab, config unchanged), then a join
# with the password on stdin (keytab 0600 with sip/ and HTTP/, [domain] written), domain
# test (every check OK, also as JSON), a stale keytab (test FAILED), leave.  Needs root.
set -eu
# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ADDC=${ADDC_SH:-$top_srcdir/tests/addc/addc.sh}
D=$T/dc
CONF=$T/greenwich.conf
FQDN=sip1.corp.example.com

trap dc_cleanup EXIT

# mmc STDIN ARG...: greenwich-mmc inside the domain (its netns, hosts, krb5.conf).
mmc()
{
	local input=$1
	shift
	printf '%s' "$input" | "$ADDC" run-with-hosts "$D" -- "$MMC" -c "$CONF" "$@"
}

cat >"$CONF" <<CONF
# greenwich.conf for t-domain.sh; this comment and [log] must survive join and leave
[server]
domains = corp.example.com
state-directory = $T/state
server-name = $FQDN

[log]
level = info
CONF
cp "$CONF" "$T/conf.orig"
KT=$T/state/greenwich.keytab
SKT=$T/state/sip.keytab

echo "# provisioning and starting a test DC in $D"
"$ADDC" provision "$D" >"$T/provision.log" 2>&1 || { cat "$T/provision.log"; exit 1; }
"$ADDC" start "$D" >"$T/start.log" 2>&1 || { cat "$T/start.log"; exit 1; }
# shellcheck disable=SC1091
. "$D/env"
# No ticket of the caller's may stand in for the password.
export KRB5CCNAME=FILE:$T/no-ccache

echo "# errors"
expect "wrong admin password: clear error, exit 5" 5 "refused the password of Administrator" \
	mmc $'Wrong-Pass-1\n' domain join --domain corp.example.com --user Administrator \
	--password-stdin
check "no keytab after the wrong password" test ! -e "$KT"
check "nothing left in the state directory" dir_empty "$T/state"
check "configuration unchanged" cmp -s "$CONF" "$T/conf.orig"
expect "unknown user: exit 5" 5 "no user nobody|refused" \
	mmc $'x\n' domain join --domain corp.example.com --user nobody --password-stdin
expect "unknown domain: exit 6" 6 "no domain controller of nosuch.example.com" \
	mmc "$ADDC_ADMIN_PASSWORD"$'\n' domain join --domain nosuch.example.com \
	--user Administrator --password-stdin
expect "unreachable DC named with --dc: exit 6" 6 "domain controller" \
	mmc "$ADDC_ADMIN_PASSWORD"$'\n' domain join --domain corp.example.com \
	--dc 127.0.0.9 --user Administrator --password-stdin
check "still no keytab" test ! -e "$KT"
expect "no password and no ticket: exit 5" 5 "no Kerberos ticket.*kinit Administrator@CORP.EXAMPLE.COM" \
	mmc '' domain join --domain corp.example.com
expect "domain test before joining: exit 1" 1 "not joined" mmc '' domain test

echo "# join"
expect "join with the password on stdin" 0 "joined corp.example.com as $FQDN" \
	mmc "$ADDC_ADMIN_PASSWORD"$'\n' domain join --domain corp.example.com \
	--user Administrator --password-stdin
check "keytab mode 0600" test "$(stat -c %a "$KT")" = 600
owner=root
getent passwd greenwich >/dev/null && owner=greenwich
check "keytab owned by $owner" test "$(stat -c %U "$KT")" = "$owner"
klist -k "$KT" >"$T/klist" 2>&1 || true
for p in "HTTP/$FQDN@CORP.EXAMPLE.COM" 'SIP1$@CORP.EXAMPLE.COM'; do
	check "keytab holds $p" grep -qF "$p" "$T/klist"
done
check "no sip/ key in the computer account's keytab" bash -c "! grep -qi ' sip/' '$T/klist'"
check "sip keytab mode 0600, owned by $owner" \
	test "$(stat -c %a:%U "$SKT" 2>&1)" = "600:$owner"
klist -ke "$SKT" >"$T/sklist" 2>&1 || true
for p in "sip/$FQDN@CORP.EXAMPLE.COM" "sip/SIP1@CORP.EXAMPLE.COM"; do
	check "sip keytab holds $p, AES256 and AES128" sh -c "
		grep -F '$p' '$T/sklist' | grep -q aes256 && grep -F '$p' '$T/sklist' | grep -q aes128"
done
check "sip keytab holds nothing else" \
	bash -c "! grep -E '^ +[0-9]+ ' '$T/sklist' | grep -v ' sip/'"
check "join said whose sip/ is" grep -q "sip/$FQDN on the account gwsip-sip1 of its own" "$T/out"
# the computer account may reset gwsip-sip1's password (domain renew): an allowed object
# ACE, control access right Reset Password, for SIP1$'s SID, in the account's DACL
"$ADDC" run-with-hosts "$D" -- sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache exec ldapsearch \
	-LLL -Q -Y GSSAPI -o ldif-wrap=no -H "ldap://$ADDC_DC_FQDN" -b "$ADDC_BASE_DN" \
	-E "!1.2.840.113556.1.4.801=::MAMCAQQ=" \
	"(|(sAMAccountName=SIP1\$)(sAMAccountName=gwsip-sip1))" objectSid nTSecurityDescriptor' \
	>"$T/acl.ldif" 2>&1 || true
check "join let SIP1\$ reset gwsip-sip1's password (Reset Password ACE in its DACL)" \
	/usr/bin/python3 -c '
import base64, struct, sys
sid = sd = None
for entry in open(sys.argv[1]).read().split("\n\n"):
    attrs = dict(l.split(":: ", 1) for l in entry.splitlines() if ":: " in l)
    if entry.lower().startswith("dn: cn=sip1,"):
        sid = base64.b64decode(attrs["objectSid"])
    elif entry.lower().startswith("dn: cn=gwsip-sip1,"):
        sd = base64.b64decode(attrs["nTSecurityDescriptor"])
guid = bytes.fromhex("70952900" "6d24" "d011" "a768" "00aa006e0529")
ace = struct.pack("<BBHII", 5, 0, 12 + 16 + len(sid), 0x100, 1) + guid + sid
assert ace in sd, "no such ACE"' "$T/acl.ldif"
for kv in "name = corp.example.com" "realm = CORP.EXAMPLE.COM" "fqdn = $FQDN" "keytab = $KT" \
	"sip-keytab = $SKT"; do
	check "[domain] $kv" grep -qxF "$kv" "$CONF"
done
check "the comment kept" grep -qF "this comment and [log] must survive" "$CONF"
check "[log] kept" grep -qx 'level = info' "$CONF"
expect "join again while joined elsewhere refused, exit 7" 7 "joined to corp.example.com" \
	mmc "$ADDC_ADMIN_PASSWORD"$'\n' domain join --domain other.example.com --password-stdin

echo "# test"
expect "domain test: all OK" 0 "all checks OK" mmc '' domain test
for c in keytab "domain controller" clock kerberos ldap spn; do
	check "check $c OK" grep -qE "^$c +OK " "$T/out"
done
check "domain test: sip/ on gwsip-sip1 alone, HTTP/ on the computer account" \
	grep -qE "^spn +OK +SIP1\\\$ has HTTP/$FQDN; gwsip-sip1 alone has sip/$FQDN" "$T/out"
mmc '' --json domain test >"$T/json" 2>&1 || true
cat >"$T/check_json.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True and d["domain"] == "corp.example.com", d
names = [c["check"] for c in d["checks"]]
assert names == ["keytab", "domain controller", "clock", "kerberos", "ldap", "spn"], names
assert all(c["ok"] is True and isinstance(c["detail"], str) for c in d["checks"])
PY
check "domain test --json: six checks, ok true" python3 "$T/check_json.py" "$T/json"
check "domain test --json matches the schema (domain-test)" \
	/usr/bin/python3 "$HERE/schemacheck.py" "$HERE/mmc-schema.json" domain-test "$T/json"
expect "domain show" 0 "fqdn +$FQDN" mmc '' domain show
mmc '' --json domain show >"$T/json" 2>&1 || true
check "domain show --json matches the schema (domain-show)" \
	/usr/bin/python3 "$HERE/schemacheck.py" "$HERE/mmc-schema.json" domain-show "$T/json"

echo "# failures seen by domain test"
# root reads anything: drop the capabilities that let it, as an unprivileged admin would be.
chmod 000 "$KT"
expect "unreadable keytab: FAILED, exit 1" 1 "keytab +FAILED .*cannot read .*Permission denied" \
	"$ADDC" run-with-hosts "$D" -- setpriv --bounding-set=-dac_override,-dac_read_search \
	"$MMC" -c "$CONF" domain test
chmod 600 "$KT"
cp "$KT" "$T/keytab.good"
head -c 40 "$T/keytab.good" >"$KT" # inside the first entry
# libkrb5 leaks on a truncated entry: suppressed for these two runs (lsan-krb5.supp)
LSAN_SAVED=${LSAN_OPTIONS:-}
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$HERE/lsan-krb5.supp:print_suppressions=0"
expect "damaged keytab: FAILED, exit 1" 1 "keytab +FAILED" mmc '' domain test
rc=0
mmc '' --json domain test >"$T/json" 2>/dev/null || rc=$?
LSAN_OPTIONS=$LSAN_SAVED
check "damaged keytab --json: exit 1, matches domain-test, ok false" sh -c "[ $rc = 1 ] &&
	/usr/bin/python3 '$HERE/schemacheck.py' '$HERE/mmc-schema.json' domain-test '$T/json' &&
	grep -q '\"ok\":false' '$T/json'"
cp "$T/keytab.good" "$KT"
sed -i 's/^\[domain\]$/[domain]\ndcs = dc9.corp.example.com/' "$CONF"
expect "unreachable DC: FAILED with the reason" 1 "domain controller +FAILED .*dc9.corp.example.com" \
	mmc '' domain test
sed -i '/^dcs = dc9/d' "$CONF"
expect "all OK again" 0 "all checks OK" mmc '' domain test
# this machine's clock 20 minutes ahead of the DC's (libfaketime, for greenwich-mmc alone)
expect "clock skew: FAILED with the difference" 1 "clock +FAILED" \
	"$ADDC" run-with-hosts "$D" -- env LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	FAKETIME=+20m FAKETIME_DONT_FAKE_MONOTONIC=1 "$MMC" -c "$CONF" domain test
expect "all OK once the clocks agree" 0 "all checks OK" mmc '' domain test

echo "# leave"
expect "leave with a wrong password: exit 5, nothing removed" 5 "refused the password" \
	mmc $'Wrong-Pass-1\n' domain leave --password-stdin
check "keytab kept after a failed leave" test -e "$KT"
check "settings kept after a failed leave" grep -q '^\[domain\]' "$CONF"
expect "leave" 0 "left corp.example.com" mmc "$ADDC_ADMIN_PASSWORD"$'\n' domain leave --password-stdin
check "keytab removed" test ! -e "$KT"
check "sip keytab removed" test ! -e "$SKT"
check "leave said the sip/ account was deleted" grep -q "the account gwsip-sip1 of sip/$FQDN deleted" "$T/out"
check "configuration back as it was" diff "$T/conf.orig" "$CONF"
in_dc_ldap()
{
	"$ADDC" run-with-hosts "$D" -- sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache exec ldapsearch \
		-LLL -Q -Y GSSAPI -H "ldap://$ADDC_DC_FQDN" -b "$ADDC_BASE_DN" \
		"(|(sAMAccountName=SIP1\$)(sAMAccountName=gwsip-sip1))" dn'
}
if in_dc_ldap >"$T/ldap" 2>&1 && ! grep -q '^dn:' "$T/ldap"; then
	pass "the computer account and gwsip-sip1 are gone from the directory"
else
	fail "computer account or gwsip-sip1 still there (or LDAP failed)"
	sed 's/^/     /' "$T/ldap"
fi
expect "domain test after leave: not joined" 1 "not joined" mmc '' domain test
checks_summary
