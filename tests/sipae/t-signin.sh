#!/bin/bash
# MS-SIPAE sign-in against greenwichd, checked by the independent client
# (tests/sipae/sipae_client.py): a real Samba AD DC in its own network namespace, greenwichd
# joined with adcli (service sip, host greenwich.<domain>) and running in that namespace.
# NTLM (CORP\alice and the UPN) and Kerberos sign-in with every later message signed both
# ways, alice's MESSAGE reaching carol, and the refusals: wrong password (401, then a bare
# challenge), spoofed From (403), tampered signed header, unknown opaque, unsigned and
# replayed requests (401 with a fresh challenge, never routed to carol). Sign-in over TLS too.
# The same checks run against a scripted server in t-sipae-client-selftest.sh.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/signin-lib.sh"

sae_dc_up

# ---------------------------------------------------------------------------------------
# greenwichd's configuration for MS-SIPAE sign-in. The keys below follow greenwich.conf(5)
# as the lead documented them ([domain] name/keytab/fqdn/enabled-group, [auth] schemes);
# adjust HERE if the server side lands with other names.
SIGNIN_DOMAIN_CONF=(
	"[domain]"
	"name = $ADDC_DNS_DOMAIN"
	"keytab = $D/gw.keytab"
	"fqdn = $FQDN"
	"enabled-group = Greenwich Users"
)
SIGNIN_AUTH_SCHEMES=${SIGNIN_AUTH_SCHEMES-Kerberos,NTLM}   # empty: leave [auth] schemes out
# ---------------------------------------------------------------------------------------

GWD_WRAP="$ADDC run-with-hosts $D -- $T/exec-pid $T/gwd.realpid"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.crt" \
	-days 2 -subj "/CN=$FQDN" 2>/dev/null
write_conf "${SIGNIN_DOMAIN_CONF[@]}" "[tls]" "certificate = $T/server.crt" "key = $T/server.key"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"
# write_conf already opened [auth]: add the schemes there
[ -z "$SIGNIN_AUTH_SCHEMES" ] ||
	sed -i "s/^\[auth\]\$/[auth]\nschemes = $SIGNIN_AUTH_SCHEMES/" "$T/greenwich.conf"
start_gwd
GWD_PID=$(cat "$T/gwd.realpid")
REAL_PIDS+=("$GWD_PID")
SPORT=$PORT

signin_scenario

# bob's SIP address is his primary proxyAddresses entry, not his mail
client robert --user bob --ntlm-domain CORP --password Blue-Sky-22 --aor "sip:robert@$DOMAIN" register
ok_run robert "CORP\\bob signs in as his SIP address sip:robert@$DOMAIN"

SPORT=$TLSPORT
client tls-alice "${ALICE[@]}" --tls register --refresh
ok_run tls-alice "NTLM sign-in over TLS, signed refresh REGISTER"
client tls-krb "${ALICE_KRB[@]}" --tls register --refresh
ok_run tls-krb "Kerberos sign-in over TLS, signed refresh REGISTER"

# every client above has closed its connection: the bindings made over those
# connections go (sa_unregister, at the next housekeeping second), from memory
# and the store, as a de-REGISTER would
alice_bindings() {
	/usr/bin/python3 - "$T/control.sock" "alice@$DOMAIN" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((json.dumps({"cmd": "registrations", "aor": sys.argv[2]}) + "\n").encode())
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
r = json.loads(data)
print(sum(len(u["contacts"]) for u in r.get("registrations", [])))
PY
}
for _ in $(seq 1 50); do
	[ "$(alice_bindings)" = 0 ] && break
	sleep 0.1
done
check "alice's bindings went with her closed connections" [ "$(alice_bindings)" = 0 ]
check "greenwichd still running" kill -0 "$GWD_PID"
finish
