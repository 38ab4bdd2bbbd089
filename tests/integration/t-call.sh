#!/bin/bash
# Calls through the proxy: INVITE/ACK/BYE with record-routing, CANCEL while
# ringing, and forking to two devices (one answers, the other is cancelled).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf
add_user alice alice-pw
add_user bob bob-pw
add_user carol carol-pw
start_gwd

B1=$(free_port)
register rb bob bob-pw "<sip:bob@127.0.0.1:$B1>" 600
sipp_bg uas-bob uas_call.xml "$B1" -m 1
PB=$SIPP_BG_PID
sipp_run call1 uac_call.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN -set to "bob@$DOMAIN"
check "caller completed INVITE/ACK/BYE" [ "$SIPP_RC" = 0 ]
check "callee saw INVITE with our Record-Route, then ACK and BYE" sipp_wait "$PB"
check "callee got the BYE through the proxy" bash -c "grep -a '^BYE' '$T/uas-bob.msg' | grep -q ."
check "caller's BYE carried the recorded route" bash -c "grep -a -A6 '^BYE' '$T/call1.msg' | grep -q '^Route: .*gwd='"
check "the ACK for 2xx reached the callee" bash -c "grep -a -q '^ACK' '$T/uas-bob.msg'"

# the dialog token does not let a party speak as someone else: with the call's route,
# Call-ID and tags, a request with another From is challenged; the parties' own is not
RR=$(grep -a -m1 '^Route: .*gwd=' "$T/call1.msg" | sed 's/^Route: //; s/\r$//')
CID=$(grep -a -m1 '^Call-ID:' "$T/call1.msg" | sed 's/^Call-ID: //; s/\r$//')
indialog() { # indialog FROM-USER TO-USER: an in-dialog MESSAGE with the call's route
	printf 'MESSAGE sip:%s@127.0.0.1:%s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK-dlg%s\nRoute: %s\nFrom: <sip:%s@%s>;tag=f1\nTo: <sip:%s@%s>;tag=t1\nCall-ID: %s\nCSeq: 9 MESSAGE\nMax-Forwards: 70\nContent-Type: text/plain\nContent-Length: 2\n\nhi' \
		"$2" "$B1" "$1" "$RR" "$1" "$DOMAIN" "$2" "$DOMAIN" "$CID" |
		python3 "$top_srcdir/tests/integration/sipsend.py" "$PORT" - 2
}
# shellcheck disable=SC2016 # $1 is the inner script's argument
check "in-dialog request with the dialog's parties passes without a challenge" \
	bash -c '! grep -q "^SIP/2.0 407" <<<"$1"' - "$(indialog alice bob)"
check "in-dialog request with another From (carol) is challenged: 407" \
	grep -q "^SIP/2.0 407" <<<"$(indialog carol bob)"

# CANCEL while ringing
C1=$(free_port)
register rc carol carol-pw "<sip:carol@127.0.0.1:$C1>" 600
sipp_bg uas-carol uas_ring.xml "$C1" -m 1
PC=$SIPP_BG_PID
sipp_run cancel1 uac_cancel.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN -set to "carol@$DOMAIN"
check "caller: 180, CANCEL 200, 487, ACK" [ "$SIPP_RC" = 0 ]
check "callee saw the CANCEL and answered 487" sipp_wait "$PC"

# a UDP caller cancels a call ringing on a TCP device (both workers take part)
D1=$(free_port)
add_user dan dan-pw
register rdan dan dan-pw "<sip:dan@127.0.0.1:$D1;transport=tcp>" 600
for i in 1 2 3; do
	sipp_bg uas-dan$i uas_ring.xml "$D1" -m 1 -t t1
	PD=$SIPP_BG_PID
	sipp_run cancel-tcp$i uac_cancel.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN -set to "dan@$DOMAIN"
	check "UDP caller to TCP callee, try $i: 180, CANCEL 200, 487, ACK" [ "$SIPP_RC" = 0 ]
	# (SIPp's 487 over TCP lacks the caller's Via, so its ACK is not awaited)
	check "TCP callee saw the CANCEL, try $i" grep -a -q "^CANCEL sip:dan@" "$T/uas-dan$i.msg"
	kill "$PD" 2>/dev/null || true
done

# forking: carol on two devices; one answers, the other is cancelled
C2=$(free_port); C3=$(free_port)
register rc2 carol carol-pw "<sip:carol@127.0.0.1:$C2>" 600
register rc3 carol carol-pw "<sip:carol@127.0.0.1:$C3>" 600
register rcx carol carol-pw "<sip:carol@127.0.0.1:$C1>" 0
sipp_bg fork-answer uas_call.xml "$C2" -m 1
PA=$SIPP_BG_PID
sipp_bg fork-ring uas_ring.xml "$C3" -m 1
PR=$SIPP_BG_PID
sipp_run call2 uac_call.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN -set to "carol@$DOMAIN"
check "forked call answered and ended" [ "$SIPP_RC" = 0 ]
check "answering device completed the call" sipp_wait "$PA"
check "the other device was cancelled" sipp_wait "$PR"
check "caller saw exactly one 200 for the INVITE" \
	bash -c "[ \$(grep -a -c '^SIP/2.0 200' '$T/call2.msg') -eq 2 ]"

# an unauthenticated caller from our domain is challenged, never routed
sipp_run noauth uac_message.xml -set user alice -set domain $DOMAIN -set to "bob@$DOMAIN" -set body x
check "request from our domain without credentials gets 407" grep -q '^SIP/2.0 407' "$T/noauth.msg"

check "greenwichd still running" kill -0 "$GWD_PID"
finish
