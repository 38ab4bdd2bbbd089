/*
 * sqlite_open.c - the SQLite backend's one opener: the file, its settings,
 * the schema version and its migrations, the statement cache, transactions.
 *
 * Two files under the state directory: location.db holds the bindings,
 * greenwich.db everything else (accounts and presence, read by every worker,
 * whose page caches would otherwise be dropped at each registration written).
 *
 * Every handle: WAL with synchronous=NORMAL, a busy timeout of 5 s, one
 * thread at a time (no SQLite mutex).  A committed write reaches the
 * operating system before the caller answers, so it survives the process
 * being killed; see DESIGN.md for the durability trade-off.  On location.db
 * the WAL is checkpointed (the one step that syncs) every 4,000 pages rather
 * than SQLite's 1,000, and never inside a COMMIT: a worker thread that commits
 * must not wait for the disk; the location writer's thread checkpoints when
 * gwstore_wants_checkpoint.
 *
 * location.db belongs to greenwichd alone, so it is opened with
 * locking_mode=EXCLUSIVE (unless location_shared): the lock is taken once and
 * kept, and the WAL index lives in the process's memory, so a commit makes no
 * fcntl lock calls and touches no shared-memory file.  Nothing else may open
 * the file while greenwichd runs (greenwich-mmc never does).  A test cannot
 * then hold the file's lock from a second connection to stand for a stalled
 * disk; GW_TEST_LOCATION_HOLD=FILE does instead: while FILE exists, a
 * transaction on location.db begins as if another process held the lock
 * (-EBUSY at once, or after the 5 s busy timeout).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

#define SQ_BUSY_MS 5000
#define SQ_CHECKPOINT_PAGES 4000

/*
 * Migrations: step[i] takes a database from version i to i + 1.  Version 0 is
 * a file without a version row: new, or made before versions were kept; the
 * first step creates only what is missing, so such a file is adopted as is.
 */

/* The bindings table is its primary key, with no other index: a binding
 * written touches one b-tree (half the WAL frames of a rowid table with an
 * expiry index).  Expired rows are deleted by key as memory drops them; a
 * scan for them runs only once, at start. */
static const char *const location_steps[] = {
    "CREATE TABLE IF NOT EXISTS bindings ("
    " aor TEXT NOT NULL COLLATE NOCASE, uri TEXT NOT NULL, call_id TEXT NOT NULL,"
    " cseq INTEGER NOT NULL, expires INTEGER NOT NULL, q INTEGER NOT NULL,"
    " path TEXT, instance TEXT, user_agent TEXT, transport TEXT, addr TEXT,"
    " PRIMARY KEY (aor, uri)) WITHOUT ROWID;"
    "DROP INDEX IF EXISTS bindings_expires;",
    /* 2: the pool's columns (a single server on SQLite is a pool of one) */
    "ALTER TABLE bindings ADD COLUMN frontend TEXT;"
    "CREATE TABLE IF NOT EXISTS frontends ("
    " id TEXT PRIMARY KEY, address TEXT NOT NULL, version TEXT NOT NULL,"
    " started INTEGER NOT NULL, heartbeat INTEGER NOT NULL, load INTEGER NOT NULL,"
    " bindings INTEGER NOT NULL);",
    /* 3: nothing here: control requests are relayed between the front ends of a
     * PostgreSQL pool only (one server on SQLite has its control socket) */
    "-- control requests: PostgreSQL only",
};

static const char *const state_steps[] = {
    "CREATE TABLE IF NOT EXISTS local_users ("
    " aor TEXT PRIMARY KEY COLLATE NOCASE, realm TEXT NOT NULL,"
    " ha1_md5 TEXT NOT NULL, ha1_sha256 TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS presence_publications ("
    " etag TEXT PRIMARY KEY, aor TEXT NOT NULL COLLATE NOCASE, expires INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, source INTEGER NOT NULL, open INTEGER NOT NULL,"
    " activity INTEGER NOT NULL, note TEXT, call_id TEXT, cseq INTEGER);"
    "CREATE TABLE IF NOT EXISTS presence_subscriptions ("
    " id INTEGER PRIMARY KEY, event INTEGER NOT NULL, presentity TEXT NOT NULL COLLATE NOCASE,"
    " watcher TEXT NOT NULL COLLATE NOCASE, call_id TEXT NOT NULL, local TEXT NOT NULL,"
    " remote TEXT NOT NULL, contact TEXT NOT NULL, route TEXT, rseq INTEGER NOT NULL,"
    " lseq INTEGER NOT NULL, expires INTEGER NOT NULL, legacy INTEGER NOT NULL,"
    " transport TEXT, addr TEXT);"
    "CREATE TABLE IF NOT EXISTS presence_acl ("
    " owner TEXT NOT NULL COLLATE NOCASE, watcher TEXT NOT NULL COLLATE NOCASE,"
    " rule TEXT NOT NULL CHECK (rule IN ('allow', 'block')), PRIMARY KEY (owner, watcher));"
    "CREATE TABLE IF NOT EXISTS presence_contacts ("
    " owner TEXT NOT NULL COLLATE NOCASE, uri TEXT NOT NULL COLLATE NOCASE, name TEXT,"
    " groups TEXT, subscribed INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (owner, uri));"
    "CREATE TABLE IF NOT EXISTS presence_groups ("
    " id INTEGER PRIMARY KEY, owner TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS presence_delta ("
    " owner TEXT PRIMARY KEY COLLATE NOCASE, delta INTEGER NOT NULL);",
    /* 2: the pool's columns (a single server on SQLite is a pool of one) */
    "ALTER TABLE presence_publications ADD COLUMN frontend TEXT;"
    "ALTER TABLE presence_subscriptions ADD COLUMN frontend TEXT;",
};

_Static_assert(sizeof(location_steps) / sizeof(location_steps[0]) == GWSTORE_LOCATION_VERSION,
	       "one SQLite migration per location schema version");
_Static_assert(sizeof(state_steps) / sizeof(state_steps[0]) == GWSTORE_STATE_VERSION,
	       "one SQLite migration per state schema version");

static const char *const part_names[] = {
    [GWSTORE_LOCATION] = "location",
    [GWSTORE_STATE] = "state",
};

static void sq_close(struct gwstore *st);

/* Bring the file to this build's schema version, in one transaction. */
static int
sq_migrate(struct sq_store *st, enum gwstore_part part, const char *path, char *err, size_t errlen)
{
	const char *const *steps = part == GWSTORE_LOCATION ? location_steps : state_steps;
	int want = gwstore_schema_version(part), have = 0;
	sqlite3_stmt *s;
	char *msg = NULL;

	if (sqlite3_exec(st->db,
			 "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS gw_schema ("
			 " part TEXT PRIMARY KEY, version INTEGER NOT NULL)",
			 NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	s = sq_stmt(st, "SELECT version FROM gw_schema WHERE part = ?", "s", part_names[part]);
	if (s == NULL)
		goto fail;
	if (sqlite3_step(s) == SQLITE_ROW)
		have = sqlite3_column_int(s, 0);
	sq_done(s);
	if (have > want) {
		snprintf(err, errlen,
			 "%s: schema version %d is newer than this Greenwich knows (%d)", path,
			 have, want);
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -EPROTO;
	}
	for (int v = have; v < want; v++)
		if (sqlite3_exec(st->db, steps[v], NULL, NULL, &msg) != SQLITE_OK)
			goto fail;
	if (have != want && sq_exec(st,
				    "INSERT OR REPLACE INTO gw_schema (part, version)"
				    " VALUES (?, ?)",
				    "si", part_names[part], (int64_t)want) < 0)
		goto fail;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct sq_store *st = arg;

	(void)db;
	(void)name;
	st->wal_pages = pages;
	return SQLITE_OK;
}

static bool
sq_wants_checkpoint(const struct gwstore *st)
{
	return ((const struct sq_store *)st)->wal_pages >= SQ_CHECKPOINT_PAGES;
}

static void
sq_checkpoint(struct gwstore *base)
{
	struct sq_store *st = sq(base);

	if (sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) ==
	    SQLITE_OK)
		st->wal_pages = 0;
}

static const char *
sq_error(struct gwstore *base)
{
	struct sq_store *st = sq(base);

	if (st->held)
		return "database is locked (GW_TEST_LOCATION_HOLD)";
	return sqlite3_errmsg(st->db);
}

/* The test hold (GW_TEST_LOCATION_HOLD): false when it is not in place or
 * went away within the wait; true, as SQLite's busy timeout would fail. */
static bool
held(struct sq_store *st, bool wait)
{
	struct timespec pause = {0, 10 * 1000 * 1000};

	if (st->hold == NULL)
		return false;
	for (int waited = 0; access(st->hold, F_OK) == 0; waited += 10) {
		if (!wait || waited >= SQ_BUSY_MS)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

/* Transaction statements, prepared once like every other (not parsed per
 * commit by sqlite3_exec); the cache finds them by these addresses. */
static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";

/* The SQLite result of running sql once. */
static int
run_simple(struct sq_store *st, const char *sql)
{
	sqlite3_stmt *s = sq_stmt(st, sql, "");
	int rc;

	if (s == NULL)
		return SQLITE_ERROR;
	rc = sqlite3_step(s);
	sq_done(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
exec_simple(struct sq_store *st, const char *sql)
{
	return run_simple(st, sql) == SQLITE_OK ? 0 : -EIO;
}

static int
sq_begin(struct gwstore *base, bool wait)
{
	struct sq_store *st = sq(base);
	int rc;

	st->held = held(st, wait);
	if (st->held)
		return wait ? -EIO : -EBUSY;
	if (wait)
		return exec_simple(st, sql_begin);
	sqlite3_busy_timeout(st->db, 0);
	rc = run_simple(st, sql_begin);
	sqlite3_busy_timeout(st->db, SQ_BUSY_MS);
	if (rc == SQLITE_OK)
		return 0;
	return rc == SQLITE_BUSY ? -EBUSY : -EIO;
}

static int
sq_commit(struct gwstore *st)
{
	return exec_simple(sq(st), sql_commit);
}

static void
sq_rollback(struct gwstore *st)
{
	exec_simple(sq(st), sql_rollback);
}

static sqlite3_stmt *
sq_stmt_v(struct sq_store *st, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *s = NULL;
	int i;

	for (i = 0; i < st->nstmt; i++)
		if (st->stmt[i].sql == sql) {
			s = st->stmt[i].s;
			break;
		}
	if (s == NULL) {
		/* the backend has fewer statements than the cache has room for */
		if (st->nstmt == SQ_STMT_MAX ||
		    sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
			SQLITE_OK)
			return NULL;
		st->stmt[st->nstmt].sql = sql;
		st->stmt[st->nstmt++].s = s;
	}
	for (i = 0; fmt[i]; i++) {
		if (fmt[i] == 's')
			sqlite3_bind_text(s, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
	}
	return s;
}

sqlite3_stmt *
sq_stmt(struct sq_store *st, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;

	va_start(ap, fmt);
	s = sq_stmt_v(st, sql, fmt, ap);
	va_end(ap);
	return s;
}

/* The statement stays prepared in the cache, reset for its next use. */
void
sq_done(sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int
sq_exec(struct sq_store *st, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int ret = -EIO;

	va_start(ap, fmt);
	s = sq_stmt_v(st, sql, fmt, ap);
	va_end(ap);
	if (s != NULL && sqlite3_step(s) == SQLITE_DONE)
		ret = 0;
	sq_done(s);
	return ret;
}

const char *
sq_col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

int
sq_rows(sqlite3_stmt *s, int (*row)(sqlite3_stmt *s, void *arg), void *arg)
{
	int rc = SQLITE_ERROR, ret = 0;

	if (s == NULL)
		return -EIO;
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ret = row(s, arg);
	sq_done(s);
	if (ret != 0)
		return ret;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
sq_first(struct sq_store *st, int64_t *num, char *text, size_t len, const char *sql,
	 const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	s = sq_stmt_v(st, sql, fmt, ap);
	va_end(ap);
	if (s == NULL)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && num)
		*num = sqlite3_column_int64(s, 0);
	if (rc == SQLITE_ROW && text)
		snprintf(text, len, "%s", sq_col(s, 0));
	sq_done(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static const struct gwstore_ops sq_ops = {
    .name = "sqlite",
    .local = true,
    .close = sq_close,
    .error = sq_error,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .wants_checkpoint = sq_wants_checkpoint,
    .checkpoint = sq_checkpoint,
    .binding_put = sq_binding_put,
    .binding_delete = sq_binding_delete,
    .binding_expire = sq_binding_expire,
    .binding_each = sq_binding_each,
    .binding_aor = sq_binding_aor,
    .pub_put = sq_pub_put,
    .pub_delete = sq_pub_delete,
    .pub_each = sq_pub_each,
    .sub_put = sq_sub_put,
    .sub_add = sq_sub_add,
    .sub_delete = sq_sub_delete,
    .sub_each = sq_sub_each,
    .acl_get = sq_acl_get,
    .acl_set = sq_acl_set,
    .acl_each = sq_acl_each,
    .contact_set = sq_contact_set,
    .contact_delete = sq_contact_delete,
    .contact_has = sq_contact_has,
    .contacts_each = sq_contacts_each,
    .group_set = sq_group_set,
    .group_find = sq_group_find,
    .group_name = sq_group_name,
    .group_delete = sq_group_delete,
    .groups_each = sq_groups_each,
    .delta = sq_delta,
    .owners_each = sq_owners_each,
    .account_get = sq_account_get,
    .account_put = sq_account_put,
    .account_remove = sq_account_remove,
    .account_each = sq_account_each,
    .accounts_version = sq_accounts_version,
    .frontend_beat = sq_frontend_beat,
    .frontend_remove = sq_frontend_remove,
    .frontend_each = sq_frontend_each,
    .notify = sq_notify,
};

int
gwstore_sqlite_open(struct gwstore **out, const struct gwstore_params *p, enum gwstore_part part,
		    char *err, size_t errlen)
{
	struct sq_store *st = calloc(1, sizeof(*st));
	char path[4096], legacy[4096];
	char *msg = NULL;
	int ret = -EIO;

	*out = NULL;
	if (st == NULL)
		return -ENOMEM;
	st->base.ops = &sq_ops;
	st->base.part = part;
	snprintf(legacy, sizeof(legacy), "%s/greenwich.db", p->state_dir);
	snprintf(path, sizeof(path), "%s/%s", p->state_dir,
		 part == GWSTORE_LOCATION ? "location.db" : "greenwich.db");
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	sqlite3_busy_timeout(st->db, SQ_BUSY_MS);
	/* before the first access in WAL mode: no shared-memory index at all */
	if (part == GWSTORE_LOCATION && !p->location_shared) {
		const char *hold = getenv("GW_TEST_LOCATION_HOLD");
		if (hold && *hold && (st->hold = strdup(hold)) == NULL) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
		if (sqlite3_exec(st->db, "PRAGMA main.locking_mode=EXCLUSIVE", NULL, NULL, &msg) !=
		    SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot lock database");
			sqlite3_free(msg);
			goto fail;
		}
	}
	if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
			 &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot prepare database");
		sqlite3_free(msg);
		goto fail;
	}
	if ((ret = sq_migrate(st, part, path, err, errlen)) < 0)
		goto fail;
	if (part == GWSTORE_LOCATION) {
		/* no checkpoint inside COMMIT: the writer thread runs them */
		sqlite3_wal_hook(st->db, wal_hook, st);
		if (sq_binding_legacy_move(st, legacy) < 0) {
			snprintf(err, errlen, "%s: moving the bindings from %s: %s", path, legacy,
				 sqlite3_errmsg(st->db));
			ret = -EIO;
			goto fail;
		}
	}
	*out = &st->base;
	return 0;
fail:
	sq_close(&st->base);
	return ret;
}

static void
sq_close(struct gwstore *base)
{
	struct sq_store *st = sq(base);

	for (int i = 0; i < st->nstmt; i++)
		sqlite3_finalize(st->stmt[i].s);
	sqlite3_close(st->db);
	free(st->hold);
	free(st);
}
