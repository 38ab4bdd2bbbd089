#!/bin/bash
# greenwichd on PostgreSQL keeps answering while the database does not: the
# cluster's processes (started by this test) are stopped with SIGSTOP, and
# OPTIONS, a SUBSCRIBE on worker 0 and MESSAGEs between registered users (UDP and
# TCP, Digest sign-in) are still answered and delivered; a PUBLISH, a SOAP
# setPresence and a new binding wait for the database (durable before their 200)
# and are answered once it continues; watchers are told of the two changes only
# then.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/pg/pg-cluster.sh
. "$top_srcdir/tests/pg/pg-cluster.sh"
trap 'cleanup; pg_cluster_stop' EXIT

check "a throw-away PostgreSQL cluster starts" pg_cluster_start
write_conf "[store]" "backend = postgresql" "conninfo = $PG_CONNINFO" "pool-size = 4"
for u in alice bob carol dave; do add_user "$u" secret; done
start_gwd
check "greenwichd started on PostgreSQL" grep -q "event=started" "$T/greenwichd.log"
PM=$(head -1 "$PG_DIR/data/postmaster.pid")
# the postmaster and its children (the backends serving greenwichd among them)
mapfile -t PGPIDS < <(echo "$PM"; ps -o pid= --ppid "$PM" | tr -d ' ')
run_cases pool_cases.py stall "$PORT" "${PGPIDS[@]}"
check "the stall case ran to its end" grep -q "setContact" "$T/case-stall.out"
check "carol's publication answered 200 is in the store" \
	[ "$(pg_sql "SELECT count(*) FROM presence_publications WHERE aor = 'carol@$DOMAIN'")" = 1 ]
finish
