#!/bin/bash
# The RFC 4475 and RFC 5118 torture messages, over UDP and over TCP: each is
# answered as tests/torture/expected.txt says (and why), or dropped where the
# RFC says so, after which greenwichd still answers.  Syntax and the URI scheme
# are judged before authentication and policy: the same malformed requests from
# one of our users get 400/416, not a challenge.  A busy TCP connection is read
# message by message: 500 requests written at once are all answered, while
# max-message-size still holds for each message.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

DIR="$top_srcdir/tests/torture"
DRIVER="$top_srcdir/tests/integration/torture.py"
cat > "$T/rules.pol" <<EOF
rule "no-outside-im" priority 10 {
	class im;
	from zone external;
	action deny 403 "No IM from outside";
}
EOF
write_conf "[limits]" "max-message-size = 8192" "[policy]" "rules-file = $T/rules.pol"
add_user alice alice-pw
start_gwd

send() { # send udp|tcp FILE [timeout]: what greenwichd answered (code, none, closed)
	python3 "$DRIVER" send "$PORT" "$1" "$2" "$DOMAIN" "${3:-1}" 2>>"$T/driver.err"
}
printf 'OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-alive\r\nMax-Forwards: 70\r\nFrom: <sip:probe@elsewhere.test>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: alive@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' \
	"$DOMAIN" "$DOMAIN" > "$T/alive.dat"

while read -r name udp tcp why; do
	case "$name" in '' | '#'*) continue ;; esac
	for proto in udp tcp; do
		if [ "$proto" = udp ]; then want=$udp; else want=$tcp; fi
		got=$(send "$proto" "$DIR/$name.dat")
		check "$name over $proto: $want ($why)" [ "$got" = "$want" ]
		if [ "$got" != "$want" ]; then
			echo "  got $got"
		fi
		case "$want" in none | closed)
			check "$name over $proto: greenwichd still answers" \
				[ "$(send "$proto" "$T/alive.dat" 2)" = 200 ] ;;
		esac
	done
done < "$DIR/expected.txt"
# shellcheck disable=SC2016 # $1 is the inner script's argument
check "every message in tests/torture has an expected answer" \
	bash -c 'for f in "$1"/*.dat; do n=$(basename "$f" .dat); grep -q "^$n[[:space:]]" "$1/expected.txt" || { echo "no answer for $n"; exit 1; }; done' - "$DIR"

# the order: the same malformed requests from one of our users, who would
# otherwise be challenged for credentials (407)
for c in unkscm:416 novelsc:416 ipv6-bad:400 lwsruri:400 lwsstart:400 trws:400 escruri:400 \
	badvers:505 lwsdisp:407; do
	for proto in udp tcp; do
		got=$(TORTURE_FROM="alice@$DOMAIN" send "$proto" "$DIR/${c%%:*}.dat")
		check "${c%%:*} from alice over $proto: ${c##*:}" [ "$got" = "${c##*:}" ]
	done
done

# a busy link: requests written at once on one TCP connection, more of them
# together than max-message-size, each answered
for m in OPTIONS MESSAGE; do
	n=$(python3 "$DRIVER" pipeline "$PORT" "$DOMAIN" 500 "$m")
	check "500 ${m}s pipelined on one TCP connection: all answered ($n)" [ "$n" = 500 ]
done
# shellcheck disable=SC2016 # $1 is the inner script's argument
check "no \"too large message\" from Sofia" bash -c '! grep -q "too large message" "$1"' - "$T/greenwichd.log"
big=$(head -c 9000 /dev/zero | tr '\0' a)
printf 'MESSAGE sip:alice@%s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-big\r\nMax-Forwards: 70\r\nFrom: <sip:x@elsewhere.test>;tag=1\r\nTo: <sip:alice@%s>\r\nCall-ID: big@test\r\nCSeq: 1 MESSAGE\r\nX-Pad: %s\r\nContent-Length: 0\r\n\r\n' \
	"$DOMAIN" "$DOMAIN" "$big" > "$T/big.dat"
check "a message over max-message-size over TCP: 413" [ "$(send tcp "$T/big.dat")" = 413 ]
check "over UDP too: 413" [ "$(send udp "$T/big.dat")" = 413 ]
check "greenwichd still answers over TCP" [ "$(send tcp "$T/alive.dat" 2)" = 200 ]
finish
