#!/bin/bash
# greenwichd on PostgreSQL keeps answering while the database does not: the
# cluster's processes (started by this test) are stopped with SIGSTOP, and
# OPTIONS, a PUBLISH on worker 0 and MESSAGEs between registered users (UDP and
# TCP, Digest sign-in) are still answered and delivered; a new binding waits for
# the database (durable before its 200) and is answered once it continues.
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
finish
