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

int
sq_frontend_each(struct gwstore *st, int (*cb)(const struct gwstore_frontend *, void *), void *arg)
{
	sqlite3_stmt *s = sq_stmt(sq(st), sql_each, "");
	int rc = SQLITE_ERROR;

	if (s == NULL)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct gwstore_frontend fe = {
		    .id = sq_col(s, 0),
		    .address = sq_col(s, 1),
		    .version = sq_col(s, 2),
		    .started = sqlite3_column_int64(s, 3),
		    .age = sqlite3_column_int64(s, 4),
		    .load = sqlite3_column_int64(s, 5),
		    .bindings = sqlite3_column_int64(s, 6),
		};
		if (cb(&fe, arg) != 0)
			break;
	}
	sq_done(s);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : -EIO;
}

int
sq_notify(struct gwstore *st, const char *channel, const char *payload)
{
	(void)st;
	(void)channel;
	(void)payload;
	return 0;
}
