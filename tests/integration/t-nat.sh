#!/bin/bash
# Reaching clients: a UDP client behind NAT is reached at the address its
# REGISTER came from; Path (RFC 3327) is kept and used as the route to the
# client; everything works over IPv6 too.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf
sed -i "s|^udp = .*|& , [::1]:\$PORT|; s|^tcp = .*|& , [::1]:\$PORT|" "$T/greenwich.conf"
sed -i "s|\\\$PORT|$PORT|g" "$T/greenwich.conf"
add_user alice alice-pw
add_user carol carol-pw
add_user erin erin-pw
add_user ivan ivan-pw
start_gwd

# carol's Contact names an address that cannot be reached (her NAT's inside)
C=$(free_port)
sipp_bg uas-carol uas_reg_message.xml "$C" -m 1 -oocsf "$SCEN/uas_message.xml" -au carol \
	-ap carol-pw -set user carol -set domain "$DOMAIN" -set contact "<sip:carol@192.0.2.1:5999>" \
	"127.0.0.1:$PORT"
PC=$SIPP_BG_PID
sleep 1
sipp_run m-nat uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "carol@$DOMAIN" -set body "through-the-nat"
check "MESSAGE to a UDP client behind NAT: 200" [ "$(last_status m-nat)" = 200 ]
check "it reached her at the address she registered from" grep -q "through-the-nat" "$T/uas-carol.msg"
sipp_wait "$PC" || true

# Path: erin registers through an edge proxy; requests for her go via that proxy
EDGE=$(free_port)
sipp_run reg-path register_path.xml -au erin -ap erin-pw -set user erin -set domain $DOMAIN \
	-set expires 600 -set contact "<sip:erin@192.0.2.2:5060>" -set cseq 1 \
	-set path "<sip:127.0.0.1:$EDGE;lr>"
check "REGISTER with Path: 200" [ "$(last_status reg-path)" = 200 ]
check "the 200 echoes the Path" grep -a -q "^Path: <sip:127.0.0.1:$EDGE;lr>" "$T/reg-path.msg"
sipp_bg edge uas_message.xml "$EDGE" -m 1
PE=$SIPP_BG_PID
sipp_run m-path uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "erin@$DOMAIN" -set body "via-the-edge"
check "MESSAGE to erin answered 200 (by the edge proxy)" [ "$(last_status m-path)" = 200 ]
check "the edge proxy got it with a Route from the Path" \
	grep -a -q "^Route: <sip:127.0.0.1:$EDGE;lr>" "$T/edge.msg"
check "and erin's contact as Request-URI" grep -a -q "^MESSAGE sip:erin@192.0.2.2:5060 SIP/2.0" "$T/edge.msg"
sipp_wait "$PE" || true

# IPv6: ivan registers and receives a MESSAGE over [::1].  SIPp's default Digest uri
# is the server's address, written without the brackets an IPv6 host needs
# ("sip:::1:port"), which names nothing: the real Request-URI is given instead.
I=$(free_port)
SIPP_LOCAL=::1 TARGET_HOST="[::1]" register r6 ivan ivan-pw "<sip:ivan@[::1]:$I>" 600 1 \
	-auth_uri "$DOMAIN"
check "REGISTER over IPv6: 200" [ "$(last_status r6)" = 200 ]
SIPP_LOCAL=::1 sipp_bg uas-ivan uas_message.xml "$I" -m 1
PI=$SIPP_BG_PID
SIPP_LOCAL=::1 TARGET_HOST="[::1]" sipp_run m6 uac_message.xml -au alice -ap alice-pw \
	-set user alice -set domain $DOMAIN -set to "ivan@$DOMAIN" -set body "over-ipv6" \
	-auth_uri "ivan@$DOMAIN"
check "MESSAGE over IPv6: 200" [ "$(last_status m6)" = 200 ]
check "ivan got it over IPv6" sipp_wait "$PI"
check "greenwichd still running" kill -0 "$GWD_PID"
finish
