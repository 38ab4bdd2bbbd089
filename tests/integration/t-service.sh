#!/bin/bash
# A service address: greenwichd forwards calls for helpdesk@<domain> to the
# help-desk router built on libgreenwich-proxy, which picks an operator.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

ROUTER_BIN="$top_builddir/sdk/helpdesk-router"
R=$(free_port)
OP1=$(free_port)
write_conf "[proxy]" "routes = helpdesk@$DOMAIN=sip:127.0.0.1:$R"
add_user alice alice-pw
cat > "$T/helpdesk.conf" <<CONF
domain $DOMAIN
service helpdesk
listen udp 127.0.0.1 $R
timeout 10
max_calls 1
operator olga sip:olga@127.0.0.1:$OP1
CONF
"$ROUTER_BIN" -c "$T/helpdesk.conf" > "$T/router.log" 2>&1 &
PIDS+=("$!")
start_gwd

sipp_bg olga uas_call.xml "$OP1" -m 1
PO=$SIPP_BG_PID
sipp_run call uac_call.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN -set to "helpdesk@$DOMAIN"
check "call to the service address completed (INVITE, 200, ACK, BYE)" [ "$SIPP_RC" = 0 ]
check "the operator answered it" sipp_wait "$PO"
check "the operator saw both proxies in the route" \
	bash -c "[ \$(grep -a -m1 -A30 '^INVITE' '$T/olga.msg' | grep -c '^Record-Route:') -ge 1 ] && grep -a -m1 -A30 '^INVITE' '$T/olga.msg' | grep -q 'gwd='"
check "the BYE went through both" grep -a -q "^BYE" "$T/olga.msg"
sipp_run nobody uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "sales@$DOMAIN" -set body x
check "other addresses are still looked up normally (404)" [ "$(last_status nobody)" = 404 ]
finish
