#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# t-domain-renew.sh - `greenwich-mmc domain renew` (what greenwich-machine-password.timer
# runs) against a real Samba AD DC with greenwichd joined (tests/sipae/signin-lib.sh) and
# running: a fresh password is not due (nothing changes), --force renews it: the keytab's
# key version and the computer account's msDS-KeyVersionNumber (read back from AD) go up
# by one, the keytab keeps its owner and mode, `domain test` passes, and the running
# greenwichd still accepts Kerberos sign-ins (the independent MS-SIPAE client), before
# and after; the account of its own of sip/ (gwsip-greenwich) gets a new password too,
# set by the machine (join granted it Reset Password): sip.keytab gains the higher key
# version AD reports and keeps the previous one, a new ticket (the new key) signs in, and
# so does a ticket alice got before the renewal (the old key); with that right taken
# out again (a server joined before it was granted), AD refuses the machine (exit 1,
# "Insufficient access", sip.keytab and the account's kvno unchanged, sign-in works); --json validated against mmc-schema.json; the audit trail; errors: not
# joined (exit 1, or 0 with --if-joined), an unreadable keytab (exit 5), usage (exit 2).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/../integration/lib.sh"
# shellcheck source=tests/sipae/signin-lib.sh
. "$HERE/../sipae/signin-lib.sh"

sae_dc_up
GWD_WRAP="$ADDC run-with-hosts $D -- $T/exec-pid $T/gwd.realpid"
WITH_TLS=1 write_conf "[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" \
	"sip-keytab = $D/sip.keytab" "fqdn = $FQDN" "enabled-group = Greenwich Users"
sed -i "s/^\[auth\]\$/[auth]\nschemes = Kerberos,NTLM/" "$T/greenwich.conf"
CONF=$T/greenwich.conf
start_gwd
GWD_PID=$(cat "$T/gwd.realpid")
REAL_PIDS+=("$GWD_PID")
SPORT=$TLSPORT
SAE_TLS=1

mmc() { # mmc NAME ARGS...: greenwich-mmc in the domain; $T/NAME.out/.err, exit status in RC
	local n=$1
	shift
	RC=0
	in_dc "$MMC" -c "$CONF" "$@" >"$T/$n.out" 2>"$T/$n.err" || RC=$?
}
# kt_kvno: the highest key version of GREENWICH$ in the keytab
kt_kvno() {
	klist -k "$D/gw.keytab" | awk '$2 ~ /^GREENWICH\$@/ { if ($1 > k) k = $1 } END { print k + 0 }'
}
# ad_kvno: msDS-KeyVersionNumber of the computer account, as AD has it
ad_kvno() {
	in_dc sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache ldapsearch -LLL -Q -Y GSSAPI \
		-H "ldap://$ADDC_DC_FQDN" -b "$ADDC_BASE_DN" "(sAMAccountName=GREENWICH\$)" \
		msDS-KeyVersionNumber' 2>/dev/null | sed -n 's/^msDS-KeyVersionNumber: //p'
}
# sip_kvno: the highest key version of sip/<fqdn> in the sip keytab
sip_kvno() {
	klist -k "$D/sip.keytab" | awk -v p="sip/$FQDN@" 'index($2, p) == 1 { if ($1 > k) k = $1 } END { print k + 0 }'
}
# sip_ad_kvno: msDS-KeyVersionNumber of the account of its own of sip/ (gwsip-greenwich)
sip_ad_kvno() {
	in_dc sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache ldapsearch -LLL -Q -Y GSSAPI \
		-H "ldap://$ADDC_DC_FQDN" -b "$ADDC_BASE_DN" "(sAMAccountName=gwsip-greenwich)" \
		msDS-KeyVersionNumber' 2>/dev/null | sed -n 's/^msDS-KeyVersionNumber: //p'
}
# cc_signin NAME WHAT: alice signs in with the tickets of $T/alice.cc (no password: the
# service ticket for sip/ in that cache is used as it is)
cc_signin() {
	RC=0
	in_dc env KRB5CCNAME="FILE:$T/alice.cc" "$PY" "$SAE/sipae_client.py" --server "127.0.0.1:$SPORT" \
		--tls --domain "$DOMAIN" --trace "$T/$1.trace" --scheme kerberos --user alice \
		register --refresh >"$T/$1.out" 2>&1 || RC=$?
	check "$2" [ "$RC" = 0 ]
	[ "$RC" = 0 ] || sed 's/^/     /' "$T/$1.out"
}
krb_signin() { # krb_signin NAME WHAT: alice signs in with Kerberos
	client "$1" --scheme kerberos --user alice --password Apple-Pie-11 register --refresh
	check "$2" [ "$CRC" = 0 ]
	[ "$CRC" = 0 ] || sed 's/^/     /' "$T/$1.out"
}

# spns: the computer account's servicePrincipalName values, sorted, on one line
spns() {
	in_dc sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache ldapsearch -LLL -Q -Y GSSAPI \
		-H "ldap://$ADDC_DC_FQDN" -b "$ADDC_BASE_DN" "(sAMAccountName=GREENWICH\$)" \
		servicePrincipalName' 2>/dev/null | sed -n 's/^servicePrincipalName: //p' | sort | tr '\n' ' '
}
krb_signin krb-before "Kerberos sign-in before the renewal"
SPN0=$(spns)
check "the computer account has HTTP/$FQDN, and no sip/ (the join's own account has it)" \
	bash -c '[[ "$1" == *"HTTP/$2"* && "$1" != *sip/* ]]' - "$SPN0" "$FQDN"
K0=$(kt_kvno)
A0=$(ad_kvno)
check "keytab and AD agree on the key version ($K0, $A0)" test "$K0" -gt 0 -a "$K0" = "$A0"
chmod 0600 "$D/gw.keytab"
OWNER=$(stat -c %u:%g "$D/gw.keytab")
S0=$(sip_kvno)
check "sip.keytab and AD agree on the key version of sip/ ($S0)" test "$S0" -gt 0 -a "$S0" = "$(sip_ad_kvno)"
SIPOWNER=$(stat -c %u:%g "$D/sip.keytab")
# a ticket for sip/ got before the renewal, kept in a cache of its own
in_dc sh -c 'printf "%s\n" Apple-Pie-11 | KRB5CCNAME="FILE:$1" kinit "alice@$2" >/dev/null' - "$T/alice.cc" "$ADDC_REALM"
cc_signin cc-before "Kerberos sign-in with alice's own ticket cache before the renewal"
check "... the cache holds a ticket for sip/$FQDN" bash -c 'KRB5CCNAME="FILE:$1" klist | grep -q "sip/$2@"' - "$T/alice.cc" "$FQDN"

echo "# not due yet"
mmc notdue domain renew
check "renew of a fresh password: exit 0" [ "$RC" = 0 ]
check "... says it is not due" grep -q "^the password of GREENWICH\\\$@$ADDC_REALM is not due for renewal yet (key version $K0); --force renews it now" "$T/notdue.out"
check "... keytab unchanged" [ "$(kt_kvno)" = "$K0" ]
check "... AD unchanged" [ "$(ad_kvno)" = "$A0" ]

echo "# --force"
mmc force domain renew --force
check "renew --force: exit 0" [ "$RC" = 0 ]
[ "$RC" = 0 ] || cat "$T/force.err"
check "... says so with the key versions" grep -q "^the password of GREENWICH\\\$@$ADDC_REALM was renewed (key version $((K0 + 1)), was $K0)" "$T/force.out"
check "... the keytab has the next key version" [ "$(kt_kvno)" = $((K0 + 1)) ]
check "... and so has the computer account in AD" [ "$(ad_kvno)" = $((A0 + 1)) ]
check "... keytab still mode 0600" [ "$(stat -c %a "$D/gw.keytab")" = 600 ]
check "... and the same owner" [ "$(stat -c %u:%g "$D/gw.keytab")" = "$OWNER" ]
check "... its service principal names unchanged" [ "$(spns)" = "$SPN0" ]
S1=$(sip_kvno)
check "... sip.keytab has a higher key version of sip/$FQDN ($S1, was $S0)" [ "$S1" -gt "$S0" ]
check "... the one AD has for gwsip-greenwich" [ "$S1" = "$(sip_ad_kvno)" ]
check "... and still the previous one ($S0), for tickets already issued" bash -c 'klist -k "$1" | awk -v p="sip/$2@" -v k="$3" '"'"'index($2, p) == 1 && $1 == k { f = 1 } END { exit !f }'"'"'' - "$D/sip.keytab" "$FQDN" "$S0"
check "... says the sip/ account was renewed" grep -q "^the password of gwsip-greenwich (sip/$FQDN) was renewed (key version $S1), its keys in $D/sip.keytab" "$T/force.out"
check "... sip.keytab mode 0600" [ "$(stat -c %a "$D/sip.keytab")" = 600 ]
check "... and its owner kept" [ "$(stat -c %u:%g "$D/sip.keytab")" = "$SIPOWNER" ]
check "... no temporary file left beside it" bash -c '! ls "$1".new.* 2>/dev/null | grep -q .' - "$D/sip.keytab"
cc_signin cc-after "a ticket for sip/ got before the renewal still signs in (previous key version kept)"
check "the sip/ renewal is in the audit trail" grep -q "verb=\"domain renew\" object=gwsip-greenwich kvno=$S1 keytab=$D/sip.keytab" "$T/state/mmc-audit.log"
mmc test domain test
for c in keytab kerberos ldap; do
	check "domain test after the renewal: $c OK" grep -qE "^$c +OK" "$T/test.out"
done
krb_signin krb-after "the running greenwichd accepts Kerberos sign-ins after the renewal (a new ticket, the new key)"
check "... its ticket is for the new key version" [ "$(sip_ad_kvno)" = "$S1" ]
mmc json --json domain renew --force
check "renew --force --json: exit 0" [ "$RC" = 0 ]
check "... matches domain-renew" /usr/bin/python3 "$HERE/schemacheck.py" "$HERE/mmc-schema.json" domain-renew "$T/json.out"
check "... renewed, one more" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["renewed"] and d["kvno"] == d["old_kvno"] + 1 == int(sys.argv[2]) + 2, d
assert d["sip_account"] == "gwsip-greenwich" and d["sip_kvno"] > int(sys.argv[3]), d' "$T/json.out" "$K0" "$S1"
check "... sip.keytab has its key version" [ "$(sip_kvno)" -gt "$S1" ]
krb_signin krb-again "Kerberos sign-in after a second renewal"
check "the renewals are in the audit trail" grep -q "verb=\"domain renew\" object=GREENWICH\\\$@$ADDC_REALM kvno=$((K0 + 1)) old_kvno=$K0" "$T/state/mmc-audit.log"

echo "# a computer account without the Reset Password right on the sip/ account"
# as on a server joined before the right was granted: the ACE taken out again by the
# administrator (the DACL read and written with the SD_FLAGS control, DACL only)
in_dc sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache ldapsearch -LLL -Q -Y GSSAPI -o ldif-wrap=no \
	-H "ldap://$ADDC_DC_FQDN" -b "$ADDC_BASE_DN" -E "!1.2.840.113556.1.4.801=::MAMCAQQ=" \
	"(sAMAccountName=gwsip-greenwich)" nTSecurityDescriptor' >"$T/sd.ldif" 2>&1
/usr/bin/python3 - "$T/sd.ldif" >"$T/sd-new.ldif" <<'PY'
import base64, struct, sys
text = open(sys.argv[1]).read()
dn = text.split("\n", 1)[0][4:]
sd = base64.b64decode(text.split("nTSecurityDescriptor:: ", 1)[1].split("\n", 1)[0])
off = struct.unpack_from("<I", sd, 16)[0]
rev, _, size, count = struct.unpack_from("<BBHH", sd, off)
guid = bytes.fromhex("70952900" "6d24" "d011" "a768" "00aa006e0529")
aces, pos = [], off + 8
for _ in range(count):
    n = struct.unpack_from("<H", sd, pos + 2)[0]
    ace = sd[pos:pos + n]
    if not (ace[0] == 5 and ace[12:28] == guid):
        aces.append(ace)
    pos += n
assert len(aces) == count - 1, "the ACE was not there"
body = b"".join(aces)
acl = struct.pack("<BBHHH", rev, 0, 8 + len(body), len(aces), 0) + body
head = sd[:4] + b"\0" * 12 + struct.pack("<I", 20)
print("dn: %s\nchangetype: modify\nreplace: nTSecurityDescriptor\n"
      "nTSecurityDescriptor:: %s\n-" % (dn, base64.b64encode(head + acl).decode()))
PY
RC=0
in_dc sh -c 'ldbmodify -H "ldap://$ADDC_DC_FQDN" --use-kerberos=required \
	--use-krb5-ccache="$ADDC_DIR/admin.ccache" --controls=sd_flags:1:4 "$1"' - "$T/sd-new.ldif" \
	>"$T/sd-mod.out" 2>&1 || RC=$?
check "the Reset Password ACE taken out of gwsip-greenwich's DACL" [ "$RC" = 0 ]
[ "$RC" = 0 ] || sed 's/^/     /' "$T/sd-mod.out" "$T/sd.ldif"
S2=$(sip_kvno)
mmc norights domain renew --force
check "renew --force without the right: exit 1" [ "$RC" = 1 ]
check "... says the machine password was renewed, not sip/'s, and AD's answer" \
	grep -q "the machine password was renewed, but not the password of the account of sip/$FQDN: the password of gwsip-greenwich: .*: Insufficient access" "$T/norights.err"
sed 's/^/     AD answered: /' "$T/norights.err"
check "... sip.keytab unchanged" [ "$(sip_kvno)" = "$S2" ]
check "... and AD's key version of gwsip-greenwich too" [ "$(sip_ad_kvno)" = "$S2" ]
check "... the failure is in the audit trail" grep -q "verb=\"domain renew\" object=gwsip-greenwich result=failed" "$T/state/mmc-audit.log"
krb_signin krb-norights "Kerberos sign-in still works with the keys kept"

echo "# errors"
mmc usage domain renew --now
check "unknown option: exit 2" [ "$RC" = 2 ]
sed -e '/^\[domain\]/,$d' "$CONF" >"$T/unjoined.conf"
RC=0; in_dc "$MMC" -c "$T/unjoined.conf" domain renew >"$T/unjoined.out" 2>&1 || RC=$?
check "not joined: exit 1" [ "$RC" = 1 ]
check "... says so" grep -q "not joined" "$T/unjoined.out"
RC=0; in_dc "$MMC" -c "$T/unjoined.conf" domain renew --if-joined >"$T/ifj.out" 2>&1 || RC=$?
check "not joined, --if-joined (the timer): exit 0" [ "$RC" = 0 ]
check "... says there is nothing to renew" grep -q "no machine account to renew" "$T/ifj.out"
sed -e "s|^keytab = .*|keytab = $T/missing.keytab|" "$CONF" >"$T/nokt.conf"
RC=0; in_dc "$MMC" -c "$T/nokt.conf" domain renew >"$T/nokt.out" 2>&1 || RC=$?
check "unreadable keytab: exit 5" [ "$RC" = 5 ]
check "... names it" grep -q "cannot read $T/missing.keytab" "$T/nokt.out"
check "greenwichd still running" kill -0 "$GWD_PID"
finish
