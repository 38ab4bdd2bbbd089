#!/bin/bash
# Kerberos service-ticket relabelling (issue 18): a real ticket alice got from the test DC
# for another service of greenwichd's computer account (host/, and cifs/ which AD's
# sPNMappings alias onto host/), its cleartext service name rewritten to sip/<fqdn> in the
# AP-REQ (the sname lies outside the ticket's encrypted part; the authenticator does not
# name the service). Checked on the victim's side: is a security association made for
# alice from it?
#  A. As joined (sip/ an SPN of the computer account, one key for all): the relabelled
#     tickets sign in. This is the known gap of the default join, and the control that the
#     rewrite yields a ticket the server can decrypt when the keys are shared.
#  B. `greenwich-mmc domain join` run again with its default: sip/ moved off the computer
#     account onto gwsip-greenwich (a user account whose only SPNs they are, AES only),
#     its keys in <state>/sip.keytab, [domain] sip-keytab set: the relabelled tickets are
#     refused and no security association is made, while Kerberos sign-in with a ticket
#     for sip/ (and NTLM) still work.
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
SPORT=$TLSPORT
SAE_TLS=1

gwd_up() {
	rm -f "$T/gwd.realpid"
	start_gwd
	wait_for "$T/gwd.realpid" . 50
	GWD_PID=$(cat "$T/gwd.realpid") # what finish stops: greenwichd itself
	REAL_PIDS+=("$GWD_PID")
}
signins() { grep -c 'event=sign-in scheme=Kerberos ' "$T/greenwichd.log"; }
# relabel STEP SVC 200|401: alice's ticket for SVC/$FQDN relabelled sip/, answered so
relabel() {
	local n
	n=$(signins)
	client "$1-relabel-$2" "${ALICE_KRB[@]}" --ticket-service "$2" --rewrite-sname \
		--expect-status "$3" register --refresh
	if [ "$3" = 401 ]; then
		ok_run "$1-relabel-$2" "$1: a ticket for $2/$FQDN relabelled sip/$FQDN: 401"
		check "$1: ... no security association made from it" [ "$(signins)" = "$n" ]
		check "$1: ... the client never signed in" \
			bash -c "! grep -q '^signed-in ' '$T/$1-relabel-$2.out'"
	else
		ok_run "$1-relabel-$2" "$1: a ticket for $2/$FQDN relabelled sip/$FQDN signs in (one key for all)"
		check "$1: ... a security association was made from it" [ "$(signins)" = $((n + 1)) ]
	fi
}

# ---- A: as joined ----
gwd_up
client A-krb "${ALICE_KRB[@]}" register --refresh
ok_run A-krb "A: Kerberos sign-in with a ticket for sip/$FQDN"
client A-host "${ALICE_KRB[@]}" --ticket-service host --expect-status 401 register
ok_run A-host "A: a ticket for host/$FQDN as it is: 401 (its sname is checked)"
relabel A host 200
relabel A cifs 200

# ---- B: joined again: sip/ on an account of its own (the join's default) ----
kill "$GWD_PID"
wait_gone "$GWD_PID"
printf '%s\n' "$ADDC_ADMIN_PASSWORD" | in_dc "$MMC" -c "$T/greenwich.conf" domain join \
	--domain "$DOMAIN" --dc "$ADDC_DC_FQDN" --fqdn "$FQDN" --keytab "$D/gw.keytab" \
	--user Administrator --password-stdin > "$T/B-join.out" 2>&1 && CRC=0 || CRC=$?
ok_run B-join "B: greenwich-mmc domain join again: sip/ on an account of its own"
klist -k "$T/state/sip.keytab" | sed 's/^/  | sip keytab: /'
check "B: the join set [domain] sip-keytab" \
	grep -qx "sip-keytab = $T/state/sip.keytab" "$T/greenwich.conf"
check "B: sip.keytab holds AES keys of sip/$FQDN only, mode 0600" bash -c "
	[ \"\$(stat -c %a '$T/state/sip.keytab')\" = 600 ] &&
	klist -ke '$T/state/sip.keytab' | grep -q 'sip/$FQDN@.*aes256' &&
	klist -ke '$T/state/sip.keytab' | grep -q 'sip/$FQDN@.*aes128' &&
	! klist -k '$T/state/sip.keytab' | grep -qv -e 'sip/' -e '^Keytab' -e '^KVNO' -e '^----'"
in_dc ldbsearch -H "ldap://$ADDC_DC_FQDN" -U "Administrator%$ADDC_ADMIN_PASSWORD" \
	"(servicePrincipalName=sip/$FQDN)" sAMAccountName userAccountControl \
	msDS-SupportedEncryptionTypes > "$T/B-spn.out" 2>&1
check "B: sip/$FQDN is on gwsip-greenwich alone (AES only, password never expires)" bash -c "
	[ \"\$(grep -c '^sAMAccountName:' '$T/B-spn.out')\" = 1 ] &&
	grep -qx 'sAMAccountName: gwsip-greenwich' '$T/B-spn.out' &&
	grep -qx 'userAccountControl: 66048' '$T/B-spn.out' &&
	grep -qx 'msDS-SupportedEncryptionTypes: 24' '$T/B-spn.out'"
gwd_up
check "B: greenwichd reads the sip/ keytab (Kerberos on)" \
	bash -c "! grep -q event=sipae-kerberos-off '$T/greenwichd.log'"
client B-krb "${ALICE_KRB[@]}" register --refresh
ok_run B-krb "B: Kerberos sign-in with a ticket for sip/$FQDN (the account's own key)"
client B-ntlm "${ALICE[@]}" register --refresh
ok_run B-ntlm "B: NTLM sign-in still works"
relabel B host 401
relabel B cifs 401
check "B: the refusals logged" \
	[ "$(grep -c 'event=auth-failed scheme=Kerberos ' "$T/greenwichd.log")" -ge 2 ]
check "greenwichd still running" kill -0 "$GWD_PID"
finish
