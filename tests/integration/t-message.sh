#!/bin/bash
# IM: MESSAGE between registered users over UDP and TCP, to every device of the
# recipient; 404 unknown user, 480 not signed in, 413 too large, 403 foreign domain,
# and a sender who is not authenticated.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf "[limits]" "max-im-size = 200"
add_user alice alice-pw
add_user bob bob-pw
add_user carol carol-pw
start_gwd

B1=$(free_port); B2=$(free_port)
register rb1 bob bob-pw "<sip:bob@127.0.0.1:$B1>" 600
register rb2 bob bob-pw "<sip:bob@127.0.0.1:$B2;transport=tcp>" 600
check "bob registered a UDP device" [ "$(last_status rb1)" = 200 ]
check "bob registered a TCP device" [ "$(last_status rb2)" = 200 ]

sipp_bg uas-b1 uas_message.xml "$B1" -m 2
P1=$SIPP_BG_PID
sipp_bg uas-b2 uas_message.xml "$B2" -m 2 -t t1
P2=$SIPP_BG_PID

sipp_run m1 uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "bob@$DOMAIN" -set body "hello-bob-udp"
check "MESSAGE over UDP answered 200" [ "$(last_status m1)" = 200 ]
sipp_run m2 uac_message.xml -t t1 -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "bob@$DOMAIN" -set body "hello-bob-tcp"
check "MESSAGE over TCP answered 200" [ "$(last_status m2)" = 200 ]
check "bob's UDP device received both messages" sipp_wait "$P1"
check "bob's TCP device received both messages" sipp_wait "$P2"
check "UDP device got the text" grep -q "hello-bob-tcp" "$T/uas-b1.msg"
check "TCP device got the text" grep -q "hello-bob-udp" "$T/uas-b2.msg"

sipp_run m3 uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "nobody@$DOMAIN" -set body "x"
check "unknown user: 404" [ "$(last_status m3)" = 404 ]
sipp_run m4 uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "carol@$DOMAIN" -set body "x"
check "known user without registration: 480" [ "$(last_status m4)" = 480 ]
sipp_run m5 uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "bob@$DOMAIN" -set body "$(head -c 300 /dev/zero | tr '\0' x)"
check "MESSAGE over max-im-size: 413" [ "$(last_status m5)" = 413 ]
sipp_run m6 uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "someone@elsewhere.test" -set body "x"
check "foreign domain: 403" [ "$(last_status m6)" = 403 ]
sipp_run m7 uac_message.xml -au alice -ap wrong -set user alice -set domain $DOMAIN \
	-set to "bob@$DOMAIN" -set body "x"
check "wrong password: 403, nothing delivered" [ "$(last_status m7)" = 403 ]
sipp_run m8 uac_message.xml -au bob -ap bob-pw -set user alice -set domain $DOMAIN \
	-set to "carol@$DOMAIN" -set body "x"
check "bob sending as alice: 403" [ "$(last_status m8)" = 403 ]

# carol registers over TCP with a Contact nobody can connect to (as behind NAT):
# her messages must come back over the connection she registered on.
C1=$(free_port)
sipp_bg uas-c uas_reg_message.xml "$C1" -t t1 -m 1 -oocsf "$SCEN/uas_message.xml" -au carol -ap carol-pw -set user carol \
	-set domain "$DOMAIN" -set contact "<sip:carol@192.0.2.1:5999;transport=tcp>" \
	"127.0.0.1:$PORT"
P3=$SIPP_BG_PID
sleep 1
sipp_run m9 uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "carol@$DOMAIN" -set body "over-your-connection"
check "MESSAGE to a TCP-registered device answered 200" [ "$(last_status m9)" = 200 ]
check "it arrived over carol's own connection" sipp_wait "$P3"
check "with the text" grep -q "over-your-connection" "$T/uas-c.msg"

check "greenwichd still running" kill -0 "$GWD_PID"
finish
