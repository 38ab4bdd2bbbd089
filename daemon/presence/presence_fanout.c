/*
 * presence_fanout.c - NOTIFYs sent by the worker that holds the watcher's
 * address.
 *
 * Worker 0 keeps the presence state and decides everything: what a watcher
 * may see, the document, one NOTIFY in flight per dialog, the dialog's CSeq.
 * With several workers the kernel gives each client address to one of them
 * (reuseport), and a watcher's answers to its NOTIFYs come back there.  So a
 * NOTIFY of a UDP dialog whose SUBSCRIBE came through another worker is built
 * whole on worker 0 (presence_send.c) and handed to that worker, which sends
 * it on its own agent and takes its 200 itself: worker 0 neither sends the
 * datagram, nor keeps the transaction and its timers, nor takes the 200
 * relayed.  The NOTIFYs of one burst (a PUBLISH to many watchers) travel in
 * one batch per worker, posted once worker 0 is done with the burst (a
 * zero-delay timer), so the sending worker wakes once for it.  Each final
 * status goes back to worker 0 by the mailbox (which wakes worker 0 once for
 * all that came meanwhile), and pres_notify_done() clears the dialog's
 * in-flight mark and sends the latest state if it changed meanwhile: the order
 * of a watcher's NOTIFYs stays that of worker 0's decisions.
 *
 * Stopping: worker 0 stops first (main.c stops the workers in order).  While
 * it runs, `home' is its mailbox; once the service stops it is NULL and a
 * sending worker drops what it would have posted back.  A sending worker that
 * stops drops its transactions and what was queued for it.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

#include "gwd.h"
#include "log.h"
#include "mailbox.h"
#include "presence.h"
#include "presence_int.h"
#include "service.h"
#include "sip.h"

#define FANOUT_WORKERS 64 /* main.c's bound on workers */

/* One NOTIFY handed to another worker, and its final status coming back. */
struct pres_out {
	struct mailbox_item item;       /* first: the mailbox hands it back */
	struct pres_out *next;          /* in a batch */
	struct pres_out **prev, *fnext; /* in the sender's list of those in flight */
	struct pres_sub *sub;           /* worker 0's: touched there only */
	msg_t *msg;                     /* the NOTIFY but for its Via */
	char hop[160];                  /* where to, or "" */
	nta_outgoing_t *orq;            /* the sender's transaction */
	int worker;
	int status;
};

/* What worker 0 hands one worker at a time. */
struct pres_batch {
	struct mailbox_item item; /* first */
	int worker;
	struct pres_out *list;
};

/* Worker 0's side: the NOTIFYs of the burst in progress, per worker. */
struct pres_fanout {
	su_timer_t *timer; /* zero delay: the burst is posted when worker 0 is done */
	bool armed;
	struct pres_out *out[FANOUT_WORKERS], **tail[FANOUT_WORKERS];
};

/* A sending worker's side; each entry is touched by its own worker only. */
struct pres_sender {
	struct worker *w;
	struct pres_out *flying; /* transactions in progress */
	struct pres_batch *done; /* final statuses for worker 0, posted together */
	su_timer_t *timer;       /* ...a moment after the first */
	uint64_t counter;
	char tag[24];
};
static struct pres_sender *senders[FANOUT_WORKERS];

/* Where final statuses go: worker 0's mailbox while the service runs there. */
static pthread_mutex_t home_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mailbox *home;

static void
out_free(struct pres_out *o)
{
	if (o->msg)
		msg_destroy(o->msg);
	free(o);
}

/* On worker 0: final statuses. */
static void
batch_back(struct mailbox_item *item)
{
	struct pres_batch *b = (struct pres_batch *)item;
	struct presence *ps = presence_get();

	while (b->list) {
		struct pres_out *o = b->list;
		b->list = o->next;
		if (ps) {
			o->sub->away = false;
			pres_notify_done(ps, o->sub, o->status);
		}
		out_free(o);
	}
	free(b);
}

/* Worker 0 hears of the final statuses of b (any thread). */
static void
batch_post_back(struct pres_batch *b)
{
	b->item.fn = batch_back;
	pthread_mutex_lock(&home_mu);
	if (home) {
		mailbox_expect(home); /* worker 0 runs it even when it is stopping */
		mailbox_post(home, &b->item);
		b = NULL;
	}
	pthread_mutex_unlock(&home_mu);
	if (b == NULL)
		return;
	while (b->list) { /* the service stopped on worker 0: nobody waits for them */
		struct pres_out *o = b->list;
		b->list = o->next;
		out_free(o);
	}
	free(b);
}

static void
done_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct pres_sender *snd = (struct pres_sender *)arg;
	struct pres_batch *b = snd->done;

	(void)magic;
	(void)t;
	snd->done = NULL;
	if (b)
		batch_post_back(b);
}

/* On the sending worker: o is done (status final); worker 0 hears of it with
 * the others that end within 2 ms (one wake-up of worker 0 for them). */
static void
out_post_back(struct pres_sender *snd, struct pres_out *o)
{
	if (o->msg) {
		msg_destroy(o->msg);
		o->msg = NULL;
	}
	if (snd && snd->done == NULL && (snd->done = calloc(1, sizeof(*snd->done))) != NULL)
		su_timer_set_interval(snd->timer, done_cb, (su_timer_arg_t *)snd, 2);
	if (snd && snd->done) {
		o->next = snd->done->list;
		snd->done->list = o;
		return;
	}
	struct pres_batch *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		log_warnx("event=notify-status-lost reason=\"no memory\"");
		out_free(o); /* its subscription keeps its in-flight mark */
		return;
	}
	o->next = NULL;
	b->list = o;
	batch_post_back(b);
}

static void
flying_unlink(struct pres_out *o)
{
	*o->prev = o->fnext;
	if (o->fnext)
		o->fnext->prev = o->prev;
}

static int
out_cb(nta_outgoing_magic_t *magic, nta_outgoing_t *orq, const sip_t *sip)
{
	struct pres_out *o = (struct pres_out *)magic;
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);

	if (status < 200)
		return 0;
	nta_outgoing_destroy(orq);
	o->orq = NULL;
	o->status = status;
	flying_unlink(o);
	out_post_back(senders[o->worker], o);
	return 0;
}

/* On the sending worker: send one. */
static void
out_send(struct pres_sender *snd, struct pres_out *o)
{
	char key[64];

	sip_branch_make(snd->w, key, sizeof(key), snd->tag, ++snd->counter);
	o->orq =
	    nta_outgoing_mcreate(snd->w->w_agent, out_cb, (nta_outgoing_magic_t *)o,
				 o->hop[0] ? gw_url(o->hop) : NULL, o->msg, NTATAG_BRANCH_KEY(key),
				 TAG_IF(gw_hop_ip6(o->hop), TPTAG_IDENT("v6")), TAG_END());
	if (o->orq == NULL) {
		log_warnx("event=notify-failed worker=%d target=%s", snd->w->w_id,
			  log_value(o->hop));
		o->status = 503;
		out_post_back(snd, o);
		return;
	}
	o->msg = NULL; /* the transaction's */
	o->fnext = snd->flying;
	o->prev = &snd->flying;
	if (snd->flying)
		snd->flying->prev = &o->fnext;
	snd->flying = o;
}

/* On the sending worker: a burst from worker 0. */
static void
batch_run(struct mailbox_item *item)
{
	struct pres_batch *b = (struct pres_batch *)item;
	struct pres_sender *snd = senders[b->worker];

	while (b->list) {
		struct pres_out *o = b->list;
		b->list = o->next;
		if (snd) {
			out_send(snd, o);
		} else {
			o->status = 503; /* this worker stops */
			out_post_back(NULL, o);
		}
	}
	free(b);
}

/* On worker 0, once the current event is handled: post each worker its batch. */
static void
flush_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct presence *ps = (struct presence *)arg;
	struct pres_fanout *f = ps->fan;
	struct gwd *g = ps->w->w_gwd;

	(void)magic;
	(void)t;
	f->armed = false;
	for (int i = 1; i < g->nworkers && i < FANOUT_WORKERS; i++) {
		struct pres_batch *b;
		if (f->out[i] == NULL)
			continue;
		if ((b = calloc(1, sizeof(*b))) == NULL) {
			su_timer_set_interval(f->timer, flush_cb, arg, 10); /* try again */
			f->armed = true;
			continue;
		}
		b->item.fn = batch_run;
		b->worker = i;
		b->list = f->out[i];
		f->out[i] = NULL;
		f->tail[i] = &f->out[i];
		mailbox_expect(g->workers[i].w_mbox); /* it runs it even when stopping */
		mailbox_post(g->workers[i].w_mbox, &b->item);
	}
}

int
pres_fanout_send(struct presence *ps, struct pres_sub *s, msg_t *msg, const char *hop)
{
	struct pres_fanout *f = ps->fan;
	struct pres_out *o = calloc(1, sizeof(*o));

	if (o == NULL || f == NULL || s->worker <= 0 || s->worker >= FANOUT_WORKERS) {
		free(o);
		msg_destroy(msg);
		return -ENOMEM;
	}
	o->sub = s;
	o->msg = msg;
	o->worker = s->worker;
	snprintf(o->hop, sizeof(o->hop), "%s", hop);
	*f->tail[s->worker] = o;
	f->tail[s->worker] = &o->next;
	s->away = true;
	if (!f->armed) {
		su_timer_set_interval(f->timer, flush_cb, (su_timer_arg_t *)ps, 0);
		f->armed = true;
	}
	return 0;
}

int
pres_fanout_start(struct presence *ps)
{
	struct pres_fanout *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -ENOMEM;
	f->timer = su_timer_create(su_root_task(ps->w->w_root), 0);
	if (f->timer == NULL) {
		free(f);
		return -ENOMEM;
	}
	for (int i = 0; i < FANOUT_WORKERS; i++)
		f->tail[i] = &f->out[i];
	ps->fan = f;
	pthread_mutex_lock(&home_mu);
	home = ps->w->w_mbox;
	pthread_mutex_unlock(&home_mu);
	return 0;
}

void
pres_fanout_stop(struct presence *ps)
{
	struct pres_fanout *f = ps->fan;

	pthread_mutex_lock(&home_mu);
	home = NULL;
	pthread_mutex_unlock(&home_mu);
	if (f == NULL)
		return;
	su_timer_destroy(f->timer);
	for (int i = 0; i < FANOUT_WORKERS; i++)
		while (f->out[i]) {
			struct pres_out *o = f->out[i];
			f->out[i] = o->next;
			out_free(o);
		}
	free(f);
	ps->fan = NULL;
}

static int
sender_attach(struct worker *w)
{
	struct pres_sender *snd;

	if (w->w_id <= 0 || w->w_id >= FANOUT_WORKERS)
		return 0; /* worker 0 sends its own */
	if ((snd = calloc(1, sizeof(*snd))) == NULL) {
		snprintf(w->w_error, sizeof(w->w_error), "no memory for the presence fan-out");
		return -1;
	}
	snd->w = w;
	if ((snd->timer = su_timer_create(su_root_task(w->w_root), 2)) == NULL) {
		free(snd);
		snprintf(w->w_error, sizeof(w->w_error), "no timer for the presence fan-out");
		return -1;
	}
	/* branches unique across restarts: the start time in the tag */
	snprintf(snd->tag, sizeof(snd->tag), "pn%" PRIx64, (uint64_t)time(NULL));
	senders[w->w_id] = snd;
	return 0;
}

static void
sender_detach(struct worker *w)
{
	struct pres_sender *snd;

	if (w->w_id <= 0 || w->w_id >= FANOUT_WORKERS || (snd = senders[w->w_id]) == NULL)
		return;
	senders[w->w_id] = NULL;
	while (snd->flying) {
		struct pres_out *o = snd->flying;
		flying_unlink(o);
		nta_outgoing_destroy(o->orq);
		o->orq = NULL;
		o->status = 503;
		out_post_back(NULL, o);
	}
	su_timer_destroy(snd->timer);
	if (snd->done)
		batch_post_back(snd->done);
	free(snd);
}

const struct gw_service fanout_service = {
    .name = "presence-fanout",
    .attach = sender_attach,
    .detach = sender_detach,
};
