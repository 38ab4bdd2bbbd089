# shellcheck shell=bash disable=SC2016
# domain-lib.sh - a test domain for integration tests (sourced after lib.sh): a real Samba
# AD DC (tests/addc/addc.sh) in its own network namespace, greenwichd's machine account
# joined with adcli (keytab $D/gw.keytab), and greenwichd and SIPp set up to run in the
# DC's namespace (its loopback, hosts and DNS).  domain_setup does all of it and stops the
# DC at exit, after lib.sh's cleanup has ended greenwichd and SIPp.

: "${top_srcdir:?domain-lib.sh is sourced after lib.sh}"
ADDC="$top_srcdir/tests/addc/addc.sh"
# The DC lives beside the test directory (a short path for Samba's sockets).
DCW=$(mktemp -d "${TMPDIR:-/tmp}/gwdc.XXXXXX")
D="$DCW/dc"

dc_cleanup() {
	cleanup
	for p in "${GWD_PID:-}" "${P2_PID:-}"; do
		while [ -n "$p" ] && kill -0 "$p" 2>/dev/null; do sleep 0.05; done
	done
	"$ADDC" stop "$D" >/dev/null 2>&1 || true
	# a second stop removes the network namespace once nothing runs in it any more
	"$ADDC" stop "$D" >/dev/null 2>&1 || true
	if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$DCW"; else echo "DC kept in $DCW"; fi
}

domain_setup() {
	trap dc_cleanup EXIT
	"$ADDC" provision "$D" > "$T/provision.out" 2>&1 || { cat "$T/provision.out"; exit 1; }
	"$ADDC" start "$D" > "$T/dcstart.out" 2>&1 || { cat "$T/dcstart.out"; exit 1; }
	# shellcheck disable=SC1091
	. "$D/env"
	"$ADDC" join "$D" > "$T/join.out" 2>&1 || { cat "$T/join.out"; exit 1; }
	# run-with-hosts forks, so the wrapped command leaves its own PID for us to stop.
	printf '#!/bin/sh\necho $$ > "$1"\nshift\nexec "$@"\n' > "$T/exec-pid"
	chmod +x "$T/exec-pid"
	# shellcheck disable=SC2034 # used by lib.sh's start_gwd
	GWD_WRAP="$ADDC run-with-hosts $D -- $T/exec-pid $T/gwd.realpid"
	printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s -- %s "$@"\n' "$ADDC_NETNS" \
		"$(command -v "$SIPP")" > "$T/sipp-in-domain"
	chmod +x "$T/sipp-in-domain"
	SIPP="$T/sipp-in-domain"
	# shellcheck disable=SC2034 # used by lib.sh and the tests
	DOMAIN=$ADDC_DNS_DOMAIN
}

wait_log() { # wait_log PATTERN [SECONDS]: until greenwichd's log has PATTERN
	local _
	for _ in $(seq 1 $((${2:-15} * 10))); do
		grep -q "$1" "$T/greenwichd.log" && return 0
		sleep 0.1
	done
	return 1
}
