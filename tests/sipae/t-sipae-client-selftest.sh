#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# Self-test of the MS-SIPAE test client (tests/sipae/sipae_client.py) without greenwichd:
# unit checks (MS-NLMP test vectors, the signed-string examples), then a real Samba AD DC
# (tests/addc/addc.sh): the client's NTLMv2 AUTHENTICATE must be accepted by the DC
# (ntlm_auth, ntlm-server-1) with the same session key as the client's, a wrong password
# refused; its Kerberos initiator must get a token for sip/greenwich.<domain> after an
# adcli join that a GSS acceptor with that keytab takes in one step, with MICs both ways.
# Then the whole client (CLI) against sipae_fakeserver.py (a scripted SIP server in the
# DC's namespace that checks with the same DC): sign-in, IM, the negative-test options,
# and a server that signs wrongly must be caught.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/sipae/signin-lib.sh
. "$(dirname "$0")/signin-lib.sh"

# tap_lines NAME OUTPUT-FILE: count the 'ok -'/'FAILED -' lines of a Python check.
tap_lines() {
	local line
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) pass "$1: ${line#ok - }" ;;
		"FAILED - "*) fail "$1: ${line#FAILED - }" ;;
		esac
	done < "$2"
}

# unit checks: no DC needed
"$PY" "$SAE/sipae_units.py" > "$T/units.out" 2>&1 && urc=0 || urc=$?
tap_lines units "$T/units.out"
check "unit checks exit 0" [ "$urc" = 0 ]
check "unit checks ran (NLMP vectors and the three signed strings)" \
	[ "$(grep -c '^ok - ' "$T/units.out")" -ge 30 ]

sae_dc_up

dccheck() { # dccheck NAME ARGS...: sipae_dccheck.py in the domain, its lines counted
	local name="$1"; shift
	in_dc "$PY" "$SAE/sipae_dccheck.py" "$@" > "$T/$name.out" 2>&1 && rc=0 || rc=$?
	tap_lines "$name" "$T/$name.out"
	check "$name: exit status $rc" [ "$rc" = 0 ]
}

dccheck ntlm-alice ntlm alice CORP Apple-Pie-11
dccheck ntlm-bob ntlm bob CORP Blue-Sky-22
dccheck ntlm-upn ntlm "alice@$ADDC_DNS_DOMAIN" "" Apple-Pie-11
dccheck ntlm-wrong ntlm alice CORP Apple-Pie-12 --expect-refused
dccheck ntlm-erin ntlm erin CORP Emerald-55 --expect-refused
dccheck kerberos kerberos "sip/$FQDN" "alice@$ADDC_REALM" Apple-Pie-11 "$D/sip.keytab"
check "the Kerberos checks left no credential cache behind" [ ! -e "${KRB5CCNAME#FILE:}" ]

# start_fake NAME [--mistake KIND]: the scripted server on a new port (SPORT).
start_fake() {
	local name="$1"; shift
	SPORT=$(free_port)
	start_in_dc "$name" "KRB5_KTNAME=FILE:$D/sip.keytab" "$PY" "$SAE/sipae_fakeserver.py" \
		"$SPORT" "$DOMAIN" "$ADDC_DOMAIN" "$FQDN" "$@"
	wait_for "$T/$name.log" "event=started" || { cat "$T/$name.log"; exit 1; }
}

start_fake fake
signin_scenario
check "the scripted server saw the refusals it should" \
	[ "$(grep -c -e why=bad-signature -e why=replay -e why=unknown-opaque -e spoofed-from \
		"$T/fake.log")" -ge 5 ]
check "the scripted server verified every client response" \
	[ "$(grep -c 'event=response status=200 signature=ok' "$T/fake.log")" -ge 3 ]
check "... and saw no badly signed one" [ "$(grep -c 'signature=bad' "$T/fake.log")" = 0 ]

# a server that gets the signatures wrong must be caught
mistake() { # mistake KIND EXIT DESCRIPTION CLIENT-ARGS...
	local kind="$1" want="$2" what="$3"; shift 3
	MISTAKES=$((${MISTAKES:-0} + 1))
	start_fake "fake-$MISTAKES-$kind" --mistake "$kind"
	client "m-$MISTAKES-$kind" "$@"
	check "server mistake $kind: $what (exit $CRC, want $want)" [ "$CRC" = "$want" ]
	kill "$BG_PID"
}
mistake bad-signature 2 "wrong rspauth on a MESSAGE answer" \
	"${ALICE[@]}" send-message --to "sip:carol@$DOMAIN"
mistake bad-signature 2 "wrong rspauth (Kerberos)" \
	"${ALICE_KRB[@]}" send-message --to "sip:carol@$DOMAIN"
mistake unsigned 2 "unsigned MESSAGE answer" "${ALICE[@]}" send-message --to "sip:carol@$DOMAIN"
mistake no-opaque 5 "200 to REGISTER without opaque" "${ALICE_KRB[@]}" register
mistake compact 5 "compact header names" "${ALICE[@]}" register
start_fake fake-unsigned-request --mistake unsigned-request
client_bg carol-unsigned "${CAROL[@]}" receive --count 1 --wait 6
client m-unsigned-request "${ALICE[@]}" send-message --to "sip:carol@$DOMAIN" --text x
bg_done carol-unsigned
check "server mistake unsigned-request: the receiving client refuses it (exit $CRC, want 2)" \
	[ "$CRC" = 2 ]
check "... and says why" grep -q "unsigned message from server: MESSAGE" "$T/carol-unsigned.log"
finish
