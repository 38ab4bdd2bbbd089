#!/bin/bash
# Channel bindings (RFC 5929 tls-server-end-point) are those of the certificate the TLS
# connection presented, not of the [tls] certificate file (issue 18). greenwichd joined to a
# real Samba AD DC, NTLM (MsvAvChannelBindings) and Kerberos (authenticator bindings) over
# TLS, with the independent client (sipae_client.py), which makes its bindings from the
# certificate it received, or from a given one.
#  A. The key file is an admin's combined file with the key and the certificate it was first
#     issued with (A, RSA/SHA-256); [tls] certificate names its renewal (B, same key,
#     RSA/SHA-384). The connection presents A (the first certificate greenwichd's TLS files
#     hold): bindings made of A are accepted, bindings made of B (the file's) are refused
#     (401), and so are wrong ones.
#  B. The certificate is replaced (C: another key, ECDSA P-384 with SHA-384, so the
#     bindings' hash becomes SHA-384) and greenwichd restarted ([tls] certificate and key
#     take effect on restart): C's bindings are accepted, A's (the old one) refused.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/sipae/signin-lib.sh
. "$(dirname "$0")/signin-lib.sh"

sae_dc_up
GWD_WRAP="$ADDC run-with-hosts $D -- $T/exec-pid $T/gwd.realpid"
ossl() { openssl "$@" 2>> "$T/openssl.log" || { cat "$T/openssl.log"; exit 1; }; }
ossl genrsa -out "$T/k1.key" 2048
ossl req -x509 -new -key "$T/k1.key" -sha256 -days 2 -subj "/CN=$FQDN/O=first" -out "$T/a.crt"
ossl req -x509 -new -key "$T/k1.key" -sha384 -days 2 -subj "/CN=$FQDN/O=renewed" -out "$T/b.crt"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -sha384 -nodes -days 2 \
	-subj "/CN=$FQDN/O=replaced" -keyout "$T/k2.key" -out "$T/c.crt"
cat "$T/k1.key" "$T/a.crt" > "$T/server.key"
cp "$T/b.crt" "$T/server.crt"
write_conf "[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" "sip-keytab = $D/sip.keytab" "fqdn = $FQDN" \
	"enabled-group = Greenwich Users" "[tls]" "certificate = $T/server.crt" \
	"key = $T/server.key"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"
sed -i "s/^\[auth\]\$/[auth]\nschemes = Kerberos,NTLM/" "$T/greenwich.conf"
SPORT=$TLSPORT
SAE_TLS=1

gwd_up() {
	rm -f "$T/gwd.realpid"
	start_gwd
	wait_for "$T/gwd.realpid" . 50
	GWD_REAL=$(cat "$T/gwd.realpid")
	GWD_PID=$GWD_REAL # what finish stops: greenwichd itself, not run-with-hosts
	REAL_PIDS+=("$GWD_REAL")
}
presented() { # presented: the certificate greenwichd's TLS port presents, as PEM
	in_dc openssl s_client -connect "127.0.0.1:$TLSPORT" </dev/null 2>/dev/null |
		openssl x509 2>/dev/null
}
cb_client() { # cb_client NAME ntlm|krb BINDINGS [client args...]: alice with those bindings
	local name="$1" s="$2" how="$3"; shift 3
	if [ "$s" = ntlm ]; then
		client "$name" "${ALICE[@]}" --ntlm-channel-bindings "$how" "$@"
	else
		client "$name" "${ALICE_KRB[@]}" --krb-channel-bindings "$how" "$@"
	fi
}
# cb_round STEP GOOD BAD...: NTLM and Kerberos sign-ins by alice whose bindings are those of
# the certificate the connection presented (signed in), of the PEM file GOOD (signed in),
# of each PEM file BAD (401), and wrong ones (401)
cb_round() {
	local step="$1" good="$2" s f; shift 2
	for s in ntlm krb; do
		cb_client "$step-$s-tls" $s tls register --refresh
		ok_run "$step-$s-tls" "$step, $s: bindings of the certificate this connection presented: signed in"
		if [ -n "$good" ]; then
			cb_client "$step-$s-good" $s "$good" register
			ok_run "$step-$s-good" "$step, $s: bindings made of $(basename "$good"): signed in"
		fi
		for f in "$@" bad; do
			cb_client "$step-$s-$(basename "$f")" $s "$f" --expect-status 401 register
			ok_run "$step-$s-$(basename "$f")" "$step, $s: bindings made of $(basename "$f") (not what this connection presented): 401"
		done
	done
}
same_cert() { [ "$(openssl x509 -in "$1" -outform DER | sha256sum)" = "$(presented | openssl x509 -outform DER | sha256sum)" ]; }

# ---- A: the connection presents the key file's certificate, not the certificate file's ----
gwd_up
check "A: the TLS port presents certificate A (the key file's), not B" same_cert "$T/a.crt"
cb_round A "$T/a.crt" "$T/b.crt"
check "A: the NTLM refusals logged" [ "$(grep -c 'reason="NTLM channel bindings are not this TLS connection' "$T/greenwichd.log")" = 2 ]
check "A: the Kerberos refusals logged" [ "$(grep -c 'reason="Kerberos channel bindings are not this connection' "$T/greenwichd.log")" = 2 ]
check "A: every TLS connection's certificate was known" bash -c "! grep -q event=sipae-no-channel-bindings '$T/greenwichd.log'"

# ---- B: the certificate replaced (another key and signature hash), greenwichd restarted ----
kill "$GWD_REAL"
wait_gone "$GWD_REAL"
cp "$T/k2.key" "$T/server.key"
cp "$T/c.crt" "$T/server.crt"
gwd_up
check "B: the TLS port presents certificate C" same_cert "$T/c.crt"
check "B: the client hashes C with SHA-384 (RFC 5929: its signature's hash)" \
	/usr/bin/python3 -c "import sys, ssl; sys.path.insert(0, '$SAE'); import sipae_ntlm as n; \
sys.exit(n.cert_hash_name(ssl.PEM_cert_to_DER_cert(open('$T/c.crt').read())) != 'sha384')"
before=$(grep -c 'channel bindings are not this' "$T/greenwichd.log")
cb_round B "" "$T/a.crt"
check "B: four refusals logged" [ "$(grep -c 'channel bindings are not this' "$T/greenwichd.log")" = $((before + 4)) ]
check "greenwichd still running" kill -0 "$GWD_REAL"
finish
