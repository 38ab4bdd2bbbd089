#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# Federation and group rules against a real AD DC (tests/addc/addc.sh): greenwichd joined to
# corp.example.com, its federation settings and rules written with greenwich-mmc.
#   - "deny federated IM except to group Support": a partner server with a verified
#     certificate (fedclient.py, CA-signed, naming partner.example.net) reaches carol (in
#     Support) and nobody else; without a certificate it is external (the default: 403).
#   - a rule "to group Domain Users" covers users whose membership is only their primary
#     group (primaryGroupID), which memberOf does not show.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# sanitizer builds: full stacks through libcrypto, so that lsan-sofia.supp can name
# Sofia's certificate-check leak precisely (only these tests verify certificates)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
HERE=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=tests/integration/domain-lib.sh
. "$(dirname "$0")/domain-lib.sh"
domain_setup

# the test CA, our certificate and the partner server's
ca() { openssl "$@" 2>/dev/null; }
ca req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.crt" -days 2 \
	-subj "/CN=Greenwich test CA"
for c in "corp:DNS:corp.example.com" "partner:DNS:partner.example.net"; do
	n=${c%%:*}
	ca req -newkey rsa:2048 -nodes -keyout "$T/$n.key" -out "$T/$n.csr" -subj "/CN=$n"
	printf 'subjectAltName=%s\n' "${c#*:}" > "$T/$n.ext"
	ca x509 -req -in "$T/$n.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
		-out "$T/$n.crt" -extfile "$T/$n.ext"
done

write_conf "[tls]" "certificate = $T/corp.crt" "key = $T/corp.key" "ca-file = $T/ca.crt" \
	"[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" \
	"fqdn = greenwich.$ADDC_DNS_DOMAIN" "[policy]" "poll-interval = 1"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"

mmc() { KRB5CCNAME="FILE:$D/admin.ccache" "$ADDC" run-with-hosts "$D" -- "$MMC" -c "$T/greenwich.conf" "$@"; }
mmc federation allow partner.example.net > "$T/fed.out" 2>&1
check "partner.example.net allowed (in AD)" grep -qi "partner.example.net" "$T/fed.out"
mmc policy add 'rule "federated-im" priority 100 {
	class im; from zone federated; except to group Support; action deny; }' > "$T/add.out" 2>&1
check "rule added" grep -q "added rule 'federated-im'" "$T/add.out"

start_gwd
GWD_PID=$(cat "$T/gwd.realpid")
PIDS+=("$GWD_PID")
check "rules and federation loaded from AD" \
	wait_log "event=policy-loaded source=ad rules=1 .*federation=1"

fed() { # fed NAME CERT|- TO-USER: a partner server's MESSAGE to corp's TLS port; its status
	local crt=- key=-
	[ "$2" != - ] && crt="$T/$2.crt" key="$T/$2.key"
	nsenter --net="/run/netns/$ADDC_NETNS" /usr/bin/python3 "$HERE/fedclient.py" 127.0.0.1 \
		"$TLSPORT" "$T/ca.crt" "$crt" "$key" guest@partner.example.net "$3@$DOMAIN" "f-$1" \
		> "$T/fed-$1.out" 2>&1 || true
	sed -n 's/^status //p' "$T/fed-$1.out"
}
check "federated -> carol (Support): allowed by the exception (480, not signed in)" \
	[ "$(fed carol partner carol)" = 480 ]
check "federated -> alice: 403" [ "$(fed alice partner alice)" = 403 ]
check "federated -> robert: 403" [ "$(fed robert partner robert)" = 403 ]
check "no certificate -> carol: external, the default denies (403)" \
	[ "$(fed nocert - carol)" = 403 ]
check "logged: federated zone, rule, exception" grep -q \
	"event=policy rule=federated-im from=sip:guest@partner.example.net to=sip:carol@$DOMAIN .*zone=federated.*result=allow by=exception" \
	"$T/greenwichd.log"

# Domain Users: every user's primary group, which memberOf never lists
ext() { # ext NAME USER: an unauthenticated MESSAGE over UDP; its status
	sipp_run "$1" uac_message.xml -set user guest -set domain outside.test -set to "$2@$DOMAIN" \
		-set body hello
	last_status "$1"
}
check "external -> robert before the rule: 403" [ "$(ext e0 robert)" = 403 ]
mmc policy add 'rule "external-to-users" priority 50 {
	class im; from zone external; to group "Domain Users"; action allow; }' > "$T/add2.out" 2>&1
check "Domain Users rule added" grep -q "added rule 'external-to-users'" "$T/add2.out"
check "the new rules are in force" wait_log "event=policy-loaded source=ad rules=2" 20
check "external -> robert (member through primaryGroupID only): 480" [ "$(ext e1 robert)" = 480 ]
check "external -> alice too: 480" [ "$(ext e2 alice)" = 480 ]
check "external -> nobody (no such user, no member): 403" [ "$(ext e3 nobody)" = 403 ]
finish
