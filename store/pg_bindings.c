/*
 * pg_bindings.c - the location bindings in PostgreSQL.  The writes run inside
 * the location writer's transactions (gwstore_begin/commit).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "pg_int.h"

int
pg_binding_put(struct gwstore *st, const struct gwstore_binding *b)
{
	struct pg_num cseq, expires, q;
	const char *v[] = {b->aor,
			   b->uri,
			   b->call_id,
			   pg_num(&cseq, b->cseq),
			   pg_num(&expires, b->expires),
			   pg_num(&q, b->q),
			   b->path,
			   b->instance,
			   b->user_agent,
			   b->transport,
			   b->addr,
			   b->frontend && b->frontend[0] ? b->frontend : NULL};

	return pg_exec(pgs(st), Q_BIND_PUT, 12, v);
}

int
pg_binding_delete(struct gwstore *st, const char *aor, const char *uri)
{
	const char *v[] = {aor, uri};

	return pg_exec(pgs(st), Q_BIND_DELETE, 2, v);
}

int
pg_binding_expire(struct gwstore *st, time_t now)
{
	struct pg_num n;
	const char *v[] = {pg_num(&n, now)};

	return pg_exec(pgs(st), Q_BIND_EXPIRE, 1, v);
}

static const char *
col_or_null(const PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? NULL : PQgetvalue(r, row, c);
}

static int
bindings_read(PGresult *r, int (*cb)(const struct gwstore_binding *, void *), void *arg)
{
	if (r == NULL)
		return -EIO;
	for (int i = 0; i < PQntuples(r); i++) {
		struct gwstore_binding b = {
		    .aor = col_or_null(r, i, 0),
		    .uri = col_or_null(r, i, 1),
		    .call_id = col_or_null(r, i, 2),
		    .cseq = (uint32_t)pg_int(r, i, 3),
		    .expires = pg_int(r, i, 4),
		    .q = (int)pg_int(r, i, 5),
		    .path = col_or_null(r, i, 6),
		    .instance = col_or_null(r, i, 7),
		    .user_agent = col_or_null(r, i, 8),
		    .transport = col_or_null(r, i, 9),
		    .addr = col_or_null(r, i, 10),
		    .frontend = col_or_null(r, i, 11),
		};
		if (cb(&b, arg) != 0)
			break;
	}
	PQclear(r);
	return 0;
}

int
pg_binding_each(struct gwstore *st, time_t now, int (*cb)(const struct gwstore_binding *, void *),
		void *arg)
{
	struct pg_num n;
	const char *v[] = {pg_num(&n, now)};

	return bindings_read(pg_run(pgs(st), Q_BIND_EACH, 1, v), cb, arg);
}

int
pg_binding_aor(struct gwstore *st, const char *aor, time_t now,
	       int (*cb)(const struct gwstore_binding *, void *), void *arg)
{
	struct pg_num n;
	const char *v[] = {pg_num(&n, now), aor};

	return bindings_read(pg_run(pgs(st), Q_BIND_AOR, 2, v), cb, arg);
}
