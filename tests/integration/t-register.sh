#!/bin/bash
# Registrar: register, refresh, query, several contacts, Contact *, 423, expiry,
# Digest failures (wrong password, unknown user, identity mismatch, stale nonce),
# accounts added, changed and removed while greenwichd runs.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf "[registrar]" "min-expires = 10" "default-expires = 60" "max-contacts = 3" \
	"[auth]" "nonce-lifetime = 10"
add_user alice alice-pw
add_user bob bob-pw
start_gwd

register reg1 alice alice-pw "<sip:alice@127.0.0.1:6001>" 600
check "register alice: 200" [ "$(last_status reg1)" = 200 ]
check "200 lists the contact with its expiry" \
	grep -q 'Contact: <sip:alice@127.0.0.1:6001>;expires=600' "$T/reg1.msg"

register reg2 alice alice-pw "<sip:alice@127.0.0.1:6002>;q=0.5" 300 1
check "second device: 200" [ "$(last_status reg2)" = 200 ]
check "200 lists both contacts" bash -c "[ \$(grep -a -c '^Contact: <sip:alice@127.0.0.1:600[12]>' '$T/reg2.msg') -ge 2 ]"
check "q-value kept" grep -q '6002>;expires=300;q=0.500' "$T/reg2.msg"

register reg3 alice alice-pw "<sip:alice@127.0.0.1:6003>" 5 1
check "expiry below min-expires: 423" [ "$(last_status reg3)" = 423 ]
check "423 carries Min-Expires" grep -q '^Min-Expires: 10' "$T/reg3.msg"

for i in 3 4; do
	register reg-max$i alice alice-pw "<sip:alice@127.0.0.1:600$i>" 300 1
done
check "third contact accepted" [ "$(last_status reg-max3)" = 200 ]
check "fourth contact over max-contacts: 403" [ "$(last_status reg-max4)" = 403 ]

register reg-rm alice alice-pw "<sip:alice@127.0.0.1:6003>" 0 1
check "remove one contact: 200" [ "$(last_status reg-rm)" = 200 ]
check "removed contact no longer listed" bash -c "! grep -q '6003>;expires' '$T/reg-rm.msg'"

register reg-star alice alice-pw "*" 0 5
check "Contact * with Expires 0: 200" [ "$(last_status reg-star)" = 200 ]
check "no contacts left" bash -c "! grep -a -A20 '^SIP/2.0 200' '$T/reg-star.msg' | grep -q '^Contact:'"

register reg-star-bad alice alice-pw "*" 60 7
check "Contact * with non-zero Expires: 400" [ "$(last_status reg-star-bad)" = 400 ]

register reg-wrongpw alice nope "<sip:alice@127.0.0.1:6009>" 60 1
check "wrong password: 403" [ "$(last_status reg-wrongpw)" = 403 ]
register reg-unknown mallory x "<sip:mallory@127.0.0.1:6009>" 60 1
check "unknown user: 403" [ "$(last_status reg-unknown)" = 403 ]
# accounts greenwich-mmc changes while greenwichd runs (kept in memory there):
# a new account and a new password count at once, a removed account and an
# old password within a moment (the table follows the file's account version)
add_user carol carol-pw
register reg-added carol carol-pw "<sip:carol@127.0.0.1:6011>" 60 1
check "an account added while running: 200 at once" [ "$(last_status reg-added)" = 200 ]
echo carol-new | "$MMC" -c "$T/greenwich.conf" local-user passwd "carol@$DOMAIN" \
	--password-stdin >/dev/null
register reg-newpw carol carol-new "<sip:carol@127.0.0.1:6011>" 60 2
check "a password changed while running: the new one at once" [ "$(last_status reg-newpw)" = 200 ]
sleep 0.5
register reg-oldpw carol carol-pw "<sip:carol@127.0.0.1:6011>" 60 3
check "a password changed while running: the old one refused" [ "$(last_status reg-oldpw)" = 403 ]
"$MMC" -c "$T/greenwich.conf" local-user remove "carol@$DOMAIN" >/dev/null
sleep 0.5
register reg-removed carol carol-new "<sip:carol@127.0.0.1:6011>" 60 4
check "an account removed while running: refused" [ "$(last_status reg-removed)" = 403 ]

sipp_run reg-spoof register.xml -au bob -ap bob-pw -set user alice -set domain $DOMAIN \
	-set expires 60 -set contact "<sip:alice@127.0.0.1:6666>" -set cseq 1
check "bob's credentials for alice's address: 403" [ "$(last_status reg-spoof)" = 403 ]
check "refusals are logged with the reason" grep -q 'event=auth-failed.*user=bob.*From/To' "$T/greenwichd.log"

sipp_run reg-other register.xml -au alice -ap alice-pw -set user alice -set domain other.test \
	-set expires 60 -set contact "<sip:alice@127.0.0.1:6009>" -set cseq 1
check "domain not served: 403" grep -q '^SIP/2.0 403 Domain not served' "$T/reg-other.msg"

# a short registration disappears on time
register reg-short bob bob-pw "<sip:bob@127.0.0.1:6101>" 10 1
check "short registration: 200" [ "$(last_status reg-short)" = 200 ]
sipp_run msg-before uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to bob@$DOMAIN -set body hello -timeout 5
sleep 11
sipp_run msg-after uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to bob@$DOMAIN -set body hello
check "after expiry bob is not signed in: 480" grep -q '^SIP/2.0 480' "$T/msg-after.msg"

# stale nonce: answer a challenge after nonce-lifetime has passed
sipp_run reg-stale register_stale.xml -au bob -ap bob-pw -set user bob -set domain $DOMAIN \
	-set expires 60 -set contact "<sip:bob@127.0.0.1:6102>" -set cseq 1
check "stale nonce: 401 with stale=true" grep -q 'stale=true' "$T/reg-stale.msg"

check "greenwichd still running" kill -0 "$GWD_PID"

# a clean stop while a device is registered over a live TCP connection
register reg-tcp alice alice-pw "<sip:alice@127.0.0.1:6105;transport=tcp>" 60 1 -t t1
check "TCP registration: 200" [ "$(last_status reg-tcp)" = 200 ]
stop_gwd
check "SIGTERM with a TCP registration: greenwichd exits 0 (got $GWD_RC)" [ "$GWD_RC" = 0 ]
finish
