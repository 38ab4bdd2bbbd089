# lib.sh - shared by the greenwich-mmc tests: paths, a scratch directory, checks.
# shellcheck shell=bash
top_builddir=${top_builddir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MMC=${MMC:-$top_builddir/mmc-cli/greenwich-mmc}
# shellcheck disable=SC2034 # used by the scripts that source this
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/gw-cli.XXXXXX")
export HOME=$T/home
# shellcheck source=tests/lib/dc.sh
. "$top_srcdir/tests/lib/dc.sh"
mkdir -p "$HOME"
# shellcheck source=tests/lib/checks.sh
. "$top_srcdir/tests/lib/checks.sh"

# write_conf FILE [EXTRA LINES]: a minimal configuration with its state under $T.
write_conf()
{
	cat >"$1" <<CONF
# greenwich.conf for the greenwich-mmc tests
[server]
domains = example.com
state-directory = $T/state
control-socket = $T/control.sock
server-name = sip1.example.com

[log]
level = info
CONF
	if [ $# -gt 1 ]; then printf '%s\n' "$2" >>"$1"; fi
}

dir_empty()
{
	[ -z "$(find "$1" -mindepth 1 -print -quit)" ]
}

# expect WHAT WANT_RC PATTERN CMD...: CMD exits with WANT_RC and its output matches PATTERN.
expect()
{
	local what=$1 want=$2 pattern=$3 rc=0
	shift 3
	"$@" >"$T/out" 2>&1 || rc=$?
	if [ "$rc" -eq "$want" ] && grep -qE -- "$pattern" "$T/out"; then
		pass "$what"
	else
		fail "$what (exit $rc, wanted $want and /$pattern/)"
		sed 's/^/     /' "$T/out"
	fi
}

# dc_domain_up: $CONF for the test domain (joined, enabled-group "Greenwich Users"), then
# a test DC provisioned and started in $D (ADDC = addc.sh) and its env sourced; ADDC, D and
# CONF get defaults when the caller has not set them.
dc_domain_up()
{
	D=${D:-$T/dc}
	CONF=${CONF:-$T/greenwich.conf}
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
	DC_UP=1 # finish() and dc_cleanup() stop it: never leave a DC running
	dc_up "$D"
}

# dc_cleanup: stop the test DC in $D (ADDC = addc.sh); keep $T only when a check failed.
dc_cleanup()
{
	dc_stop
	# a DC the test started itself (not through dc_domain_up) goes too
	if [ -n "${D:-}" ]; then dc_down "$D"; fi
	if [ "$FAILS" -ne 0 ]; then echo "kept $T for inspection"; else rm -rf "$T"; fi
}

# dc_stop: stop the test DC of dc_domain_up, if it is up (before its files go).
dc_stop()
{
	if [ -n "${DC_UP:-}" ]; then
		dc_down "$D"
		DC_UP=
	fi
}

finish()
{
	dc_stop
	if [ "$FAILS" -eq 0 ]; then rm -rf "$T"; else echo "kept $T for inspection"; fi
	checks_summary
}
