# shellcheck shell=bash disable=SC2016
# sipe-domain.sh - sourced by the pidgin-sipe tests against greenwichd (after
# integration/lib.sh and purple-sipe-env.sh): a throw-away Samba AD DC in its own network
# namespace, greenwichd joined to it (SPN sip/greenwich.<domain>) and running there, and
# helpers to run purple-sipe clients in that domain.
#
#   domain_up [greenwich.conf lines...]   provision, start, join, start greenwichd
#   client NAME MECH USER [args...]       purple-sipe in the background (NAME.out/.err)
#   gwd_stop_clean                        SIGTERM, checks it stopped without sanitizer report

: "${top_srcdir:?sipe-domain.sh is sourced after tests/integration/lib.sh}"
# shellcheck source=tests/lib/dc.sh
. "$top_srcdir/tests/lib/dc.sh"
# wait_for (tests/lib/wait.sh, through lib.sh): 30 s unless a test says otherwise
# shellcheck disable=SC2034 # read by wait_for (tests/lib/wait.sh)
WAIT_TENTHS=300

# The DC lives beside the test directory (short path for Samba's sockets), so that it can
# be stopped after lib.sh's cleanup has ended greenwichd and the clients.
DCW=$(mktemp -d "${TMPDIR:-/tmp}/gwdc.XXXXXX")
D="$DCW/dc"
dc_cleanup() {
	cleanup
	dc_down "$D"
	if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$DCW"; else echo "DC kept in $DCW"; fi
}
trap dc_cleanup EXIT

# in_domain_bg NAME CMD...: run CMD in the domain in the background, stdout NAME.out,
# stderr NAME.err, stdin NAME.in when that exists (a FIFO); its real PID (not
# run-with-hosts') is recorded in NAME.pid and PIDS.
in_domain_bg() {
	local n="$1" in=/dev/null
	shift
	[ -e "$T/$n.in" ] && in="$T/$n.in"
	"$ADDC" run-with-hosts "$D" -- "$T/exec-pid" "$T/$n.pid" "$@" < "$in" > "$T/$n.out" \
		2> "$T/$n.err" &
	PIDS+=("$!")
	wait_for "$T/$n.pid" . 50 || return 1
	PIDS+=("$(cat "$T/$n.pid")")
}

# exit_status NAME [TENTHS]: wait (bounded, default 60 s) for client NAME to print its
# exit line; its status, or "running".
exit_status() {
	if wait_for "$T/$1.out" " exit status=[0-9]+$" "${2:-600}"; then
		sed -n 's/.* exit status=\([0-9]*\)$/\1/p' "$T/$1.out" | tail -1
	else
		echo running
	fi
}

# why NAME: what a client that did not sign in saw (connection error, greenwichd's
# challenges), on one line for the failure message.
why() {
	local err ch
	err=$(sed -n 's/.* connection-error \(.*\)/\1/p' "$T/$1.out" | head -1)
	ch=$(grep -a -E "^(WWW|Proxy)-Authenticate:" "$T/$1.err" | cut -c1-90 | sort -u |
		tr '\n' ' ')
	echo "${err:-no connection error, no sign-in} -- challenges: ${ch:-none}"
}

# client NAME MECH USER [purple-sipe args]: purple-sipe in the domain, in the background,
# over TLS (greenwichd accepts Kerberos and NTLM over TLS only by default; the test's
# self-signed certificate is accepted with --accept-cert).
client() {
	local n="$1" mech="$2" user="$3"
	shift 3
	in_domain_bg "$n" env KRB5CCNAME="FILE:$T/$n.cc" "${PS_ENV[@]}" "$PS" --user "$user" \
		--server "127.0.0.1:$TLSPORT" --transport tls --accept-cert --auth "$mech" --debug "$@"
}

# in_domain CMD...: run CMD in the domain, in the foreground.
in_domain() {
	"$ADDC" run-with-hosts "$D" -- "$@"
}

# domain_up [greenwich.conf lines]: the DC, greenwichd's machine account and keytab, the
# clients' krb5.conf, greenwichd running in the domain (GWD_PID its real PID). Sets
# DOMAIN, FQDN and the DC's variables (ADDC_*).
domain_up() {
	dc_up "$D" join
	FQDN="greenwich.$ADDC_DNS_DOMAIN"
	check "the join put sip/$FQDN on an account of its own (sip.keytab), not the computer's" \
		bash -c "klist -k '$D/sip.keytab' | grep -q ' sip/$FQDN@' &&
			! klist -k '$D/gw.keytab' | grep -q ' sip/'"
	# The clients' krb5.conf: the DC's, with no canonicalisation of the SIP server's name
	# (greenwich.<domain> is in no DNS or hosts file here; see docs/MS-SIPAE.md 3.2).
	awk '{ print }
		/^\[libdefaults\]/ { print "\tdns_canonicalize_hostname = false"; print "\trdns = false" }' \
		"$KRB5_CONFIG" > "$T/krb5-client.conf"
	export KRB5_CONFIG="$T/krb5-client.conf"
	write_exec_pid "$T/exec-pid"
	# shellcheck disable=SC2034 # used by lib.sh's start_gwd
	GWD_WRAP="$ADDC run-with-hosts $D -- env KRB5_CONFIG=$D/krb5.conf $T/exec-pid $T/gwd.realpid"
	# shellcheck disable=SC2034 # used by lib.sh and the tests
	DOMAIN=$ADDC_DNS_DOMAIN
	WITH_TLS=1 write_conf "[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" \
		"sip-keytab = $D/sip.keytab" "fqdn = $FQDN" "enabled-group = Greenwich Users" "$@"
	start_gwd
	GWD_PID=$(cat "$T/gwd.realpid")
	PIDS+=("$GWD_PID")
}

# kinit_user NAME PRINCIPAL PASSWORD: a ticket in NAME's cache (FILE:$T/NAME.cc).
kinit_user() {
	echo "$3" | in_domain env KRB5CCNAME="FILE:$T/$1.cc" kinit "$2@$ADDC_REALM" \
		> "$T/kinit-$1.out" 2>&1
}

gwd_stop_clean() {
	check "greenwichd still running" kill -0 "$GWD_PID"
	kill -TERM "$GWD_PID"
	for _ in $(seq 1 100); do kill -0 "$GWD_PID" 2>/dev/null || break; sleep 0.1; done
	check "greenwichd stopped on SIGTERM" bash -c "! kill -0 $GWD_PID 2>/dev/null"
	check "no sanitizer report from greenwichd" \
		bash -c "! grep -a -q -E 'Sanitizer|runtime error:' '$T/greenwichd.log'"
}
