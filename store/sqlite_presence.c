/*
 * sqlite_presence.c - presence publications and subscriptions in SQLite
 * (greenwich.db).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

static const char sql_pub_put[] =
    "INSERT OR REPLACE INTO presence_publications (etag, aor, expires, seq,"
    " source, open, activity, note, call_id, cseq, frontend) VALUES (?,?,?,?,?,?,?,?,?,?,?)";
static const char sql_pub_delete[] = "DELETE FROM presence_publications WHERE etag = ?";
#define PUB_COLUMNS "etag, aor, expires, seq, source, open, activity, note, call_id, cseq, frontend"
static const char sql_pub_each[] = "SELECT " PUB_COLUMNS " FROM presence_publications"
				   " WHERE expires > ?";
static const char sql_pub_aor[] = "SELECT " PUB_COLUMNS " FROM presence_publications"
				  " WHERE expires > ? AND aor = ?";
/* column legacy: bit 0 the legacy dialect, the flags above it */
static const char sql_sub_insert[] =
    "INSERT INTO presence_subscriptions (event, presentity, watcher, call_id,"
    " local, remote, contact, route, rseq, lseq, expires, legacy, transport,"
    " addr, frontend) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
static const char sql_sub_update[] =
    "UPDATE presence_subscriptions SET contact = ?, rseq = ?, lseq = ?, expires = ?,"
    " transport = ?, addr = ? WHERE id = ?";
static const char sql_sub_add[] =
    "INSERT OR IGNORE INTO presence_subscriptions (id, event, presentity, watcher, call_id,"
    " local, remote, contact, route, rseq, lseq, expires, legacy, transport,"
    " addr, frontend) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
static const char sql_sub_delete[] = "DELETE FROM presence_subscriptions WHERE id = ?";
static const char sql_sub_each[] = "SELECT id, event, presentity, watcher, call_id, local, remote,"
				   " contact, route, rseq, lseq, expires, legacy, transport, addr,"
				   " frontend FROM presence_subscriptions WHERE expires > ?";

int
sq_pub_put(struct gwstore *st, const struct gwstore_pub *p)
{
	return sq_exec(sq(st), sql_pub_put, "ssiiiiissis", p->etag, p->aor, p->expires,
		       (int64_t)p->seq, (int64_t)p->source, (int64_t)p->open, (int64_t)p->activity,
		       p->note, p->call_id ? p->call_id : "", (int64_t)p->cseq,
		       p->frontend ? p->frontend : "");
}

int
sq_pub_delete(struct gwstore *st, const char *etag)
{
	return sq_exec(sq(st), sql_pub_delete, "s", etag);
}

struct pub_walk {
	int (*cb)(const struct gwstore_pub *, void *);
	void *arg;
};

static int
pub_row(sqlite3_stmt *s, void *arg)
{
	const struct pub_walk *w = arg;
	struct gwstore_pub p = {
	    .etag = sq_col(s, 0),
	    .aor = sq_col(s, 1),
	    .expires = sqlite3_column_int64(s, 2),
	    .seq = (uint64_t)sqlite3_column_int64(s, 3),
	    .source = sqlite3_column_int(s, 4),
	    .open = sqlite3_column_int(s, 5) != 0,
	    .activity = sqlite3_column_int(s, 6),
	    .note = sq_col(s, 7),
	    .call_id = sq_col(s, 8),
	    .cseq = (uint32_t)sqlite3_column_int64(s, 9),
	    .frontend = sq_col(s, 10),
	};

	return w->cb(&p, w->arg);
}

int
sq_pub_each(struct gwstore *st, const char *aor, time_t now,
	    int (*cb)(const struct gwstore_pub *, void *), void *arg)
{
	struct pub_walk w = {cb, arg};

	return sq_rows(aor ? sq_stmt(sq(st), sql_pub_aor, "is", (int64_t)now, aor)
			   : sq_stmt(sq(st), sql_pub_each, "i", (int64_t)now),
		       pub_row, &w);
}

int
sq_sub_put(struct gwstore *base, const struct gwstore_sub *s, int64_t *id)
{
	struct sq_store *st = sq(base);
	int ret;

	if (s->id != 0)
		return sq_exec(st, sql_sub_update, "siiissi", s->contact, (int64_t)s->rseq,
			       (int64_t)s->lseq, s->expires, s->transport, s->addr, s->id);
	ret = sq_exec(st, sql_sub_insert, "isssssssiiiisss", (int64_t)s->event, s->presentity,
		      s->watcher, s->call_id, s->local, s->remote, s->contact,
		      s->route ? s->route : "", (int64_t)s->rseq, (int64_t)s->lseq, s->expires,
		      (int64_t)s->flags, s->transport, s->addr, s->frontend ? s->frontend : "");
	if (ret == 0)
		*id = sqlite3_last_insert_rowid(st->db);
	return ret;
}

int
sq_sub_add(struct gwstore *st, const struct gwstore_sub *s)
{
	return sq_exec(sq(st), sql_sub_add, "iisssssssiiiisss", s->id, (int64_t)s->event,
		       s->presentity, s->watcher, s->call_id, s->local, s->remote, s->contact,
		       s->route ? s->route : "", (int64_t)s->rseq, (int64_t)s->lseq, s->expires,
		       (int64_t)s->flags, s->transport, s->addr, s->frontend ? s->frontend : "");
}

int
sq_sub_delete(struct gwstore *st, int64_t id)
{
	return sq_exec(sq(st), sql_sub_delete, "i", id);
}

struct sub_walk {
	int (*cb)(const struct gwstore_sub *, void *);
	void *arg;
};

static int
sub_row(sqlite3_stmt *q, void *arg)
{
	const struct sub_walk *w = arg;
	struct gwstore_sub s = {
	    .id = sqlite3_column_int64(q, 0),
	    .event = sqlite3_column_int(q, 1),
	    .presentity = sq_col(q, 2),
	    .watcher = sq_col(q, 3),
	    .call_id = sq_col(q, 4),
	    .local = sq_col(q, 5),
	    .remote = sq_col(q, 6),
	    .contact = sq_col(q, 7),
	    .route = sq_col(q, 8),
	    .rseq = (uint32_t)sqlite3_column_int64(q, 9),
	    .lseq = (uint32_t)sqlite3_column_int64(q, 10),
	    .expires = sqlite3_column_int64(q, 11),
	    .flags = sqlite3_column_int(q, 12),
	    .transport = sq_col(q, 13),
	    .addr = sq_col(q, 14),
	    .frontend = sq_col(q, 15),
	};

	return w->cb(&s, w->arg);
}

int
sq_sub_each(struct gwstore *st, time_t now, int (*cb)(const struct gwstore_sub *, void *),
	    void *arg)
{
	struct sub_walk w = {cb, arg};

	return sq_rows(sq_stmt(sq(st), sql_sub_each, "i", (int64_t)now), sub_row, &w);
}
