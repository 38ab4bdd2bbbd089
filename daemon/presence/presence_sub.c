/*
 * presence_sub.c - subscriptions and the notifier (RFC 6665, RFC 3856).
 *
 * The server is the UAS of each subscription's dialog: an nta leg holds the
 * dialog (Call-ID, tags, route set, remote target, CSeq), NOTIFYs are sent
 * in it.  A SUBSCRIBE is answered 200 with Expires, then a NOTIFY with the
 * current state follows at once; every change sends another; a refresh
 * sends one too; Expires: 0 and expiry send a terminating NOTIFY.
 *
 * Retransmissions of a SUBSCRIBE answered without a transaction carry the
 * CSeq already seen and get the same answer, with no NOTIFY.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_util.h>

#include "flow.h"
#include "gwd.h"
#include "log.h"
#include "presence_int.h"
#include "presence_jobs.h"
#include "presence_store.h"
#include "sip.h"
#include "sip_policy.h"
#include "source_net.h"

#define SUB_DEFAULT_EXPIRES 3600

static void
sub_free(struct pres_sub *s)
{
	if (s->orq)
		nta_outgoing_destroy(s->orq);
	if (s->leg)
		nta_leg_destroy(s->leg);
	free(s->presentity);
	free(s->watcher);
	free(s->call_id);
	free(s->local);
	free(s->remote);
	free(s->contact);
	free(s->route);
	free(s);
}

static int
leg_cb(nta_leg_magic_t *magic, nta_leg_t *leg, nta_incoming_t *irq, const sip_t *sip)
{
	return presence_leg_request((struct pres_sub *)magic, irq, sip);
}

int
pres_sub_leg(struct presence *ps, struct pres_sub *s)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	sip_from_t *local = sip_from_make(home, s->local);
	sip_to_t *remote = sip_to_make(home, s->remote);
	sip_call_id_t *cid = sip_call_id_make(home, s->call_id);
	sip_contact_t *m = sip_contact_make(home, s->contact);
	sip_record_route_t *rr = s->route ? sip_record_route_make(home, s->route) : NULL;
	sip_cseq_t *cs = s->lseq ? sip_cseq_create(home, s->lseq, SIP_METHOD_NOTIFY) : NULL;
	int ret = -1;

	if (local == NULL || remote == NULL || cid == NULL || m == NULL)
		goto done;
	s->leg = nta_leg_tcreate(ps->w->w_agent, leg_cb, (nta_leg_magic_t *)s, SIPTAG_CALL_ID(cid),
				 SIPTAG_FROM(local), SIPTAG_TO(remote), TAG_IF(cs, SIPTAG_CSEQ(cs)),
				 NTATAG_REMOTE_CSEQ(s->rseq), TAG_END());
	if (s->leg == NULL)
		goto done;
	nta_leg_server_route(s->leg, rr, m);
	ret = 0;
done:
	su_home_deinit(home);
	return ret;
}

static void
sub_state(const struct pres_sub *s, char *state, size_t len)
{
	long left = (long)(s->expires - time(NULL));

	if (s->ending)
		snprintf(state, len, "terminated%s%s", s->reason[0] ? ";reason=" : "", s->reason);
	else
		snprintf(state, len, "active;expires=%ld", left > 0 ? left : 0);
}

/* A contact list is read from the store: a presence job builds the document,
 * and the NOTIFY goes when it is done (if the subscription still lives). */
struct roaming_job {
	struct pres_job job;
	int64_t sub;
	char owner[256];
	char *body;
};

static int
roaming_run(struct pres_job *j, struct gwstore *st)
{
	struct roaming_job *rj = (struct roaming_job *)j;

	rj->body = pres_sipe_contacts_build(st, rj->owner);
	return rj->body ? 0 : -EIO;
}

static void
roaming_done(struct pres_job *j, struct presence *ps)
{
	struct roaming_job *rj = (struct roaming_job *)j;
	char state[64];

	for (struct pres_sub *s = ps->subs; s; s = s->next)
		if (s->id == rj->sub && !s->dead && !s->ending) {
			sub_state(s, state, sizeof(state));
			presence_send_notify(ps, s, state,
					     "application/vnd-microsoft-roaming-contacts+xml",
					     rj->body);
			return;
		}
}

static void
roaming_free(struct pres_job *j)
{
	free(((struct roaming_job *)j)->body);
	free(j);
}

static void
roaming_notify(struct presence *ps, struct pres_sub *s)
{
	struct roaming_job *rj;

	if (s->ending || s->id == 0 || (rj = calloc(1, sizeof(*rj))) == NULL) {
		/* the last NOTIFY (or no memory for the list): the state alone */
		char state[64];
		sub_state(s, state, sizeof(state));
		if (presence_send_notify(
			ps, s, state, "application/vnd-microsoft-roaming-contacts+xml", NULL) < 0 &&
		    s->ending)
			s->dead = true;
		return;
	}
	rj->sub = s->id;
	snprintf(rj->owner, sizeof(rj->owner), "%s", s->presentity);
	rj->job.run = roaming_run;
	rj->job.done = roaming_done;
	rj->job.free = roaming_free;
	pres_job_submit(ps, &rj->job);
}

/* The document of a presence NOTIFY to s: built (*owned, caller frees), or
 * the fan-out's, built once for every watcher that sees the same. */
static char *
presence_doc(struct presence *ps, struct pres_sub *s, const char **ctype, bool *owned)
{
	struct pres_fan_cache *fc = ps->fan_cache;
	struct pres_status st;
	bool allow = pres_acl_decide(ps, s) == ACL_ALLOW;
	char **shared = NULL;

	*ctype = s->legacy ? PRES_MSRTC_TYPE : "application/pidf+xml";
	if (fc && strcasecmp(fc->aor, s->presentity) == 0)
		shared = &fc->body[s->legacy ? 1 : 0][allow ? 1 : 0];
	char *built = shared ? *shared : NULL;
	*owned = shared == NULL;
	if (built)
		return built;       /* built for an earlier watcher of this fan-out */
	memset(&st, 0, sizeof(st)); /* what a watcher not allowed sees: offline */
	if (allow && shared)
		st = fc->st;
	else if (allow)
		pres_compose(ps, s->presentity, time(NULL), &st);
	char *body = s->legacy ? pres_sipe_msrtc_build(s->presentity, &st)
			       : pres_pidf_build(s->presentity, &st);
	if (shared)
		*shared = body;
	return body;
}

void
pres_sub_notify(struct presence *ps, struct pres_sub *s)
{
	char state[64];
	char *body = NULL;
	const char *ctype = "application/pidf+xml";
	bool owned = true;

	if (s->event == EV_ROAMING) {
		roaming_notify(ps, s);
		return;
	}
	sub_state(s, state, sizeof(state));
	switch (s->event) {
	case EV_PRESENCE:
		body = presence_doc(ps, s, &ctype, &owned);
		break;
	case EV_WINFO:
		body = pres_winfo_build(ps, s);
		ctype = "application/watcherinfo+xml";
		break;
	case EV_ROAMING:
		break;
	}
	if (presence_send_notify(ps, s, state, ctype, body) < 0 && s->ending)
		s->dead = true;
	if (owned)
		free(body);
}

void
pres_notify_event(struct presence *ps, const char *presentity, enum pres_event ev)
{
	bool snap = ps->acl_snap == NULL; /* not inside an outer fan-out */
	struct pres_fan_cache *fc = &ps->fan_cache_store;
	bool cache = ev == EV_PRESENCE && ps->fan_cache == NULL;

	if (snap)
		pres_acl_snapshot(ps, presentity); /* one read of the owner's rules */
	if (cache) {
		/* the state is the same for every watcher: composed once */
		memset(fc, 0, sizeof(*fc));
		fc->aor = presentity;
		pres_compose(ps, presentity, time(NULL), &fc->st);
		ps->fan_cache = fc;
	}
	for (struct pres_sub *s = ps->subs; s; s = s->next)
		if (s->event == ev && !s->ending && strcasecmp(s->presentity, presentity) == 0)
			pres_sub_notify(ps, s);
	if (cache) {
		ps->fan_cache = NULL;
		for (size_t i = 0; i < 4; i++)
			free(fc->body[i / 2][i % 2]);
	}
	if (snap)
		pres_acl_snapshot_end(ps);
}

/* End a subscription: the terminating NOTIFY, then it goes when answered. */
static void
sub_end(struct presence *ps, struct pres_sub *s, const char *reason)
{
	s->ending = true;
	snprintf(s->reason, sizeof(s->reason), "%s", reason ? reason : "");
	pres_store_sub_delete(ps, s->id);
	pres_sub_notify(ps, s);
	if (s->event == EV_PRESENCE)
		pres_notify_event(ps, s->presentity, EV_WINFO);
	log_info("event=unsubscribe watcher=%s presentity=%s reason=%s", log_value(s->watcher),
		 log_value(s->presentity), log_value(reason));
}

static struct pres_sub *
sub_find(struct presence *ps, const sip_t *sip, bool by_to_tag)
{
	const char *rtag = sip->sip_from->a_tag ? sip->sip_from->a_tag : "";

	for (struct pres_sub *s = ps->subs; s; s = s->next) {
		if (s->dead || strcmp(s->call_id, sip->sip_call_id->i_id) != 0)
			continue;
		if (!s->leg ||
		    strcmp(nta_leg_rtag(s->leg, NULL) ? nta_leg_rtag(s->leg, NULL) : "", rtag) != 0)
			continue;
		if (!by_to_tag || strcmp(nta_leg_tag(s->leg, NULL), sip->sip_to->a_tag) == 0)
			return s;
	}
	return NULL;
}

static void
reply_ok(struct pres_req *r, struct pres_sub *s, long expires)
{
	char exp[16], contact[200];

	snprintf(exp, sizeof(exp), "%ld", expires);
	pres_our_contact(r->w, s, contact, sizeof(contact));
	presence_reply(r, SIP_200_OK, SIPTAG_EXPIRES_STR(exp), SIPTAG_CONTACT_STR(contact),
		       TAG_END());
}

static int
requested_expires(const struct pres_req *r)
{
	int e = r->sip->sip_expires ? (int)r->sip->sip_expires->ex_delta : SUB_DEFAULT_EXPIRES;

	return e > r->ps->max_expires ? r->ps->max_expires : e;
}

/* A SUBSCRIBE in an existing dialog: refresh or unsubscribe. */
static void
resubscribe(struct pres_req *r)
{
	struct presence *ps = r->ps;
	struct pres_sub *s = sub_find(ps, r->sip, true);
	int expires = requested_expires(r);

	if (s == NULL || s->ending) {
		presence_reply(r, 481, "Subscription does not exist", TAG_END());
		return;
	}
	if (r->sip->sip_cseq->cs_seq <= s->rseq && r->irq == NULL) {
		reply_ok(r, s, (long)(s->expires - time(NULL))); /* a retransmission */
		return;
	}
	s->rseq = r->sip->sip_cseq->cs_seq;
	if (expires == 0) {
		reply_ok(r, s, 0);
		sub_end(ps, s, NULL);
		return;
	}
	s->expires = time(NULL) + expires;
	pres_store_sub_put(ps, s);
	reply_ok(r, s, expires);
	pres_sub_notify(ps, s);
}

static char *
route_string(const sip_t *sip)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	char *s = NULL;

	for (const sip_record_route_t *rr = sip->sip_record_route; rr; rr = rr->r_next) {
		char *one = sip_header_as_string(home, (const sip_header_t *)rr);
		char *n = NULL;
		if (one && asprintf(&n, "%s%s%s", s ? s : "", s ? ", " : "", one) < 0)
			n = NULL;
		free(s);
		s = n;
	}
	su_home_deinit(home);
	return s;
}

/* Where the SUBSCRIBE came from, and its connection when reliable. */
static void
source_fill(struct pres_req *r, struct pres_sub *s)
{
	tport_t *tp = r->msg ? nta_incoming_transport(r->w->w_agent, NULL, r->msg) : NULL;

	sip_msg_source(r->w, r->msg, s->addr, sizeof(s->addr), s->transport, sizeof(s->transport));
	if (tp && tport_is_reliable(tp))
		s->flow = flow_id(r->w->w_flows, tp);
	tport_unref(tp);
}

static struct pres_sub *
sub_create(struct pres_req *r, enum pres_event ev, const char *presentity, const char *watcher,
	   int expires)
{
	const sip_t *sip = r->sip;
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct pres_sub *s = calloc(1, sizeof(*s));
	char tag[24];

	if (s == NULL)
		return NULL;
	presence_token(r->ps, tag, sizeof(tag), "tag");
	sip_to_tag(msg_home(r->msg), r->sip->sip_to, tag);
	s->event = ev;
	s->presentity = strdup(presentity);
	s->watcher = strdup(watcher);
	s->call_id = strdup(sip->sip_call_id->i_id);
	s->local = strdup(sip_header_as_string(home, (const sip_header_t *)sip->sip_to));
	s->remote = strdup(sip_header_as_string(home, (const sip_header_t *)sip->sip_from));
	s->contact = strdup(url_as_string(home, sip->sip_contact->m_url));
	s->route = route_string(sip);
	s->rseq = sip->sip_cseq->cs_seq;
	s->expires = time(NULL) + expires;
	s->legacy = pres_sipe_legacy(sip);
	s->worker = r->origin;
	/* a watcher from elsewhere: the policy engine decides (never answering: a denied
	 * watcher gets the same 200 and NOTIFYs, saying closed) */
	if (ev == EV_PRESENCE &&
	    !gw_conf_serves(r->w->w_gwd->conf, sip->sip_from->a_url->url_host) &&
	    sip_policy_allows(r->w, r->msg, (sip_t *)sip, r->user))
		s->flags |= SUB_POLICY_ALLOWED;
	su_home_deinit(home);
	source_fill(r, s);
	if (!s->presentity || !s->watcher || !s->call_id || !s->local || !s->remote ||
	    !s->contact || pres_sub_leg(r->ps, s) < 0) {
		sub_free(s);
		return NULL;
	}
	return s;
}

/* The source (source_net.h) of "host:port" or "[v6]:port". */
static bool
hostport_source(const char *hostport, unsigned char key[16])
{
	char host[80]; /* as long as room_for's src */

	snprintf(host, sizeof(host), "%s", hostport);
	sip_source_host(host);
	return source_net_key_text(host, key);
}

/* Subscriptions are state an outsider can make us hold: capped in all, per watcher and
 * per client source (an address; a remote IPv6 address with its /64).  False when the
 * SUBSCRIBE was refused (503 + Retry-After). */
static bool
room_for(struct pres_req *r, const char *watcher)
{
	const struct gw_conf *c = r->w->w_gwd->conf;
	char src[80], proto[16], host[80], from[80];
	size_t all = 0, same_watcher = 0, same_source = 0;
	const char *why = NULL;

	sip_msg_source(r->w, r->msg, src, sizeof(src), proto, sizeof(proto));
	unsigned char key[16];
	bool keyed = hostport_source(src, key);
	snprintf(host, sizeof(host), "%s", src);
	sip_source_host(host);
	source_net_text_of(host, from, sizeof(from));
	for (struct pres_sub *s = r->ps->subs; s; s = s->next) {
		if (s->dead || s->ending)
			continue;
		all++;
		same_watcher += strcasecmp(s->watcher, watcher) == 0;
		if (!s->sourced) {
			s->sourced = true;
			if (!hostport_source(s->addr, s->source))
				memset(s->source, 0xff, sizeof(s->source)); /* no client's */
		}
		same_source += keyed && memcmp(s->source, key, sizeof(key)) == 0;
	}
	if (all >= (size_t)c->presence_max_subs)
		why = "too many subscriptions";
	else if (same_watcher >= (size_t)c->presence_max_subs_watcher)
		why = "too many subscriptions of this watcher";
	else if (same_source >= (size_t)c->presence_max_subs_source)
		why = "too many subscriptions from this address";
	if (why == NULL)
		return true;
	/* source: the sender (what fail2ban bans); counted-as: the source its share is
	 * counted for (a remote IPv6 address's /64) */
	log_notice("event=subscribe-refused watcher=%s source=%s reason=\"%s\" counted-as=%s",
		   log_value(watcher), host, why, from);
	presence_reply(r, 503, "Too many subscriptions", SIPTAG_RETRY_AFTER_STR("60"), TAG_END());
	return false;
}

void
pres_subscribe(struct pres_req *r, enum pres_event ev)
{
	const sip_t *sip = r->sip;
	struct presence *ps = r->ps;
	char presentity[256], from[256];
	int expires = requested_expires(r);
	struct pres_sub *s;

	if (sip->sip_to->a_tag) {
		resubscribe(r);
		return;
	}
	s = sub_find(ps, sip, false);
	if (s && s->rseq == sip->sip_cseq->cs_seq) {
		/* a retransmission: the same tag again */
		sip_to_tag(msg_home(r->msg), r->sip->sip_to, nta_leg_tag(s->leg, NULL));
		reply_ok(r, s, (long)(s->expires - time(NULL)));
		return;
	}
	if (!sip->sip_contact ||
	    sip_url_aor(presentity, sizeof(presentity), sip->sip_request->rq_url) < 0 ||
	    sip_url_aor(from, sizeof(from), sip->sip_from->a_url) < 0) {
		presence_reply(r, 400, "SUBSCRIBE needs Contact and a user", TAG_END());
		return;
	}
	if (ev != EV_PRESENCE && strcasecmp(presentity, r->user) != 0) {
		presence_reply(r, 403, "Only the user may watch this", TAG_END());
		return;
	}
	if (!room_for(r, r->user[0] ? r->user : from))
		return;
	s = sub_create(r, ev, presentity, r->user[0] ? r->user : from, expires);
	if (s == NULL) {
		presence_reply(r, 500, "Cannot create subscription", TAG_END());
		return;
	}
	/* an outsider's subscription lives in memory only: it renews it, or it goes */
	if (expires > 0 && r->user[0] && pres_store_sub_put(ps, s) < 0) {
		sub_free(s);
		presence_reply(r, 500, "Subscription not stored", TAG_END());
		return;
	}
	s->next = ps->subs;
	ps->subs = s;
	reply_ok(r, s, expires);
	log_info("event=subscribe watcher=%s presentity=%s expires=%d", log_value(s->watcher),
		 log_value(presentity), expires);
	if (expires == 0) {
		sub_end(ps, s, "timeout"); /* a one-time fetch */
		return;
	}
	pres_sub_notify(ps, s);
	if (ev == EV_PRESENCE) {
		pres_changed(ps, presentity, false);
		pres_notify_event(ps, presentity, EV_WINFO);
	}
}

int
pres_sub_restore(struct presence *ps, struct pres_sub *s)
{
	if (ps->self[0] && s->frontend[0] && strcmp(s->frontend, ps->self) != 0) {
		sub_free(s); /* another front end's dialog: its NOTIFYs are that one's */
		return 0;
	}
	if (pres_sub_leg(ps, s) < 0) {
		log_warnx("event=subscription-not-restored watcher=%s", log_value(s->watcher));
		pres_store_sub_delete(ps, s->id);
		sub_free(s);
		return 0;
	}
	s->next = ps->subs;
	ps->subs = s;
	return 0;
}

void
pres_sub_expire(struct presence *ps, time_t now)
{
	struct pres_sub **pp = &ps->subs;

	for (struct pres_sub *s = ps->subs; s; s = s->next)
		if (!s->ending && s->expires <= now)
			sub_end(ps, s, "timeout");
	while (*pp) {
		struct pres_sub *s = *pp;
		/* one NOTIFY on another worker comes back first (presence_fanout.c) */
		if ((s->dead || (s->ending && s->orq == NULL)) && !s->away) {
			*pp = s->next;
			sub_free(s);
			continue;
		}
		pp = &s->next;
	}
}

void
pres_subs_free(struct presence *ps)
{
	while (ps->subs) {
		struct pres_sub *s = ps->subs;
		ps->subs = s->next;
		sub_free(s);
	}
}
