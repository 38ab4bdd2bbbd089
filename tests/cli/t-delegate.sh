#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# t-delegate.sh - `greenwich-mmc domain delegate [--remove] GROUP` against a real Samba AD
# DC (tests/addc, own network namespace): before, a member of "Greenwich Admins" (not a
# Domain Admin) is refused; the administrator delegates, the ACEs are read back from AD
# (samba-tool dsacl get: the Greenwich container, the domain's naming context, the
# enabled-group); the member may then add a policy rule, allow a partner domain, set a
# user's SIP URI and enable a user (read back from AD), but may not delegate in turn; a
# non-member gets "access denied" (exit 5) for each and nothing is written (AD read back);
# `domain show` lists the delegated group; delegating again changes nothing; --remove takes
# the rights back (ACEs gone, the member refused again); --json against mmc-schema.json;
# an unknown group: exit 3; usage: exit 2.  Needs root.
set -eu
# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap dc_cleanup EXIT
dc_domain_up
ADMIN_CC=FILE:$D/admin.ccache
export KRB5CCNAME=$ADMIN_CC
inside() { "$ADDC" run-with-hosts "$D" -- "$@"; }
mmc() { inside "$MMC" -c "$CONF" "$@"; }
as() { # as WHO CMD...: with WHO's ticket (admin, gwadm, outsider)
	local who=$1
	shift
	case $who in
	admin) KRB5CCNAME=$ADMIN_CC "$@" ;;
	*) KRB5CCNAME=FILE:$T/$who.ccache "$@" ;;
	esac
}
stool() { # samba-tool with the administrator's ticket
	inside sh -c 'exec samba-tool "$@" -H "ldap://$ADDC_DC_FQDN" --use-kerberos=required \
		--use-krb5-ccache="$ADDC_DIR/admin.ccache"' samba-tool "$@"
}
ldap_attr() { # ldap_attr USER ATTR: the values, sorted, one line
	inside sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache exec ldapsearch -LLL -Q -o ldif-wrap=no \
		-Y GSSAPI -H "ldap://$ADDC_DC_FQDN" -b "$ADDC_BASE_DN" "(sAMAccountName=$0)" "$1"' \
		"$1" "$2" | sed -n "s/^$2: //p" | sort | tr '\n' ' '
}
GWC="CN=Greenwich,CN=Services,CN=Configuration,$ADDC_BASE_DN"
# stored: every object below the Greenwich container with its msDS-Settings (what the
# console wrote), sorted
stored() {
	inside sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache exec ldapsearch -LLL -Q -o ldif-wrap=no \
		-Y GSSAPI -H "ldap://$ADDC_DC_FQDN" -b "$0" "(objectClass=*)" msDS-Settings' "$GWC" \
		2>/dev/null | grep -E '^(dn|msDS-Settings)' | sort | tr '\n' '|'
}
sddl() { stool dsacl get --objectdn="$1" 2>/dev/null | grep -o 'O:.*' || true; }
members() { ldap_attr_dn "CN=Greenwich Users,CN=Users,$ADDC_BASE_DN" member; }
ldap_attr_dn() {
	inside sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache exec ldapsearch -LLL -Q -o ldif-wrap=no \
		-Y GSSAPI -H "ldap://$ADDC_DC_FQDN" -b "$0" -s base "(objectClass=*)" "$1"' "$1" "$2" |
		sed -n "s/^$2: //p" | sort | tr '\n' '|'
}
# explicit_aces FILE: the group's ACEs in an SDDL string that are not inherited
explicit_aces() { grep -oE "\((A|OA);[A-Z]*;[^)]*;$GSID\)" "$1" | awk -F';' '$2 !~ /ID/'; }
lacks() { ! grep -q -- "$1" <<<"$2"; }
same() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1"; echo "     before: $2"; echo "     after:  $3"; fi; }

# gwadm_refused WHEN RULE PRIORITY ADDR: gwadm may neither add RULE nor give alice sip:ADDR@...,
# and nothing is written (AD read back)
gwadm_refused() {
	local before uri
	before=$(stored)
	expect "gwadm: policy add refused$1, exit 5" 5 "access denied" \
		as gwadm mmc policy add "rule \"$2\" priority $3 { from zone external; class im; action deny; }"
	same "... nothing written" "$before" "$(stored)"
	uri=$(ldap_attr alice proxyAddresses)
	expect "gwadm: users set-uri refused$1, exit 5" 5 "access denied" \
		as gwadm mmc users set-uri alice "sip:$4@corp.example.com"
	same "... alice's proxyAddresses unchanged" "$uri" "$(ldap_attr alice proxyAddresses)"
}

echo "# a group, a member, an outsider"
stool group add "Greenwich Admins" >"$T/setup.log" 2>&1 || cat "$T/setup.log"
for u in gwadm outsider; do
	stool user create "$u" "Pass-$u-77" >>"$T/setup.log" 2>&1 || cat "$T/setup.log"
done
stool group addmembers "Greenwich Admins" gwadm >>"$T/setup.log" 2>&1 || cat "$T/setup.log"
for u in gwadm outsider; do
	inside sh -c 'echo "Pass-$0-77" | KRB5CCNAME=FILE:$1 kinit "$0@$ADDC_REALM"' "$u" "$T/$u.ccache" \
		>"$T/kinit-$u.log" 2>&1 || cat "$T/kinit-$u.log"
done
check "gwadm has a ticket" as gwadm klist -s
check "outsider has a ticket" as outsider klist -s
GSID=$(stool group show "Greenwich Admins" --attributes=objectSid 2>/dev/null | sed -n 's/^objectSid: //p')
check "the group's SID ($GSID)" grep -q '^S-1-5-21-' <<<"$GSID"

echo "# before the delegation: the member is refused"
gwadm_refused "" by-gwadm 10 alice.d

echo "# the administrator delegates"
expect "outsider cannot delegate: exit 5" 5 "access denied" as outsider mmc domain delegate "Greenwich Admins"
sddl "$GWC" >"$T/sd-pre"
check "... no explicit ACE for the group" test -z "$(explicit_aces "$T/sd-pre")"
expect "domain delegate: exit 0" 0 "Greenwich Admins may now manage Greenwich" mmc domain delegate "Greenwich Admins"
check "... names the Greenwich container" grep -q "policies and federation: $GWC" "$T/out"
check "... and the enabled-group" grep -q "members of the enabled-group: CN=Greenwich Users" "$T/out"
sddl "$GWC" >"$T/sd-gwc"
check "AD: the container has an inheritable ACE for the group" \
	grep -qE "\(A;CI;[A-Z]*CC[A-Z]*;;;$GSID\)" "$T/sd-gwc"
sddl "$ADDC_BASE_DN" >"$T/sd-base"
PROXY_GUID=$(inside sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache ldapsearch -LLL -Q -Y GSSAPI -H "ldap://$ADDC_DC_FQDN" \
	-b "CN=Schema,CN=Configuration,$ADDC_BASE_DN" "(lDAPDisplayName=proxyAddresses)" schemaIDGUID' |
	sed -n 's/^schemaIDGUID:: //p' | base64 -d | /usr/bin/python3 -c 'import sys, uuid; print(uuid.UUID(bytes_le=sys.stdin.buffer.read()))')
check "AD: the domain has an object ACE for proxyAddresses ($PROXY_GUID) of users" \
	grep -qiE "\(OA;CIIO;RPWP;$PROXY_GUID;bf967aba-0de6-11d0-a285-00aa003049e2;$GSID\)" "$T/sd-base"
sddl "CN=Greenwich Users,CN=Users,$ADDC_BASE_DN" >"$T/sd-group"
check "AD: the enabled-group has a write-member ACE" \
	grep -qiE "\(OA;;WP;bf9679c0-0de6-11d0-a285-00aa003049e2;;$GSID\)" "$T/sd-group"
expect "domain show lists the delegated group" 0 "^delegated-to +Greenwich Admins$" mmc domain show
n_before=$(grep -o "$GSID" "$T/sd-gwc" | wc -l)
expect "delegating again: nothing changes" 0 "Greenwich Admins could manage Greenwich already" \
	mmc domain delegate "Greenwich Admins"
check "... still one ACE" test "$(sddl "$GWC" | grep -o "$GSID" | wc -l)" = "$n_before"

echo "# the member manages Greenwich"
expect "gwadm: policy add, exit 0" 0 "added rule 'by-gwadm'|by-gwadm" \
	as gwadm mmc policy add 'rule "by-gwadm" priority 10 { from zone external; class im; action deny; }'
check "... the rule is in AD" grep -q "CN=by-gwadm" <<<"$(stored)"
expect "gwadm: federation allow, exit 0" 0 "partner.example.net" as gwadm mmc federation allow partner.example.net
check "... in AD" grep -q "allow partner.example.net" <<<"$(stored)"
expect "gwadm: users set-uri, exit 0" 0 "sip:alice.d@corp.example.com" \
	as gwadm mmc users set-uri alice sip:alice.d@corp.example.com
check "... alice's proxyAddresses in AD" grep -q "SIP:alice.d@corp.example.com" <<<"$(ldap_attr alice proxyAddresses)"
expect "gwadm: users reset-uri, exit 0" 0 "alice" as gwadm mmc users reset-uri alice
expect "gwadm: users disable alice, exit 0" 0 "alice" as gwadm mmc users disable alice
check "... no longer a member in AD" lacks "CN=alice," "$(members)"
expect "gwadm: users enable alice, exit 0" 0 "alice" as gwadm mmc users enable alice
check "... a member again" grep -q "CN=alice," <<<"$(members)"
expect "gwadm cannot delegate its own group again either: exit 5" 5 "access denied: .* may not change the permissions" \
	as gwadm mmc domain delegate --remove "Greenwich Admins"

echo "# a non-member is refused and nothing is written"
before=$(stored)
expect "outsider: policy add, exit 5 access denied" 5 "access denied|insufficient" \
	as outsider mmc policy add 'rule "by-outsider" priority 11 { from zone external; class im; action deny; }'
expect "outsider: policy remove, exit 5" 5 "access denied|insufficient" as outsider mmc policy remove by-gwadm
expect "outsider: federation block, exit 5" 5 "access denied|insufficient" as outsider mmc federation block spam.example.org
same "... nothing written below the Greenwich container" "$before" "$(stored)"
uri=$(ldap_attr bob proxyAddresses)
expect "outsider: users set-uri, exit 5 access denied" 5 "access denied" \
	as outsider mmc users set-uri bob sip:bob.x@corp.example.com
same "... bob's proxyAddresses unchanged" "$uri" "$(ldap_attr bob proxyAddresses)"
m=$(members)
expect "outsider: users disable, exit 5 access denied" 5 "access denied" as outsider mmc users disable bob
same "... the group's members unchanged" "$m" "$(members)"

echo "# --json, errors"
mmc --json domain delegate "Greenwich Admins" >"$T/d.json" 2>&1 || true
check "domain delegate --json matches domain-delegate" \
	/usr/bin/python3 "$HERE/schemacheck.py" "$HERE/mmc-schema.json" domain-delegate "$T/d.json"
expect "unknown group: exit 3" 3 "'No Such Group' is not a group" mmc domain delegate "No Such Group"
expect "no group: exit 2" 2 "usage: domain delegate \[--remove\] GROUP" mmc domain delegate
expect "two groups: exit 2" 2 "usage: domain delegate" mmc domain delegate a b

echo "# --remove"
expect "domain delegate --remove: exit 0" 0 "Greenwich Admins may no longer manage Greenwich" \
	mmc domain delegate --remove "Greenwich Admins"
for dn in "$GWC" "$ADDC_BASE_DN" "CN=Greenwich Users,CN=Users,$ADDC_BASE_DN"; do
	sddl "$dn" >"$T/sd-after"
	check "AD: no explicit ACE for the group on ${dn%%,*}" test -z "$(explicit_aces "$T/sd-after")"
done
expect "domain show: none" 0 "^delegated-to +none$" mmc domain show
gwadm_refused " again" again 12 alice.e
expect "--remove again: nothing to do" 0 "had no Greenwich permissions" mmc domain delegate --remove "Greenwich Admins"
check "the delegation is in the audit trail" grep -q 'verb="domain delegate" object="Greenwich Admins" sid=S-1-5-21' "$T/state/mmc-audit.log"
finish
