# shellcheck shell=bash disable=SC2016
# domain-lib.sh - a test domain for integration tests (sourced after lib.sh): a real Samba
# AD DC (tests/addc/addc.sh) in its own network namespace, greenwichd's machine account
# joined with adcli (keytab $D/gw.keytab), and greenwichd and SIPp set up to run in the
# DC's namespace (its loopback, hosts and DNS).  domain_setup does all of it and stops the
# DC at exit, after lib.sh's cleanup has ended greenwichd and SIPp.

: "${top_srcdir:?domain-lib.sh is sourced after lib.sh}"
# shellcheck source=tests/lib/dc.sh
. "$top_srcdir/tests/lib/dc.sh"
# The DC lives beside the test directory (a short path for Samba's sockets).
DCW=$(mktemp -d "${TMPDIR:-/tmp}/gwdc.XXXXXX")
D="$DCW/dc"

dc_cleanup() {
	cleanup
	wait_gone "${GWD_PID:-}" "${P2_PID:-}"
	dc_down "$D"
	if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$DCW"; else echo "DC kept in $DCW"; fi
}

domain_setup() {
	trap dc_cleanup EXIT
	dc_up "$D" join
	# run-with-hosts forks, so the wrapped command leaves its own PID for us to stop.
	write_exec_pid "$T/exec-pid"
	# shellcheck disable=SC2034 # used by lib.sh's start_gwd
	GWD_WRAP="$ADDC run-with-hosts $D -- $T/exec-pid $T/gwd.realpid"
	printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s -- %s "$@"\n' "$ADDC_NETNS" \
		"$(command -v "$SIPP")" > "$T/sipp-in-domain"
	chmod +x "$T/sipp-in-domain"
	SIPP="$T/sipp-in-domain"
	# shellcheck disable=SC2034 # used by lib.sh and the tests
	DOMAIN=$ADDC_DNS_DOMAIN
}

wait_log() { # wait_log PATTERN [SECONDS]: until greenwichd's log has PATTERN (default 15 s)
	wait_for "$T/greenwichd.log" "$1" $((${2:-15} * 10))
}
