/*
 * sqlite_frontends.c - the front ends table in SQLite: the same schema and
 * operations on both backends, though a pool needs PostgreSQL (greenwichd
 * records itself only in one), so `greenwich-mmc pool status` on SQLite lists
 * nothing.  Notifications have no one to reach (one process owns the files).
 */
#include "config.h"

#include <errno.h>

#include "sqlite_int.h"

static const char sql_beat[] =
    "INSERT INTO frontends (id, address, version, started, heartbeat, load, bindings)"
    " VALUES (?, ?, ?, strftime('%s', 'now'), strftime('%s', 'now'), ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET address = excluded.address, version = excluded.version,"
    " heartbeat = excluded.heartbeat, load = excluded.load, bindings = excluded.bindings,"
    " started = CASE WHEN ? = 1 THEN excluded.started ELSE frontends.started END";
static const char sql_remove[] = "DELETE FROM frontends WHERE id = ?";
static const char sql_each[] = "SELECT id, address, version, started,"
			       " strftime('%s', 'now') - heartbeat, load, bindings"
			       " FROM frontends ORDER BY id";

int
sq_frontend_beat(struct gwstore *st, const struct gwstore_frontend *fe)
{
	return sq_exec(sq(st), sql_beat, "sssiii", fe->id, fe->address,
		       fe->version ? fe->version : "", fe->load, fe->bindings,
		       (int64_t)(fe->started != 0));
}

int
sq_frontend_remove(struct gwstore *st, const char *id)
{
	return sq_exec(sq(st), sql_remove, "s", id);
}

struct walk {
	int (*cb)(const struct gwstore_frontend *, void *);
	void *arg;
};

/* A non-zero return of cb stops the walk (sq_rows), not reported as an error. */
static int
frontend_row(sqlite3_stmt *s, void *arg)
{
	const struct walk *w = arg;
	struct gwstore_frontend fe = {
	    .id = sq_col(s, 0),
	    .address = sq_col(s, 1),
	    .version = sq_col(s, 2),
	    .started = sqlite3_column_int64(s, 3),
	    .age = sqlite3_column_int64(s, 4),
	    .load = sqlite3_column_int64(s, 5),
	    .bindings = sqlite3_column_int64(s, 6),
	};

	return w->cb(&fe, w->arg) != 0;
}

int
sq_frontend_each(struct gwstore *st, int (*cb)(const struct gwstore_frontend *, void *), void *arg)
{
	struct walk w = {cb, arg};

	return sq_rows(sq_stmt(sq(st), sql_each, ""), frontend_row, &w) < 0 ? -EIO : 0;
}

int
sq_notify(struct gwstore *st, const char *channel, const char *payload)
{
	(void)st;
	(void)channel;
	(void)payload;
	return 0;
}
