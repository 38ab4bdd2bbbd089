/*
 * pg_control.c - control requests relayed between the front ends of a pool
 * (table control_requests, location schema 3): greenwich-mmc asks, the target
 * front end claims, runs and answers (see gwstore.h and docs/DESIGN.md).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

int
pg_control_ask(struct gwstore *st, const char *frontend, const char *request, const char *requester,
	       int ttl, int64_t *id)
{
	struct pg_num t;
	const char *v[] = {frontend, request, requester, pg_num(&t, ttl)};
	PGresult *r = pg_run(pgs(st), Q_CTL_ASK, 4, v);

	if (r == NULL)
		return -EIO;
	*id = PQntuples(r) == 1 ? pg_int(r, 0, 0) : 0;
	PQclear(r);
	return *id > 0 ? 0 : -EIO;
}

static int
rows(struct gwstore *st, enum pg_q q, const char *frontend, bool expired,
     void (*cb)(const struct gwstore_control *, void *), void *arg)
{
	const char *v[] = {frontend};
	PGresult *r = pg_run(pgs(st), q, 1, v);

	if (r == NULL)
		return -EIO;
	for (int i = 0; i < PQntuples(r); i++) {
		struct gwstore_control c = {
		    .id = pg_int(r, i, 0),
		    .request = pg_col(r, i, 1),
		    .requester = pg_col(r, i, 2),
		    .role = pg_col(r, i, 3),
		    .expired = expired,
		};
		cb(&c, arg);
	}
	PQclear(r);
	return 0;
}

int
pg_control_take(struct gwstore *st, const char *frontend,
		void (*cb)(const struct gwstore_control *, void *), void *arg)
{
	int ret = rows(st, Q_CTL_STALE, frontend, true, cb, arg);

	return ret < 0 ? ret : rows(st, Q_CTL_TAKE, frontend, false, cb, arg);
}

int
pg_control_answer(struct gwstore *st, int64_t id, const char *reply)
{
	struct pg_num n;
	const char *v[] = {pg_num(&n, id), reply};

	return pg_exec(pgs(st), Q_CTL_ANSWER, 2, v);
}

int
pg_control_reply(struct gwstore *st, int64_t id, bool *taken, char **reply)
{
	struct pg_num n;
	const char *v[] = {pg_num(&n, id)};
	PGresult *r = pg_run(pgs(st), Q_CTL_REPLY, 1, v);
	int ret = 0;

	if (r == NULL)
		return -EIO;
	if (PQntuples(r) != 1)
		ret = -ENOENT;
	else {
		*taken = strcmp(pg_col(r, 0, 0), "t") == 0;
		if (!PQgetisnull(r, 0, 1) && (*reply = strdup(pg_col(r, 0, 1))) == NULL)
			ret = -ENOMEM;
	}
	PQclear(r);
	return ret;
}

int
pg_control_delete(struct gwstore *st, int64_t id, bool *taken)
{
	struct pg_num n;
	const char *v[] = {pg_num(&n, id)};
	PGresult *r = pg_run(pgs(st), Q_CTL_DELETE, 1, v);

	if (r == NULL)
		return -EIO;
	*taken = PQntuples(r) == 1 && strcmp(pg_col(r, 0, 0), "t") == 0;
	PQclear(r);
	return 0;
}

int
pg_control_purge(struct gwstore *st)
{
	return pg_exec(pgs(st), Q_CTL_PURGE, 0, NULL);
}
