#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
# t-sipae.sh - libgwsipae against a real Samba AD DC: provisions and starts a test domain
# and joins greenwich.<domain> with adcli (keytab with sip/<fqdn>) (tests/lib/dc.sh),
# then runs sipae-itest inside the domain: NTLMv2 through the DC's winbind (accepted,
# refused, locked out), with the winbind socket absent, and the Kerberos acceptor.
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$HERE/../.." && pwd)}
ADDC=${ADDC_SH:-$top_srcdir/tests/addc/addc.sh}
ITEST=${SIPAE_ITEST:-./tests/sipae-itest}
# shellcheck source=tests/lib/checks.sh
. "$top_srcdir/tests/lib/checks.sh"
# shellcheck source=tests/lib/dc.sh
. "$top_srcdir/tests/lib/dc.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/gw-sipae.XXXXXX")
D=$T/corp

cleanup()
{
	dc_down "$D"
	if [ "$FAILS" -eq 0 ]; then rm -rf "$T"; else echo "kept $T for inspection"; fi
}
trap cleanup EXIT

in_domain() { "$ADDC" run-with-hosts "$D" -- "$@"; }

[ -x "$ADDC" ] || { echo "FAIL tests/addc/addc.sh not found at $ADDC"; exit 1; }
[ -x "$ITEST" ] || { echo "FAIL sipae-itest not built at $ITEST"; exit 1; }
echo "# a test DC in $D, greenwich.<domain> joined with adcli"
dc_up "$D" join

# The Support group's SID, as the directory knows it, and a lockout threshold so that
# the NTLM test can lock bob out.
support_sid=$(in_domain wbinfo --name-to-sid "$ADDC_DOMAIN\\Support" | awk '{print $1}')
case $support_sid in S-1-5-21-*) ;; *) echo "FAIL no SID for Support: $support_sid"; exit 1 ;; esac
echo "# Support is $support_sid"
in_domain sh -c 'samba-tool domain passwordsettings set --account-lockout-threshold=3 \
	-H "ldap://$ADDC_DC_FQDN" -U "Administrator%$ADDC_ADMIN_PASSWORD"' >"$T/lockout.out" 2>&1 ||
	{ cat "$T/lockout.out"; exit 1; }

check "NTLMv2 through the DC's winbind" in_domain "$ITEST" ntlm "$support_sid"

check "NTLMv2 without a winbind socket" \
	unshare -m sh -c 'mount -t tmpfs gw-sipae-empty /run && exec "$0" dcdown' "$ITEST"

export KRB5CCNAME="FILE:$T/carol.ccache"
echo Coral-Reef-33 | in_domain kinit carol >"$T/kinit.out" 2>&1 || { cat "$T/kinit.out"; exit 1; }
check "Kerberos: carol's ticket for sip/greenwich.$ADDC_DNS_DOMAIN" \
	in_domain "$ITEST" krb "$D/gw.keytab" "greenwich.$ADDC_DNS_DOMAIN" "$support_sid"

check "Kerberos: a token for the acceptor's clock test" \
	in_domain "$ITEST" krb-token "greenwich.$ADDC_DNS_DOMAIN" "$T/token"
check "Kerberos: the acceptor's clock 20 minutes ahead (libfaketime, for the acceptor alone)" \
	in_domain env LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	FAKETIME=+20m FAKETIME_DONT_FAKE_MONOTONIC=1 "$ITEST" krb-skew "$D/gw.keytab" "$T/token"

checks_summary
