#!/bin/bash
# Front ends that know each other: two greenwichd on loopback share one throw-away
# PostgreSQL ([pool]).  Each records itself in the store; a user on front end 1
# messages and calls a user on front end 2 (UDP, TCP), delivered over the
# receiver's own connection; presence crosses the pool (a watcher on front end
# 2 sees publications, setPresence and ACL changes made on front end 1 or by
# greenwich-mmc; a watcher that moves gets the whole state); an outsider
# forging the pool's header is refused and nothing is delivered, as is a
# captured hop sent again; a front end killed with SIGKILL is taken out: its users
# get 480 until they register on the other.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/pg/pg-cluster.sh
. "$top_srcdir/tests/pg/pg-cluster.sh"
trap 'cleanup; pg_cluster_stop' EXIT

check "a throw-away PostgreSQL cluster starts" pg_cluster_start
head -c 48 /dev/urandom | base64 > "$T/pool.key"
chmod 600 "$T/pool.key"
write_conf "[store]" "backend = postgresql" "conninfo = $PG_CONNINFO" "pool-size = 4" \
	"[pool]" "secret-file = $T/pool.key" "id = fe1" "heartbeat = 1" "dead-after = 4"
P1=$PORT
for u in alice bob carol dave; do add_user "$u" secret; done
# front end 2: the same configuration on other ports and state
P2=$(free_port)
mkdir -p "$T/fe2/state"
sed -e "s/127.0.0.1:$P1/127.0.0.1:$P2/g" -e "s|^state-directory = .*|state-directory = $T/fe2/state|" \
	-e "s|^pid-file = .*|pid-file = $T/fe2/greenwichd.pid|" \
	-e "s|^control-socket = .*|control-socket = $T/fe2/control.sock|" \
	-e "s/^id = fe1/id = fe2/" "$T/greenwich.conf" > "$T/fe2/greenwich.conf"
check "[pool] is accepted by --check-config" "$GWD" --check-config -c "$T/fe2/greenwich.conf"
start_gwd
"$GWD" --allow-root -c "$T/fe2/greenwich.conf" -f >> "$T/greenwichd-fe2.log" 2>&1 &
FE2=$!
PIDS+=("$FE2")
for _ in $(seq 1 100); do grep -q event=started "$T/greenwichd-fe2.log" && break; sleep 0.05; done
check "front end 2 started" grep -q "event=pool-joined frontend=fe2" "$T/greenwichd-fe2.log"
check "front end 1 joined the pool" grep -q "event=pool-joined frontend=fe1" "$T/greenwichd.log"
check "both front ends are recorded in the store" \
	[ "$(pg_sql "SELECT string_agg(id || '=' || address, ',' ORDER BY id) FROM frontends")" = \
	"fe1=127.0.0.1:$P1,fe2=127.0.0.1:$P2" ]

status_of() { # status_of FRONT-END: its health in `greenwich-mmc pool status --json`
	"$MMC" -c "$T/greenwich.conf" --json pool status |
		python3 -c "import json,sys; print(''.join(f['health'] for f in json.load(sys.stdin) if f['id'] == sys.argv[1]))" "$1"
}
"$MMC" -c "$T/greenwich.conf" pool status > "$T/pool-status.txt"
check "greenwich-mmc pool status lists both front ends" \
	bash -c "grep -q '^fe1 .*127.0.0.1:$P1 .* up' '$T/pool-status.txt' && grep -q '^fe2 .*127.0.0.1:$P2 .* up' '$T/pool-status.txt'"
check "and says both are up (--json)" [ "$(status_of fe1)$(status_of fe2)" = upup ]

run_cases pool_cases.py across "$P1" "$P2"
check "bob's binding records front end 2" \
	[ "$(pg_sql "SELECT frontend FROM bindings WHERE aor = 'bob@$DOMAIN'")" = fe2 ]
check "front end 2 logged the forged hops" grep -q "event=admission-refused.*bad signature" \
	"$T/greenwichd-fe2.log"
run_cases pool_cases.py replay "$P2" "$T/pool.key"
check "front end 2 logged the replayed hop" grep -q "event=admission-refused.*replayed" \
	"$T/greenwichd-fe2.log"

# a call from front end 1 to front end 2 (UDP), record-routed through both
B=$(free_port)
TARGET_PORT=$P2 register rd dave secret "<sip:dave@127.0.0.1:$B>" 600
check "dave registered on front end 2" [ "$(last_status rd)" = 200 ]
sleep 1
sipp_bg uas-dave uas_call.xml "$B" -m 1
PD=$SIPP_BG_PID
sipp_run call1 uac_call.xml -au alice -ap secret -set user alice -set domain $DOMAIN -set to "dave@$DOMAIN"
check "alice (front end 1) called dave (front end 2): INVITE/ACK/BYE completed" [ "$SIPP_RC" = 0 ]
check "dave's device saw the INVITE, the ACK and the BYE" sipp_wait "$PD"
rr_by() { grep -a -m2 '^Record-Route:' "$T/uas-dave.msg" | grep -q "127.0.0.1:$1;"; }
check "the INVITE dave got was record-routed by front end 2" rr_by "$P2"
check "and by front end 1" rr_by "$P1"

# presence across the pool (gw_presence, gw_lists)
run_cases pool_cases.py presence "$P1" "$P2" "$MMC" "$T/greenwich.conf"
check "alice's publications record front end 1" \
	[ "$(pg_sql "SELECT string_agg(DISTINCT frontend, ',') FROM presence_publications WHERE aor = 'alice@$DOMAIN'")" = fe1 ]
check "carol's subscription records front end 2" \
	[ "$(pg_sql "SELECT string_agg(DISTINCT frontend, ',') FROM presence_subscriptions WHERE watcher = 'carol@$DOMAIN'")" = fe2 ]

# front end 2 dies: its users are out until they register on front end 1
kill -KILL "$FE2"
wait "$FE2" 2>/dev/null || true
sleep 6 # dead-after 4 s, heartbeat 1 s
check "front end 1 saw front end 2 go" grep -q "event=frontend-down frontend=fe2" "$T/greenwichd.log"
check "greenwich-mmc pool status says front end 2 is down, 1 up" \
	[ "$(status_of fe2)/$(status_of fe1)" = down/up ]
run_cases pool_cases.py down "$P1"
finish
