#!/bin/bash
# Interoperability in a pool: two greenwichd front ends share one throw-away PostgreSQL
# and the pool's one service account (sip/greenwich.<domain>, one keytab), both in the
# real Samba AD DC's network namespace.  Two real pidgin-sipe 1.25 clients (purple-sipe)
# sign in over TLS -- alice with NTLM on front end 1, bob (sip:robert@...) with Kerberos on
# front end 2 -- each adds the other from the client (sipe's setContact), and every status
# change and IM must reach the other client across the pool.  Asserted on the receiving
# client's side (its libpurple events), and in both front ends' logs.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/interop/purple-sipe-env.sh
. "$(dirname "$0")/purple-sipe-env.sh"
# shellcheck source=tests/interop/sipe-domain.sh
. "$(dirname "$0")/sipe-domain.sh"
# shellcheck source=tests/pg/pg-cluster.sh
. "$top_srcdir/tests/pg/pg-cluster.sh"
trap 'dc_cleanup; pg_cluster_stop' EXIT

# cmd NAME LINE: one command to a running client (its NAME.in FIFO).
declare -A FIFO_FD=()
cmd() {
	echo "$2" >&"${FIFO_FD[$1]}"
}
# fifo NAME: NAME.in, kept open for reading and writing by this shell (no EOF, no block).
fifo() {
	local fd
	mkfifo "$T/$1.in"
	exec {fd}<>"$T/$1.in"
	FIFO_FD[$1]=$fd
}
# sees WATCHER BUDDY STATUS: WATCHER's client reports BUDDY in STATUS (bounded wait).
sees() {
	wait_for "$T/$1.out" \
		"buddy-(status-changed buddy=$2 old=[^ ]+ new=$3|signed-(on|off) buddy=$2 status=$3)\$" \
		"${4:-150}"
}

# the database is reached over its Unix socket, which the DC's network namespace shares
check "a throw-away PostgreSQL cluster starts" pg_cluster_start
head -c 48 /dev/urandom | base64 > "$T/pool.key"
chmod 600 "$T/pool.key"

# front end 1: sipe-domain.sh's greenwichd, on the PostgreSQL store, in the pool
domain_up "[presence]" "max-expires = 3600" \
	"[store]" "backend = postgresql" "conninfo = $PG_CONNINFO" "pool-size = 4" \
	"[pool]" "secret-file = $T/pool.key" "id = fe1" "heartbeat = 1" "dead-after = 4"
P1=$PORT TLS1=$TLSPORT P2=$(free_port) TLS2=$(free_port)
# front end 2: the same pool name, keytab, certificate and database; its own ports,
# state, control socket and pool id
mkdir -p "$T/fe2/state"
sed -e "s/127.0.0.1:$P1\$/127.0.0.1:$P2/" -e "s/127.0.0.1:$TLS1\$/127.0.0.1:$TLS2/" \
	-e "s|^state-directory = .*|state-directory = $T/fe2/state|" \
	-e "s|^pid-file = .*|pid-file = $T/fe2/greenwichd.pid|" \
	-e "s|^control-socket = .*|control-socket = $T/fe2/control.sock|" \
	-e "s/^id = fe1/id = fe2/" "$T/greenwich.conf" > "$T/fe2/greenwich.conf"
check "front end 2 listens elsewhere" grep -q "^tls = 127.0.0.1:$TLS2\$" "$T/fe2/greenwich.conf"
"$ADDC" run-with-hosts "$D" -- env KRB5_CONFIG="$D/krb5.conf" "$T/exec-pid" "$T/gwd2.realpid" \
	"$GWD" --allow-root -c "$T/fe2/greenwich.conf" -f >> "$T/greenwichd-fe2.log" 2>&1 &
PIDS+=("$!")
check "front end 2 started with the same keytab" wait_for "$T/greenwichd-fe2.log" "event=started" 100
GWD2_PID=$(cat "$T/gwd2.realpid")
PIDS+=("$GWD2_PID")
check "both are in the pool" \
	[ "$(pg_sql "SELECT string_agg(id, ',' ORDER BY id) FROM frontends")" = fe1,fe2 ]

ALICE=sip:alice@$DOMAIN
ROBERT=sip:robert@$DOMAIN

# ---- alice: NTLM on front end 1 ----
fifo alice
TLSPORT=$TLS1 client alice ntlm "$ALICE" --login 'CORP\alice' --password Apple-Pie-11 \
	--commands --timeout 400
if ! wait_for "$T/alice.out" " signed-on " 300; then
	fail "alice signed in with NTLM on front end 1: $(why alice)"
	finish
	exit 1
fi
pass "alice signed in with NTLM on front end 1"
check "alice subscribed to her contact list" wait_for "$T/alice.err" \
	"^Event: vnd-microsoft-roaming-contacts" 50
sleep 1
cmd alice "add-buddy $ROBERT Colleagues"
check "alice's client stored robert on her list (setContact on front end 1)" \
	wait_for "$T/greenwichd.log" "event=contact-set owner=alice@$DOMAIN contact=robert@$DOMAIN" 100

# ---- bob: Kerberos from his ticket cache, on front end 2 ----
check "kinit bob@$ADDC_REALM" kinit_user bob bob Blue-Sky-22
fifo bob
TLSPORT=$TLS2 client bob kerberos "$ROBERT" --sso --commands --timeout 400
if ! wait_for "$T/bob.out" " signed-on " 300; then
	fail "bob signed in with Kerberos on front end 2: $(why bob)"
	finish
	exit 1
fi
pass "bob signed in with Kerberos on front end 2"
check "bob subscribed to his contact list" wait_for "$T/bob.err" \
	"^Event: vnd-microsoft-roaming-contacts" 50
sleep 1
cmd bob "add-buddy $ALICE Colleagues"
check "bob's client stored alice on his list (setContact on front end 2)" \
	wait_for "$T/greenwichd-fe2.log" "event=contact-set owner=robert@$DOMAIN contact=alice@$DOMAIN" 100
check "both lists are in the one database" [ "$("${MMC}" -c "$T/greenwich.conf" users contacts \
	"robert@$DOMAIN" | grep -c "^alice@$DOMAIN ")" = 1 ]

check "bob sees alice available" sees bob "$ALICE" available
check "alice sees robert available" sees alice "$ROBERT" available

# ---- status changes across the pool ----
cmd alice "status away"
check "bob (front end 2) sees alice away" sees bob "$ALICE" away
cmd alice "status available"
check "bob sees alice available again" wait_for "$T/bob.out" \
	"buddy-status-changed buddy=$ALICE old=away new=available" 150
cmd bob "status away"
check "alice (front end 1) sees robert away" sees alice "$ROBERT" away
cmd bob "status available"
check "alice sees robert available again" wait_for "$T/alice.out" \
	"buddy-status-changed buddy=$ROBERT old=away new=available" 150

# ---- an IM each way ----
cmd alice "im $ROBERT pool-im-1 from alice"
check "bob's client got alice's IM across the pool" wait_for "$T/bob.out" \
	"received-im-msg from=$ALICE text=pool-im-1 from alice\$" 150
cmd bob "im $ALICE pool-im-2 from bob"
check "alice's client got bob's IM across the pool" wait_for "$T/alice.out" \
	"received-im-msg from=$ROBERT text=pool-im-2 from bob\$" 150
check "no delivery error on either client" bash -c \
	"! grep -q ' im-error ' '$T/alice.out' '$T/bob.out'"
# sipe opens an IM session with an INVITE (alice's, front end 1 to front end 2: a pool
# hop there); bob's answer travels in that session, through both front ends
check "front end 2 took alice's session as a pool hop from front end 1" grep -q \
	"event=pool-hop user=alice@$DOMAIN to=robert@$DOMAIN" "$T/greenwichd-fe2.log"
for f in greenwichd-fe2 greenwichd; do
	check "bob's IM passed $f" grep -q \
		"from=$ROBERT to=$ALICE method=MESSAGE class=im .* result=allow" "$T/$f.log"
done

# ---- sign-out ----
cmd bob quit
check "bob's client signed out (exit 0)" [ "$(exit_status bob 150)" = 0 ]
check "alice sees robert offline" sees alice "$ROBERT" offline
cmd alice quit
check "alice's client signed out (exit 0)" [ "$(exit_status alice 150)" = 0 ]

kill -TERM "$GWD2_PID"
for _ in $(seq 1 100); do kill -0 "$GWD2_PID" 2>/dev/null || break; sleep 0.1; done
check "front end 2 stopped on SIGTERM" bash -c "! kill -0 $GWD2_PID 2>/dev/null"
check "no sanitizer report from front end 2" \
	bash -c "! grep -a -q -E 'Sanitizer|runtime error:' '$T/greenwichd-fe2.log'"
gwd_stop_clean
finish
