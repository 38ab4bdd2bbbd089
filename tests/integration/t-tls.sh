#!/bin/bash
# TLS: a client signs in over TLS (TLS 1.2 or newer, certificate verified) with
# SHA-256 Digest, IMs a UDP user and receives an IM back over its connection.
# Also: MD5 Digest over TLS, and TLS 1.1 refused.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.crt" \
	-days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
write_conf "[tls]" "certificate = $T/server.crt" "key = $T/server.key"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|; s|^digest-algorithms = .*|digest-algorithms = MD5, SHA-256|" \
	"$T/greenwich.conf"
add_user alice alice-pw
add_user bob bob-pw
start_gwd
check "the TLS key file Sofia reads is private" \
	bash -c "[ \$(stat -c %a '$T/state/tls/agent.pem') = 600 ]"

B=$(free_port)
# bob (SIPp, UDP) answers the first challenge, MD5; alice picks SHA-256
register rb bob bob-pw "<sip:bob@127.0.0.1:$B>" 600
sipp_bg uas-bob uas_message.xml "$B" -m 1
PB=$SIPP_BG_PID

python3 "$(dirname "$0")/tlsclient.py" 127.0.0.1 "$TLSPORT" "$T/server.crt" alice alice-pw \
	"$DOMAIN" SHA-256 "bob@$DOMAIN" "hello-over-tls" 4 > "$T/alice.out" 2>&1 &
PA=$!; PIDS+=("$PA")
for _ in $(seq 1 60); do grep -q "^message" "$T/alice.out" && break; sleep 0.1; done
check "TLS 1.2 or newer negotiated" grep -qE "^tls TLSv1\.[23]" "$T/alice.out"
check "alice signed in over TLS with SHA-256 Digest" grep -q "^register 200" "$T/alice.out"
check "her MESSAGE over TLS reached bob (200)" grep -q "^message 200" "$T/alice.out"
check "bob's device got the text" sipp_wait "$PB"
check "text intact" grep -q "hello-over-tls" "$T/uas-bob.msg"

sipp_run toalice uac_message.xml -au bob -ap bob-pw -set user bob -set domain $DOMAIN \
	-set to "alice@$DOMAIN" -set body "reply-to-tls"
check "bob's MESSAGE to alice answered 200" [ "$(last_status toalice)" = 200 ]
wait "$PA" || true
check "alice received it over her TLS connection" grep -q "^received MESSAGE reply-to-tls" "$T/alice.out"

python3 "$(dirname "$0")/tlsclient.py" 127.0.0.1 "$TLSPORT" "$T/server.crt" bob bob-pw \
	"$DOMAIN" MD5 - - 0 > "$T/bob-md5.out" 2>&1 || true
check "MD5 Digest over TLS works too" grep -q "^register 200" "$T/bob-md5.out"

out=$(echo | timeout 5 openssl s_client -connect 127.0.0.1:$TLSPORT -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' 2>&1 || true)
echo "$out" > "$T/tls11.out"
check "TLS 1.1 is refused by the server" grep -qiE "alert protocol version|unsupported protocol|no protocols available|wrong version" "$T/tls11.out"
out=$(echo | timeout 5 openssl s_client -connect 127.0.0.1:$TLSPORT -tls1_2 2>&1 || true)
check "TLS 1.2 is accepted" grep -q "Protocol  *: TLSv1.2" <<<"$out"
check "greenwichd still running" kill -0 "$GWD_PID"
# every TLS connection's OpenSSL object is freed (Sofia forgets it: daemon/sofia/tlsleak.c);
# the sanitizer build reports leaks at exit
stop_gwd
# shellcheck disable=SC2016 # $1, $2 are the inner script's arguments
check "clean exit, no leak or sanitizer report (ASan builds)" bash -c '! grep -qE "$1" "$2"' - \
	"ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/greenwichd.log"
finish
