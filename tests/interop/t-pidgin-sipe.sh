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
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/interop/purple-sipe-env.sh
. "$(dirname "$0")/purple-sipe-env.sh"

# Extra greenwich.conf lines: none, Kerberos and NTLM are offered by default ([auth] schemes)
# once [domain] is set.
SIPAE_CONF=()

# shellcheck source=tests/interop/sipe-domain.sh
. "$(dirname "$0")/sipe-domain.sh"

# exchange MECH BOB-ARGS -- ALICE-ARGS: bob waits for an IM, alice signs in and sends it.
exchange() {
	local mech="$1" text="hello-robert-over-$1" b=() st
	shift
	while [ "$1" != "--" ]; do b+=("$1"); shift; done
	shift
	client "bob-$mech" "$mech" "sip:robert@$DOMAIN" "${b[@]}" --timeout 60 --expect-im "$text"
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

	client "alice-$mech" "$mech" "sip:alice@$DOMAIN" "$@" --timeout 40 --settle 3 \
		--send-im "sip:robert@$DOMAIN" --text "$text"
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
domain_up ${SIPAE_CONF[@]+"${SIPAE_CONF[@]}"}

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

gwd_stop_clean
finish
