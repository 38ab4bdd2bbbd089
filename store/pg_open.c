/*
 * pg_open.c - the PostgreSQL backend's one opener: the pool, the schema
 * version and its migrations, running prepared statements, transactions.
 *
 * Every table lives in one database (both parts), shared by every server of
 * a pool.  A statement outside a transaction commits on its own, and a
 * COMMIT returns once the primary has the transaction on disk (the server's
 * synchronous_commit, on by default), so a binding is durable before its
 * 200 OK as with SQLite.  Names compare without regard to case: the unique
 * indexes are on lower(...), as pg_sql.c's statements match them.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/* Every greenwichd and greenwich-mmc on the database migrates under this
 * lock, one at a time (pg_advisory_xact_lock; "gwst" in ASCII). */
#define PG_MIGRATE_LOCK "1735882612"

/* step[i] takes the database from version i to i + 1 (0: no version row). */
static const char *const location_steps[] = {
    "CREATE TABLE IF NOT EXISTS bindings ("
    " aor text NOT NULL, uri text NOT NULL, call_id text NOT NULL,"
    " cseq bigint NOT NULL, expires bigint NOT NULL, q integer NOT NULL,"
    " path text, instance text, user_agent text, transport text, addr text);"
    "CREATE UNIQUE INDEX IF NOT EXISTS bindings_key ON bindings ((lower(aor)), uri);",
    /* 2: the pool: which front end holds a binding's flow, and the front ends */
    "ALTER TABLE bindings ADD COLUMN IF NOT EXISTS frontend text;"
    "CREATE TABLE IF NOT EXISTS frontends ("
    " id text PRIMARY KEY, address text NOT NULL, version text NOT NULL,"
    " started bigint NOT NULL, heartbeat bigint NOT NULL, load bigint NOT NULL,"
    " bindings bigint NOT NULL);",
    /* 3: control requests relayed to another front end (greenwich-mmc --front-end) */
    "CREATE TABLE IF NOT EXISTS control_requests ("
    " id bigserial PRIMARY KEY, frontend text NOT NULL, request text NOT NULL,"
    " requester text NOT NULL, role text NOT NULL DEFAULT session_user,"
    " created bigint NOT NULL, expires bigint NOT NULL, taken bigint, reply text,"
    " answered bigint);"
    "CREATE INDEX IF NOT EXISTS control_requests_frontend ON control_requests (frontend)"
    " WHERE taken IS NULL;",
};

static const char *const state_steps[] = {
    "CREATE TABLE IF NOT EXISTS local_users ("
    " aor text NOT NULL, realm text NOT NULL, ha1_md5 text NOT NULL,"
    " ha1_sha256 text NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS local_users_key ON local_users ((lower(aor)));"
    "CREATE TABLE IF NOT EXISTS presence_publications ("
    " etag text PRIMARY KEY, aor text NOT NULL, expires bigint NOT NULL,"
    " seq bigint NOT NULL, source integer NOT NULL, open integer NOT NULL,"
    " activity integer NOT NULL, note text, call_id text, cseq bigint);"
    "CREATE TABLE IF NOT EXISTS presence_subscriptions ("
    " id bigserial PRIMARY KEY, event integer NOT NULL, presentity text NOT NULL,"
    " watcher text NOT NULL, call_id text NOT NULL, local text NOT NULL,"
    " remote text NOT NULL, contact text NOT NULL, route text, rseq bigint NOT NULL,"
    " lseq bigint NOT NULL, expires bigint NOT NULL, flags integer NOT NULL,"
    " transport text, addr text);"
    "CREATE TABLE IF NOT EXISTS presence_acl ("
    " owner text NOT NULL, watcher text NOT NULL,"
    " rule text NOT NULL CHECK (rule IN ('allow', 'block')));"
    "CREATE UNIQUE INDEX IF NOT EXISTS presence_acl_key ON presence_acl"
    " ((lower(owner)), (lower(watcher)));"
    "CREATE TABLE IF NOT EXISTS presence_contacts ("
    " owner text NOT NULL, uri text NOT NULL, name text, groups text,"
    " subscribed integer NOT NULL DEFAULT 1);"
    "CREATE UNIQUE INDEX IF NOT EXISTS presence_contacts_key ON presence_contacts"
    " ((lower(owner)), (lower(uri)));"
    /* group ids start at 2: 1 is the default group every list has */
    "CREATE SEQUENCE IF NOT EXISTS presence_groups_id START 2;"
    "CREATE TABLE IF NOT EXISTS presence_groups ("
    " id bigint PRIMARY KEY DEFAULT nextval('presence_groups_id'), owner text NOT NULL,"
    " name text NOT NULL);"
    "CREATE INDEX IF NOT EXISTS presence_groups_owner ON presence_groups ((lower(owner)));"
    "CREATE TABLE IF NOT EXISTS presence_delta (owner text NOT NULL, delta bigint NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS presence_delta_key ON presence_delta ((lower(owner)));",
    /* 2: the pool: which front end took a publication, holds a subscription */
    "ALTER TABLE presence_publications ADD COLUMN IF NOT EXISTS frontend text;"
    "ALTER TABLE presence_subscriptions ADD COLUMN IF NOT EXISTS frontend text;"
    "CREATE INDEX IF NOT EXISTS presence_publications_aor ON presence_publications"
    " ((lower(aor)));",
};

_Static_assert(sizeof(location_steps) / sizeof(location_steps[0]) == GWSTORE_LOCATION_VERSION,
	       "one PostgreSQL migration per location schema version");
_Static_assert(sizeof(state_steps) / sizeof(state_steps[0]) == GWSTORE_STATE_VERSION,
	       "one PostgreSQL migration per state schema version");

static const char *const part_names[] = {
    [GWSTORE_LOCATION] = "location",
    [GWSTORE_STATE] = "state",
};

static void
err_set(struct pg_store *st, const char *msg)
{
	snprintf(st->err, sizeof(st->err), "%s", msg && *msg ? msg : "PostgreSQL: unknown error");
	st->err[strcspn(st->err, "\n")] = '\0';
}

const char *
pg_num(struct pg_num *n, int64_t v)
{
	snprintf(n->s, sizeof(n->s), "%" PRId64, v);
	return n->s;
}

const char *
pg_col(const PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? "" : PQgetvalue(r, row, c);
}

int64_t
pg_int(const PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? 0 : strtoll(PQgetvalue(r, row, c), NULL, 10);
}

static bool
result_ok(const PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);

	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

static PGresult *
run_on(struct pg_store *st, struct pg_conn *pc, enum pg_q q, int n, const char *const *vals)
{
	PGconn *c = pc->c;
	char name[16];
	PGresult *r;

	snprintf(name, sizeof(name), "gw%d", (int)q);
	if (!(pc->prepared & (UINT64_C(1) << q))) {
		r = PQprepare(c, name, pg_sql[q], n, NULL);
		if (!result_ok(r)) {
			err_set(st, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
			PQclear(r);
			return NULL;
		}
		PQclear(r);
		pc->prepared |= UINT64_C(1) << q;
	}
	r = PQexecPrepared(c, name, n, vals, NULL, NULL, 0);
	if (result_ok(r))
		return r;
	err_set(st, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	PQclear(r);
	return NULL;
}

PGresult *
pg_run(struct pg_store *st, enum pg_q q, int n, const char *const *vals)
{
	PGresult *r = NULL;

	if (st->tx != NULL)
		return run_on(st, st->tx, q, n, vals);
	/* a connection that broke (a server restart, a failover) is replaced once */
	for (int attempt = 0; attempt < 2 && r == NULL; attempt++) {
		struct pg_conn *c = pg_conn_take(st->pool, st->err, sizeof(st->err));
		if (c == NULL)
			return NULL;
		r = run_on(st, c, q, n, vals);
		bool broken = PQstatus(c->c) != CONNECTION_OK;
		pg_conn_give(st->pool, c);
		if (!broken)
			break;
	}
	return r;
}

int
pg_exec(struct pg_store *st, enum pg_q q, int n, const char *const *vals)
{
	PGresult *r = pg_run(st, q, n, vals);

	PQclear(r);
	return r ? 0 : -EIO;
}

static int
simple(struct pg_store *st, struct pg_conn *pc, const char *sql)
{
	PGconn *c = pc->c;
	PGresult *r = PQexec(c, sql);
	int ret = result_ok(r) ? 0 : -EIO;

	if (ret < 0)
		err_set(st, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	PQclear(r);
	return ret;
}

static int
pg_begin(struct gwstore *base, bool wait)
{
	struct pg_store *st = pgs(base);

	(void)wait; /* no write lock to wait for: rows are locked as written */
	if (st->tx != NULL)
		return -EINVAL;
	/* an idle connection the server dropped is found here: once more on a new one */
	for (int attempt = 0; attempt < 2; attempt++) {
		st->tx = pg_conn_take(st->pool, st->err, sizeof(st->err));
		if (st->tx == NULL)
			return -EIO;
		if (simple(st, st->tx, "BEGIN") == 0)
			return 0;
		bool broken = PQstatus(st->tx->c) != CONNECTION_OK;
		pg_conn_give(st->pool, st->tx);
		st->tx = NULL;
		if (!broken)
			break;
	}
	return -EIO;
}

static int
tx_end(struct pg_store *st, const char *sql)
{
	int ret;

	if (st->tx == NULL)
		return -EINVAL;
	ret = simple(st, st->tx, sql);
	/* a COMMIT that failed has left no transaction open, or a broken link */
	if (ret < 0 && PQtransactionStatus(st->tx->c) != PQTRANS_IDLE)
		simple(st, st->tx, "ROLLBACK");
	pg_conn_give(st->pool, st->tx);
	st->tx = NULL;
	return ret;
}

static int
pg_commit(struct gwstore *st)
{
	return tx_end(pgs(st), "COMMIT");
}

static void
pg_rollback(struct gwstore *st)
{
	if (pgs(st)->tx != NULL)
		tx_end(pgs(st), "ROLLBACK");
}

static bool
pg_wants_checkpoint(const struct gwstore *st)
{
	(void)st; /* the server checkpoints by itself */
	return false;
}

static void
pg_checkpoint(struct gwstore *st)
{
	(void)st;
}

static const char *
pg_error(struct gwstore *st)
{
	return pgs(st)->err;
}

/* Bring the database to this build's schema version, in one transaction. */
static int
pg_migrate(struct pg_store *st, enum gwstore_part part, char *err, size_t errlen)
{
	const char *const *steps = part == GWSTORE_LOCATION ? location_steps : state_steps;
	int want = gwstore_schema_version(part), have = 0;
	const char *vals[2] = {part_names[part], NULL};
	struct pg_num n;
	struct pg_conn *c = pg_conn_take(st->pool, st->err, sizeof(st->err));
	PGresult *r = NULL;
	int ret = -EIO;

	if (c == NULL) {
		snprintf(err, errlen, "PostgreSQL: %s", st->err);
		return -EIO;
	}
	if (simple(st, c,
		   "BEGIN; SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK ");"
		   " CREATE TABLE IF NOT EXISTS gw_schema (part text PRIMARY KEY,"
		   " version integer NOT NULL)") < 0)
		goto fail;
	r = PQexecParams(c->c, "SELECT version FROM gw_schema WHERE part = $1", 1, NULL, vals, NULL,
			 NULL, 0);
	if (!result_ok(r)) {
		err_set(st, PQresultErrorMessage(r));
		goto fail;
	}
	if (PQntuples(r) > 0)
		have = (int)pg_int(r, 0, 0);
	if (have > want) {
		snprintf(
		    st->err, sizeof(st->err),
		    "schema version %d of the %s tables is newer than this Greenwich knows (%d)",
		    have, part_names[part], want);
		ret = -EPROTO;
		goto fail;
	}
	for (int v = have; v < want; v++)
		if (simple(st, c, steps[v]) < 0)
			goto fail;
	PQclear(r);
	vals[1] = pg_num(&n, want);
	r = PQexecParams(c->c,
			 "INSERT INTO gw_schema (part, version) VALUES ($1, $2)"
			 " ON CONFLICT (part) DO UPDATE SET version = EXCLUDED.version",
			 2, NULL, vals, NULL, NULL, 0);
	if (!result_ok(r)) {
		err_set(st, PQresultErrorMessage(r));
		goto fail;
	}
	if (simple(st, c, "COMMIT") < 0)
		goto fail;
	ret = 0;
fail:
	PQclear(r);
	if (ret < 0) {
		snprintf(err, errlen, "PostgreSQL: %s", st->err);
		if (PQtransactionStatus(c->c) != PQTRANS_IDLE)
			simple(st, c, "ROLLBACK");
	}
	pg_conn_give(st->pool, c);
	return ret;
}

static void
pg_close(struct gwstore *base)
{
	struct pg_store *st = pgs(base);

	pg_rollback(base);
	pg_pool_release(st->pool);
	free(st);
}

static const struct gwstore_ops pg_ops = {
    .name = "postgresql",
    .local = false,
    .close = pg_close,
    .error = pg_error,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .wants_checkpoint = pg_wants_checkpoint,
    .checkpoint = pg_checkpoint,
    .binding_put = pg_binding_put,
    .binding_delete = pg_binding_delete,
    .binding_expire = pg_binding_expire,
    .binding_each = pg_binding_each,
    .binding_aor = pg_binding_aor,
    .pub_put = pg_pub_put,
    .pub_delete = pg_pub_delete,
    .pub_each = pg_pub_each,
    .sub_put = pg_sub_put,
    .sub_add = pg_sub_add,
    .sub_delete = pg_sub_delete,
    .sub_each = pg_sub_each,
    .acl_get = pg_acl_get,
    .acl_set = pg_acl_set,
    .acl_each = pg_acl_each,
    .contact_set = pg_contact_set,
    .contact_delete = pg_contact_delete,
    .contact_has = pg_contact_has,
    .contacts_each = pg_contacts_each,
    .group_set = pg_group_set,
    .group_find = pg_group_find,
    .group_name = pg_group_name,
    .group_delete = pg_group_delete,
    .groups_each = pg_groups_each,
    .delta = pg_delta,
    .owners_each = pg_owners_each,
    .account_get = pg_account_get,
    .account_put = pg_account_put,
    .account_remove = pg_account_remove,
    .account_each = pg_account_each,
    .frontend_beat = pg_frontend_beat,
    .frontend_remove = pg_frontend_remove,
    .frontend_each = pg_frontend_each,
    .notify = pg_notify,
    .control_ask = pg_control_ask,
    .control_take = pg_control_take,
    .control_answer = pg_control_answer,
    .control_reply = pg_control_reply,
    .control_delete = pg_control_delete,
    .control_purge = pg_control_purge,
};

int
gwstore_pg_open(struct gwstore **out, const struct gwstore_params *p, enum gwstore_part part,
		char *err, size_t errlen)
{
	struct pg_store *st;
	int ret;

	*out = NULL;
	if (p->conninfo == NULL || p->conninfo[0] == '\0') {
		snprintf(err, errlen, "PostgreSQL: no connection string ([store] conninfo)");
		return -EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->base.ops = &pg_ops;
	st->base.part = part;
	st->pool = pg_pool_get(p->conninfo, p->pool_size);
	if (st->pool == NULL) {
		free(st);
		return -ENOMEM;
	}
	/* the first handle of a part migrates (and proves the database reachable) */
	if (!pg_pool_migrated(st->pool, part, false)) {
		if ((ret = pg_migrate(st, part, err, errlen)) < 0) {
			pg_close(&st->base);
			return ret;
		}
		pg_pool_migrated(st->pool, part, true);
	}
	*out = &st->base;
	return 0;
}
