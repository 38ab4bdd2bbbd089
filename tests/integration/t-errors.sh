#!/bin/bash
# Bad input gets a clear SIP error and loses nothing: malformed requests,
# missing headers, oversized messages, Max-Forwards 0 (483), a real loop (482),
# unsupported extensions (420), unknown methods (405).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# the requests below come from outside senders: let them through the policy
echo 'rule "outside-ok" priority 1 { from zone external; action allow; }' > "$T/rules.pol"
write_conf "[limits]" "max-message-size = 4096" "[policy]" "rules-file = $T/rules.pol"
add_user alice alice-pw
add_user bob bob-pw
start_gwd
SEND="python3 $(dirname "$0")/sipsend.py"

BPORT=$(free_port)
register rb bob bob-pw "<sip:bob@127.0.0.1:$BPORT>" 600
check "bob registered" [ "$(last_status rb)" = 200 ]

req() { # req METHOD RURI [extra header lines...]: a request from an outside sender
	local m="$1" ru="$2"; shift 2
	printf '%s %s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK-t%s\nFrom: <sip:x@elsewhere.test>;tag=1\nTo: <%s>\nCall-ID: t-%s@test\nCSeq: 1 %s\n' \
		"$m" "$ru" "$RANDOM$RANDOM" "$ru" "$RANDOM$RANDOM" "$m"
	for h in "$@"; do printf '%s\n' "$h"; done
	printf 'Content-Length: 0\n\n'
}

out=$(req OPTIONS "sip:bob@$DOMAIN" "Max-Forwards: 0" | $SEND "$PORT" -)
check "Max-Forwards 0: 483" grep -q "^SIP/2.0 483" <<<"$out"
out=$(req OPTIONS "sip:$DOMAIN" "Max-Forwards: 70" | $SEND "$PORT" -)
check "OPTIONS to the server: 200" grep -q "^SIP/2.0 200" <<<"$out"
out=$(req MESSAGE "sip:bob@$DOMAIN" "Max-Forwards: 70" "Proxy-Require: x-unknown-ext" | $SEND "$PORT" -)
check "unsupported Proxy-Require: 420" grep -q "^SIP/2.0 420" <<<"$out"
out=$(req FOOBAR "sip:bob@$DOMAIN" "Max-Forwards: 70" | $SEND "$PORT" -)
check "unknown method: 405" grep -q "^SIP/2.0 405" <<<"$out"
out=$(printf 'MESSAGE sip:bob@%s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK-nofrom\nCall-ID: nofrom@test\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n' "$DOMAIN" | $SEND "$PORT" -)
check "missing From/To: 400" grep -q "^SIP/2.0 400" <<<"$out"
out=$(printf 'MESSAGE sip:bob@%s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK-cseq\nFrom: <sip:x@elsewhere.test>;tag=1\nTo: <sip:bob@%s>\nCall-ID: cseq@test\nCSeq: 1 INVITE\nContent-Length: 0\n\n' "$DOMAIN" "$DOMAIN" | $SEND "$PORT" -)
check "CSeq method mismatch: 400" grep -q "^SIP/2.0 400" <<<"$out"
out=$(printf 'RAW:\x01\x02garbage that is not SIP\r\n\r\n' | $SEND "$PORT" - 1)
check "binary garbage: dropped without an answer" grep -q "NO ANSWER" <<<"$out"
big=$(head -c 6000 /dev/zero | tr '\0' a)
out=$( (req MESSAGE "sip:bob@$DOMAIN" "Max-Forwards: 70" "X-Pad: $big") | $SEND "$PORT" - 1)
check "message over max-message-size is not processed" bash -c "! grep -q '^SIP/2.0 200' <<<'$out'"
check "message over max-message-size: 413" grep -q "^SIP/2.0 413" <<<"$out"
out=$(req MESSAGE "sip:$(head -c 400 /dev/zero | tr '\0' u)@$DOMAIN" "Max-Forwards: 70" | $SEND "$PORT" - 1)
check "overlong Request-URI: 414" grep -q "^SIP/2.0 414" <<<"$out"
out=$(req MESSAGE "sip:bob@$DOMAIN" "Max-Forwards: 70" "Content-Length: 99999" | $SEND "$PORT" - 1)
check "lying Content-Length: no crash" kill -0 "$GWD_PID"

# a loop: dave's only contact is an address that routes back to dave
add_user dave dave-pw
register rd dave dave-pw "<sip:dave@127.0.0.1:$PORT>" 600
out=$(req OPTIONS "sip:dave@$DOMAIN" "Max-Forwards: 70" | $SEND "$PORT" - 3)
check "request looping through us: 482" grep -q "^SIP/2.0 482" <<<"$out"

# fuzz a little: truncated and mangled copies of a valid request, all answered or dropped
valid=$(req MESSAGE "sip:nobody@$DOMAIN" "Max-Forwards: 70")
for _ in $(seq 1 60); do
	n=$(( (RANDOM % ${#valid}) + 1 ))
	printf 'RAW:%s' "${valid:0:$n}" | $SEND "$PORT" - 0.05 >/dev/null
	printf '%s' "$valid" | tr "$(printf '\\%03o' $((RANDOM % 26 + 97)))" ':' | $SEND "$PORT" - 0.05 >/dev/null
done
check "greenwichd survived the fuzzing" kill -0 "$GWD_PID"

sipp_bg uas-bob uas_message.xml "$BPORT" -m 1
sipp_run again uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN -set to "bob@$DOMAIN" -set body still-there
check "bob's registration survived all of it: MESSAGE delivered" [ "$(last_status again)" = 200 ]
check "with the text" grep -q still-there "$T/uas-bob.msg"
finish
