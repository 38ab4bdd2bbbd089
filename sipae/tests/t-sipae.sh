#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
# t-sipae.sh - libgwsipae against a real Samba AD DC: provisions and starts a test domain
# with tests/addc/addc.sh, joins greenwich.<domain> with adcli (keytab with sip/<fqdn>),
# then runs sipae-itest inside the domain: NTLMv2 through the DC's winbind (accepted,
# refused, locked out), with the winbind socket absent, and the Kerberos acceptor.
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ADDC=${ADDC_SH:-$HERE/../../tests/addc/addc.sh}
ITEST=${SIPAE_ITEST:-./tests/sipae-itest}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gw-sipae.XXXXXX")
D=$WORK/corp
ok=0

cleanup()
{
	"$ADDC" stop "$D" >/dev/null 2>&1 || true
	# A second stop removes the network namespace once nothing runs in it.
	"$ADDC" stop "$D" >/dev/null 2>&1 || true
	if [ "$ok" = 1 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; fi
}
trap cleanup EXIT

in_domain() { "$ADDC" run-with-hosts "$D" -- "$@"; }

[ -x "$ADDC" ] || { echo "FAIL tests/addc/addc.sh not found at $ADDC"; exit 1; }
[ -x "$ITEST" ] || { echo "FAIL sipae-itest not built at $ITEST"; exit 1; }
echo "# provisioning a test DC in $D"
"$ADDC" provision "$D" >"$WORK/provision.out" 2>&1 || { cat "$WORK/provision.out"; exit 1; }
"$ADDC" start "$D" >"$WORK/start.out" 2>&1 || { cat "$WORK/start.out"; exit 1; }
# shellcheck disable=SC1091
. "$D/env"

echo "# joining greenwich.$ADDC_DNS_DOMAIN with adcli"
"$ADDC" join "$D" >"$WORK/join.out" 2>&1 || { cat "$WORK/join.out"; exit 1; }

# The Support group's SID, as the directory knows it, and a lockout threshold so that
# the NTLM test can lock bob out.
support_sid=$(in_domain wbinfo --name-to-sid "$ADDC_DOMAIN\\Support" | awk '{print $1}')
case $support_sid in S-1-5-21-*) ;; *) echo "FAIL no SID for Support: $support_sid"; exit 1 ;; esac
echo "# Support is $support_sid"
in_domain sh -c 'samba-tool domain passwordsettings set --account-lockout-threshold=3 \
	-H "ldap://$ADDC_DC_FQDN" -U "Administrator%$ADDC_ADMIN_PASSWORD"' >"$WORK/lockout.out" 2>&1 ||
	{ cat "$WORK/lockout.out"; exit 1; }

status=0
echo "# NTLMv2 through the DC's winbind"
in_domain "$ITEST" ntlm "$support_sid" || status=1

echo "# NTLMv2 without a winbind socket"
unshare -m sh -c 'mount -t tmpfs gw-sipae-empty /run && exec "$0" dcdown' "$ITEST" || status=1

echo "# Kerberos: carol's ticket for sip/greenwich.$ADDC_DNS_DOMAIN"
export KRB5CCNAME="FILE:$WORK/carol.ccache"
echo Coral-Reef-33 | in_domain kinit carol >"$WORK/kinit.out" 2>&1 || { cat "$WORK/kinit.out"; exit 1; }
in_domain "$ITEST" krb "$D/gw.keytab" "greenwich.$ADDC_DNS_DOMAIN" "$support_sid" || status=1

echo "# Kerberos: the acceptor's clock 20 minutes ahead (libfaketime, for the acceptor alone)"
in_domain "$ITEST" krb-token "greenwich.$ADDC_DNS_DOMAIN" "$WORK/token" || status=1
in_domain env LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	FAKETIME=+20m FAKETIME_DONT_FAKE_MONOTONIC=1 "$ITEST" krb-skew "$D/gw.keytab" "$WORK/token" ||
	status=1

[ "$status" -eq 0 ] && ok=1
exit "$status"
