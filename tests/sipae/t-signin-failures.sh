#!/bin/bash
# The failure cases of MS-SIPAE domain sign-in against greenwichd, end to end with the
# independent client (sipae_client.py) and a real Samba AD DC: disabled, expired and
# locked-out accounts (NTLM: 403 + Warning + log line; Kerberos: the KDC refuses, nothing
# registered), a wrong password (log line, and no secret in the debug log), Digest off for
# the AD domain but on for a local one, the SA of another connection, a signed From whose
# display name hides another tag, a signed P-Asserted-Identity (not passed on), in-dialog
# requests without a Via branch (pidgin-sipe style), the REGISTER To that is not the
# primary address, floods of NTLM first steps (CHALLENGEs hold nothing), SA expiry
# and re-authentication on the same connection (greenwichd under libfaketime, 20x, and
# Kerberos and NTLM allowed over plain TCP there), Kerberos clock skew (+20 min), and the DC
# going down (NTLM 503 + Retry-After, Kerberos still works, NTLM back after a DC restart).
# Everything but B goes over TLS ([auth] sipae-transports = tls, the default).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/sipae/signin-lib.sh
. "$(dirname "$0")/signin-lib.sh"

FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
[ -r "$FAKETIME_LIB" ] || { echo "libfaketime missing (Debian package libfaketime)"; exit 1; }
sae_dc_up
LOCAL=local.test

samba_tool() { # samba_tool ARGS...: as Administrator against the test DC
	in_dc samba-tool "$@" -H "ldap://$ADDC_DC_FQDN" -U "Administrator%$ADDC_ADMIN_PASSWORD" \
		>> "$T/samba-tool.out" 2>&1 || { cat "$T/samba-tool.out"; exit 1; }
}
# a lockout threshold, and gail: a throw-away user that the test locks out
samba_tool domain passwordsettings set --account-lockout-threshold=3
samba_tool user create gail Garnet-77-Gx --mail-address="gail@$DOMAIN"
samba_tool group addmembers "Greenwich Users" gail
# hal: the target of password guessing through a server that holds it back (D below)
samba_tool user create hal Hazel-88-Hx --mail-address="hal@$DOMAIN"
samba_tool group addmembers "Greenwich Users" hal

# mkconf NAME [INI lines...]: $T/NAME.conf for a greenwichd of its own (UDP/TCP port in
# NAME_PORT, TLS in NAME_TLSPORT: Kerberos and NTLM go over TLS unless the test says so)
mkconf() {
	local name="$1"; shift
	PORT=$(free_port)
	WITH_TLS=1 write_conf "[domain]" "name = $DOMAIN" "keytab = $D/gw.keytab" "sip-keytab = $D/sip.keytab" "fqdn = $FQDN" \
		"enabled-group = Greenwich Users" "$@"
	sed -i -e "s|^state-directory = .*|state-directory = $T/$name-state|" \
		-e "s|^pid-file = .*|pid-file = $T/$name.pidfile|" \
		-e "s|^control-socket = .*|control-socket = $T/$name.sock|" \
		-e "s|^domains = .*|domains = $DOMAIN, $LOCAL|" "$T/greenwich.conf"
	mkdir -p "$T/$name-state"
	mv "$T/greenwich.conf" "$T/$name.conf"
	printf -v "${name}_PORT" %s "$PORT"
	printf -v "${name}_TLSPORT" %s "$TLSPORT"
}
auth_set() { # auth_set NAME KEY VALUE: a line in NAME.conf's [auth]
	sed -i "s|^\[auth\]\$|[auth]\n$2 = $3|" "$T/$1.conf"
}
# gwd NAME [VAR=VALUE...]: greenwichd with NAME.conf in the domain, log NAME.log
gwd() {
	local name="$1"; shift
	start_in_dc "$name" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$@" "$GWD" --allow-root -c "$T/$name.conf" -f
	wait_for "$T/$name.log" "event=started" 100 || { cat "$T/$name.log"; exit 1; }
}
has() { grep -q -- "$2" "$T/$1"; }      # has FILE PATTERN (grep -e)
hasn() { ! grep -q -- "$2" "$T/$1"; }   # hasn FILE PATTERN
nosecret() { ! grep -qiF -- "$2" "$T/$1"; } # nosecret FILE STRING: not there in any case
not_registered() { # not_registered GWD AOR
	"$MMC" -c "$T/$1.conf" server registrations "$2" > "$T/reg-$1.out" 2>&1 || true
	grep -q "not signed in anywhere" "$T/reg-$1.out"
}

# ---- A: the main server: Kerberos, NTLM and Digest; Digest off for the AD domain ----------
mkconf A
auth_set A schemes "Kerberos,NTLM,Digest"
auth_set A digest-disabled-domains "$DOMAIN"
echo Dora-Local-1 | "$MMC" -c "$T/A.conf" local-user add "dora@$LOCAL" --password-stdin >/dev/null
gwd A
SPORT=$A_TLSPORT
SAE_TLS=1

# 1. refused accounts over NTLM: 403 with a Warning, a log line, nothing registered
for acct in erin:Emerald-55:disabled frank:Forest-66:expired; do
	IFS=: read -r u pw what <<< "$acct"
	client "ntlm-$u" --user "$u" --ntlm-domain CORP --password "$pw" --expect-status 403 register
	ok_run "ntlm-$u" "NTLM: $what account $u: 403"
	check "NTLM $u: the 403 carries a Warning" has "ntlm-$u.out" '^  Warning: 399 '
	check "NTLM $u: log event=auth-failed scheme=NTLM user=CORP\\$u reason=..." \
		grep -Eq "event=auth-failed scheme=NTLM user=\"CORP[\\\\]{2}$u\" .*reason=(\"[^\"]+\"|[^ \"]+) " "$T/A.log"
	client "krb-$u" --scheme kerberos --user "$u" --password "$pw" register
	check "Kerberos: the KDC refuses $what $u: no ticket (client exit $CRC)" [ "$CRC" = 6 ]
	check "... the client sees: $(grep -o "Client's credentials have been revoked" \
		"$T/krb-$u.out")" has "krb-$u.out" "Client's credentials have been revoked"
	check "$u is registered nowhere" not_registered A "$u@$DOMAIN"
	check "$u: no sign-in in the log" hasn A.log "event=sign-in .*user=$u@"
done
for i in 1 2 3; do
	client "gail-wrong$i" --user gail --ntlm-domain CORP --password Garnet-77-Gx \
		--wrong-password --expect-status 401 register
	ok_run "gail-wrong$i" "NTLM: gail's wrong password #$i: 401"
done
client gail-locked --user gail --ntlm-domain CORP --password Garnet-77-Gx --expect-status 403 register
ok_run gail-locked "NTLM: gail locked out after 3 wrong passwords: 403 (right password)"
check "gail: the 403 carries a Warning" has gail-locked.out '^  Warning: 399 .*[Ll]ocked'
check "gail: log line names scheme, user and the lock-out" \
	grep -Eq 'event=auth-failed scheme=NTLM user="CORP[\\]{2}gail" .*reason="?[^" ]*LOCKED' "$T/A.log"
check "gail is registered nowhere" not_registered A "gail@$DOMAIN"

# 2. a wrong password: the log names user, scheme, reason; no secret in the debug log
client alice-wrong "${ALICE[@]}" --print-keys --wrong-password --expect-status 401 register
ok_run alice-wrong "NTLM: alice's wrong password: 401"
check "wrong password: log names scheme, user and reason" \
	grep -Eq 'event=auth-failed scheme=NTLM user="CORP[\\]{2}alice" .*reason="wrong user name or password"' \
	"$T/A.log"
client alice-keys "${ALICE[@]}" --print-keys register --refresh
ok_run alice-keys "NTLM sign-in of alice"
client alice-krb-keys "${ALICE_KRB[@]}" register --refresh
ok_run alice-krb-keys "Kerberos sign-in of alice"
check "the log is at debug level" has A.log "event=signed "
secrets=(Apple-Pie-11 Garnet-77-Gx Emerald-55 Forest-66)
for f in alice-wrong alice-keys; do
	read -r _ nt base esk < <(grep '^keys ' "$T/$f.out" | tr '=' ' ' | awk '{print $1, $3, $5, $7}')
	secrets+=("$nt" "$base" "$esk")
done
check "the client printed its keys (${#secrets[@]} secrets to look for)" [ "${#secrets[@]}" = 10 ]
for s in "${secrets[@]}"; do
	check "no secret ${s:0:6}... in greenwichd's log (any case)" nosecret A.log "$s"
done

# 4. Digest is off for the AD domain, on for the local one
check "the 401 to alice (AD domain) offers no Digest" hasn alice-keys.trace "^WWW-Authenticate: Digest"
check "... but Kerberos and NTLM" has alice-keys.trace "^WWW-Authenticate: NTLM realm"
printf '#!/bin/sh\nexec "%s" run-with-hosts "%s" -- sipp "$@"\n' "$ADDC" "$D" > "$T/sipp-dc"
chmod +x "$T/sipp-dc"
SIPP="$T/sipp-dc" TARGET_PORT=$A_PORT DOMAIN=$LOCAL register dora dora Dora-Local-1 \
	"<sip:dora@127.0.0.1:5999>" 300
check "local Digest account dora@$LOCAL signs in with Digest (SIPp $SIPP_RC, $(last_status dora))" \
	test "$SIPP_RC" = 0 -a "$(last_status dora)" = 200
check "... after a Digest challenge" grep -q "^WWW-Authenticate: Digest" "$T/dora.msg"

# 7. the SA of another connection, and a display name that hides another From tag
client_bg carol-neg "${CAROL[@]}" receive --count 0 --exact --wait 10
client other "${ALICE[@]}" --other-connection --expect-status 401 send-message \
	--to "sip:carol@$DOMAIN" --text other-connection
ok_run other "signed MESSAGE with the SA of another connection: 401"
check "... logged" has A.log 'reason="security association of another connection"'
client display "${ALICE[@]}" --tamper --tamper-field from-display --expect-status 401 \
	send-message --to "sip:carol@$DOMAIN" --text display
ok_run display "From display name holding the signed URI and tag, real tag changed: 401"
check "... logged as a bad signature" has A.log 'reason="bad signature (tampered message)"'
bg_done carol-neg
check "carol got none of them (exit $CRC)" [ "$CRC" = 0 ]

# a signed-in client asserts no identity: its P-Asserted-Identity does not reach carol;
# the server asserts the one it authenticated
client_bg carol-pai "${CAROL[@]}" receive --count 1 --exact --wait 6
client pai "${ALICE[@]}" --pai "sip:boss@$DOMAIN" send-message --to "sip:carol@$DOMAIN" --text pai
ok_run pai "signed MESSAGE with P-Asserted-Identity boss: delivered (2xx)"
bg_done carol-pai
check "carol got it (exit $CRC)" [ "$CRC" = 0 ]
check "... without alice's P-Asserted-Identity, with the server's: alice" \
	bash -c "grep -q '^request MESSAGE .* pai=<sip:alice@$DOMAIN>\$' '$T/carol-pai.log' && ! grep -q boss '$T/carol-pai.log'"

# a signed-in client's answers must be signed too: carol's unsigned 200 does not count
client_bg carol-uns "${CAROL[@]}" --unsigned-answers receive --count 1 --wait 8
# (the binding of carol's previous client goes with its connection a moment after it closed)
for _ in $(seq 1 50); do
	"$MMC" -c "$T/A.conf" --json server registrations "carol@$DOMAIN" > "$T/carol-regs.json" 2>&1 || true
	[ "$(grep -o '"uri"' "$T/carol-regs.json" | wc -l)" = 1 ] && break
	sleep 0.2
done
client uns "${ALICE[@]}" send-message --to "sip:carol@$DOMAIN" --text unsigned-answer
check "alice's MESSAGE answered by carol without a signature: her 200 never reaches alice" \
	bash -c "! grep -q '^MESSAGE: SIP/2.0 200' '$T/uns.out' && [ $CRC != 0 ]"
check "... alice gets 502 (an invalid answer downstream), signed, at once (not a timeout)" \
	grep -q '^MESSAGE: SIP/2.0 502 ' "$T/uns.out"
bg_done carol-uns
check "... the unsigned answer logged" \
	has A.log 'event=auth-failed scheme=- method=MESSAGE status=200 .*reason="unsigned message on a signed-in connection"'

# the REGISTER To must be the user's primary SIP address (robert), not an alias (bobby)
client bobby --user bob --ntlm-domain CORP --password Blue-Sky-22 --aor "sip:bobby@$DOMAIN" \
	--expect-status 403 register
ok_run bobby "REGISTER of bob's alias sip:bobby@$DOMAIN: 403"

# 8. in-dialog requests without a Via branch (RFC 2543 style, as pidgin-sipe sends them)
client_bg carol-dlg "${CAROL[@]}" receive --count 1 --exact --wait 8
client dialog "${ALICE[@]}" dialog --to "sip:carol@$DOMAIN" --no-branch --text "in dialog"
ok_run dialog "INVITE, then ACK, MESSAGE and BYE without Via branch: answered 2xx, signed"
check "... they went without branch" \
	[ "$(grep -Ec '^Via: SIP/2.0/TLS [0-9.]+:[0-9]+[[:space:]]*$' "$T/dialog.trace")" = 3 ]
bg_done carol-dlg
check "carol got the in-dialog MESSAGE, signed (exit $CRC)" [ "$CRC" = 0 ]
check "... with alice's text" has carol-dlg.log "^MESSAGE from sip:alice@$DOMAIN .*: in dialog$"
check "... and the ACK and the BYE" \
	bash -c "grep -q '^request ACK' '$T/carol-dlg.log' && grep -q '^request BYE' '$T/carol-dlg.log'"

# NTLM CHALLENGEs hold nothing (derived again from the opaque): 40 first steps on one
# connection are all challenged, and others still sign in
start_in_dc flood "$PY" "$SAE/sipae_client.py" --server "127.0.0.1:$SPORT" --tls --domain "$DOMAIN" \
	--user x --password x --trace "$T/flood.trace" flood --count 40 --hold 8
wait_for "$T/flood.log" "^holding" 150 || cat "$T/flood.log"
check "40 NTLM first steps on one connection: all 40 challenged, nothing refused" \
	has flood.log "^flood 401=40 503=0 other=0"
client after-flood "${ALICE[@]}" register --refresh
ok_run after-flood "alice signs in on another connection meanwhile"
bg_done flood

# ---- B: greenwichd's clock 20x fast, sa-lifetime 300 s; Kerberos and NTLM allowed over
# plain TCP too ([auth] sipae-transports, with a warning at start): the client uses TCP here
mkconf B
auth_set B schemes "NTLM,Kerberos,Digest"
auth_set B sa-lifetime 300
auth_set B sipae-transports "tls, tcp"
gwd B LD_PRELOAD="$FAKETIME_LIB" FAKETIME="+0 x20" FAKETIME_DONT_FAKE_MONOTONIC=1
check "B: plain TCP for Kerberos and NTLM is warned about at start" \
	has B.log "event=sipae-plain-tcp "
check "... and named in the start line" has B.log "event=sipae .*transports=tls,tcp"
SPORT=$B_PORT
SAE_TLS=
client reauth "${ALICE[@]}" --timeout 20 reauth --pause 17
ok_run reauth "SA expired (300 s at 20x): signed REGISTER gets 401, new sign-in on the same connection"
old=$(sed -n 's/^signed-in scheme=NTLM opaque=//p' "$T/reauth.out")
check "... the SA $old ended as expired" \
	grep -Eq "event=sa-end opaque=$old user=alice@$DOMAIN reason=expired|opaque=$old reason=\"security association expired\"" \
	"$T/B.log"
check "control: with Digest allowed for the domain, the 401 offers it" \
	has reauth.trace "^WWW-Authenticate: Digest"

# ---- C: greenwichd's clock 20 minutes ahead: Kerberos refused with "clock skew" ----------
mkconf C "[limits]" "signin-pending-max = 6"
auth_set C schemes "Kerberos,NTLM"
gwd C LD_PRELOAD="$FAKETIME_LIB" FAKETIME="+20m" FAKETIME_DONT_FAKE_MONOTONIC=1
check "C: no warning about plain TCP (default: TLS only)" hasn C.log "event=sipae-plain-tcp"
SPORT=$C_TLSPORT
SAE_TLS=1
client skew "${ALICE_KRB[@]}" --expect-status 401 register
ok_run skew "Kerberos AP-REQ to a server 20 min ahead: 401 (a bare challenge)"
check "... logged as clock skew" \
	grep -Eq 'event=auth-failed scheme=Kerberos user=.* reason="clock skew' "$T/C.log"
# at most 6 sign-ins being checked in all (signin-pending-max): NTLM CHALLENGEs are not
# among them (nothing is held for them), so a flood of first steps from one address
# (127.0.0.2) fills nothing and keeps nobody else from signing in
start_in_dc flood1 "$PY" "$SAE/sipae_client.py" --server "127.0.0.1:$SPORT" --tls --domain "$DOMAIN" \
	--source 127.0.0.2 --user x --password x flood --count 5 --hold 8
wait_for "$T/flood1.log" "^holding" 150 || cat "$T/flood1.log"
client flood2 --source 127.0.0.2 --user x --password x flood --count 5
check "one source, 10 first steps on two connections: all challenged" \
	bash -c "grep -q '^flood 401=5 503=0 ' '$T/flood1.log' && grep -q '^flood 401=5 503=0 ' '$T/flood2.out'"
client during-flood "${ALICE[@]}" register
ok_run during-flood "alice (127.0.0.1) signs in with NTLM meanwhile"
bg_done flood1

# ---- D: guessing held back below the domain's lockout threshold (3): guess-limit 2 -------
mkconf D
auth_set D guess-limit 2
gwd D
SPORT=$D_TLSPORT
HAL=(--user hal --ntlm-domain CORP --password Hazel-88-Hx)
client hal-known "${HAL[@]}" register
ok_run hal-known "hal signs in from 127.0.0.1 (an address his account is now known at)"
for i in 1 2; do
	client "hal-guess$i" --source 127.0.0.3 "${HAL[@]}" --wrong-password --expect-status 401 register
	ok_run "hal-guess$i" "guess #$i at hal's password from 127.0.0.3: checked by the DC, 401"
done
for i in 3 4 5 6; do
	client "hal-guess$i" --source 127.0.0.3 "${HAL[@]}" --wrong-password --expect-status 403 register
	ok_run "hal-guess$i" "guess #$i: held back before the DC is asked, 403"
done
check "... with Retry-After" has hal-guess6.out '^  Retry-After: [0-9]'
check "... logged with the source" \
	grep -q 'event=auth-throttled scheme=NTLM user=hal source=127.0.0.3 ' "$T/D.log"
in_dc ldbsearch -H "ldap://$ADDC_DC_FQDN" -U "Administrator%$ADDC_ADMIN_PASSWORD" \
	"(sAMAccountName=hal)" badPwdCount lockoutTime > "$T/hal-ad.out" 2>&1 || true
check "hal's AD account: 2 bad passwords counted, never locked" \
	bash -c "grep -q '^badPwdCount: 2\$' '$T/hal-ad.out' && ! grep -q '^lockoutTime: [1-9]' '$T/hal-ad.out'"
client hal-new "${HAL[@]}" --source 127.0.0.4 --expect-status 403 register
ok_run hal-new "hal's right password from an address never seen: held back too, 403"
client hal-again "${HAL[@]}" register
ok_run hal-again "hal signs in from his known address: the account works, in AD too"

# ---- 3. the DC goes down: NTLM 503 + Retry-After, Kerberos still works, NTLM comes back ----
SPORT=$A_TLSPORT
export KRB5CCNAME="FILE:$T/alice.ccache"
echo Apple-Pie-11 | in_dc kinit alice > "$T/kinit.out" 2>&1 || cat "$T/kinit.out"
client krb-cache --scheme kerberos --user alice register
ok_run krb-cache "Kerberos sign-in of alice from her credential cache (DC up)"
"$ADDC" stop "$D" > "$T/dc-stop.out" 2>&1 || cat "$T/dc-stop.out"
check "the DC is stopped" bash -c "! '$ADDC' status '$D' >/dev/null 2>&1"
lines=$(wc -l < "$T/A.log")
client dcdown-ntlm "${ALICE[@]}" --expect-status 503 register
ok_run dcdown-ntlm "NTLM sign-in with the DC down: 503"
check "... with Retry-After" has dcdown-ntlm.out "^  Retry-After: [0-9]"
check "... logged: $(tail -n +$((lines + 1)) "$T/A.log" | grep -o 'event=auth-failed.*' | head -1)" \
	bash -c "tail -n +$((lines + 1)) '$T/A.log' | grep -Eq 'event=auth-failed scheme=NTLM user=\"CORP[\\\\]{2}alice\" '"
client dcdown-krb --scheme kerberos --user alice register --refresh
ok_run dcdown-krb "Kerberos sign-in of alice with the DC down (ticket from before, local keytab)"
"$ADDC" start "$D" > "$T/dc-start.out" 2>&1 || cat "$T/dc-start.out"
for i in $(seq 1 20); do
	client dcup-ntlm "${ALICE[@]}" register
	[ "$CRC" = 0 ] && break
	sleep 1
done
ok_run dcup-ntlm "NTLM works again once the DC is back, greenwichd not restarted ($i tries)"
unset KRB5CCNAME

for n in A B C; do
	p=$(cat "$T/$n.pid")
	check "greenwichd $n still running" kill -0 "$p"
	kill "$p"
	while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
	check "greenwichd $n: no sanitizer report" \
		bash -c "! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' '$T/$n.log'"
done
finish
