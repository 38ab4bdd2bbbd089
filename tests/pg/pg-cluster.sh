# shellcheck shell=bash
# pg-cluster.sh - a throw-away PostgreSQL cluster for the store tests (bash, sourced).
#
# pg_cluster_start: initdb (Debian's postgresql-15) in a new directory PG_DIR (under
# $TMPDIR, its own: the cluster's user must reach it), the server started on a
# free loopback port and a socket directory of its own, and an empty database
# "greenwich" owned by the user "greenwich" (trust authentication: nothing but this
# test can reach the socket, and the port is on 127.0.0.1).  As root the cluster runs
# as the user nobody (PostgreSQL refuses to run as root).  Sets PG_CONNINFO, PG_PORT.
# pg_standby_start: a streaming standby of it (pg_basebackup -R into $PG_DIR/standby),
# started on a port (PG_PORT2) and a socket directory of its own; PG_CONNINFO then names
# both in libpq's multi-host form with target_session_attrs=read-write.
# pg_primary_stop: a fast shutdown of the primary.  pg_promote: pg_ctl promote of the
# standby (waits until it accepts writes).
# pg_cluster_stop: stops them by the pid in their postmaster.pid and removes PG_DIR (kept
# with KEEP=1, its postgresql.log says what the server saw).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=
PG_RUN=()

pg_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_cluster_start() {
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/gwpg.XXXXXX") || return 1
	if [ "$(id -u)" = 0 ]; then
		chown nobody "$PG_DIR"
		PG_RUN=(runuser -u nobody --)
	fi
	PG_PORT=$(pg_free_port)
	"${PG_RUN[@]}" mkdir -p "$PG_DIR/sock" || return 1
	if ! "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U greenwich -A trust -E UTF8 \
		--locale=C >"$PG_DIR/initdb.log" 2>&1; then
		echo "initdb failed:"; tail -5 "$PG_DIR/initdb.log"; return 1
	fi
	if ! "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgresql.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_DIR/sock" \
		start >/dev/null; then
		echo "PostgreSQL did not start:"; tail -5 "$PG_DIR/postgresql.log"; return 1
	fi
	if ! "$PG_BIN/createdb" -h "$PG_DIR/sock" -p "$PG_PORT" -U greenwich greenwich; then
		echo "createdb failed"; return 1
	fi
	PG_CONNINFO="host=$PG_DIR/sock port=$PG_PORT dbname=greenwich user=greenwich"
	export PG_CONNINFO PG_PORT
}

pg_standby_start() {
	PG_PORT2=$(pg_free_port)
	"${PG_RUN[@]}" mkdir -p "$PG_DIR/sock2" || return 1
	if ! "${PG_RUN[@]}" "$PG_BIN/pg_basebackup" -h "$PG_DIR/sock" -p "$PG_PORT" -U greenwich \
		-D "$PG_DIR/standby" -R -X stream -c fast >"$PG_DIR/basebackup.log" 2>&1; then
		echo "pg_basebackup failed:"; tail -5 "$PG_DIR/basebackup.log"; return 1
	fi
	if ! "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/standby" -l "$PG_DIR/standby.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $PG_PORT2 -c unix_socket_directories=$PG_DIR/sock2" \
		start >/dev/null; then
		echo "the standby did not start:"; tail -5 "$PG_DIR/standby.log"; return 1
	fi
	PG_CONNINFO="host=$PG_DIR/sock,$PG_DIR/sock2 port=$PG_PORT,$PG_PORT2 dbname=greenwich"
	PG_CONNINFO+=" user=greenwich target_session_attrs=read-write connect_timeout=2"
	export PG_CONNINFO PG_PORT2
}

pg_primary_stop() {
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null
}

pg_promote() {
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/standby" -w -t 60 promote >/dev/null
}

# pg_sql SQL: run SQL in the test database; rows on stdout, unaligned.
pg_sql() {
	"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$PG_CONNINFO" -c "$1"
}

pg_cluster_stop() {
	local pidfile pid
	[ -n "$PG_DIR" ] || return 0
	for pidfile in "$PG_DIR/data/postmaster.pid" "$PG_DIR/standby/postmaster.pid"; do
		[ -e "$pidfile" ] || continue
		pid=$(head -1 "$pidfile")
		kill -INT "$pid" 2>/dev/null || true # fast shutdown
		for _ in $(seq 1 200); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "PostgreSQL $pid did not stop (files kept in $PG_DIR)"; return 1
		fi
	done
	if [ -z "${KEEP:-}" ]; then rm -rf "$PG_DIR"; else echo "PostgreSQL files kept in $PG_DIR"; fi
	PG_DIR=
}
