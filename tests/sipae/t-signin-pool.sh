#!/bin/bash
# Kerberos sign-in in a pool: two greenwichd share one throw-away PostgreSQL and the
# pool's one service account (joined once: sip/<pool name>, one keytab both read),
# both in the real Samba AD DC's network namespace.  alice signs in with Kerberos on
# front end 1, carol on front end 2, each for the same SPN; they message each other
# across the pool, every message signed by the front end its receiver signed in to.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/sipae/signin-lib.sh
. "$(dirname "$0")/signin-lib.sh"
# shellcheck source=tests/pg/pg-cluster.sh
. "$top_srcdir/tests/pg/pg-cluster.sh"
trap 'sae_cleanup; pg_cluster_stop' EXIT

sae_dc_up
# the database is reached over its Unix socket, which the DC's network namespace shares
check "a throw-away PostgreSQL cluster starts" pg_cluster_start
head -c 48 /dev/urandom | base64 > "$T/pool.key"
chmod 600 "$T/pool.key"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.crt" \
	-days 2 -subj "/CN=$FQDN" 2>/dev/null
# both front ends: the pool's name ($FQDN), its keytab, its certificate
write_conf "[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" "sip-keytab = $D/sip.keytab" "fqdn = $FQDN" \
	"enabled-group = Greenwich Users" "[tls]" "certificate = $T/server.crt" "key = $T/server.key" \
	"[store]" "backend = postgresql" "conninfo = $PG_CONNINFO" "pool-size = 4" \
	"[pool]" "secret-file = $T/pool.key" "id = fe1" "heartbeat = 1" "dead-after = 4"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"
sed -i "s/^\[auth\]\$/[auth]\nschemes = Kerberos,NTLM/" "$T/greenwich.conf"
P1=$PORT TLS1=$TLSPORT P2=$(free_port) TLS2=$(free_port)
mkdir -p "$T/fe2/state"
sed -e "s/127.0.0.1:$P1\$/127.0.0.1:$P2/" -e "s/127.0.0.1:$TLS1\$/127.0.0.1:$TLS2/" \
	-e "s|^state-directory = .*|state-directory = $T/fe2/state|" \
	-e "s|^pid-file = .*|pid-file = $T/fe2/greenwichd.pid|" \
	-e "s|^control-socket = .*|control-socket = $T/fe2/control.sock|" \
	-e "s/^id = fe1/id = fe2/" "$T/greenwich.conf" > "$T/fe2/greenwich.conf"
check "front end 2 listens elsewhere" grep -q "^tls = 127.0.0.1:$TLS2\$" "$T/fe2/greenwich.conf"

fe_up() { # fe_up N CONF
	start_in_dc "greenwichd-fe$1" "$GWD" --allow-root -c "$2" -f
	wait_for "$T/greenwichd-fe$1.log" "event=started" 100
}
check "front end 1 started (joined to the domain as $FQDN)" fe_up 1 "$T/greenwich.conf"
check "front end 2 started with the same keytab" fe_up 2 "$T/fe2/greenwich.conf"
check "both are in the pool" \
	[ "$(pg_sql "SELECT string_agg(id, ',' ORDER BY id) FROM frontends")" = fe1,fe2 ]

SAE_TLS=1
CAROL_KRB=(--scheme kerberos --user carol --password Coral-Reef-33)
# alice (front end 1) -> carol (front end 2)
SPORT=$TLS2
client_bg carol-fe2 "${CAROL_KRB[@]}" receive --count 1 --exact --wait 12
sleep 1 # front end 1 hears of carol's binding
SPORT=$TLS1
client alice-send "${ALICE_KRB[@]}" send-message --to "sip:carol@$DOMAIN" --text "pool-krb-1"
ok_run alice-send "alice signed in with Kerberos on front end 1; her MESSAGE to carol answered 2xx"
bg_done carol-fe2
check "carol, signed in with Kerberos on front end 2, got it once, signed (exit $CRC)" [ "$CRC" = 0 ]
check "... with alice's text" grep -q "^MESSAGE from sip:alice@$DOMAIN .*: pool-krb-1" \
	"$T/carol-fe2.log"
# carol (front end 2) -> alice (front end 1)
SPORT=$TLS1
client_bg alice-fe1 "${ALICE_KRB[@]}" receive --count 1 --exact --wait 12
sleep 1
SPORT=$TLS2
client carol-send "${CAROL_KRB[@]}" send-message --to "sip:alice@$DOMAIN" --text "pool-krb-2"
ok_run carol-send "carol's MESSAGE to alice from front end 2 answered 2xx"
bg_done alice-fe1
check "alice on front end 1 got it once, signed (exit $CRC)" [ "$CRC" = 0 ]
check "... with carol's text" grep -q "^MESSAGE from sip:carol@$DOMAIN .*: pool-krb-2" \
	"$T/alice-fe1.log"

for n in 1 2; do
	check "front end $n signed users in with Kerberos for sip/$FQDN" \
		grep -q "event=sign-in scheme=Kerberos" "$T/greenwichd-fe$n.log"
	check "front end $n took a hop from the other" grep -q "event=pool-hop" "$T/greenwichd-fe$n.log"
done
finish
