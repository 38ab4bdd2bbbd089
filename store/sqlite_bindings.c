/*
 * sqlite_bindings.c - the location bindings in SQLite (location.db).
 *
 * The writes run inside the location writer's transactions
 * (gwstore_begin/commit); see sqlite_open.c for the file's settings.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sqlite_int.h"

/* the columns before the pool's (bindings moved from greenwich.db have these) */
#define LEGACY_COLUMNS                                                                             \
	"aor, uri, call_id, cseq, expires, q, path, instance, user_agent, transport, addr"
#define BINDING_COLUMNS LEGACY_COLUMNS ", frontend"

static const char sql_put[] = "INSERT OR REPLACE INTO bindings (" BINDING_COLUMNS ")"
			      " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
static const char sql_delete[] = "DELETE FROM bindings WHERE aor = ? AND uri = ?";
static const char sql_expire[] = "DELETE FROM bindings WHERE expires <= ?";
static const char sql_each[] = "SELECT " BINDING_COLUMNS " FROM bindings WHERE expires > ?";
static const char sql_aor[] = "SELECT " BINDING_COLUMNS " FROM bindings WHERE expires > ?"
			      " AND aor = ?";

/* Bindings kept in legacy (the state database, before they had a file of
 * their own) move here once. */
int
sq_binding_legacy_move(struct sq_store *st, const char *legacy)
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
	if (sqlite3_prepare_v2(st->db,
			       "SELECT 1 FROM legacy.sqlite_master WHERE type = 'table'"
			       " AND name = 'bindings'",
			       -1, &s, NULL) != SQLITE_OK)
		goto detach;
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s); /* the table cannot be dropped while it is read */
	s = NULL;
	ret = 0;
	if (found &&
	    sqlite3_exec(st->db,
			 "BEGIN IMMEDIATE; INSERT OR REPLACE INTO main.bindings"
			 " (" LEGACY_COLUMNS ") SELECT " LEGACY_COLUMNS " FROM legacy.bindings;"
			 " DROP TABLE legacy.bindings; COMMIT;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
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

int
sq_binding_put(struct gwstore *base, const struct gwstore_binding *b)
{
	struct sq_store *st = sq(base);
	sqlite3_stmt *s = sq_stmt(st, sql_put, "");
	int rc;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_text(s, 1, b->aor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, b->uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, b->call_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, b->cseq);
	sqlite3_bind_int64(s, 5, b->expires);
	sqlite3_bind_int(s, 6, b->q);
	sqlite3_bind_text(s, 7, b->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, b->instance, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, b->user_agent, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, b->transport, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, b->addr, -1, SQLITE_STATIC);
	if (b->frontend && b->frontend[0])
		sqlite3_bind_text(s, 12, b->frontend, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 12);
	rc = sqlite3_step(s);
	sq_done(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
sq_binding_delete(struct gwstore *st, const char *aor, const char *uri)
{
	return sq_exec(sq(st), sql_delete, "ss", aor, uri);
}

int
sq_binding_expire(struct gwstore *st, time_t now)
{
	return sq_exec(sq(st), sql_expire, "i", (int64_t)now);
}

static const char *
col_or_null(sqlite3_stmt *s, int col)
{
	return (const char *)sqlite3_column_text(s, col);
}

struct walk {
	int (*cb)(const struct gwstore_binding *, void *);
	void *arg;
};

/* A non-zero return of cb stops the walk (sq_rows), not reported as an error. */
static int
binding_row(sqlite3_stmt *s, void *arg)
{
	const struct walk *w = arg;
	struct gwstore_binding b = {
	    .aor = col_or_null(s, 0),
	    .uri = col_or_null(s, 1),
	    .call_id = col_or_null(s, 2),
	    .cseq = (uint32_t)sqlite3_column_int64(s, 3),
	    .expires = sqlite3_column_int64(s, 4),
	    .q = sqlite3_column_int(s, 5),
	    .path = col_or_null(s, 6),
	    .instance = col_or_null(s, 7),
	    .user_agent = col_or_null(s, 8),
	    .transport = col_or_null(s, 9),
	    .addr = col_or_null(s, 10),
	    .frontend = col_or_null(s, 11),
	};

	return b.aor && b.uri && b.call_id && w->cb(&b, w->arg) != 0;
}

static int
bindings_read(sqlite3_stmt *s, int (*cb)(const struct gwstore_binding *, void *), void *arg)
{
	struct walk w = {cb, arg};

	return sq_rows(s, binding_row, &w) < 0 ? -EIO : 0;
}

int
sq_binding_each(struct gwstore *base, time_t now, int (*cb)(const struct gwstore_binding *, void *),
		void *arg)
{
	return bindings_read(sq_stmt(sq(base), sql_each, "i", (int64_t)now), cb, arg);
}

int
sq_binding_aor(struct gwstore *base, const char *aor, time_t now,
	       int (*cb)(const struct gwstore_binding *, void *), void *arg)
{
	return bindings_read(sq_stmt(sq(base), sql_aor, "is", (int64_t)now, aor), cb, arg);
}
