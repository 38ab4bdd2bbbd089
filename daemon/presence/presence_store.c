/*
 * presence_store.c - publications and subscriptions to and from the store's
 * rows (libgwstore).  Writes are jobs (presence_jobs.c): queued off worker 0
 * for a remote store, in the order they were made.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "presence_jobs.h"
#include "presence_store.h"

/* A write of a row: the row's strings copied into the job. */
struct row_job {
	struct pres_job job;
	enum { W_PUB_PUT, W_PUB_DELETE, W_SUB_ADD, W_SUB_PUT, W_SUB_DELETE } kind;
	struct gwstore_pub pub;
	struct gwstore_sub sub;
	char *str[10];
	size_t nstr;
};

static const char *
keep(struct row_job *r, const char *v)
{
	char *c = strdup(v ? v : "");

	if (c != NULL)
		r->str[r->nstr++] = c;
	return c ? c : "";
}

static int
row_run(struct pres_job *j, struct gwstore *st)
{
	struct row_job *r = (struct row_job *)j;
	int64_t id = 0;

	switch (r->kind) {
	case W_PUB_PUT:
		return gwstore_pub_put(st, &r->pub);
	case W_PUB_DELETE:
		return gwstore_pub_delete(st, r->pub.etag);
	case W_SUB_ADD:
		return gwstore_sub_add(st, &r->sub);
	case W_SUB_PUT:
		return gwstore_sub_put(st, &r->sub, &id);
	case W_SUB_DELETE:
		return gwstore_sub_delete(st, r->sub.id);
	}
	return -EINVAL;
}

static void
row_free(struct pres_job *j)
{
	struct row_job *r = (struct row_job *)j;

	for (size_t i = 0; i < r->nstr; i++)
		free(r->str[i]);
	free(r);
}

static struct row_job *
row_job(int kind)
{
	struct row_job *r = calloc(1, sizeof(*r));

	if (r != NULL) {
		r->kind = kind;
		r->job.run = row_run;
		r->job.free = row_free;
	}
	return r;
}

int
pres_store_pub_put(struct presence *ps, const struct pres_pub *p)
{
	struct row_job *r = row_job(W_PUB_PUT);

	if (r == NULL)
		return -ENOMEM;
	r->pub = (struct gwstore_pub){
		.etag = keep(r, p->etag),
		.aor = keep(r, p->aor),
		.expires = (int64_t)p->expires,
		.seq = p->seq,
		.source = (int)p->source,
		.open = p->st.open,
		.activity = (int)p->st.activity,
		.note = keep(r, p->st.note),
		.call_id = keep(r, p->call_id),
		.cseq = p->cseq,
	};
	return pres_job_submit(ps, &r->job);
}

int
pres_store_pub_delete(struct presence *ps, const char *etag)
{
	struct row_job *r = row_job(W_PUB_DELETE);

	if (r == NULL)
		return -ENOMEM;
	r->pub.etag = keep(r, etag);
	return pres_job_submit(ps, &r->job);
}

struct pub_walk {
	int (*cb)(const struct pres_pub *, void *);
	void *arg;
};

static int
pub_row(const struct gwstore_pub *row, void *arg)
{
	struct pub_walk *w = arg;
	struct pres_pub p = {0};

	snprintf(p.etag, sizeof(p.etag), "%s", row->etag);
	p.aor = (char *)row->aor;
	p.expires = (time_t)row->expires;
	p.seq = row->seq;
	p.source = row->source ? SRC_SOAP : SRC_PIDF;
	p.st.open = row->open;
	p.st.activity = (enum pres_activity)row->activity;
	snprintf(p.st.note, sizeof(p.st.note), "%s", row->note);
	p.call_id = (char *)row->call_id;
	p.cseq = row->cseq;
	return w->cb(&p, w->arg);
}

int
pres_store_pub_each(struct gwstore *st, time_t now, int (*cb)(const struct pres_pub *, void *),
		    void *arg)
{
	struct pub_walk w = {cb, arg};

	return gwstore_pub_each(st, now, pub_row, &w);
}

int
pres_store_sub_put(struct presence *ps, struct pres_sub *s)
{
	struct row_job *r;

	/* the service picks a new subscription's id, so that it need not wait for
	 * the database to learn one: random, positive, 62 bits */
	bool add = s->id == 0;
	while (s->id == 0) {
		uint64_t v = 0;
		if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
			return -EIO;
		s->id = (int64_t)(v >> 2);
	}
	r = row_job(add ? W_SUB_ADD : W_SUB_PUT);
	if (r == NULL)
		return -ENOMEM;
	r->sub = (struct gwstore_sub){
		.id = s->id,
		.event = (int)s->event,
		.presentity = keep(r, s->presentity),
		.watcher = keep(r, s->watcher),
		.call_id = keep(r, s->call_id),
		.local = keep(r, s->local),
		.remote = keep(r, s->remote),
		.contact = keep(r, s->contact),
		.route = keep(r, s->route),
		.rseq = s->rseq,
		.lseq = s->leg ? nta_leg_get_seq(s->leg) : s->lseq,
		.expires = (int64_t)s->expires,
		.flags = (int)(s->legacy | s->flags << 1), /* bit 0 legacy, then flags */
		.transport = keep(r, s->transport),
		.addr = keep(r, s->addr),
	};
	return pres_job_submit(ps, &r->job);
}

int
pres_store_sub_delete(struct presence *ps, int64_t id)
{
	struct row_job *r;

	if (id == 0)
		return 0; /* never stored (an outsider's: memory only) */
	if ((r = row_job(W_SUB_DELETE)) == NULL)
		return -ENOMEM;
	r->sub.id = id;
	return pres_job_submit(ps, &r->job);
}

struct sub_walk {
	int (*cb)(struct pres_sub *, void *);
	void *arg;
};

static int
sub_row(const struct gwstore_sub *row, void *arg)
{
	struct sub_walk *w = arg;
	struct pres_sub *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	s->id = row->id;
	s->event = (enum pres_event)row->event;
	s->presentity = strdup(row->presentity);
	s->watcher = strdup(row->watcher);
	s->call_id = strdup(row->call_id);
	s->local = strdup(row->local);
	s->remote = strdup(row->remote);
	s->contact = strdup(row->contact);
	s->route = row->route[0] ? strdup(row->route) : NULL;
	s->rseq = row->rseq;
	/* NOTIFYs after the last write went unrecorded: jump ahead */
	s->lseq = row->lseq + 10000;
	s->expires = (time_t)row->expires;
	s->legacy = (row->flags & 1) != 0;
	s->flags = (unsigned)row->flags >> 1;
	snprintf(s->transport, sizeof(s->transport), "%s", row->transport);
	snprintf(s->addr, sizeof(s->addr), "%s", row->addr);
	return w->cb(s, w->arg);
}

int
pres_store_sub_each(struct gwstore *st, time_t now, int (*cb)(struct pres_sub *, void *),
		    void *arg)
{
	struct sub_walk w = {cb, arg};

	return gwstore_sub_each(st, now, sub_row, &w);
}
