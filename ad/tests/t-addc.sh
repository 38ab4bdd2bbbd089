#!/bin/bash
# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
# t-addc.sh - libgwad against a real Samba AD DC: provisions and starts a test domain
# and joins greenwich.<domain> with adcli (keytab with sip/...) (tests/lib/dc.sh), then
# runs ad-itest inside the domain; at its sync points this script stops the DC and
# starts it again, while ad-itest keeps its context.
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$HERE/../.." && pwd)}
ADDC=${ADDC_SH:-$top_srcdir/tests/addc/addc.sh}
ITEST=${AD_ITEST:-./tests/ad-itest}
# shellcheck source=tests/lib/checks.sh
. "$top_srcdir/tests/lib/checks.sh"
# shellcheck source=tests/lib/wait.sh
. "$top_srcdir/tests/lib/wait.sh"
# shellcheck source=tests/lib/dc.sh
. "$top_srcdir/tests/lib/dc.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/gw-ad.XXXXXX")
D=$T/corp
itest_pid=

cleanup()
{
	if [ -n "$itest_pid" ]; then kill "$itest_pid" 2>/dev/null || true; fi
	dc_down "$D"
	if [ "$FAILS" -eq 0 ]; then rm -rf "$T"; else echo "kept $T for inspection"; fi
}
trap cleanup EXIT

# sync_point NAME: until ad-itest reached its sync point NAME (at most 2 minutes); the
# test ends when ad-itest ended first
sync_point()
{
	if wait_file "$T/sync/$1.ready" "$itest_pid" 1200; then
		pass "ad-itest reached its sync point $1"
		return 0
	fi
	fail "ad-itest reached its sync point $1 (it ended, or took over 2 minutes)"
	wait "$itest_pid" || true
	itest_pid=
	checks_summary
	exit 1
}

[ -x "$ADDC" ] || { echo "FAIL tests/addc/addc.sh not found at $ADDC"; exit 1; }
[ -x "$ITEST" ] || { echo "FAIL ad-itest not built at $ITEST"; exit 1; }
echo "# a test DC in $D, greenwich.<domain> joined with adcli"
dc_up "$D" join

mkdir "$T/sync"
"$ADDC" run-with-hosts "$D" -- "$ITEST" "$D/gw.keytab" "$T/sync" &
itest_pid=$!

sync_point stop
echo "# stopping the DC"
"$ADDC" stop "$D" >/dev/null
touch "$T/sync/stop.go"
sync_point start
echo "# starting the DC again"
"$ADDC" start "$D" >/dev/null
touch "$T/sync/start.go"
check "ad-itest: every step passed (its lines above)" wait "$itest_pid"
itest_pid=
checks_summary
