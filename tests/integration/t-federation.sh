#!/bin/bash
# Federation: two greenwichd on loopback serve corp.example.com and partner.example.net,
# each with a certificate from a test CA, and find each other by DNS SRV (a tiny DNS server
# on 127.0.0.1:53).  Everything runs in a network and mount namespace of this test's own
# (the namespace's /etc/resolv.conf points at that server).
#   - alice@corp IMs bob@partner: corp finds partner by SRV, connects with mutual TLS,
#     partner sees a verified certificate naming corp.example.com: zone federated, allowed
#     by its rule; bob's device gets the text.  bob's answer way works too.
#   - to a blocked domain and to a domain that is no partner (though DNS knows it): 403;
#     an unauthenticated sender cannot use corp to reach the partner either.
#   - a "partner" connecting without a certificate, with one the CA did not sign, or with
#     one naming another domain is external, not federated (403 by the default); one whose
#     certificate names only the server the partner's SRV record points to is federated.
if [ -z "${GW_FED_NS:-}" ]; then
	exec env GW_FED_NS=1 unshare --net --mount -- bash "$0" "$@"
fi
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# sanitizer builds: full stacks through libcrypto, so that lsan-sofia.supp can name
# Sofia's certificate-check leak precisely (only these tests verify certificates)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
ip link set lo up
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

# ---- the test CA and the servers' certificates
ca() { openssl "$@" 2>/dev/null; }
ca req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.crt" -days 2 \
	-subj "/CN=Greenwich test CA"
cert() { # cert NAME SAN [self]: NAME.key / NAME.crt, signed by the CA (or self-signed)
	if [ "${3:-}" = self ]; then
		ca req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.crt" -days 2 \
			-subj "/CN=$1" -addext "subjectAltName=$2"
		return
	fi
	ca req -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.csr" -subj "/CN=$1"
	printf 'subjectAltName=%s\n' "$2" > "$T/$1.ext"
	ca x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
		-days 2 -out "$T/$1.crt" -extfile "$T/$1.ext"
}
cert corp "DNS:corp.example.com,DNS:gw.corp.example.com"
cert partner "DNS:partner.example.net,DNS:sip.partner.example.net"
cert srvonly "DNS:sip.partner.example.net"
cert other "DNS:other.example.org"
cert rogue "DNS:partner.example.net" self

# ---- ports and DNS
PORT=$(free_port)
PPORT=$(free_port)
"$PY" "$HERE/fakedns.py" 127.0.0.1 53 \
	"_sips._tcp.partner.example.net SRV 0 0 $((PPORT + 1)) sip.partner.example.net." \
	"sip.partner.example.net A 127.0.0.1" \
	"_sips._tcp.corp.example.com SRV 0 0 $((PORT + 1)) gw.corp.example.com." \
	"gw.corp.example.com A 127.0.0.1" \
	"_sips._tcp.unknown.example.org SRV 0 0 $((PPORT + 1)) sip.partner.example.net." \
	"_sips._tcp.blocked.example.org SRV 0 0 $((PPORT + 1)) sip.partner.example.net." \
	"_sips._tcp.slow.example.org DROP -" "_sip._tcp.slow.example.org DROP -" \
	> "$T/dns.out" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 50); do grep -q ready "$T/dns.out" && break; sleep 0.1; done
check "the test's DNS server runs" grep -q ready "$T/dns.out"
echo "nameserver 127.0.0.1" > "$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf

cat > "$T/rules" <<'R'
rule "federated-im" priority 10 { class im; from zone federated; action allow; }
R

# ---- corp (lib.sh's server) and partner (a second one in $T/p)
DOMAIN=corp.example.com
write_conf "[tls]" "certificate = $T/corp.crt" "key = $T/corp.key" "ca-file = $T/ca.crt" \
	"[policy]" "rules-file = $T/rules" \
	"[federation]" "allow = partner.example.net, slow.example.org" "block = blocked.example.org"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"
add_user alice alice-pw
mkdir -p "$T/p/state"
sed -e "s|$T/|$T/p/|g; s|127.0.0.1:$PORT|127.0.0.1:$PPORT|; s|127.0.0.1:$TLSPORT|127.0.0.1:$((PPORT + 1))|" \
	-e "s|^domains = .*|domains = partner.example.net|; s|$T/p/corp\.|$T/partner.|g" \
	-e "s|$T/p/ca.crt|$T/ca.crt|; s|$T/p/rules|$T/rules|" \
	-e "s|^allow = .*|allow = corp.example.com|; /^block = /d" \
	"$T/greenwich.conf" > "$T/p/greenwich.conf"
echo bob-pw | "$MMC" -c "$T/p/greenwich.conf" local-user add bob@partner.example.net \
	--password-stdin > /dev/null
start_gwd
"$GWD" --allow-root -c "$T/p/greenwich.conf" -f >> "$T/p/greenwichd.log" 2>&1 &
PPID_GWD=$!
PIDS+=("$PPID_GWD")
for _ in $(seq 1 100); do grep -q event=started "$T/p/greenwichd.log" 2>/dev/null && break; sleep 0.05; done
check "partner's greenwichd started" grep -q event=started "$T/p/greenwichd.log"

# bob's device registers at partner and waits for one MESSAGE
B=$(free_port)
DOMAIN=partner.example.net TARGET_PORT=$PPORT register rb bob bob-pw "<sip:bob@127.0.0.1:$B>" 600
check "bob registered at partner" [ "$(last_status rb)" = 200 ]
sipp_bg uas-bob uas_message.xml "$B" -m 1
PB=$SIPP_BG_PID

im() { # im NAME FROM-USER PASSWORD TO: a MESSAGE sent to corp over UDP
	sipp_run "$1" uac_message.xml -au "$2" -ap "$3" -set user "$2" -set domain corp.example.com \
		-set to "$4" -set body "hello-$1"
}
im out alice alice-pw bob@partner.example.net
check "alice -> bob@partner: 200 through the partner's server" [ "$(last_status out)" = 200 ]
check "bob's device got the text" sipp_wait "$PB"
check "text intact" grep -q "hello-out" "$T/uas-bob.msg"
check "partner judged corp federated (verified certificate)" grep -q \
	"event=policy rule=federated-im from=sip:alice@corp.example.com to=sip:bob@partner.example.net .*zone=federated.*result=allow" \
	"$T/p/greenwichd.log"

im blocked alice alice-pw x@blocked.example.org
check "to a blocked domain: 403" [ "$(last_status blocked)" = 403 ]
im unknown alice alice-pw x@unknown.example.org
check "to a domain that is no partner (DNS knows it): 403" [ "$(last_status unknown)" = 403 ]
sipp_run relay uac_message.xml -set user guest -set domain outside.test \
	-set to bob@partner.example.net -set body relay
check "an unauthenticated sender cannot reach the partner through corp: 403" \
	[ "$(last_status relay)" = 403 ]

# bob answers: partner -> corp over mutual TLS; alice is not signed in (480 = past policy)
TARGET_PORT=$PPORT sipp_run back uac_message.xml -au bob -ap bob-pw -set user bob \
	-set domain partner.example.net -set to alice@corp.example.com -set body back
check "bob -> alice@corp: through to corp (480, alice not signed in)" [ "$(last_status back)" = 480 ]
check "corp judged partner federated" grep -q \
	"event=policy rule=federated-im from=sip:bob@partner.example.net to=sip:alice@corp.example.com .*zone=federated" \
	"$T/greenwichd.log"

# servers that claim to be partner.example.net, straight to corp's TLS port
fed() { # fed NAME CERT FROM: prints the status
	if [ "$2" = - ]; then set -- "$1" - - "$3"; else set -- "$1" "$T/$2.crt" "$T/$2.key" "$3"; fi
	"$PY" "$HERE/fedclient.py" 127.0.0.1 "$TLSPORT" "$T/ca.crt" "$2" "$3" "$4" \
		alice@corp.example.com "fed-$1" > "$T/fed-$1.out" 2>&1 || true
	sed -n 's/^status //p' "$T/fed-$1.out"
}
check "no client certificate: external, 403" [ "$(fed nocert - carol@partner.example.net)" = 403 ]
check "certificate not from the CA: external, 403" \
	[ "$(fed rogue rogue carol@partner.example.net)" = 403 ]
check "certificate of another domain: external, 403" \
	[ "$(fed other other carol@partner.example.net)" = 403 ]
check "certificate naming the partner's SRV target: federated (480)" \
	[ "$(fed srv srvonly carol@partner.example.net)" = 480 ]
check "partner's own certificate: federated (480)" \
	[ "$(fed own partner carol@partner.example.net)" = 480 ]
# a partner whose DNS server never answers: its SRV lookup was started ahead (at start,
# in worker 0's event loop); no request waits for it
check "the partners' SRV records were looked up ahead, slow.example.org's too" \
	grep -q "^query _sips._tcp.slow.example.org. SRV" "$T/dns.out"
t0=$(date +%s%N)
check "a request from the partner whose DNS is down: unverified, 403 at once" \
	[ "$(fed slow partner x@slow.example.org)" = 403 ]
t1=$(date +%s%N)
check "... answered in $(((t1 - t0) / 1000000)) ms (no resolver call on the worker)" \
	[ $(((t1 - t0) / 1000000)) -lt 1500 ]
check "... and the partner's own server still federated right after (480)" \
	[ "$(fed own2 partner carol@partner.example.net)" = 480 ]
check "a blocked domain, even with a good certificate: 403" \
	[ "$(fed blk partner x@blocked.example.org)" = 403 ]
check "a domain that is no partner, with a good certificate: 403" \
	[ "$(fed unk partner x@unknown.example.org)" = 403 ]
check "DNS was never asked about domains that are no partners (a From is anybody's choice)" \
	bash -c "! grep -Eq '^query .*(unknown|blocked)\.example\.org' '$T/dns.out'"
check "the external ones are logged as such" grep -q \
	"event=policy rule=(default) from=sip:carol@partner.example.net .*zone=external" \
	"$T/greenwichd.log"
sipp_run udp uac_message.xml -set user carol -set domain partner.example.net \
	-set to alice@corp.example.com -set body udp
check "a partner user's MESSAGE over plain UDP: external, 403" [ "$(last_status udp)" = 403 ]

check "corp still running" kill -0 "$GWD_PID"
check "partner still running" kill -0 "$PPID_GWD"
finish
