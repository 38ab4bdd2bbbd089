/*
 * store.c - SQLite persistence for greenwichd.
 *
 * The bindings have a database file of their own (location.db): the
 * accounts and presence live in greenwich.db, read by every worker, whose
 * page caches would otherwise be dropped at each registration written.
 *
 * WAL mode with synchronous=NORMAL: a committed write reaches the operating
 * system before the 200 OK, so it survives the process being killed; see
 * DESIGN.md for the durability trade-off.  The WAL is checkpointed (the one
 * step that syncs) every 4,000 pages rather than SQLite's 1,000, and never
 * inside a COMMIT: a worker thread that commits must not wait for the disk;
 * the location writer's thread checkpoints when store_wants_checkpoint.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"

#define STORE_BUSY_MS 5000
#define STORE_CHECKPOINT_PAGES 4000

struct store {
	sqlite3 *db;
	int wal_pages; /* in the WAL after the last commit */
	sqlite3_stmt *put;
	sqlite3_stmt *del;
	sqlite3_stmt *del_expired;
};

/* The table is its primary key, with no other index: a binding written
 * touches one b-tree (half the WAL frames of a rowid table with an expiry
 * index).  Expired rows are deleted by key as memory drops them; a scan for
 * them runs only once, at start. */
static const char store_schema[] =
	"CREATE TABLE IF NOT EXISTS bindings ("
	" aor TEXT NOT NULL COLLATE NOCASE, uri TEXT NOT NULL, call_id TEXT NOT NULL,"
	" cseq INTEGER NOT NULL, expires INTEGER NOT NULL, q INTEGER NOT NULL,"
	" path TEXT, instance TEXT, user_agent TEXT, transport TEXT, addr TEXT,"
	" PRIMARY KEY (aor, uri)) WITHOUT ROWID;"
	"DROP INDEX IF EXISTS bindings_expires;";

#define STORE_COLUMNS "aor, uri, call_id, cseq, expires, q, path, instance, user_agent, transport, addr"

static int
prep(struct store *st, sqlite3_stmt **out, const char *sql)
{
	return sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) ==
			       SQLITE_OK
		       ? 0
		       : -EIO;
}

/* Bindings kept in legacy (the state database, before they had a file of
 * their own) move here once. */
static int
legacy_move(struct store *st, const char *legacy)
{
	sqlite3_stmt *s = NULL;
	bool found = false;
	int ret = -EIO;

	if (legacy == NULL || access(legacy, F_OK) < 0)
		return 0;
	if (sqlite3_prepare_v2(st->db, "ATTACH DATABASE ? AS legacy", -1, &s, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(s, 1, legacy, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto done;
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM legacy.sqlite_master WHERE type = 'table'"
			       " AND name = 'bindings'", -1, &s, NULL) != SQLITE_OK)
		goto detach;
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s); /* the table cannot be dropped while it is read */
	s = NULL;
	ret = 0;
	if (found && sqlite3_exec(st->db, "BEGIN IMMEDIATE; INSERT OR REPLACE INTO main.bindings"
				  " SELECT " STORE_COLUMNS " FROM legacy.bindings;"
				  " DROP TABLE legacy.bindings; COMMIT;",
				  NULL, NULL, NULL) != SQLITE_OK) {
		store_rollback(st);
		ret = -EIO;
	}
detach:
	sqlite3_finalize(s);
	s = NULL;
	sqlite3_exec(st->db, "DETACH DATABASE legacy", NULL, NULL, NULL);
done:
	sqlite3_finalize(s);
	return ret;
}

static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *st = arg;

	(void)db;
	(void)name;
	st->wal_pages = pages;
	return SQLITE_OK;
}

bool
store_wants_checkpoint(const struct store *st)
{
	return st->wal_pages >= STORE_CHECKPOINT_PAGES;
}

void
store_checkpoint(struct store *st)
{
	if (sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) ==
	    SQLITE_OK)
		st->wal_pages = 0;
}

int
store_open(struct store **out, const char *path, const char *legacy, char *err, size_t errlen)
{
	struct store *st = calloc(1, sizeof(*st));
	char *msg = NULL;

	*out = NULL;
	if (st == NULL)
		return -ENOMEM;
	/* one thread at a time uses the connection (the location service sees to it) */
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (sqlite3_exec(st->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
			 &msg) != SQLITE_OK ||
	    sqlite3_exec(st->db, store_schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot prepare database");
		sqlite3_free(msg);
		goto fail;
	}
	/* no checkpoint inside COMMIT: the writer thread runs them (store_checkpoint) */
	sqlite3_wal_hook(st->db, wal_hook, st);
	if (legacy_move(st, legacy) < 0) {
		snprintf(err, errlen, "%s: moving the bindings from %s: %s", path, legacy,
			 sqlite3_errmsg(st->db));
		goto fail;
	}
	if (prep(st, &st->put,
		 "INSERT OR REPLACE INTO bindings (" STORE_COLUMNS ")"
		 " VALUES (?,?,?,?,?,?,?,?,?,?,?)") < 0 ||
	    prep(st, &st->del, "DELETE FROM bindings WHERE aor = ? AND uri = ?") < 0 ||
	    prep(st, &st->del_expired, "DELETE FROM bindings WHERE expires <= ?") < 0) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	*out = st;
	return 0;
fail:
	store_close(st);
	return -EIO;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->put);
	sqlite3_finalize(st->del);
	sqlite3_finalize(st->del_expired);
	sqlite3_close(st->db);
	free(st);
}

const char *
store_error(struct store *st)
{
	return sqlite3_errmsg(st->db);
}

static int
exec_simple(struct store *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

int
store_begin(struct store *st)
{
	return exec_simple(st, "BEGIN IMMEDIATE");
}

int
store_try_begin(struct store *st)
{
	int rc;

	sqlite3_busy_timeout(st->db, 0);
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (rc == SQLITE_OK)
		return 0;
	return rc == SQLITE_BUSY ? -EBUSY : -EIO;
}

int
store_commit(struct store *st)
{
	return exec_simple(st, "COMMIT");
}

void
store_rollback(struct store *st)
{
	exec_simple(st, "ROLLBACK");
}

static int
step_reset(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_binding_put(struct store *st, const struct loc_contact *c)
{
	sqlite3_stmt *s = st->put;

	sqlite3_bind_text(s, 1, c->aor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, c->uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, c->call_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, c->cseq);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)c->expires);
	sqlite3_bind_int(s, 6, c->q);
	sqlite3_bind_text(s, 7, c->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, c->instance, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, c->user_agent, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, c->flow.transport, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, c->flow.addr, -1, SQLITE_STATIC);
	return step_reset(s);
}

int
store_binding_delete(struct store *st, const char *aor, const char *uri)
{
	sqlite3_bind_text(st->del, 1, aor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->del, 2, uri, -1, SQLITE_STATIC);
	return step_reset(st->del);
}

int
store_binding_delete_expired(struct store *st, time_t now)
{
	sqlite3_bind_int64(st->del_expired, 1, (sqlite3_int64)now);
	return step_reset(st->del_expired);
}

static char *
col_dup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? strdup((const char *)t) : NULL;
}

int
store_binding_each(struct store *st, time_t now,
		   int (*cb)(const struct loc_contact *, void *), void *arg)
{
	sqlite3_stmt *s = NULL;
	int ret = -EIO;
	int rc;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT " STORE_COLUMNS " FROM bindings WHERE expires > ?",
			       -1, &s, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct loc_contact c = {0};
		const unsigned char *t;

		c.aor = col_dup(s, 0);
		c.uri = col_dup(s, 1);
		c.call_id = col_dup(s, 2);
		c.cseq = (uint32_t)sqlite3_column_int64(s, 3);
		c.expires = (time_t)sqlite3_column_int64(s, 4);
		c.q = sqlite3_column_int(s, 5);
		c.path = col_dup(s, 6);
		c.instance = col_dup(s, 7);
		c.user_agent = col_dup(s, 8);
		c.flow.worker = -1;
		if ((t = sqlite3_column_text(s, 9)) != NULL)
			snprintf(c.flow.transport, sizeof(c.flow.transport), "%s", t);
		if ((t = sqlite3_column_text(s, 10)) != NULL)
			snprintf(c.flow.addr, sizeof(c.flow.addr), "%s", t);
		int stop = (c.aor && c.uri && c.call_id) ? cb(&c, arg) : 0;
		loc_contact_clear(&c);
		if (stop)
			break;
	}
	ret = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : -EIO;
done:
	sqlite3_finalize(s);
	return ret;
}
