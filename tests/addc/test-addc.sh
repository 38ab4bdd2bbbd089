#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# shellcheck disable=SC2317 # the checks run through check/check_not, cleanup by the EXIT trap
# test-addc.sh - checks tests/addc/addc.sh against a real Samba AD DC: provision, start,
# Kerberos, LDAP/GSSAPI reads of every fixture, an adcli join, NTLM through the DC's
# winbindd, a second (demo) DC alongside, stop; the machine's own configuration untouched.
set -Eeu
# A command that fails outside a check ends the test: say which one, never a silent exit.
# shellcheck disable=SC2154 # rc is set by the trap itself
trap 'rc=$?; echo "FAIL test-addc.sh line $LINENO: $BASH_COMMAND (exit $rc)" >&2' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ADDC=$HERE/addc.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gw-test-addc.XXXXXX")
D=$WORK/corp
D2=$WORK/demo
# shellcheck source=tests/lib/checks.sh
. "$HERE/../lib/checks.sh"

cleanup()
{
	"$ADDC" stop "$D" >/dev/null 2>&1 || true
	"$ADDC" stop "$D2" >/dev/null 2>&1 || true
	if [ "$FAILS" -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; fi
}
trap cleanup EXIT

# check DESCRIPTION CMD...: CMD must succeed; its output is shown when it fails.
check()
{
	local what=$1
	shift
	if "$@" >"$WORK/out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/     /' "$WORK/out"; fi
}

# check_not DESCRIPTION CMD...: CMD must fail.
check_not()
{
	local what=$1
	shift
	if "$@" >"$WORK/out" 2>&1; then fail "$what"; sed 's/^/     /' "$WORK/out"; else pass "$what"; fi
}

# in DIR CMD...: CMD in DIR's domain (its netns, hosts file, krb5.conf, winbindd).
in_dc()
{
	local dir=$1
	shift
	"$ADDC" run-with-hosts "$dir" -- "$@"
}

# The machine's files the domain must never touch: a checksum each, or "absent" (a
# minimal Debian has no /etc/krb5.conf: only the recommended krb5-config makes one).
sums()
{
	local f
	for f in /etc/krb5.conf /etc/samba/smb.conf /etc/hosts /etc/resolv.conf; do
		if [ -e "$f" ]; then sha256sum "$f"; else echo "absent  $f"; fi
	done
}

# ldap DIR FILTER ATTR...: GSSAPI search (as the ticket in DIR's KRB5CCNAME) of the domain.
ldap()
{
	local dir=$1
	shift
	in_dc "$dir" sh -c 'exec ldapsearch -LLL -o ldif-wrap=no -Q -Y GSSAPI \
		-H "ldap://$ADDC_DC_FQDN" -b "$ADDC_BASE_DN" "$@"' ldap "$@"
}

# attr_is DIR USER ATTR VALUE: USER's ATTR has the value VALUE (among others).
attr_is()
{
	ldap "$1" "(sAMAccountName=$2)" "$3" | grep -qxF "$3: $4"
}

sid_of()
{
	ldap "$1" "(sAMAccountName=$2)" objectSid | sed -n 's/^objectSid:: //p'
}

# tokenGroups can only be read with a base search on the user's entry.
token_groups_of()
{
	in_dc "$1" sh -c 'exec ldapsearch -LLL -o ldif-wrap=no -Q -Y GSSAPI \
		-H "ldap://$ADDC_DC_FQDN" -s base -b "CN=$1,CN=Users,$ADDC_BASE_DN" tokenGroups' \
		ldap "$2" | sed -n 's/^tokenGroups:: //p'
}

# now_filetime: the current time as an AD FILETIME (100 ns since 1601).
now_filetime()
{
	echo $((($(date +%s) + 11644473600) * 10000000))
}

check_expired()
{
	local v
	v=$(ldap "$1" "(sAMAccountName=$2)" accountExpires | sed -n 's/^accountExpires: //p')
	[ -n "$v" ] && [ "$v" -gt 0 ] && [ "$v" -lt "$(now_filetime)" ]
}

check_disabled()
{
	local v
	v=$(ldap "$1" "(sAMAccountName=$2)" userAccountControl |
		sed -n 's/^userAccountControl: //p')
	[ -n "$v" ] && [ $((v & 2)) -eq 2 ]
}

check_no_attr()
{
	local out
	out=$(ldap "$1" "(sAMAccountName=$2)" "$3")
	grep -q '^dn: ' <<<"$out" && ! grep -qi "^$3:" <<<"$out"
}

check_nested()
{
	local staff
	staff=$(sid_of "$1" Staff)
	[ -n "$staff" ] && token_groups_of "$1" carol | grep -qxF "$staff"
}

check_kinit()
{
	printf '%s\n' "$3" | in_dc "$1" kinit "$2"
}

check_keytab()
{
	klist -k "$1" | grep -qF "sip/greenwich.$ADDC_DNS_DOMAIN@$ADDC_REALM"
}

check_wbinfo()
{
	in_dc "$1" wbinfo -a "$2%$3"
}

now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# All given PIDs are gone, the DC's network namespace (if any) too, and nothing on the
# machine listens on the DC's LDAP address.
check_all_gone()
{
	local dir=$1 p
	shift
	for p in "$@"; do
		[ ! -d "/proc/$p" ] || { echo "pid $p still there"; return 1; }
	done
	if [ -n "$ADDC_NETNS" ] && ip netns list | grep -qw "$ADDC_NETNS"; then
		echo "network namespace $ADDC_NETNS still there"
		return 1
	fi
	! ss -Hltn | grep -E "(^|\s)$ADDC_DC_IP:389\s"
}

# No socket listens on the DC's LDAP port in its network namespace (or on the machine).
check_no_listener()
{
	! in_dc "$1" ss -Hltn | grep -E "(^|\s)$ADDC_DC_IP:389\s"
}

check_untouched()
{
	sums >"$WORK/sums.after"
	diff "$WORK/sums.before" "$WORK/sums.after"
}

# ---------------------------------------------------------------------------- main
sums >"$WORK/sums.before"
echo "# provisioning and starting a test DC in $D"
t0=$(now_ms)
check "provision CORP.EXAMPLE.COM" "$ADDC" provision "$D"
t1=$(now_ms)
check "start" "$ADDC" start "$D"
t2=$(now_ms)
echo "# time: provision $((t1 - t0)) ms, start $((t2 - t1)) ms"
if [ "$FAILS" -ne 0 ]; then echo "# the DC did not come up: no further checks"; exit 1; fi
# shellcheck disable=SC1091
. "$D/env"
check "status says running" "$ADDC" status "$D"
check "env file names the DC" test "$ADDC_DC_FQDN" = dc1.corp.example.com
check "hosts file maps the DC" grep -qE "^$ADDC_DC_IP\s+dc1.corp.example.com" "$D/hosts"

echo "# Kerberos"
check "kinit alice with her password" check_kinit "$D" alice Apple-Pie-11
check_not "kinit alice with a wrong password" check_kinit "$D" alice Wrong-Pass-1
check_not "kinit erin (disabled)" check_kinit "$D" erin Emerald-55
check "kinit alice again (ticket for the LDAP checks)" check_kinit "$D" alice Apple-Pie-11

echo "# LDAP with GSSAPI"
check "alice's mail" attr_is "$D" alice mail alice@corp.example.com
check "alice has no proxyAddresses" check_no_attr "$D" alice proxyAddresses
check "bob's primary SIP proxyAddress" attr_is "$D" bob proxyAddresses SIP:robert@corp.example.com
check "bob's SIP alias" attr_is "$D" bob proxyAddresses sip:bobby@corp.example.com
check "bob's mail differs" attr_is "$D" bob mail bob@corp.example.com
check "dave has no mail" check_no_attr "$D" dave mail
check "dave has no proxyAddresses" check_no_attr "$D" dave proxyAddresses
check "erin is disabled (userAccountControl bit 2)" check_disabled "$D" erin
check_not "alice is not disabled" check_disabled "$D" alice
check "frank's accountExpires is in the past" check_expired "$D" frank
check_not "alice's account does not expire" check_expired "$D" alice
check "carol's tokenGroups hold Staff (through Support)" check_nested "$D"
check "Greenwich Users holds Staff" attr_is "$D" "Greenwich Users" member \
	"CN=Staff,CN=Users,$ADDC_BASE_DN"
check "DNS SRV _ldap._tcp.dc._msdcs answers" in_dc "$D" \
	host -t SRV "_ldap._tcp.dc._msdcs.$ADDC_DNS_DOMAIN"

echo "# adcli join"
check "adcli join with sip service" in_dc "$D" sh -c 'printf "%s" "$ADDC_ADMIN_PASSWORD" |
	adcli join --domain "$ADDC_DNS_DOMAIN" --domain-controller "$ADDC_DC_FQDN" \
	-U Administrator --stdin-password --host-keytab "$ADDC_DIR/test.keytab" \
	--host-fqdn "greenwich.$ADDC_DNS_DOMAIN" --service-name sip'
check "keytab holds sip/greenwich.corp.example.com" check_keytab "$D/test.keytab"

echo "# NTLM through the DC's winbindd (libwbclient)"
check "wbinfo -a alice" check_wbinfo "$D" alice Apple-Pie-11
check_not "wbinfo -a alice, wrong password" check_wbinfo "$D" alice Wrong-Pass-1
check_not "wbinfo -a erin (disabled)" check_wbinfo "$D" erin Emerald-55
check_not "wbinfo -a frank (expired)" check_wbinfo "$D" frank Forest-66

echo "# a second DC (demo domain) running at the same time, in $D2"
check "provision --demo" "$ADDC" provision "$D2" --demo
check "start the demo DC" "$ADDC" start "$D2"
check "demo alice signs in" check_kinit "$D2" alice Greenwich-Demo-1
check "demo bob signs in" check_kinit "$D2" bob Greenwich-Demo-2
check "demo bob is in Support" attr_is "$D2" Support member \
	"CN=bob,CN=Users,DC=demo,DC=greenwich,DC=test"
check_not "no test fixture carol in the demo domain" check_kinit "$D2" carol Coral-Reef-33
check "the first DC still answers" check_kinit "$D" alice Apple-Pie-11
check "stop the demo DC" "$ADDC" stop "$D2"

echo "# DC stopped and started again while a client runs in its domain"
in_dc "$D" sh -c 'while [ ! -e "$ADDC_DIR/go" ]; do sleep 0.1; done
	printf "%s\n" Apple-Pie-11 | kinit alice' >"$WORK/client.out" 2>&1 &
client=$!
check "stop with the client running" "$ADDC" stop "$D"
check "namespace kept for the client, nothing listens on $ADDC_DC_IP:389 in it" \
	check_no_listener "$D"
check "start again" "$ADDC" start "$D"
touch "$D/go"
check "the client reaches the restarted DC" wait "$client"

echo "# stop"
pid=$(cat "$D/run/samba.pid")
mapfile -t dcpids < <(if [ -n "$ADDC_NETNS" ]; then ip netns pids "$ADDC_NETNS"; else echo "$pid"; fi)
check "stop" "$ADDC" stop "$D"
check "samba pid $pid and all ${#dcpids[@]} DC processes are gone, nothing listens on $ADDC_DC_IP:389" \
	check_all_gone "$D" "$pid" "${dcpids[@]}"
check_not "status says stopped" "$ADDC" status "$D"
check "/etc/krb5.conf, /etc/samba/smb.conf, /etc/hosts, /etc/resolv.conf untouched" \
	check_untouched

checks_summary || exit 1
