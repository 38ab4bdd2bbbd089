#!/bin/bash
# greenwichd on the PostgreSQL store ([store] backend = postgresql), on a throw-away
# cluster: local accounts made by greenwich-mmc land in PostgreSQL (no SQLite file is
# made), a binding answered 200 is in the database, survives a restart, and a MESSAGE
# reaches its device afterwards; killed with SIGKILL under a REGISTER flood, every
# binding answered 200 is in PostgreSQL and loaded again at restart; --check-config
# reaches the database and reports one it cannot reach, a role that does not exist
# and a schema newer than it knows, without starting (and without changing it).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/pg/pg-cluster.sh
. "$top_srcdir/tests/pg/pg-cluster.sh"
trap 'cleanup; pg_cluster_stop' EXIT

check "a throw-away PostgreSQL cluster starts" pg_cluster_start
write_conf "[registrar]" "max-contacts = 1000" "[store]" "backend = postgresql" \
	"conninfo = $PG_CONNINFO" "pool-size = 3"
check "the configuration with [store] is accepted" "$GWD" --check-config -c "$T/greenwich.conf"
"$GWD" --check-config -c "$T/greenwich.conf" > "$T/check.out" 2>&1
check "--check-config reached the database (no tables yet)" grep -q "PostgreSQL reachable" "$T/check.out"
check "and made nothing there" [ "$(pg_sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ]
# bad_store NAME CONNINFO TEXT: --check-config with that conninfo fails, saying TEXT
bad_store() {
	sed "s|^conninfo = .*|conninfo = $2|" "$T/greenwich.conf" > "$T/$1.conf"
	! "$GWD" --check-config -c "$T/$1.conf" > "$T/$1.out" 2>&1 &&
		grep -q "\[store\] PostgreSQL: .*$3" "$T/$1.out"
}
check "--check-config: an unreachable PostgreSQL is an error naming it" \
	bad_store down "host=127.0.0.1 port=$(free_port) dbname=greenwich user=greenwich" "127.0.0.1"
check "--check-config: a role that does not exist is an error saying so" \
	bad_store role "${PG_CONNINFO/user=greenwich/user=nosuchrole}" "nosuchrole"
add_user alice alice-pw
add_user bob bob-pw
check "greenwich-mmc stored the accounts in PostgreSQL" \
	[ "$(pg_sql "SELECT count(*) FROM local_users")" = 2 ]
listed() { "$MMC" -c "$T/greenwich.conf" local-user list | grep -q "bob@$DOMAIN"; }
check "greenwich-mmc lists them from PostgreSQL" listed
start_gwd
check "greenwichd started on PostgreSQL" grep -q "event=started" "$T/greenwichd.log"
no_sqlite() { ! compgen -G "$T/state/*.db" >/dev/null; }
check "no SQLite database was made" no_sqlite

B=$(free_port)
register rb bob bob-pw "<sip:bob@127.0.0.1:$B>" 600
check "bob registered (Digest checked against PostgreSQL)" [ "$(last_status rb)" = 200 ]
check "his binding was in PostgreSQL when the 200 came" \
	[ "$(pg_sql "SELECT count(*) FROM bindings WHERE aor = 'bob@$DOMAIN'")" = 1 ]

deliver() { im_delivered "$1" "$B"; } # alice sends bob a MESSAGE; his device must get it
check "delivered before restart" deliver before
stop_gwd TERM
start_gwd
check "restart loaded the binding from PostgreSQL" \
	grep -q "event=started.*bindings=1" "$T/greenwichd.log"
check "delivered after a restart" deliver after-restart

# SIGKILL with REGISTERs in flight: each one answered 200 is in PostgreSQL
sed -i 's/^level = debug/level = notice/' "$T/greenwich.conf"
stop_gwd TERM
start_gwd
echo "$GWD_PID" > "$T/kill.pid"
N=400
/usr/bin/python3 "$(dirname "$0")/regflood.py" "$PORT" alice alice-pw "$DOMAIN" $N kill \
	"$T/kill.pid" "$T/ok.txt" > "$T/flood.out"
for _ in $(seq 1 50); do kill -0 "$GWD_PID" 2>/dev/null || break; sleep 0.1; done
OK=$(wc -l < "$T/ok.txt")
check "killed after 200s with REGISTERs still in flight" grep -q "killed=True" "$T/flood.out"
check "at least a quarter answered 200 ($OK)" [ "$OK" -ge $((N / 4)) ]
check "fewer answered than sent: the kill came mid-load" [ "$OK" -lt $N ]
pg_sql "SELECT uri FROM bindings WHERE lower(aor) = 'alice@$DOMAIN'" | sort > "$T/stored.txt"
sort "$T/ok.txt" | comm -23 - "$T/stored.txt" > "$T/missing.txt"
check "every binding answered 200 is in PostgreSQL" [ ! -s "$T/missing.txt" ]
start_gwd
BOUND=$(grep event=started "$T/greenwichd.log" | tail -1 | sed -n 's/.*bindings=\([0-9]*\).*/\1/p')
check "restart loads at least the bindings answered 200 ($BOUND)" [ "${BOUND:-0}" -ge "$((OK + 1))" ]
check "delivered after the kill" deliver after-kill

# a database a newer Greenwich migrated: refused by --check-config and at start
stop_gwd TERM
"$GWD" --check-config -c "$T/greenwich.conf" > "$T/check2.out" 2>&1
check "--check-config on the current schema says so" grep -q "schema current" "$T/check2.out"
pg_sql "UPDATE gw_schema SET version = 99 WHERE part = 'state'" > /dev/null
check "--check-config: a schema newer than this Greenwich is an error saying so" \
	bad_store newer "$PG_CONNINFO" "schema version 99 of the state tables is newer"
check "and the database was left as it was" \
	[ "$(pg_sql "SELECT version FROM gw_schema WHERE part = 'state'")" = 99 ]
"$GWD" --allow-root -c "$T/greenwich.conf" -f > "$T/newer-start.log" 2>&1 && rc=0 || rc=$?
check "greenwichd does not start on it (exit $rc)" [ "$rc" != 0 ]
check "and says why" grep -q "newer than this Greenwich" "$T/newer-start.log"
pg_sql "UPDATE gw_schema SET version = 2 WHERE part = 'state'" > /dev/null
finish
