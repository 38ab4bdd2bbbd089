#!/bin/bash
# test-store-pg.sh - test_store (the store interface) on PostgreSQL: a throw-away
# cluster (tests/pg/pg-cluster.sh) started for the run and stopped after it.
set -u
: "${srcdir:=$(dirname "$0")}"
if [ ! -x ./test_store ]; then
	echo "SKIP: test_store was not built (configure found no cmocka: install libcmocka-dev)"
	exit 77
fi
# shellcheck source=tests/pg/pg-cluster.sh
. "$srcdir/../pg/pg-cluster.sh"
trap pg_cluster_stop EXIT
if ! pg_cluster_start; then
	echo "FAILED - cannot start a PostgreSQL cluster"
	exit 1
fi
GWSTORE_TEST_CONNINFO=$PG_CONNINFO ./test_store
