/*
 * pg_presence.c - presence publications and subscriptions in PostgreSQL.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

int
pg_pub_put(struct gwstore *st, const struct gwstore_pub *p)
{
	struct pg_num expires, seq, source, open, activity, cseq;
	const char *v[] = {p->etag,
			   p->aor,
			   pg_num(&expires, p->expires),
			   pg_num(&seq, (int64_t)p->seq),
			   pg_num(&source, p->source),
			   pg_num(&open, p->open),
			   pg_num(&activity, p->activity),
			   p->note,
			   p->call_id ? p->call_id : "",
			   pg_num(&cseq, p->cseq),
			   p->frontend && p->frontend[0] ? p->frontend : NULL};

	return pg_exec(pgs(st), Q_PUB_PUT, 11, v);
}

int
pg_pub_delete(struct gwstore *st, const char *etag)
{
	const char *v[] = {etag};

	return pg_exec(pgs(st), Q_PUB_DELETE, 1, v);
}

int
pg_pub_each(struct gwstore *st, const char *aor, time_t now,
	    int (*cb)(const struct gwstore_pub *, void *), void *arg)
{
	struct pg_num n;
	const char *v[] = {pg_num(&n, now), aor};
	PGresult *r = aor ? pg_run(pgs(st), Q_PUB_AOR, 2, v) : pg_run(pgs(st), Q_PUB_EACH, 1, v);
	int ret = 0;

	if (r == NULL)
		return -EIO;
	for (int i = 0; i < PQntuples(r) && ret == 0; i++) {
		struct gwstore_pub p = {
		    .etag = pg_col(r, i, 0),
		    .aor = pg_col(r, i, 1),
		    .expires = pg_int(r, i, 2),
		    .seq = (uint64_t)pg_int(r, i, 3),
		    .source = (int)pg_int(r, i, 4),
		    .open = pg_int(r, i, 5) != 0,
		    .activity = (int)pg_int(r, i, 6),
		    .note = pg_col(r, i, 7),
		    .call_id = pg_col(r, i, 8),
		    .cseq = (uint32_t)pg_int(r, i, 9),
		    .frontend = pg_col(r, i, 10),
		};
		ret = cb(&p, arg);
	}
	PQclear(r);
	return ret;
}

/* The numbers of a subscription's row as statement parameters. */
struct sub_nums {
	struct pg_num event, rseq, lseq, expires, flags;
};

/* The 15 columns after id, in the order of Q_SUB_INSERT and Q_SUB_ADD. */
static void
sub_values(const char **v, const struct gwstore_sub *s, struct sub_nums *n)
{
	const char *cols[] = {pg_num(&n->event, s->event),
			      s->presentity,
			      s->watcher,
			      s->call_id,
			      s->local,
			      s->remote,
			      s->contact,
			      s->route ? s->route : "",
			      pg_num(&n->rseq, s->rseq),
			      pg_num(&n->lseq, s->lseq),
			      pg_num(&n->expires, s->expires),
			      pg_num(&n->flags, s->flags),
			      s->transport,
			      s->addr,
			      s->frontend && s->frontend[0] ? s->frontend : NULL};

	memcpy(v, cols, sizeof(cols));
}

int
pg_sub_put(struct gwstore *st, const struct gwstore_sub *s, int64_t *id)
{
	struct pg_num rseq, lseq, expires, nid;
	struct sub_nums n;
	PGresult *r;

	if (s->id != 0) {
		const char *u[] = {s->contact,
				   pg_num(&rseq, s->rseq),
				   pg_num(&lseq, s->lseq),
				   pg_num(&expires, s->expires),
				   s->transport,
				   s->addr,
				   pg_num(&nid, s->id)};
		return pg_exec(pgs(st), Q_SUB_UPDATE, 7, u);
	}
	const char *v[16];

	sub_values(v, s, &n);
	r = pg_run(pgs(st), Q_SUB_INSERT, 15, v);
	if (r == NULL)
		return -EIO;
	*id = pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

int
pg_sub_add(struct gwstore *st, const struct gwstore_sub *s)
{
	struct pg_num id;
	struct sub_nums n;
	const char *v[16] = {pg_num(&id, s->id)};

	sub_values(v + 1, s, &n);
	return pg_exec(pgs(st), Q_SUB_ADD, 16, v);
}

int
pg_sub_delete(struct gwstore *st, int64_t id)
{
	struct pg_num n;
	const char *v[] = {pg_num(&n, id)};

	return pg_exec(pgs(st), Q_SUB_DELETE, 1, v);
}

int
pg_sub_each(struct gwstore *st, time_t now, int (*cb)(const struct gwstore_sub *, void *),
	    void *arg)
{
	struct pg_num n;
	const char *v[] = {pg_num(&n, now)};
	PGresult *r = pg_run(pgs(st), Q_SUB_EACH, 1, v);
	int ret = 0;

	if (r == NULL)
		return -EIO;
	for (int i = 0; i < PQntuples(r) && ret == 0; i++) {
		struct gwstore_sub s = {
		    .id = pg_int(r, i, 0),
		    .event = (int)pg_int(r, i, 1),
		    .presentity = pg_col(r, i, 2),
		    .watcher = pg_col(r, i, 3),
		    .call_id = pg_col(r, i, 4),
		    .local = pg_col(r, i, 5),
		    .remote = pg_col(r, i, 6),
		    .contact = pg_col(r, i, 7),
		    .route = pg_col(r, i, 8),
		    .rseq = (uint32_t)pg_int(r, i, 9),
		    .lseq = (uint32_t)pg_int(r, i, 10),
		    .expires = pg_int(r, i, 11),
		    .flags = (int)pg_int(r, i, 12),
		    .transport = pg_col(r, i, 13),
		    .addr = pg_col(r, i, 14),
		    .frontend = pg_col(r, i, 15),
		};
		ret = cb(&s, arg);
	}
	PQclear(r);
	return ret;
}
