#!/bin/bash
# Kerberos service-ticket relabelling (issue 18): a real ticket alice got from the test DC
# for another service of greenwichd's machine account (host/, and cifs/ which AD's
# sPNMappings alias onto host/), its cleartext service name rewritten to sip/<fqdn> in the
# AP-REQ (the sname lies outside the ticket's encrypted part; the authenticator does not
# name the service). Checked on the victim's side: is a security association made and a
# binding registered for alice from it? The unmodified host/ ticket (already refused by the
# sname check) and a normal sip/ sign-in are the controls.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/sipae/signin-lib.sh
. "$(dirname "$0")/signin-lib.sh"

sae_dc_up
GWD_WRAP="$ADDC run-with-hosts $D -- $T/exec-pid $T/gwd.realpid"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.crt" \
	-days 2 -subj "/CN=$FQDN" 2>/dev/null
write_conf "[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" "fqdn = $FQDN" \
	"enabled-group = Greenwich Users" "[tls]" "certificate = $T/server.crt" \
	"key = $T/server.key"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"
sed -i "s/^\[auth\]\$/[auth]\nschemes = Kerberos,NTLM/" "$T/greenwich.conf"
start_gwd
GWD_PID=$(cat "$T/gwd.realpid")
REAL_PIDS+=("$GWD_PID")
SPORT=$TLSPORT
SAE_TLS=1
in_dc klist -k "$D/gw.keytab" > "$T/keytab.txt" 2>&1 || true
sed 's/^/  | keytab: /' "$T/keytab.txt"

signins() { grep -c 'event=sign-in scheme=Kerberos ' "$T/greenwichd.log"; }

client krb-sip "${ALICE_KRB[@]}" register --refresh
ok_run krb-sip "control: Kerberos sign-in with a ticket for sip/$FQDN"
client krb-host "${ALICE_KRB[@]}" --ticket-service host --expect-status 401 register
ok_run krb-host "control: a ticket for host/$FQDN as it is: 401"

for svc in host cifs; do
	n=$(signins)
	client "relabel-$svc" "${ALICE_KRB[@]}" --ticket-service "$svc" --rewrite-sname \
		--expect-status 401 register --refresh
	ok_run "relabel-$svc" "a ticket for $svc/$FQDN relabelled sip/$FQDN: 401"
	check "... no security association made from it" [ "$(signins)" = "$n" ]
	check "... the client never got a signed 200 for its REGISTER" \
		bash -c "! grep -q '^signed-in ' '$T/relabel-$svc.out'"
done
check "greenwichd still running" kill -0 "$GWD_PID"
finish
