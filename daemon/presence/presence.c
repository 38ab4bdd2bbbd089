/*
 * presence.c - the presence service's entry points: which requests it
 * takes, authentication, hand-over to worker 0, the housekeeping timer,
 * start and stop.
 *
 * Worker 0 owns all presence state (publications, subscriptions and their
 * dialogs), so nothing here is locked: a request that reaches another
 * worker is authenticated there and handed to worker 0, like a request
 * for a TCP connection is.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/parser.h>
#include <sofia-sip/nta_tport.h>

#include "gwd.h"
#include "gwstore.h"
#include "pool.h"
#include "service.h"
#include "loc.h"
#include "log.h"
#include "presence.h"
#include "presence_int.h"
#include "presence_jobs.h"
#include "presence_store.h"
#include "sip.h"
#include "sip_auth.h"
#include "sipae.h"

static struct presence *the_presence; /* worker 0's */

struct presence *
presence_get(void)
{
	return the_presence;
}

void
presence_token(struct presence *ps, char *out, size_t len, const char *what)
{
	char data[128];

	snprintf(data, sizeof(data), "%s|%" PRIu64 "|%ld", what, ++ps->counter, (long)time(NULL));
	sip_token(ps->w, out, len, data);
}

static bool
is_service(const sip_t *sip)
{
	return sip->sip_request->rq_method == sip_method_unknown &&
	       strcasecmp(sip->sip_request->rq_method_name, "SERVICE") == 0;
}

/* The event packages of SUBSCRIBE we answer; -1 others, -2 those we refuse with 489. */
static int
event_of(const sip_t *sip)
{
	static const char *const refused[] = {
	    "presence.wpending", "vnd-microsoft-roaming-ACL", "vnd-microsoft-provisioning",
	    "vnd-microsoft-provisioning-v2", "vnd-microsoft-roaming-self"};
	const char *e = sip->sip_event ? sip->sip_event->o_type : NULL;

	if (e == NULL)
		return -1;
	if (strcasecmp(e, "presence") == 0)
		return EV_PRESENCE;
	if (strcasecmp(e, "presence.winfo") == 0)
		return EV_WINFO;
	if (strcasecmp(e, "vnd-microsoft-roaming-contacts") == 0)
		return EV_ROAMING;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strcasecmp(e, refused[i]) == 0)
			return -2;
	return -1;
}

bool
presence_claims(struct worker *w, const sip_t *sip)
{
	const url_t *ru = sip->sip_request->rq_url;

	if (sip->sip_request->rq_method == sip_method_publish || is_service(sip))
		return true;
	if (sip->sip_request->rq_method != sip_method_subscribe || event_of(sip) == -1)
		return false;
	if (sip->sip_to->a_tag)
		return !sip->sip_route && sip_url_is_us(w, ru); /* our own dialog */
	return ru->url_user && gw_conf_serves(w->w_gwd->conf, ru->url_host);
}

/* Authenticate a request outside a dialog; false when an answer was sent. */
static bool
authenticate(struct pres_req *r)
{
	sip_t *sip = r->sip;

	r->user[0] = '\0';
	if (sip->sip_to->a_tag && sip->sip_request->rq_method == sip_method_subscribe)
		return true; /* a refresh: it must match one of our subscriptions, or 481 */
	if (gw_conf_serves(r->w->w_gwd->conf, sip->sip_from->a_url->url_host)) {
		if (sip_auth_check(r->w, r->msg, sip, false, r->user, sizeof(r->user)) != GW_PASS) {
			r->msg = NULL; /* answered */
			return false;
		}
		if (r->user[0])
			return true;
		presence_reply(r, 403, "Forbidden", TAG_END());
		return false;
	}
	if (sip->sip_request->rq_method == sip_method_subscribe)
		return true; /* a watcher from elsewhere: authorization decides */
	/* PUBLISH and SERVICE act as their owner: there must be one */
	presence_reply(r, 403, "Only users of this server publish here", TAG_END());
	return false;
}

static void
dispatch(struct pres_req *r)
{
	sip_t *sip = r->sip;
	int ev;

	if (sip->sip_request->rq_method == sip_method_publish) {
		pres_publish(r);
		return;
	}
	if (is_service(sip)) {
		pres_sipe_service(r);
		return;
	}
	ev = event_of(sip);
	if (ev < 0) {
		presence_reply(r, 489, "Bad Event", SIPTAG_ALLOW_EVENTS_STR(GW_ALLOW_EVENTS),
			       TAG_END());
		return;
	}
	pres_subscribe(r, (enum pres_event)ev);
}

/* origin: the worker that received it (it hands it over when not worker 0) */
static void
request_from(struct worker *w, msg_t *msg, sip_t *sip, tport_t *tp, int origin)
{
	struct pres_req r = {
	    .w = w, .ps = the_presence, .msg = msg, .sip = sip, .tp = tp, .origin = origin};

	if (!authenticate(&r))
		goto done;
	if (w->w_id != 0) {
		int ret = handoff_msg(w, msg, sip, HANDOFF_PRESENCE, NULL, 0);
		if (ret == -EBUSY)
			/* its address has its share of worker 0's queue waiting already */
			nta_msg_treply(w->w_agent, msg, 503, "Too many requests from your address",
				       SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
		else if (ret < 0)
			msg_destroy(msg);
		r.msg = NULL;
		goto done;
	}
	if (r.ps == NULL) {
		presence_reply(&r, 503, "Presence not available", TAG_END());
		goto done;
	}
	dispatch(&r);
done:
	if (r.msg)
		msg_destroy(r.msg);
}

void
presence_request(struct worker *w, msg_t *msg, sip_t *sip, tport_t *tp)
{
	request_from(w, msg, sip, tp, w->w_id);
}

/* A SUBSCRIBE inside one of our dialogs that nta matched to its leg. */
int
presence_leg_request(struct pres_sub *s, nta_incoming_t *irq, const sip_t *sip)
{
	struct presence *ps = the_presence;
	struct pres_req r = {.w = ps->w, .ps = ps, .sip = (sip_t *)sip, .irq = irq};

	if (sip->sip_request->rq_method != sip_method_subscribe)
		return 405;
	r.msg = nta_incoming_getrequest(irq);
	/* nta matched it to the subscription's dialog, past sipae_intake() */
	tport_t *tp = r.msg ? nta_incoming_transport(ps->w->w_agent, irq, r.msg) : NULL;
	bool signed_ok = r.msg && sipae_verified(ps->w, tp, r.msg, sip_object(r.msg));
	tport_unref(tp);
	if (!signed_ok)
		presence_reply(&r, 403, "Unsigned request on a signed-in connection", TAG_END());
	else
		dispatch(&r);
	if (r.msg)
		msg_destroy(r.msg);
	nta_incoming_destroy(irq);
	return 0;
}

static void
bindings_changed(struct presence *ps, const char *aor)
{
	struct loc_contact *cs = NULL;
	size_t n = 0;

	if (loc_lookup(ps->w->w_gwd->loc, aor, time(NULL), &cs, &n) == 0 && n == 0)
		pres_pub_drop_soap(ps, aor); /* a signed-out legacy client is offline */
	loc_contacts_free(cs, n);
	pres_changed(ps, aor, false);
}

static void
presence_bindings_changed(struct worker *w, const char *aor)
{
	struct handoff *h;

	if (w->w_id == 0) {
		if (the_presence)
			bindings_changed(the_presence, aor);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL || (h->data = strdup(aor)) == NULL) {
		free(h);
		return;
	}
	h->kind = HANDOFF_PRESENCE_AOR;
	h->len = strlen(aor);
	worker_handoff(&w->w_gwd->workers[0], h);
}

static void
presence_handoff_recv(struct worker *w, struct handoff *h)
{
	if (the_presence && h->data)
		bindings_changed(the_presence, h->data);
}

/* A change of the lists made outside the SIP path (greenwich-mmc). */
struct pres_poke {
	bool contacts; /* the contact list; otherwise the authorization list */
	char aor[256];
};

static void
poke_run(struct worker *w, void *arg)
{
	struct pres_poke *p = arg;
	struct presence *ps = the_presence;

	if (ps && p->contacts)
		pres_sipe_contacts_changed(ps, p->aor, NULL);
	else if (ps)
		pres_acl_reload(ps, p->aor);
	free(p);
}

/* Another front end (or greenwich-mmc) changed the store. */
static void
presence_store_changed(struct worker *w, const char *channel, const char *payload)
{
	struct presence *ps = the_presence;
	char aor[256];
	size_t n;

	(void)w;
	if (ps == NULL)
		return;
	if (channel == NULL) {
		pres_store_pub_reload(ps, NULL);
		pres_acl_reload(ps, NULL);
		return;
	}
	n = strcspn(payload, "\t");
	if (n == 0 || n >= sizeof(aor))
		return;
	memcpy(aor, payload, n);
	aor[n] = '\0';
	if (strcmp(channel, GWSTORE_CHANNEL_PRESENCE) == 0)
		pres_store_pub_reload(ps, aor);
	else if (strcmp(channel, GWSTORE_CHANNEL_LISTS) == 0) {
		const char *kind = strrchr(payload, '\t');
		if (kind && strcmp(kind + 1, "contacts") == 0)
			pres_sipe_contacts_changed(ps, aor, NULL);
		else
			pres_acl_reload(ps, aor);
	}
}

int
presence_lists_changed(struct gwd *g, const char *aor, bool contacts)
{
	struct pres_poke *p = calloc(1, sizeof(*p));
	int ret;

	if (p == NULL)
		return -ENOMEM;
	p->contacts = contacts;
	snprintf(p->aor, sizeof(p->aor), "%s", aor);
	ret = worker_post(&g->workers[0], poke_run, p);
	if (ret < 0)
		free(p);
	return ret;
}

static void
tick_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct presence *ps = (struct presence *)arg;
	time_t now = time(NULL);

	pres_pub_expire(ps, now);
	pres_sub_expire(ps, now);
	/* registrations that expired: recompose the watched presentities */
	pres_seen_prune(ps);
	for (struct pres_seen *e = ps->seen; e; e = e->next)
		pres_changed(ps, e->aor, false);
}

static int
restore_pub(const struct pres_pub *p, void *arg)
{
	return pres_pub_load((struct presence *)arg, p);
}

static int
restore_sub(struct pres_sub *s, void *arg)
{
	return pres_sub_restore((struct presence *)arg, s);
}

static int
presence_start(struct worker *w)
{
	struct presence *ps = calloc(1, sizeof(*ps));
	char err[512];
	time_t now = time(NULL);

	if (ps == NULL)
		return -ENOMEM;
	xmlInitParser();
	ps->w = w;
	if (pool_self(w->w_gwd))
		snprintf(ps->self, sizeof(ps->self), "%s", pool_self(w->w_gwd));
	ps->max_doc = (size_t)w->w_gwd->conf->presence_max_document;
	ps->max_expires = w->w_gwd->conf->presence_max_expires;
	if (gwstore_open_conf(&ps->st, w->w_gwd->conf, GWSTORE_STATE, err, sizeof(err)) < 0) {
		log_err("cannot open the presence store: %s", err);
		free(ps);
		return -EIO;
	}
	if (pres_jobs_start(ps, err, sizeof(err)) < 0 ||
	    (ps->jobs && pres_acl_cache_load(ps) < 0)) {
		log_err("cannot start the presence store's thread: %s", err);
		pres_acl_cache_free(ps);
		pres_jobs_stop(ps);
		gwstore_close(ps->st);
		free(ps);
		return -EIO;
	}
	if (pres_fanout_start(ps) < 0) {
		log_err("cannot start the presence fan-out");
		pres_acl_cache_free(ps);
		pres_jobs_stop(ps);
		gwstore_close(ps->st);
		free(ps);
		return -ENOMEM;
	}
	the_presence = ps;
	if (pres_store_pub_each(ps->st, ps->self, now, restore_pub, ps) < 0 ||
	    pres_store_sub_each(ps->st, now, restore_sub, ps) < 0)
		log_warnx("event=presence-restore-incomplete");
	/* tell every restored watcher the state as it is now */
	for (struct pres_sub *s = ps->subs; s; s = s->next)
		pres_sub_notify(ps, s);
	ps->timer = su_timer_create(su_root_task(w->w_root), 1000);
	su_timer_set_for_ever(ps->timer, tick_cb, (su_timer_arg_t *)ps);
	return 0;
}

static void
presence_stop(struct worker *w)
{
	struct presence *ps = the_presence;

	if (ps == NULL || ps->w != w)
		return;
	if (ps->timer)
		su_timer_destroy(ps->timer);
	pres_fanout_stop(ps); /* before the subscriptions go */
	pres_jobs_stop(ps);   /* what is queued is written first */
	pres_subs_free(ps);
	pres_pubs_free(ps);
	pres_acl_cache_free(ps);
	while (ps->seen) {
		struct pres_seen *e = ps->seen;
		ps->seen = e->next;
		free(e->aor);
		free(e);
	}
	gwstore_close(ps->st);
	the_presence = NULL;
	free(ps);
}

/* Worker 0: a presence request another worker received, or an AOR whose
 * bindings changed there. */
static void
presence_handoff(struct worker *w, struct handoff *h)
{
	tport_t *udp = NULL;
	msg_t *m;

	if (h->kind == HANDOFF_PRESENCE_AOR) {
		presence_handoff_recv(w, h);
		return;
	}
	if ((m = handoff_msg_read(w, h, &udp)) != NULL)
		request_from(w, m, sip_object(m), udp, h->origin);
}

const struct gw_service presence_service = {
    .name = "presence",
    .worker0 = true,
    .handoff_kinds = 1u << HANDOFF_PRESENCE | 1u << HANDOFF_PRESENCE_AOR,
    .attach = presence_start,
    .detach = presence_stop,
    .handoff = presence_handoff,
    .bindings_changed = presence_bindings_changed,
    .store_changed = presence_store_changed,
};
