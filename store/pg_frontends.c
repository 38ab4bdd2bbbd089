/*
 * pg_frontends.c - the front ends of a pool in PostgreSQL, and the
 * notifications the front ends send one another (pg_notify).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "pg_int.h"

int
pg_frontend_beat(struct gwstore *st, const struct gwstore_frontend *fe)
{
	struct pg_num load, bindings;
	const char *v[] = {fe->id,
			   fe->address,
			   fe->version ? fe->version : "",
			   pg_num(&load, fe->load),
			   pg_num(&bindings, fe->bindings),
			   fe->started ? "1" : "0"};

	return pg_exec(pgs(st), Q_FE_BEAT, 6, v);
}

int
pg_frontend_remove(struct gwstore *st, const char *id)
{
	const char *v[] = {id};

	return pg_exec(pgs(st), Q_FE_REMOVE, 1, v);
}

int
pg_frontend_each(struct gwstore *st, int (*cb)(const struct gwstore_frontend *, void *), void *arg)
{
	PGresult *r = pg_run(pgs(st), Q_FE_EACH, 0, NULL);

	if (r == NULL)
		return -EIO;
	for (int i = 0; i < PQntuples(r); i++) {
		struct gwstore_frontend fe = {
		    .id = pg_col(r, i, 0),
		    .address = pg_col(r, i, 1),
		    .version = pg_col(r, i, 2),
		    .started = pg_int(r, i, 3),
		    .age = pg_int(r, i, 4),
		    .load = pg_int(r, i, 5),
		    .bindings = pg_int(r, i, 6),
		};
		if (cb(&fe, arg) != 0)
			break;
	}
	PQclear(r);
	return 0;
}

int
pg_notify(struct gwstore *st, const char *channel, const char *payload)
{
	const char *v[] = {channel, payload};

	return pg_exec(pgs(st), Q_NOTIFY, 2, v);
}
