#!/bin/bash
# The binding hold of domain sign-in on every path (issue 18): a handshake REGISTER's
# binding receives nothing until its client has signed a request, whether a request finds
# it by the AOR (alone, or as one branch of a fork), by the device's own address (its
# Contact URI), or inside a dialog whose remote target an attacker registered again over
# its own connection (replaying the victim's Contact), or by a presence NOTIFY for a watcher
# whose connection went and whose Contact the attacker registered again (greenwichd falls
# back to the registration). Checked on the victim's side: the
# held client's connection receives nothing; after one signed request it receives the
# same requests. Over TLS, greenwichd joined to a real Samba AD DC, NTLM sign-in
# (tests/sipae/sipae_hold.py, built on the independent client sipae_client.py).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/sipae/signin-lib.sh
. "$(dirname "$0")/signin-lib.sh"

sae_dc_up
GWD_WRAP="$ADDC run-with-hosts $D -- $T/exec-pid $T/gwd.realpid"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.crt" \
	-days 2 -subj "/CN=$FQDN" 2>/dev/null
write_conf "[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" "sip-keytab = $D/sip.keytab" "fqdn = $FQDN" \
	"enabled-group = Greenwich Users" "[tls]" "certificate = $T/server.crt" \
	"key = $T/server.key"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"
sed -i "s/^\[auth\]\$/[auth]\nschemes = Kerberos,NTLM/" "$T/greenwich.conf"
start_gwd
GWD_PID=$(cat "$T/gwd.realpid")
REAL_PIDS+=("$GWD_PID")

in_dc "$PY" "$SAE/sipae_hold.py" --server "127.0.0.1:$TLSPORT" --domain "$DOMAIN" \
	--alice Apple-Pie-11 --carol Coral-Reef-33 --trace "$T/hold.trace" > "$T/hold.out" 2>&1 &&
	HRC=0 || HRC=$?
sed 's/^/  | /' "$T/hold.out"
check "every step of the hold scenario passed (exit $HRC)" [ "$HRC" = 0 ]
check "... 'ok' lines: $(grep -c '^ok: ' "$T/hold.out") of 19" [ "$(grep -c '^ok: ' "$T/hold.out")" = 19 ]
for path in aor device dialog notify; do
	check "greenwichd logged a held binding on the $path path" \
		grep -q "event=binding-held user=carol@$DOMAIN .*path=$path reason=" "$T/greenwichd.log"
done
check "... and the held SAs proven afterwards" \
	[ "$(grep -c "event=sa-proven .*user=carol@$DOMAIN" "$T/greenwichd.log")" -ge 3 ]
check "greenwichd still running" kill -0 "$GWD_PID"
finish
