/*
 * presence_pub.c - publications: PUBLISH (RFC 3903) of PIDF, with entity
 * tags, refresh, modification, removal and expiry; and the legacy SOAP
 * setPresence, kept as one publication per user.
 *
 * Answered without a transaction: a retransmitted initial PUBLISH carries
 * the Call-ID and CSeq of the publication it created and gets its entity tag
 * again (nothing while the first one waits for its write); a retransmitted
 * refresh names an entity tag that changed and gets 412, which the client
 * answers with a new initial PUBLISH.
 *
 * A PUBLISH is answered 200 once its publication is durable, as a REGISTER
 * is: the request waits with the store's write (a presence job, off worker 0
 * with a remote store: no worker waits on the network) and is answered when
 * the write is done; a write that failed is answered 503 with a Retry-After
 * and the publication is dropped from memory (the client publishes anew).
 * Acknowledged means durable, for the watchers too: they are told once the
 * write is done (until then they see the publication's last durable state,
 * or none), and a SOAP setPresence is answered when its write is done, as a
 * PUBLISH.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/tport.h>

#include "gwd.h"
#include "log.h"
#include "presence_int.h"
#include "presence_store.h"
#include "sip.h"
#include "sip_policy.h"

#define PUB_DEFAULT_EXPIRES 3600

static void
pub_free(struct pres_pub *p)
{
	free(p->aor);
	free(p->call_id);
	free(p);
}

static struct pres_pub *
pub_new(struct presence *ps, const char *aor, const char *call_id, uint32_t cseq)
{
	struct pres_pub *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->aor = strdup(aor)) == NULL ||
	    (call_id && (p->call_id = strdup(call_id)) == NULL)) {
		if (p)
			pub_free(p);
		return NULL;
	}
	p->cseq = cseq;
	p->next = ps->pubs;
	ps->pubs = p;
	return p;
}

/* p as it is now is in the store */
static void
pub_durable(struct pres_pub *p)
{
	p->durable = true;
	p->durable_st = p->st;
	p->durable_seq = p->seq;
}

static void
pub_unlink(struct presence *ps, struct pres_pub *p)
{
	for (struct pres_pub **pp = &ps->pubs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

int
pres_pub_load(struct presence *ps, const struct pres_pub *src)
{
	struct pres_pub *p = pub_new(ps, src->aor, src->call_id, src->cseq);

	if (p == NULL)
		return -1;
	memcpy(p->etag, src->etag, sizeof(p->etag));
	p->expires = src->expires;
	p->seq = src->seq;
	p->source = src->source;
	p->st = src->st;
	p->foreign = src->foreign;
	pub_durable(p);
	if (p->seq > ps->seq)
		ps->seq = p->seq;
	return 0;
}

void
pres_pub_foreign_set(struct presence *ps, const char *aor, struct pres_pub *pubs)
{
	struct pres_pub **pp = &ps->pubs;

	/* drop the copies held */
	while (*pp) {
		struct pres_pub *p = *pp;
		if (p->foreign && (aor == NULL || strcasecmp(p->aor, aor) == 0)) {
			*pp = p->next;
			pub_free(p);
			continue;
		}
		pp = &p->next;
	}
	/* take the new ones; a change seen here orders before any made after it
	 * (seq is a Lamport clock across the pool) */
	while (pubs) {
		struct pres_pub *p = pubs;
		pubs = p->next;
		if (p->seq > ps->seq)
			ps->seq = p->seq;
		p->next = ps->pubs;
		ps->pubs = p;
	}
	if (aor) {
		pres_changed(ps, aor, false);
		return;
	}
	for (struct pres_seen *e = ps->seen; e; e = e->next)
		pres_changed(ps, e->aor, false);
}

/* A publication taken here (another front end's gets 412: the client
 * publishes anew on this one). */
static struct pres_pub *
pub_find(struct presence *ps, const char *aor, const char *etag)
{
	for (struct pres_pub *p = ps->pubs; p; p = p->next)
		if (!p->foreign && strcmp(p->etag, etag) == 0 && strcasecmp(p->aor, aor) == 0)
			return p;
	return NULL;
}

static struct pres_pub *
pub_find_retransmission(struct presence *ps, const char *aor, const sip_t *sip)
{
	for (struct pres_pub *p = ps->pubs; p; p = p->next)
		if (!p->foreign && p->call_id && strcmp(p->call_id, sip->sip_call_id->i_id) == 0 &&
		    p->cseq == sip->sip_cseq->cs_seq && strcasecmp(p->aor, aor) == 0)
			return p;
	return NULL;
}

static void
reply_etag(struct pres_req *r, const struct pres_pub *p)
{
	char exp[16];

	snprintf(exp, sizeof(exp), "%ld", (long)(p->expires - time(NULL)));
	presence_reply(r, SIP_200_OK, SIPTAG_ETAG_STR(p->etag), SIPTAG_EXPIRES_STR(exp), TAG_END());
}

/* A PUBLISH waiting for its publication's write. */
struct pub_answer {
	struct pres_pub_wait wait; /* first */
	struct worker *w;
	msg_t *msg;
	tport_t *tp;
	char aor[256];
	char etag[40];
	bool soap; /* a SERVICE setPresence: 200 without an entity tag */
};

static void
pub_answer_done(struct presence *ps, int rc, struct pres_pub_wait *wait)
{
	struct pub_answer *a = (struct pub_answer *)wait;
	struct pres_req r = {.w = a->w, .ps = ps, .msg = a->msg, .tp = a->tp};
	struct pres_pub *p = pub_find(ps, a->aor, a->etag);

	r.sip = sip_object(a->msg);
	if (p) {
		p->pending = false;
		if (rc >= 0) {
			pub_durable(p);
			pres_changed(ps, a->aor, false); /* now the watchers */
		}
	}
	if (rc < 0) {
		log_err("event=publish-failed user=%s reason=\"store write failed\"",
			log_value(a->aor));
		if (p) {
			pub_unlink(ps, p);
			pub_free(p);
			pres_changed(ps, a->aor, false);
		}
		presence_reply(&r, 503, "Publication not stored", SIPTAG_RETRY_AFTER_STR("5"),
			       TAG_END());
	} else if (a->soap) {
		presence_reply(&r, SIP_200_OK, TAG_END()); /* (a later one may follow it) */
	} else if (p == NULL) {
		/* removed or changed again meanwhile: this entity tag is no more */
		presence_reply(&r, 412, "Conditional Request Failed", TAG_END());
	} else {
		reply_etag(&r, p);
	}
	a->msg = r.msg; /* not answered: freed below */
}

static void
pub_answer_free(struct pres_pub_wait *wait)
{
	struct pub_answer *a = (struct pub_answer *)wait;

	if (a->msg)
		msg_destroy(a->msg);
	tport_unref(a->tp);
	free(a);
}

/* r's answer waits for p's write (it takes r's request); NULL: answer now. */
static struct pres_pub_wait *
pub_answer_new(struct pres_req *r, const struct pres_pub *p, bool soap)
{
	struct pub_answer *a;

	if (r == NULL || r->msg == NULL || r->irq != NULL || (a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->wait.done = pub_answer_done;
	a->wait.free = pub_answer_free;
	a->soap = soap;
	a->w = r->w;
	a->msg = r->msg;
	a->tp = r->tp ? tport_ref(r->tp) : sip_msg_tport(r->w, r->msg);
	snprintf(a->aor, sizeof(a->aor), "%s", p->aor);
	snprintf(a->etag, sizeof(a->etag), "%s", p->etag);
	r->msg = NULL; /* the write answers it */
	return &a->wait;
}

/* Store p (a new entity tag each time it changes, in place of the row of
 * the one it had) and tell the watchers once it is durable.  r (or NULL):
 * the PUBLISH (or SERVICE, soap), answered (200, or 503) once the write is
 * done; when r->msg is still set afterwards, the caller answers (no memory
 * to wait, or nothing to answer: the watchers are told at once). */
static int
pub_commit(struct presence *ps, struct pres_pub *p, bool changed, struct pres_req *r, bool soap)
{
	char tok[24], old[sizeof(p->etag)];
	struct pres_pub_wait *wait;

	memcpy(old, p->etag, sizeof(old));
	presence_token(ps, tok, sizeof(tok), "etag");
	snprintf(p->etag, sizeof(p->etag), "%s", tok);
	if (changed)
		p->seq = ++ps->seq;
	wait = pub_answer_new(r, p, soap);
	p->pending = wait != NULL;
	if (wait == NULL)
		pres_changed(ps, p->aor, false);
	if (pres_store_pub_put(ps, p, old, wait) < 0 && wait == NULL)
		return -1;
	return 0;
}

static void
pub_remove(struct presence *ps, struct pres_pub *p)
{
	char *aor = strdup(p->aor);

	if (!p->foreign)
		pres_store_pub_delete(ps, p);
	pub_unlink(ps, p);
	pub_free(p);
	if (aor)
		pres_changed(ps, aor, false);
	free(aor);
}

/* The PIDF of the request into st; false when an error was answered. */
static bool
body_read(struct pres_req *r, struct pres_status *st)
{
	const sip_t *sip = r->sip;
	const char *ct = sip->sip_content_type ? sip->sip_content_type->c_type : "";
	int rc;

	if (strcasecmp(ct, "application/pidf+xml") != 0) {
		presence_reply(r, SIP_415_UNSUPPORTED_MEDIA,
			       SIPTAG_ACCEPT_STR("application/pidf+xml"), TAG_END());
		return false;
	}
	rc = pres_pidf_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, r->ps->max_doc,
			     st);
	if (rc == DOC_TOO_LARGE) {
		presence_reply(r, 413, "Presence document too large", TAG_END());
		return false;
	}
	if (rc != DOC_OK) {
		log_info("event=publish-refused user=%s reason=\"bad PIDF\"", log_value(r->user));
		presence_reply(r, 400, "Bad PIDF document", TAG_END());
		return false;
	}
	return true;
}

/* A PUBLISH that names an entity tag: refresh, modify or remove. */
static void
publish_existing(struct pres_req *r, const char *aor, const char *etag, int expires)
{
	struct presence *ps = r->ps;
	struct pres_pub *p = pub_find(ps, aor, etag);
	struct pres_status st;
	bool has_body = r->sip->sip_payload && r->sip->sip_payload->pl_len > 0;

	if (p == NULL) {
		presence_reply(r, 412, "Conditional Request Failed", TAG_END());
		return;
	}
	if (expires == 0) {
		pub_remove(ps, p);
		presence_reply(r, SIP_200_OK, SIPTAG_EXPIRES_STR("0"), TAG_END());
		return;
	}
	if (has_body && !body_read(r, &st))
		return;
	p->expires = time(NULL) + expires;
	if (has_body)
		p->st = st;
	if (pub_commit(ps, p, has_body, r, false) < 0) {
		presence_reply(r, 503, "Publication not stored", SIPTAG_RETRY_AFTER_STR("5"),
			       TAG_END());
		return;
	}
	if (r->msg) /* not waiting for the write */
		reply_etag(r, p);
}

void
pres_publish(struct pres_req *r)
{
	const sip_t *sip = r->sip;
	struct presence *ps = r->ps;
	char aor[256];
	int expires = sip->sip_expires ? (int)sip->sip_expires->ex_delta : PUB_DEFAULT_EXPIRES;
	struct pres_status st;

	if (!sip->sip_event || strcasecmp(sip->sip_event->o_type, "presence") != 0) {
		presence_reply(r, 489, "Bad Event", SIPTAG_ALLOW_EVENTS_STR("presence"), TAG_END());
		return;
	}
	if (sip_url_aor(aor, sizeof(aor), sip->sip_request->rq_url) < 0 ||
	    strcasecmp(aor, r->user) != 0) {
		presence_reply(r, 403, "Only the presentity may publish", TAG_END());
		return;
	}
	if (expires > ps->max_expires)
		expires = ps->max_expires;
	if (r->msg && !sip_policy_check(r->w, r->msg, (sip_t *)sip, r->user)) {
		r->msg = NULL; /* answered with the rule's code */
		return;
	}
	if (sip->sip_if_match) {
		publish_existing(r, aor, sip->sip_if_match->g_string, expires);
		return;
	}
	struct pres_pub *p = pub_find_retransmission(ps, aor, sip);
	if (p) {
		if (!p->pending) /* else the first one's answer is on its way */
			reply_etag(r, p);
		return;
	}
	if (!sip->sip_payload || sip->sip_payload->pl_len == 0 || expires == 0) {
		presence_reply(r, 400, "Initial PUBLISH needs a PIDF body", TAG_END());
		return;
	}
	if (!body_read(r, &st))
		return;
	p = pub_new(ps, aor, sip->sip_call_id->i_id, sip->sip_cseq->cs_seq);
	if (p == NULL) {
		presence_reply(r, 500, "Out of memory", TAG_END());
		return;
	}
	p->expires = time(NULL) + expires;
	p->st = st;
	log_info("event=publish user=%s open=%d activity=%s", log_value(aor), st.open,
		 pres_activity_name(st.activity));
	if (pub_commit(ps, p, true, r, false) < 0) {
		pub_unlink(ps, p);
		pub_free(p);
		pres_changed(ps, aor, false);
		presence_reply(r, 503, "Publication not stored", SIPTAG_RETRY_AFTER_STR("5"),
			       TAG_END());
		return;
	}
	if (r->msg) /* not waiting for the write */
		reply_etag(r, p);
}

static struct pres_pub *
soap_pub(struct presence *ps, const char *aor)
{
	for (struct pres_pub *p = ps->pubs; p; p = p->next)
		if (!p->foreign && p->source == SRC_SOAP && strcasecmp(p->aor, aor) == 0)
			return p;
	return NULL;
}

void
pres_pub_soap(struct presence *ps, const char *aor, const struct pres_status *st,
	      struct pres_req *r)
{
	struct pres_pub *p = soap_pub(ps, aor);

	if (p == NULL && (p = pub_new(ps, aor, NULL, 0)) == NULL) {
		if (r)
			presence_reply(r, 500, "Out of memory", TAG_END());
		return;
	}
	p->source = SRC_SOAP;
	p->st = *st;
	p->expires = time(NULL) + ps->w->w_gwd->conf->max_expires; /* until sign-out */
	if (pub_commit(ps, p, true, r, true) < 0 && r && r->msg)
		presence_reply(r, 503, "Presence not stored", SIPTAG_RETRY_AFTER_STR("5"),
			       TAG_END());
}

void
pres_pub_drop_soap(struct presence *ps, const char *aor)
{
	struct pres_pub *p = soap_pub(ps, aor);

	if (p)
		pub_remove(ps, p);
}

void
pres_pub_expire(struct presence *ps, time_t now)
{
	struct pres_pub *p = ps->pubs;

	while (p) {
		struct pres_pub *next = p->next;
		if (p->expires <= now) {
			log_debug("event=publication-expired user=%s", log_value(p->aor));
			pub_remove(ps, p);
		}
		p = next;
	}
}

void
pres_pubs_free(struct presence *ps)
{
	while (ps->pubs) {
		struct pres_pub *p = ps->pubs;
		ps->pubs = p->next;
		pub_free(p);
	}
}
