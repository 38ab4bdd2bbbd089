#!/bin/bash
# Kerberos service-ticket relabelling (issue 18): a real ticket alice got from the test DC
# for another service of greenwichd's computer account (host/, and cifs/ which AD's
# sPNMappings alias onto host/), its cleartext service name rewritten to sip/<fqdn> in the
# AP-REQ (the sname lies outside the ticket's encrypted part; the authenticator does not
# name the service). Checked on the victim's side: is a security association made for
# alice from it?
#  A. As joined (greenwich-mmc domain join's default, tests/lib/dc.sh): sip/ on an account
#     of its own (gwsip-greenwich, whose only SPNs they are, AES only), its keys in
#     sip.keytab, [domain] sip-keytab set: the relabelled tickets are refused and no
#     security association is made, while Kerberos sign-in with a ticket for sip/ (and
#     NTLM) work.
#  B. The control: joined again with --sip-on-computer (sip/ back on the computer account,
#     one key for all, no sip-keytab): the same relabelled tickets sign in, so the rewrite
#     yields tickets the server can decrypt when the keys are shared, and A's 401s come
#     from the separate key.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/sipae/signin-lib.sh
. "$(dirname "$0")/signin-lib.sh"

sae_dc_up
GWD_WRAP="$ADDC run-with-hosts $D -- $T/exec-pid $T/gwd.realpid"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.crt" \
	-days 2 -subj "/CN=$FQDN" 2>/dev/null
write_conf "[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" \
	"sip-keytab = $D/sip.keytab" "fqdn = $FQDN" \
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

# ---- A: as joined: sip/ on an account of its own ----
klist -ke "$D/sip.keytab" | sed 's/^/  | sip keytab: /'
check "A: sip.keytab holds AES keys of sip/$FQDN only, mode 0600" bash -c "
	[ \"\$(stat -c %a '$D/sip.keytab')\" = 600 ] &&
	klist -ke '$D/sip.keytab' | grep -q 'sip/$FQDN@.*aes256' &&
	klist -ke '$D/sip.keytab' | grep -q 'sip/$FQDN@.*aes128' &&
	! klist -k '$D/sip.keytab' | grep -qv -e 'sip/' -e '^Keytab' -e '^KVNO' -e '^----'"
in_dc ldbsearch -H "ldap://$ADDC_DC_FQDN" -U "Administrator%$ADDC_ADMIN_PASSWORD" \
	"(servicePrincipalName=sip/$FQDN)" sAMAccountName userAccountControl \
	msDS-SupportedEncryptionTypes > "$T/A-spn.out" 2>&1
check "A: sip/$FQDN is on gwsip-greenwich alone (AES only, password never expires)" bash -c "
	[ \"\$(grep -c '^sAMAccountName:' '$T/A-spn.out')\" = 1 ] &&
	grep -qx 'sAMAccountName: gwsip-greenwich' '$T/A-spn.out' &&
	grep -qx 'userAccountControl: 66048' '$T/A-spn.out' &&
	grep -qx 'msDS-SupportedEncryptionTypes: 24' '$T/A-spn.out'"
gwd_up
check "A: greenwichd reads the sip/ keytab (Kerberos on)" \
	bash -c "! grep -q event=sipae-kerberos-off '$T/greenwichd.log'"
client A-krb "${ALICE_KRB[@]}" register --refresh
ok_run A-krb "A: Kerberos sign-in with a ticket for sip/$FQDN (the account's own key)"
client A-ntlm "${ALICE[@]}" register --refresh
ok_run A-ntlm "A: NTLM sign-in works"
client A-host "${ALICE_KRB[@]}" --ticket-service host --expect-status 401 register
ok_run A-host "A: a ticket for host/$FQDN as it is: 401 (its sname is checked)"
relabel A host 401
relabel A cifs 401
check "A: the refusals logged" \
	[ "$(grep -c 'event=auth-failed scheme=Kerberos ' "$T/greenwichd.log")" -ge 2 ]

# ---- B: the control: sip/ back on the computer account, one key for all ----
kill "$GWD_PID"
wait_gone "$GWD_PID"
printf '%s\n' "$ADDC_ADMIN_PASSWORD" | in_dc "$MMC" -c "$T/greenwich.conf" domain join \
	--domain "$DOMAIN" --dc "$ADDC_DC_FQDN" --fqdn "$FQDN" --keytab "$D/gw.keytab" \
	--user Administrator --password-stdin --sip-on-computer > "$T/B-join.out" 2>&1 \
	&& CRC=0 || CRC=$?
ok_run B-join "B: greenwich-mmc domain join --sip-on-computer: sip/ back on GREENWICH\$"
check "B: sip/$FQDN in the computer account's keytab" \
	bash -c "klist -k '$D/gw.keytab' | grep -q ' sip/$FQDN@'"
in_dc ldbsearch -H "ldap://$ADDC_DC_FQDN" -U "Administrator%$ADDC_ADMIN_PASSWORD" \
	"(sAMAccountName=gwsip-greenwich)" dn > "$T/B-acct.out" 2>&1
check "B: gwsip-greenwich deleted" bash -c "grep -q '^# returned' '$T/B-acct.out' && ! grep -q '^dn: ' '$T/B-acct.out'"
check "B: [domain] sip-keytab emptied" grep -qx "sip-keytab = " "$T/greenwich.conf"
gwd_up
client B-krb "${ALICE_KRB[@]}" register --refresh
ok_run B-krb "B: Kerberos sign-in with a ticket for sip/$FQDN (the machine key)"
relabel B host 200
relabel B cifs 200
check "greenwichd still running" kill -0 "$GWD_PID"
finish
