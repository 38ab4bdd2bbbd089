#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
# t-addc.sh - libgwad against a real Samba AD DC: provisions and starts a test domain
# with tests/addc/addc.sh, joins a machine account with adcli (keytab with sip/...), then
# runs ad-itest inside the domain; at its sync points this script stops the DC and
# starts it again, while ad-itest keeps its context.
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ADDC=${ADDC_SH:-$HERE/../../tests/addc/addc.sh}
ITEST=${AD_ITEST:-./tests/ad-itest}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gw-ad.XXXXXX")
D=$WORK/corp
ok=0

cleanup()
{
	if [ -n "${itest_pid:-}" ]; then kill "$itest_pid" 2>/dev/null || true; fi
	"$ADDC" stop "$D" >/dev/null 2>&1 || true
	# A second stop removes the network namespace once nothing runs in it.
	"$ADDC" stop "$D" >/dev/null 2>&1 || true
	if [ "$ok" = 1 ]; then rm -rf "$WORK"; else rmdir "$WORK" 2>/dev/null || echo "kept $WORK for inspection"; fi
}
trap cleanup EXIT

# wait_for FILE: until FILE exists (ad-itest reached a sync point) or ad-itest ended.
wait_for()
{
	local _
	for _ in $(seq 1 1200); do
		[ -e "$1" ] && return 0
		kill -0 "$itest_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

[ -x "$ADDC" ] || { echo "FAIL tests/addc/addc.sh not found at $ADDC"; exit 1; }
[ -x "$ITEST" ] || { echo "FAIL ad-itest not built at $ITEST"; exit 1; }
echo "# provisioning a test DC in $D"
"$ADDC" provision "$D" >"$WORK/provision.out" 2>&1 || { cat "$WORK/provision.out"; exit 1; }
"$ADDC" start "$D" >"$WORK/start.out" 2>&1 || { cat "$WORK/start.out"; exit 1; }
# shellcheck disable=SC1091
. "$D/env"

echo "# joining greenwich.$ADDC_DNS_DOMAIN with adcli"
"$ADDC" run-with-hosts "$D" -- sh -c 'printf "%s" "$ADDC_ADMIN_PASSWORD" |
	adcli join --domain "$ADDC_DNS_DOMAIN" --domain-controller "$ADDC_DC_FQDN" \
	-U Administrator --stdin-password --host-keytab "$ADDC_DIR/gw.keytab" \
	--host-fqdn "greenwich.$ADDC_DNS_DOMAIN" --service-name sip' >"$WORK/join.out" 2>&1 ||
	{ cat "$WORK/join.out"; exit 1; }
chmod 0600 "$D/gw.keytab"

mkdir "$WORK/sync"
"$ADDC" run-with-hosts "$D" -- "$ITEST" "$D/gw.keytab" "$WORK/sync" &
itest_pid=$!

wait_for "$WORK/sync/stop.ready" || { wait "$itest_pid" || true; echo "FAIL ad-itest ended early"; exit 1; }
echo "# stopping the DC"
"$ADDC" stop "$D" >/dev/null
touch "$WORK/sync/stop.go"
wait_for "$WORK/sync/start.ready" || { wait "$itest_pid" || true; echo "FAIL ad-itest ended early"; exit 1; }
echo "# starting the DC again"
"$ADDC" start "$D" >/dev/null
touch "$WORK/sync/start.go"
status=0
wait "$itest_pid" || status=$?
itest_pid=
[ "$status" -eq 0 ] && ok=1
exit "$status"
