/*
 * presence_store.c - publications and subscriptions to and from the store's
 * rows (libgwstore).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "presence_store.h"

int
pres_store_pub_put(struct gwstore *st, const struct pres_pub *p)
{
	const struct gwstore_pub row = {
		.etag = p->etag,
		.aor = p->aor,
		.expires = (int64_t)p->expires,
		.seq = p->seq,
		.source = (int)p->source,
		.open = p->st.open,
		.activity = (int)p->st.activity,
		.note = p->st.note,
		.call_id = p->call_id ? p->call_id : "",
		.cseq = p->cseq,
	};

	return gwstore_pub_put(st, &row);
}

int
pres_store_pub_delete(struct gwstore *st, const char *etag)
{
	return gwstore_pub_delete(st, etag);
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
pres_store_sub_put(struct gwstore *st, struct pres_sub *s)
{
	const struct gwstore_sub row = {
		.id = s->id,
		.event = (int)s->event,
		.presentity = s->presentity,
		.watcher = s->watcher,
		.call_id = s->call_id,
		.local = s->local,
		.remote = s->remote,
		.contact = s->contact,
		.route = s->route ? s->route : "",
		.rseq = s->rseq,
		.lseq = s->leg ? nta_leg_get_seq(s->leg) : s->lseq,
		.expires = (int64_t)s->expires,
		.flags = (int)(s->legacy | s->flags << 1), /* bit 0 legacy, then flags */
		.transport = s->transport,
		.addr = s->addr,
	};

	return gwstore_sub_put(st, &row, &s->id);
}

int
pres_store_sub_delete(struct gwstore *st, int64_t id)
{
	return gwstore_sub_delete(st, id);
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
