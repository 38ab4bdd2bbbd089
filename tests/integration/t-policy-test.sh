#!/bin/bash
# `greenwich-mmc policy test` says what greenwichd answers.  A server without a domain, with
# a rules file and [federation] allow/block lists, gets real requests from a table of senders
# (an authenticated user of ours, unauthenticated outsiders, a blocked domain's user, a
# partner's user over plain UDP and over TLS with a certificate naming its domain, a method
# that is no IM, call or presence); for each row `policy test --json` is asked about the same
# request, and its prediction is compared with the status the sender got and with the
# server's own log line (rule and zone).  Each row also carries the answer it must have, so
# that both sides going wrong together is caught too.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# sanitizer builds: full stacks through libcrypto, so that lsan-sofia.supp can name Sofia's
# certificate-check leak (the partner row's certificate is verified)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

# a test CA, the server's certificate and a partner server's (naming its domain)
ca() { openssl "$@" 2>/dev/null; }
ca req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.crt" -days 2 \
	-subj "/CN=Greenwich test CA"
cert() { # cert NAME SAN: NAME.key / NAME.crt signed by the CA
	ca req -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.csr" -subj "/CN=$1"
	printf 'subjectAltName=%s\n' "$2" > "$T/$1.ext"
	ca x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
		-days 2 -out "$T/$1.crt" -extfile "$T/$1.ext"
}
cert server "DNS:$DOMAIN"
cert partner "DNS:partner.example.net"

RULES=$T/rules.pol
cat > "$RULES" <<'EOF'
# a claim alone: this rule never matches an unproven sender
rule "deny-outside" priority 10 { from domain outside.test; action deny 486; }
rule "partner-im" priority 20 { class im; from zone federated; action allow; }
rule "ext-im" priority 30 {
	class im;
	from zone external;
	except to user sip:bob@example.test;
	action deny 603;
}
rule "ext-calls" priority 40 { class call; from zone external; action deny 488; }
EOF
write_conf "[tls]" "certificate = $T/server.crt" "key = $T/server.key" "ca-file = $T/ca.crt" \
	"[policy]" "rules-file = $RULES" \
	"[federation]" "allow = partner.example.net" "block = blocked.example.org"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"
add_user alice alice-pw
add_user bob bob-pw
start_gwd
check "rules and federation settings loaded" grep -q \
	"event=policy-loaded source=file rules=4 .*federation=2" "$T/greenwichd.log"

# send HOW NAME FROM TO: the request, as the sender would send it; prints the final status.
#   auth: a MESSAGE with alice's Digest credentials; udp: a MESSAGE without any;
#   tls-cert: a MESSAGE over TLS with the partner server's certificate; info: an INFO
#   outside a dialog (decided as the strictest class).
send()
{
	local how=$1 name=$2 from=$3 to=$4
	case $how in
	auth | udp)
		local cred=()
		[ "$how" = auth ] && cred=(-au alice -ap alice-pw)
		sipp_run "$name" uac_message.xml "${cred[@]}" -set user "${from%@*}" \
			-set domain "${from#*@}" -set to "$to" -set body "row-$name"
		last_status "$name"
		;;
	tls-cert)
		"$PY" "$HERE/fedclient.py" 127.0.0.1 "$TLSPORT" "$T/ca.crt" "$T/partner.crt" \
			"$T/partner.key" "$from" "$to" "row-$name" > "$T/$name.out" 2>&1 || true
		sed -n 's/^status //p' "$T/$name.out"
		;;
	info)
		"$PY" "$HERE/sipsend.py" "$PORT" - 3 > "$T/$name.out" <<EOF
INFO sip:$to SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK-$name
From: <sip:$from>;tag=t-$name
To: <sip:$to>
Call-ID: $name@policy-test
CSeq: 1 INFO
Max-Forwards: 70
Content-Length: 0

EOF
		grep -v '^SIP/2.0 1' "$T/$name.out" | head -1 | awk '{print $2}'
		;;
	esac
}

# The table: NAME HOW FROM TO CLASS ARRIVAL(for policy test; - = its default) and what the
# server must answer: STATUS RULE ZONE (480: allowed, the recipient is not signed in).
ROWS=$(cat <<'EOF'
internal       auth     alice@example.test         bob@example.test   im    -              480 (default)          internal
outsider       udp      guest@outside.test         alice@example.test im    -              603 ext-im             external
outsider-bob   udp      guest@outside.test         bob@example.test   im    -              480 ext-im             external
blocked        udp      x@blocked.example.org      bob@example.test   im    -              403 federation-blocked external
partner-udp    udp      carol@partner.example.net  alice@example.test im    -              603 ext-im             external
partner-cert   tls-cert carol@partner.example.net  alice@example.test im    verified-peer  480 partner-im         federated
other-method   info     guest@elsewhere.test       bob@example.test   other -              488 ext-calls          external
EOF
)

same() { [ "$1" = "$2" ] && [ "$3" = "$4" ] && [ "$5" = "$6" ] && [ "$7" = "$8" ]; }
# the server's decision for the request just sent: the last event=policy line since line $1
logged() { tail -n +"$(($1 + 1))" "$T/greenwichd.log" | grep "event=policy " | tail -1; }

while read -r name how from to class arrival want_status want_rule want_zone <&3; do
	args=(--from "sip:$from" --to "sip:$to" --class "$class" --network remote)
	[ "$arrival" != - ] && args+=(--arrival "$arrival")
	rc=0
	"$MMC" -c "$T/greenwich.conf" --json policy test "${args[@]}" > "$T/$name.json" \
		2> "$T/$name.mmc-err" || rc=$?
	if [ "$rc" != 0 ]; then
		fail "$name: policy test exits $rc: $(cat "$T/$name.mmc-err")"
		continue
	fi
	read -r p_decision p_code p_rule p_zone p_net < <("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["decision"], d["code"], "(default)" if d["default"] else d["rule"], d["zone"], d["network"])' "$T/$name.json")
	lines=$(wc -l < "$T/greenwichd.log")
	status=$(send "$how" "$name" "$from" "$to")
	for _ in $(seq 1 20); do [ -n "$(logged "$lines")" ] && break; sleep 0.1; done
	line=$(logged "$lines")
	s_rule=$(sed -n 's/.*event=policy rule=\([^ ]*\) .*/\1/p' <<< "$line")
	s_zone=$(sed -n 's/.* zone=\([^ ]*\) .*/\1/p' <<< "$line")
	s_net=$(sed -n 's/.* network=\([^ ]*\) .*/\1/p' <<< "$line")
	# what policy test predicts for the status: the deny code, or past the policy (480)
	if [ "$p_decision" = allow ]; then p_status=480; else p_status=$p_code; fi
	check "$name: policy test says $p_decision $p_code by $p_rule (zone $p_zone, network $p_net); greenwichd answered $status by $s_rule (zone $s_zone, network $s_net)" \
		same "$p_status" "$status" "$p_rule" "$s_rule" "$p_zone" "$s_zone" "$p_net" "$s_net"
	check "$name: and that is $want_status by $want_rule (zone $want_zone)" \
		same "$status" "$want_status" "$s_rule" "$want_rule" "$s_zone" "$want_zone" x x
done 3<<< "$ROWS"

# the text form says why where the decision alone would puzzle
"$MMC" -c "$T/greenwich.conf" policy test --from sip:guest@outside.test --to sip:alice@example.test \
	--class im --network remote > "$T/claim.out"
check "policy test says the claimed domain did not count" grep -q \
	"^note: the sender is unproven, so no rule on the sender .* would be: deny 486 Busy Here (rule deny-outside)" \
	"$T/claim.out"
"$MMC" -c "$T/greenwich.conf" policy test --from sip:carol@partner.example.net \
	--to sip:alice@example.test --class im > "$T/partner.out"
check "policy test says a partner needs its server's proof" grep -q \
	"^note: partner.example.net is an allowed partner, but its users are federated only over TLS" \
	"$T/partner.out"
check "greenwichd still running" kill -0 "$GWD_PID"
finish
