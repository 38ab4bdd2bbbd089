# signin-lib.sh - MS-SIPAE sign-in tests with the independent client (bash, sourced
# after tests/integration/lib.sh). A real Samba AD DC in its own network namespace, joined
# with adcli (service sip, host greenwich.<domain>); the server under test and the client
# run in that namespace. signin_scenario runs the same checks against any server
# listening on 127.0.0.1:$SPORT there: greenwichd (t-signin.sh) or the scripted
# sipae_fakeserver.py (t-sipae-client-selftest.sh, which so proves the checks themselves).
# shellcheck shell=bash disable=SC2016,SC2154

PY=/usr/bin/python3
SAE="$top_srcdir/tests/sipae"
# shellcheck source=tests/lib/dc.sh
. "$top_srcdir/tests/lib/dc.sh"
# The DC beside the test directory (short path for Samba's sockets), stopped after lib.sh's
# cleanup has ended the processes that run in its namespace.
DCW=$(mktemp -d "${TMPDIR:-/tmp}/gwsae.XXXXXX")
D="$DCW/dc"
REAL_PIDS=()

sae_cleanup() {
	local p
	for p in "${REAL_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	cleanup
	wait_gone "${REAL_PIDS[@]}"
	dc_down "$D"
	if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$DCW"; else echo "DC kept in $DCW"; fi
}
trap sae_cleanup EXIT

# sae_dc_up: provision and start the DC, join greenwich.<domain> with the sip service.
sae_dc_up() {
	dc_up "$D" join
	FQDN="greenwich.$ADDC_DNS_DOMAIN"
	DOMAIN=$ADDC_DNS_DOMAIN
	write_exec_pid "$T/exec-pid"
}

in_dc() { "$ADDC" run-with-hosts "$D" -- "$@"; }

# start_in_dc NAME [VAR=VALUE...] CMD...: CMD in the domain, in the background, output
# in $T/NAME.log; its own PID (not run-with-hosts') in BG_PID.
start_in_dc() {
	local name="$1"; shift
	rm -f "$T/$name.pid"
	in_dc "$T/exec-pid" "$T/$name.pid" env "$@" > "$T/$name.log" 2>&1 &
	PIDS+=("$!")
	wait_for "$T/$name.pid" . 50 || { echo "$name did not start: $(cat "$T/$name.log")"; exit 1; }
	BG_PID=$(cat "$T/$name.pid")
	REAL_PIDS+=("$BG_PID")
}

# client NAME [client options...] COMMAND [command options...]: the test client in the
# domain against 127.0.0.1:$SPORT (over TLS when SAE_TLS is set: Kerberos and NTLM are
# accepted over TLS only by default); output in $T/NAME.out, messages in $T/NAME.trace,
# exit status in CRC.
client() {
	local name="$1"; shift
	in_dc "$PY" "$SAE/sipae_client.py" --server "127.0.0.1:$SPORT" ${SAE_TLS:+--tls} \
		--domain "$DOMAIN" --trace "$T/$name.trace" "$@" > "$T/$name.out" 2>&1 && CRC=0 ||
		CRC=$?
}

# client_bg NAME ARGS...: the same in the background (BG_PID); waits until it signed in.
client_bg() {
	local name="$1"; shift
	start_in_dc "$name" "$PY" "$SAE/sipae_client.py" --server "127.0.0.1:$SPORT" \
		${SAE_TLS:+--tls} --domain "$DOMAIN" --trace "$T/$name.trace" "$@"
	wait_for "$T/$name.log" "^registered " || echo "$name did not sign in: $(cat "$T/$name.log")"
}

bg_done() { # bg_done NAME: wait for the background client NAME; its exit status in CRC
	local p
	p=$(cat "$T/$1.pid")
	while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
	CRC=$(sed -n 's/^exit=//p' "$T/$1.log" | tail -1)
}

ALICE=(--user alice --ntlm-domain "CORP" --password Apple-Pie-11)
ALICE_UPN=(--user "alice@corp.example.com" --password Apple-Pie-11)
ALICE_KRB=(--scheme kerberos --user alice --password Apple-Pie-11)
CAROL=(--user carol --ntlm-domain "CORP" --password Coral-Reef-33)

ok_run() { # ok_run NAME DESCRIPTION: CRC 0
	check "$2 (exit $CRC)" [ "$CRC" = 0 ]
	[ "$CRC" = 0 ] || sed 's/^/  | /' "$T/$1.out"
}

# signin_scenario: sign-in, IM and refusals against the server at 127.0.0.1:$SPORT.
signin_scenario() {
	local to="sip:carol@$DOMAIN" m
	client ntlm-alice "${ALICE[@]}" register --refresh
	ok_run ntlm-alice "NTLM sign-in as CORP\\alice, signed refresh REGISTER"
	check "NTLM: the 200 names the NTLM SA" grep -q "^signed-in scheme=NTLM opaque=." \
		"$T/ntlm-alice.out"
	check "NTLM: rspauth signed with seq 100 (ends 64000000)" \
		grep -Eq 'rspauth="01000000[0-9A-F]{16}64000000"' "$T/ntlm-alice.out"
	check "the first 401 offers NTLM with realm, targetname $FQDN and version=3" \
		grep -q "^WWW-Authenticate: NTLM realm=\"SIP Communications Service\", targetname=\"$FQDN\", version=3" \
		"$T/ntlm-alice.trace"
	check "the first 401 offers Kerberos for sip/$FQDN" \
		grep -q "^WWW-Authenticate: Kerberos .*targetname=\"sip/$FQDN\"" "$T/ntlm-alice.trace"
	client ntlm-upn "${ALICE_UPN[@]}" register
	ok_run ntlm-upn "NTLM sign-in with the UPN alice@$DOMAIN (empty NTLM domain)"
	client krb-alice "${ALICE_KRB[@]}" register --refresh
	ok_run krb-alice "Kerberos sign-in as alice (sip/$FQDN), signed refresh REGISTER"
	check "Kerberos: the 200 carries the SA's opaque" \
		grep -q "^signed-in scheme=Kerberos opaque=." "$T/krb-alice.out"

	for m in ntlm:ALICE krb:ALICE_KRB; do
		local who="${m#*:}" tag="${m%%:*}"
		local -n creds="$who"
		client_bg "carol-$tag" "${CAROL[@]}" receive --count 1 --exact --wait 6
		client "send-$tag" "${creds[@]}" send-message --to "$to" --text "hi from $tag"
		ok_run "send-$tag" "$tag: alice's signed MESSAGE to carol answered 2xx"
		bg_done "carol-$tag"
		check "$tag: carol got it once, signed, and answered it signed (exit $CRC)" [ "$CRC" = 0 ]
		check "$tag: carol saw alice's text" grep -q "^MESSAGE from sip:alice@$DOMAIN .*: hi from $tag" \
			"$T/carol-$tag.log"
	done

	client wrong "${ALICE[@]}" --wrong-password --expect-status 401 register
	ok_run wrong "wrong password: final 401 (and a bare challenge, checked by the client)"
	client spoof-reg "${ALICE[@]}" --aor "sip:carol@$DOMAIN" --expect-status 403 register
	ok_run spoof-reg "REGISTER as carol with alice's credentials: 403"

	# refused requests are not routed: carol listens while they are sent
	client_bg carol-neg "${CAROL[@]}" receive --count 1 --exact --wait 12
	client spoof-msg "${ALICE[@]}" --from "sip:carol@$DOMAIN" --expect-status 403 \
		send-message --to "$to" --text spoof
	ok_run spoof-msg "MESSAGE from alice's SA with From carol: 403"
	client tamper "${ALICE[@]}" --tamper --expect-status 401 send-message --to "$to" --text tampered
	ok_run tamper "tampered signed header: 401"
	check "tampered: the 401 is a fresh challenge" grep -q "WWW-Authenticate: NTLM realm=" \
		"$T/tamper.out"
	client tamper-krb "${ALICE_KRB[@]}" --tamper --expect-status 401 send-message --to "$to" \
		--text tampered
	ok_run tamper-krb "Kerberos: tampered signed header: 401"
	client opaque "${ALICE[@]}" --bad-opaque --expect-status 401 send-message --to "$to" \
		--text opaque
	ok_run opaque "unknown opaque: 401"
	client nosig "${ALICE[@]}" --no-signature --expect-status 401 send-message --to "$to" \
		--text unsigned
	ok_run nosig "unsigned MESSAGE after sign-in: 401"
	client replay "${ALICE[@]}" --replay --expect-status 401 send-message --to "$to" --text once
	ok_run replay "replayed signed MESSAGE (same crand/cnum): 401"
	bg_done carol-neg
	check "carol got exactly one MESSAGE: the first copy of the replayed one (exit $CRC)" \
		[ "$CRC" = 0 ]
	check "carol got the replayed text" grep -q ": once$" "$T/carol-neg.log"
	check "carol (signed in) got none of the refused ones" grep -q "^registered " "$T/carol-neg.log"
	check "... none: $(grep -e ': tampered$' -e ': opaque$' -e ': unsigned$' -e ': spoof$' \
		"$T/carol-neg.log" | tr '\n' ' ')" \
		[ "$(grep -c -e ': tampered$' -e ': opaque$' -e ': unsigned$' -e ': spoof$' "$T/carol-neg.log")" = 0 ]
}
