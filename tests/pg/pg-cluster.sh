# shellcheck shell=bash
# pg-cluster.sh - a throw-away PostgreSQL cluster for the store tests (bash, sourced).
#
# pg_cluster_start: initdb (Debian's postgresql-15) in a new directory PG_DIR (under
# $TMPDIR, its own: the cluster's user must reach it), the server started on a
# free loopback port and a socket directory of its own, and an empty database
# "greenwich" owned by the user "greenwich" (trust authentication: nothing but this
# test can reach the socket, and the port is on 127.0.0.1).  As root the cluster runs
# as the user nobody (PostgreSQL refuses to run as root).  Sets PG_CONNINFO, PG_PORT.
# pg_cluster_stop: stops it by the pid in its postmaster.pid and removes PG_DIR (kept
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

# pg_sql SQL: run SQL in the test database; rows on stdout, unaligned.
pg_sql() {
	"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$PG_CONNINFO" -c "$1"
}

pg_cluster_stop() {
	local pidfile="$PG_DIR/data/postmaster.pid" pid
	[ -n "$PG_DIR" ] || return 0
	if [ -e "$pidfile" ]; then
		pid=$(head -1 "$pidfile")
		kill -INT "$pid" 2>/dev/null || true # fast shutdown
		for _ in $(seq 1 200); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "PostgreSQL $pid did not stop (files kept in $PG_DIR)"; return 1
		fi
	fi
	if [ -z "${KEEP:-}" ]; then rm -rf "$PG_DIR"; else echo "PostgreSQL files kept in $PG_DIR"; fi
	PG_DIR=
}
