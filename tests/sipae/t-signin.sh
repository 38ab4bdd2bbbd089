#!/bin/bash
# MS-SIPAE sign-in against greenwichd, checked by the independent client
# (tests/sipae/sipae_client.py): a real Samba AD DC in its own network namespace, greenwichd
# joined with adcli (service sip, host greenwich.<domain>) and running in that namespace.
# NTLM (CORP\alice and the UPN) and Kerberos sign-in with every later message signed both
# ways, alice's MESSAGE reaching carol, and the refusals: wrong password (401, then a bare
# challenge), spoofed From (403), tampered signed header, unknown opaque, unsigned and
# replayed requests (401 with a fresh challenge, never routed to carol). All of it over TLS
# ([auth] sipae-transports = tls, the default); over plain TCP Kerberos and NTLM are neither
# offered nor accepted (403 with a Warning, and a log line).
# The same checks run against a scripted server in t-sipae-client-selftest.sh.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/sipae/signin-lib.sh
. "$(dirname "$0")/signin-lib.sh"

sae_dc_up

# ---------------------------------------------------------------------------------------
# greenwichd's configuration for MS-SIPAE sign-in. The keys below follow greenwich.conf(5)
# as the lead documented them ([domain] name/keytab/sip-keytab/fqdn/enabled-group, [auth] schemes);
# adjust HERE if the server side lands with other names.
SIGNIN_DOMAIN_CONF=(
	"[domain]"
	"name = $ADDC_DNS_DOMAIN"
	"keytab = $D/gw.keytab"
	"sip-keytab = $D/sip.keytab"
	"fqdn = $FQDN"
	"enabled-group = Greenwich Users"
)
SIGNIN_AUTH_SCHEMES=${SIGNIN_AUTH_SCHEMES-Kerberos,NTLM}   # empty: leave [auth] schemes out
# ---------------------------------------------------------------------------------------

GWD_WRAP="$ADDC run-with-hosts $D -- $T/exec-pid $T/gwd.realpid"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.crt" \
	-days 2 -subj "/CN=$FQDN" 2>/dev/null
write_conf "${SIGNIN_DOMAIN_CONF[@]}" "[tls]" "certificate = $T/server.crt" "key = $T/server.key"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"
# write_conf already opened [auth]: add the schemes there
[ -z "$SIGNIN_AUTH_SCHEMES" ] ||
	sed -i "s/^\[auth\]\$/[auth]\nschemes = $SIGNIN_AUTH_SCHEMES/" "$T/greenwich.conf"
start_gwd
GWD_PID=$(cat "$T/gwd.realpid")
REAL_PIDS+=("$GWD_PID")
SPORT=$TLSPORT
SAE_TLS=1

signin_scenario

# bob's SIP address is his primary proxyAddresses entry, not his mail
client robert --user bob --ntlm-domain CORP --password Blue-Sky-22 --aor "sip:robert@$DOMAIN" register
ok_run robert "CORP\\bob signs in as his SIP address sip:robert@$DOMAIN"

# plain TCP: nothing to sign in with (Digest is not offered here either), and credentials
# sent anyway are refused with a reason and a log line; nothing is registered
SPORT=$PORT
SAE_TLS=
client tcp-alice "${ALICE[@]}" register
check "NTLM over plain TCP: the first REGISTER gets 403, no sign-in method (exit $CRC)" \
	bash -c "[ $CRC != 0 ] && grep -q 'REGISTER without credentials: SIP/2.0 403 No sign-in method' '$T/tcp-alice.out'"
check "... no NTLM or Kerberos challenge went out over TCP" \
	bash -c "! grep -Eq '^(WWW|Proxy)-Authenticate: (NTLM|Kerberos)' '$T/tcp-alice.trace'"
for scheme in NTLM Kerberos; do
	in_dc "$PY" - "$PORT" "$DOMAIN" "$FQDN" "$scheme" > "$T/tcp-$scheme.out" 2>&1 <<'PY'
import socket, sys
port, dom, fqdn, scheme = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
tn = fqdn if scheme == "NTLM" else "sip/" + fqdn
data = "YIIBAgYJKoZIhvcSAQICAQBuggEBMIH+oAMCAQU=" if scheme == "Kerberos" else ""
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-tcp%s\r\n"
           "From: <sip:alice@%s>;tag=t1\r\nTo: <sip:alice@%s>\r\nCall-ID: tcp-%s@x\r\n"
           "CSeq: 1 REGISTER\r\nContact: <sip:alice@127.0.0.1:5999;transport=tcp>\r\n"
           "Authorization: %s qop=\"auth\", realm=\"SIP Communications Service\", "
           "targetname=\"%s\", gssapi-data=\"%s\", version=3\r\nMax-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n" % (dom, scheme, dom, dom, scheme, scheme, tn, data)).encode())
print(s.recv(4096).decode(errors="replace"))
PY
	check "$scheme credentials over plain TCP: 403 and a Warning that TLS is needed" \
		bash -c "grep -q '^SIP/2.0 403 ' '$T/tcp-$scheme.out' && grep -q '^Warning: 399 .*need TLS' '$T/tcp-$scheme.out'"
	check "... logged with the reason and the source" grep -Eq \
		"event=auth-failed scheme=$scheme .*call-id=tcp-$scheme@x reason=\"Kerberos and NTLM are not accepted over tcp .*source=127.0.0.1[^ ]* transport=tcp" \
		"$T/greenwichd.log"
done

# ---- Kerberos: only tickets for sip/$FQDN (the keytab holds host/ with the same key) ----
SPORT=$TLSPORT
SAE_TLS=1
client krb-host "${ALICE_KRB[@]}" --ticket-service host --expect-status 401 register
ok_run krb-host "Kerberos: a real ticket for host/$FQDN under targetname sip/$FQDN: 401"
check "... logged: the ticket's service is not sip/$FQDN" grep -Eiq \
	"event=auth-failed scheme=Kerberos .*reason=\"ticket for host/$FQDN@[^ ]*, not sip/$FQDN@" \
	"$T/greenwichd.log"

# ---- Kerberos channel bindings: an authenticator bound to a TLS connection ----
client krb-cb "${ALICE_KRB[@]}" --krb-channel-bindings tls register --refresh
ok_run krb-cb "Kerberos bound to this TLS connection (tls-server-end-point): signed in"
signins=$(grep -c 'event=sign-in scheme=Kerberos ' "$T/greenwichd.log")
client krb-cb-bad "${ALICE_KRB[@]}" --krb-channel-bindings bad --expect-status 401 register
ok_run krb-cb-bad "Kerberos bound to another TLS connection (a relayed ticket): 401"
check "... logged" grep -q \
	'event=auth-failed scheme=Kerberos .*reason="Kerberos channel bindings are not this connection' \
	"$T/greenwichd.log"
check "... and no security association was made for it" \
	[ "$(grep -c 'event=sign-in scheme=Kerberos ' "$T/greenwichd.log")" = "$signins" ]

# ---- NTLM extended protection: target name, channel bindings, MIC ----
client ntlm-ep "${ALICE[@]}" --ntlm-target-name "SIP/$FQDN" --ntlm-channel-bindings tls \
	--ntlm-mic good register --refresh
ok_run ntlm-ep "NTLM with MsvAvTargetName sip/$FQDN (any case), this TLS connection's channel bindings and a MIC: signed in"
client ntlm-http "${ALICE[@]}" --ntlm-target-name "HTTP/$FQDN" --expect-status 401 register
ok_run ntlm-http "NTLM made for HTTP/$FQDN (a relayed sign-in): 401"
check "... logged with the target name" \
	grep -Eq "event=auth-failed scheme=NTLM user=\"CORP[\\\\]{2}alice\" .*reason=\"NTLM target name HTTP/$FQDN, not sip/$FQDN\"" \
	"$T/greenwichd.log"
client ntlm-cb "${ALICE[@]}" --ntlm-channel-bindings bad --expect-status 401 register
ok_run ntlm-cb "NTLM bound to another TLS connection (channel bindings): 401"
check "... logged" grep -q 'reason="NTLM channel bindings are not this TLS connection' \
	"$T/greenwichd.log"
client ntlm-mic "${ALICE[@]}" --ntlm-mic bad --expect-status 401 register
ok_run ntlm-mic "NTLM with a MIC that does not match the messages: 401 (after the DC accepted it)"
check "... logged" grep -q 'reason="NTLM MIC does not match the messages"' "$T/greenwichd.log"

# ---- what a sign-in logs of the client's choosing forges no line and no field ----
# an NTLM user name with CR, LF, quotes, a backslash and fake fields, and a Call-ID with
# quotes and a fake source=, over TLS: the refusal is one line of greenwichd's whose
# user= and call-id= decode back to what was sent, with greenwichd's own source=
# (the client takes what comes before the first backslash as the NTLM domain)
FORGED_USER=$'CORP\\mallory" source=10.6.6.6 event=sign-in\r\n2026-01-01T00:00:00.000Z greenwichd[notice] x: \\ end'
FORGED_CID='sae-forge"source=10.6.6.7"\@x'
client ntlm-forge --user "$FORGED_USER" --password Not-Her-11 \
	--aor "sip:alice@$DOMAIN" --call-id "$FORGED_CID" --expect-status 401 register
ok_run ntlm-forge "NTLM sign-in with a forged user name and Call-ID: 401"
check "... no line of the log was started by the user name" bash -c \
	"! grep -Eqv '^[0-9]{4}-[0-9][0-9]-[0-9][0-9]T[0-9:.]{12}Z greenwichd\[[a-z]+\] [a-z_0-9]+: ' '$T/greenwichd.log'"
check "... the refusal's fields parse back: one source (ours), user and call-id as sent" \
	"$PY" "$top_srcdir/tests/lib/logfields.py" "$T/greenwichd.log" sae-forge auth-failed \
	127.0.0.1: "user=$($PY -c 'import sys; print(repr(sys.argv[1]))' "$FORGED_USER")" \
	"call-id=$($PY -c 'import sys; print(repr(sys.argv[1]))' "$FORGED_CID")"

# ---- the NTLM CHALLENGE is stateless, and good for 10 to 20 s ----
client ntlm-old "${ALICE[@]}" --ntlm-delay 21 --timeout 30 --expect-status 401 register
ok_run ntlm-old "an AUTHENTICATE 21 s after its CHALLENGE: 401"
check "... logged as an unknown or expired challenge" \
	grep -q 'reason="unknown or expired NTLM challenge"' "$T/greenwichd.log"
client ntlm-late "${ALICE[@]}" --ntlm-delay 8 --timeout 20 register
ok_run ntlm-late "an AUTHENTICATE 8 s after its CHALLENGE: signed in"

# ---- a binding is held until its client signs a request ----
# carol_gone: until no binding of carol's is left (the bindings of her earlier clients go
# with their connections a moment after those closed)
carol_gone() {
	for _ in $(seq 1 50); do
		"$MMC" -c "$T/greenwich.conf" --json server registrations "carol@$DOMAIN" \
			> "$T/carol-regs.json" 2>&1 || true
		[ "$(grep -o '"uri"' "$T/carol-regs.json" | wc -l)" = 0 ] && return 0
		sleep 0.2
	done
	return 1
}
carol_gone
client_bg carol-unproven "${CAROL[@]}" receive --unproven --count 0 --exact --wait 6
client held "${ALICE[@]}" --expect-status 480 send-message --to "sip:carol@$DOMAIN" --text held
ok_run held "MESSAGE to carol, whose client signed in but signed nothing yet: 480"
check "... the binding was held (logged)" \
	grep -q "event=binding-held user=carol@$DOMAIN .*reason=\"no signed request" "$T/greenwichd.log"
bg_done carol-unproven
check "carol's unproven client received nothing (exit $CRC)" [ "$CRC" = 0 ]
check "... not the held text" bash -c "! grep -q ': held\$' '$T/carol-unproven.log'"
carol_gone
client_bg carol-proven "${CAROL[@]}" receive --count 1 --exact --wait 6
client proven "${ALICE[@]}" send-message --to "sip:carol@$DOMAIN" --text proven
ok_run proven "MESSAGE to carol once her client signed a request: delivered"
bg_done carol-proven
check "carol got it (exit $CRC)" [ "$CRC" = 0 ]
check "greenwichd logged carol's SA proven" grep -q "event=sa-proven .*user=carol@$DOMAIN" \
	"$T/greenwichd.log"

# every client above has closed its connection: the bindings made over those
# connections go (sa_unregister, at the next housekeeping second), from memory
# and the store, as a de-REGISTER would
alice_bindings() {
	/usr/bin/python3 - "$T/control.sock" "alice@$DOMAIN" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((json.dumps({"cmd": "registrations", "aor": sys.argv[2]}) + "\n").encode())
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
r = json.loads(data)
print(sum(len(u["contacts"]) for u in r.get("registrations", [])))
PY
}
for _ in $(seq 1 50); do
	[ "$(alice_bindings)" = 0 ] && break
	sleep 0.1
done
check "alice's bindings went with her closed connections" [ "$(alice_bindings)" = 0 ]
check "greenwichd still running" kill -0 "$GWD_PID"
finish
