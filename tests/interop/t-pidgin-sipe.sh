#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# Interoperability: the real pidgin-sipe 1.25 (Debian 12), driven headless by purple-sipe,
# signs in to greenwichd with Active Directory credentials (MS-SIPAE), first with NTLM,
# then with Kerberos, and two such clients exchange an IM through greenwichd.
#
# A throw-away Samba AD DC (tests/addc/addc.sh) runs in its own network namespace;
# greenwichd is joined with adcli (SPN sip/greenwich.<domain>) and runs in that namespace,
# and so do both clients, so everything stays on the namespace's loopback.
#
#   bob   (login CORP\bob, SIP URI sip:robert@..., his primary proxyAddress) signs in and
#         waits for an IM (--expect-im);
#   alice (login CORP\alice, sip:alice@...) signs in and sends him that IM (--send-im).
#
# Kerberos: bob uses a ticket from kinit (sipe's Single Sign-On setting), alice gives
# purple-sipe her realm-qualified login alice@CORP.EXAMPLE.COM and password, so sipe gets
# her ticket itself (docs/MS-SIPAE.md 3.2: CORP\alice would map to the wrong realm).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/purple-sipe-env.sh"

# Extra greenwich.conf lines: none, Kerberos and NTLM are offered by default ([auth] schemes)
# once [domain] is set.
SIPAE_CONF=()

ADDC="$top_srcdir/tests/addc/addc.sh"

# The DC lives beside the test directory (short path for Samba's sockets), so that it can
# be stopped after lib.sh's cleanup has ended greenwichd and the clients.
DCW=$(mktemp -d "${TMPDIR:-/tmp}/gwdc.XXXXXX")
D="$DCW/dc"
dc_cleanup() {
	cleanup
	"$ADDC" stop "$D" >/dev/null 2>&1 || true
	# a second stop removes the network namespace once nothing runs in it any more
	"$ADDC" stop "$D" >/dev/null 2>&1 || true
	if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$DCW"; else echo "DC kept in $DCW"; fi
}
trap dc_cleanup EXIT

# wait_for FILE PATTERN [TENTHS]: bounded wait (default 30 s) for an extended regex in FILE.
wait_for() {
	local i
	for i in $(seq 1 "${3:-300}"); do
		grep -a -q -E -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# in_domain_bg NAME CMD...: run CMD in the domain in the background, stdout NAME.out,
# stderr NAME.err; its real PID (not run-with-hosts') is recorded in NAME.pid and PIDS.
in_domain_bg() {
	local n="$1"
	shift
	"$ADDC" run-with-hosts "$D" -- "$T/exec-pid" "$T/$n.pid" "$@" > "$T/$n.out" 2> "$T/$n.err" &
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

# client NAME MECH USER [purple-sipe args]: purple-sipe in the domain, in the background.
client() {
	local n="$1" mech="$2" user="$3"
	shift 3
	in_domain_bg "$n" env KRB5CCNAME="FILE:$T/$n.cc" "${PS_ENV[@]}" "$PS" --user "$user" \
		--server "127.0.0.1:$PORT" --transport tcp --auth "$mech" --debug "$@"
}

# exchange MECH BOB-ARGS -- ALICE-ARGS: bob waits for an IM, alice signs in and sends it.
exchange() {
	local mech="$1" text="hello-robert-over-$1" b=() st
	shift
	while [ "$1" != "--" ]; do b+=("$1"); shift; done
	shift
	client "bob-$mech" "$mech" sip:robert@$DOMAIN "${b[@]}" --timeout 60 --expect-im "$text"
	wait_for "$T/bob-$mech.out" " (signed-on|connection-error|exit status)" || true
	if ! grep -a -q " signed-on " "$T/bob-$mech.out"; then
		fail "bob signed in with $mech: pidgin-sipe did not sign in to greenwichd:" \
			"$(why "bob-$mech"). MS-SIPAE $mech sign-in is not enabled or not" \
			"implemented in greenwichd yet (see SIPAE_CONF at the top of $0)"
		return 0
	fi
	pass "bob (CORP\\bob as sip:robert@$DOMAIN) signed in with $mech"
	check "$mech: greenwichd logged robert's registration" \
		wait_for "$T/greenwichd.log" "event=register user=robert@$DOMAIN contacts=1" 50

	client "alice-$mech" "$mech" sip:alice@$DOMAIN "$@" --timeout 40 --settle 3 \
		--send-im sip:robert@$DOMAIN --text "$text"
	st=$(exit_status "alice-$mech")
	if ! grep -a -q " signed-on " "$T/alice-$mech.out"; then
		fail "alice signed in with $mech: $(why "alice-$mech")"
		return 0
	fi
	check "alice signed in with $mech, sent the IM, no delivery error (exit $st)" [ "$st" = 0 ]
	check "$mech: alice's requests after sign-in are signed (crand, cnum, response)" \
		grep -a -q -E "^(Proxy-)?Authorization: $(scheme "$mech") qop=\"auth\", $SIGNED" \
		"$T/alice-$mech.err"
	check "$mech: greenwichd signs what it sends to alice (rspauth, srand, snum, opaque)" \
		grep -a -q -E "^(Proxy-)?Authentication-Info: $(scheme "$mech") .*rspauth=\"[0-9a-fA-F]+\"" \
		"$T/alice-$mech.err"
	st=$(exit_status "bob-$mech" 150)
	check "bob received alice's IM (exit $st)" [ "$st" = 0 ]
	check "$mech: from sip:alice@$DOMAIN, with the text" grep -a -q -E \
		"received-im-msg from=sip:alice@$DOMAIN text=.*$text" "$T/bob-$mech.out"
}

# the signed form of Authorization after the scheme and qop (docs/MS-SIPAE.md section 2)
SIGNED='opaque="[^"(]+", .*crand="[0-9a-fA-F]{8}", cnum="[0-9]+", response="[0-9a-fA-F]+"'

scheme() { # scheme MECH: the MS-SIPAE scheme token
	[ "$1" = kerberos ] && echo Kerberos || echo NTLM
}

# ---- the domain, the join, greenwichd ----
for step in provision start; do
	"$ADDC" "$step" "$D" > "$T/dc-$step.out" 2>&1 || { cat "$T/dc-$step.out"; exit 1; }
done
# shellcheck disable=SC1091
. "$D/env"
FQDN="greenwich.$ADDC_DNS_DOMAIN"
# greenwichd's machine account, with the SPN sip/FQDN in its keytab
if ! printf '%s' "$ADDC_ADMIN_PASSWORD" | "$ADDC" run-with-hosts "$D" -- adcli join \
	--domain "$ADDC_DNS_DOMAIN" --domain-controller "$ADDC_DC_FQDN" \
	--host-fqdn "$FQDN" --service-name sip \
	-U Administrator --stdin-password --host-keytab "$D/gw.keytab" > "$T/join.out" 2>&1; then
	cat "$T/join.out"
	exit 1
fi
chmod 0600 "$D/gw.keytab"
check "the keytab holds sip/$FQDN" bash -c "klist -k '$D/gw.keytab' | grep -q ' sip/$FQDN@'"

# The clients' krb5.conf: the DC's, with no canonicalisation of the SIP server's name
# (greenwich.<domain> is in no DNS or hosts file here; see docs/MS-SIPAE.md 3.2).
awk '{ print }
	/^\[libdefaults\]/ { print "\tdns_canonicalize_hostname = false"; print "\trdns = false" }' \
	"$KRB5_CONFIG" > "$T/krb5-client.conf"
export KRB5_CONFIG="$T/krb5-client.conf"

printf '#!/bin/sh\necho $$ > "$1"\nshift\nexec "$@"\n' > "$T/exec-pid"
chmod +x "$T/exec-pid"
GWD_WRAP="$ADDC run-with-hosts $D -- env KRB5_CONFIG=$D/krb5.conf $T/exec-pid $T/gwd.realpid"
DOMAIN=$ADDC_DNS_DOMAIN
write_conf "[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" "fqdn = $FQDN" \
	"enabled-group = Greenwich Users" ${SIPAE_CONF[@]+"${SIPAE_CONF[@]}"}
start_gwd
GWD_PID=$(cat "$T/gwd.realpid")
PIDS+=("$GWD_PID")

# ---- NTLM: connectionless NTLMv2 against the DC through greenwichd ----
exchange ntlm --login 'CORP\bob' --password Blue-Sky-22 -- \
	--login 'CORP\alice' --password Apple-Pie-11
check "ntlm: greenwichd challenged bob with NTLM, he started it (empty gssapi-data)" \
	grep -a -q -E \
	'^Authorization: NTLM qop="auth", realm="[^"]+", targetname="[^"]+", gssapi-data="", version=3' \
	"$T/bob-ntlm.err"

# ---- Kerberos: bob from his ticket cache (kinit), alice with login and password ----
check "kerberos: kinit bob@$ADDC_REALM" bash -c "echo Blue-Sky-22 | '$ADDC' run-with-hosts '$D' \
	-- env KRB5CCNAME='FILE:$T/bob-kerberos.cc' kinit 'bob@$ADDC_REALM' > '$T/kinit.out' 2>&1"
check "kerberos: bob has a ticket for sip/$FQDN from the DC (kvno)" bash -c "'$ADDC' \
	run-with-hosts '$D' -- env KRB5CCNAME='FILE:$T/bob-kerberos.cc' kvno 'sip/$FQDN@$ADDC_REALM' \
	> '$T/kvno.out' 2>&1"
exchange kerberos --sso -- --login "alice@$ADDC_REALM" --password Apple-Pie-11
check "kerberos: greenwichd challenged bob with Kerberos, he sent an AP-REQ for sip/$FQDN" \
	grep -a -q -E \
	"^Authorization: Kerberos qop=\"auth\", realm=\"[^\"]+\", targetname=\"sip/$FQDN\", gssapi-data=\"YII" \
	"$T/bob-kerberos.err"

check "greenwichd still running" kill -0 "$GWD_PID"
kill -TERM "$GWD_PID"
for _ in $(seq 1 100); do kill -0 "$GWD_PID" 2>/dev/null || break; sleep 0.1; done
check "greenwichd stopped on SIGTERM" bash -c "! kill -0 $GWD_PID 2>/dev/null"
check "no sanitizer report from greenwichd" \
	bash -c "! grep -a -q -E 'Sanitizer|runtime error:' '$T/greenwichd.log'"
finish
