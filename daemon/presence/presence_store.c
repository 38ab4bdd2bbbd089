/*
 * presence_store.c - publications and subscriptions to and from the store's
 * rows (libgwstore).  Writes are jobs (presence_jobs.c): queued off worker 0
 * for a remote store, in the order they were made.  In a pool every row
 * records the front end that wrote it, and each change of a publication is
 * told to the other front ends (gw_presence, "aor<TAB>front end", sent in
 * the write's transaction), which read that AOR's publications again
 * (pres_store_pub_reload).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "log.h"
#include "presence_jobs.h"
#include "presence_store.h"

/* A write of a row: the row's strings copied into the job. */
struct row_job {
	struct pres_job job;
	enum { W_PUB_PUT, W_PUB_DELETE, W_SUB_ADD, W_SUB_PUT, W_SUB_DELETE } kind;
	struct gwstore_pub pub;
	struct gwstore_sub sub;
	const char *replaces;       /* W_PUB_PUT: the entity tag it takes the place of, or NULL */
	struct pres_pub_wait *wait; /* W_PUB_PUT: told when it is durable, or NULL */
	char *str[12];
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

/* Tell the other front ends that aor's publications changed (inside the
 * write's transaction: they read it once it is committed). */
static int
pub_notify(struct gwstore *st, const char *aor, const char *self)
{
	char payload[320];

	if (self == NULL || self[0] == '\0')
		return 0; /* not in a pool */
	snprintf(payload, sizeof(payload), "%s\t%s", aor, self);
	return gwstore_notify(st, GWSTORE_CHANNEL_PRESENCE, payload);
}

/* A publication written (in place of r->replaces, in one transaction, so that
 * no reader sees the user without it) and told to the pool. */
static int
pub_write(struct row_job *r, struct gwstore *st)
{
	int rc;

	if (gwstore_begin(st, true) < 0)
		return -EIO;
	rc = r->replaces ? gwstore_pub_delete(st, r->replaces) : 0;
	if (rc == 0 || rc == -ENOENT)
		rc = gwstore_pub_put(st, &r->pub);
	if (rc == 0)
		rc = pub_notify(st, r->pub.aor, r->pub.frontend);
	if (rc == 0)
		return gwstore_commit(st);
	gwstore_rollback(st);
	return rc;
}

static int
row_run(struct pres_job *j, struct gwstore *st)
{
	struct row_job *r = (struct row_job *)j;
	int64_t id = 0;
	int rc;

	switch (r->kind) {
	case W_PUB_PUT:
		return pub_write(r, st);
	case W_PUB_DELETE:
		rc = gwstore_pub_delete(st, r->pub.etag);
		return rc == 0 ? pub_notify(st, r->pub.aor, r->pub.frontend) : rc;
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
row_done(struct pres_job *j, struct presence *ps)
{
	struct row_job *r = (struct row_job *)j;

	if (r->wait)
		r->wait->done(ps, j->rc, r->wait);
}

static void
row_free(struct pres_job *j)
{
	struct row_job *r = (struct row_job *)j;

	if (r->wait)
		r->wait->free(r->wait);
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
pres_store_pub_put(struct presence *ps, const struct pres_pub *p, const char *replaces,
		   struct pres_pub_wait *wait)
{
	struct row_job *r = row_job(W_PUB_PUT);

	if (r == NULL) {
		if (wait)
			wait->free(wait);
		return -ENOMEM;
	}
	r->wait = wait;
	r->job.done = row_done;
	if (replaces && replaces[0])
		r->replaces = keep(r, replaces);
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
	    .frontend = keep(r, ps->self),
	};
	return pres_job_submit(ps, &r->job);
}

int
pres_store_pub_delete(struct presence *ps, const struct pres_pub *p)
{
	struct row_job *r = row_job(W_PUB_DELETE);

	if (r == NULL)
		return -ENOMEM;
	r->pub.etag = keep(r, p->etag);
	r->pub.aor = keep(r, p->aor);
	r->pub.frontend = keep(r, ps->self);
	return pres_job_submit(ps, &r->job);
}

struct pub_walk {
	int (*cb)(const struct pres_pub *, void *);
	void *arg;
	const char *self; /* a row another front end wrote is foreign */
};

static int
pub_row(const struct gwstore_pub *row, void *arg)
{
	struct pub_walk *w = arg;
	struct pres_pub p = {0};

	p.foreign =
	    w->self && w->self[0] && row->frontend[0] && strcmp(row->frontend, w->self) != 0;
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
pres_store_pub_each(struct gwstore *st, const char *self, time_t now,
		    int (*cb)(const struct pres_pub *, void *), void *arg)
{
	struct pub_walk w = {cb, arg, self};

	return gwstore_pub_each(st, now, pub_row, &w);
}

/* Reading the other front ends' publications again: the rows, copied. */
struct reload_job {
	struct pres_job job;
	char aor[256]; /* "" for every AOR */
	char self[40];
	struct pres_pub *pubs; /* the foreign ones read, a list */
	bool failed;
};

static int
reload_row(const struct pres_pub *p, void *arg)
{
	struct reload_job *rj = arg;
	struct pres_pub *c;

	if (!p->foreign)
		return 0; /* ours: memory has it as it is (or newer) */
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->aor = strdup(p->aor)) == NULL ||
	    (p->call_id && (c->call_id = strdup(p->call_id)) == NULL)) {
		if (c)
			free(c->aor);
		free(c);
		rj->failed = true;
		return -ENOMEM;
	}
	memcpy(c->etag, p->etag, sizeof(c->etag));
	c->expires = p->expires;
	c->seq = p->seq;
	c->source = p->source;
	c->st = p->st;
	c->cseq = p->cseq;
	c->foreign = true;
	c->next = rj->pubs;
	rj->pubs = c;
	return 0;
}

static int
reload_run(struct pres_job *j, struct gwstore *st)
{
	struct reload_job *rj = (struct reload_job *)j;
	struct pub_walk w = {reload_row, rj, rj->self};
	time_t now = time(NULL);
	int rc = rj->aor[0] ? gwstore_pub_aor(st, rj->aor, now, pub_row, &w)
			    : gwstore_pub_each(st, now, pub_row, &w);

	return rc < 0 || rj->failed ? -EIO : 0;
}

static void
reload_done(struct pres_job *j, struct presence *ps)
{
	struct reload_job *rj = (struct reload_job *)j;

	if (j->rc < 0) {
		log_warnx("event=pool-presence-read-failed aor=%s",
			  rj->aor[0] ? log_value(rj->aor) : "*");
		return;
	}
	pres_pub_foreign_set(ps, rj->aor[0] ? rj->aor : NULL, rj->pubs);
	rj->pubs = NULL; /* taken */
}

static void
reload_free(struct pres_job *j)
{
	struct reload_job *rj = (struct reload_job *)j;

	while (rj->pubs) {
		struct pres_pub *p = rj->pubs;
		rj->pubs = p->next;
		free(p->aor);
		free(p->call_id);
		free(p);
	}
	free(rj);
}

int
pres_store_pub_reload(struct presence *ps, const char *aor)
{
	struct reload_job *rj = calloc(1, sizeof(*rj));

	if (rj == NULL)
		return -ENOMEM;
	snprintf(rj->aor, sizeof(rj->aor), "%s", aor ? aor : "");
	snprintf(rj->self, sizeof(rj->self), "%s", ps->self);
	rj->job.run = reload_run;
	rj->job.done = reload_done;
	rj->job.free = reload_free;
	return pres_job_submit(ps, &rj->job);
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
	    .frontend = keep(r, ps->self),
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
	snprintf(s->frontend, sizeof(s->frontend), "%s", row->frontend);
	return w->cb(s, w->arg);
}

int
pres_store_sub_each(struct gwstore *st, time_t now, int (*cb)(struct pres_sub *, void *), void *arg)
{
	struct sub_walk w = {cb, arg};

	return gwstore_sub_each(st, now, sub_row, &w);
}
