/*
 * presence_send.c - everything the presence service sends to a client
 * leaves through presence_reply() (answers) or presence_send_notify()
 * (NOTIFY requests), so that message signing (MS-SIPAE) has one place each.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport_tag.h>

#include "flow.h"
#include "gwd.h"
#include "loc.h"
#include "log.h"
#include "presence_int.h"
#include "presence_store.h"
#include "sip.h"
#include "sipae.h"

void
presence_reply(struct pres_req *r, int status, const char *phrase, tag_type_t tag,
	       tag_value_t value, ...)
{
	ta_list ta;

	ta_start(ta, tag, value);
	if (status >= 300)
		atomic_fetch_add(&r->w->w_gwd->stats.rejected, 1);
	/* SIPAE: sign here */
	if (r->irq) {
		nta_incoming_treply(r->irq, status, phrase, ta_tags(ta));
	} else if (r->msg) {
		nta_msg_treply(r->w->w_agent, r->msg, status, phrase,
			       TAG_IF(r->tp, NTATAG_TPORT(r->tp)), ta_tags(ta));
		r->msg = NULL;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-value" /* Sofia's ta_end() */
	ta_end(ta);
#pragma GCC diagnostic pop
}

static const char *
event_name(enum pres_event ev)
{
	return ev == EV_WINFO     ? "presence.winfo"
	       : ev == EV_ROAMING ? "vnd-microsoft-roaming-contacts"
				  : "presence";
}

/* Our Contact in the dialog: the listen address of the subscriber's transport. */
void
pres_our_contact(struct worker *w, const struct pres_sub *s, char *out, size_t len)
{
	const struct gw_conf *c = w->w_gwd->conf;
	const char *addr = c->udp.n ? c->udp.v[0] : w->w_rr_host;
	const char *proto = "udp";

	if (strcasecmp(s->transport, "tcp") == 0 && c->tcp.n) {
		addr = c->tcp.v[0];
		proto = "tcp";
	} else if (strcasecmp(s->transport, "tls") == 0 && c->tls.n) {
		addr = c->tls.v[0];
		proto = "tls";
	}
	snprintf(out, len, "<%s:%s;transport=%s>", strcmp(proto, "tls") == 0 ? "sips" : "sip",
		 c->server_name[0] ? c->server_name : addr, proto);
}

/* Where the NOTIFY goes when the dialog has no route set: the connection
 * the subscriber used, else its registration's flow, else the address the
 * SUBSCRIBE came from (UDP), else its Contact (hop left empty).  *held: the
 * registration is a binding held by the sign-in hold (sipae.h), whose connection
 * may be another party's replaying the subscriber's sign-in: nowhere to go.  The
 * subscriber's own connection is never held from it: that connection made the
 * subscription, with a signed SUBSCRIBE when it had a security association. */
static tport_t *
notify_hop(struct presence *ps, const struct pres_sub *s, char *hop, size_t len, bool *held)
{
	struct worker *w = ps->w;
	struct loc_contact c;
	tport_t *tp = NULL;

	hop[0] = '\0';
	*held = false;
	if (s->route)
		return NULL;
	if (s->flow && (tp = flow_get(w->w_flows, s->flow)) != NULL) {
		snprintf(hop, len, "%s:%s;transport=%s",
			 strcmp(s->transport, "tls") == 0 ? "sips" : "sip", s->addr, s->transport);
		return tp;
	}
	if (loc_lookup_uri(w->w_gwd->loc, s->contact, time(NULL), &c) == 0) {
		if ((*held = sa_binding_held(w, &c, "notify"))) {
			loc_contact_clear(&c);
			return NULL;
		}
		if (c.flow.worker == 0 && c.flow.id)
			tp = flow_get(w->w_flows, c.flow.id);
		if (!c.path && c.flow.addr[0] && c.flow.addr[0] != '?')
			snprintf(hop, len, "%s:%s;transport=%s",
				 strcmp(c.flow.transport, "tls") == 0 ? "sips" : "sip", c.flow.addr,
				 c.flow.transport[0] ? c.flow.transport : "udp");
		loc_contact_clear(&c);
		return tp;
	}
	if (strcmp(s->transport, "udp") == 0 && s->addr[0])
		snprintf(hop, len, "sip:%s;transport=udp", s->addr);
	return NULL;
}

void
pres_notify_done(struct presence *ps, struct pres_sub *s, int status)
{
	if (status >= 300) {
		if (!s->ending)
			log_info("event=subscription-dropped watcher=%s presentity=%s status=%d",
				 log_value(s->watcher), log_value(s->presentity), status);
		s->ending = true;
		s->dirty = false;
	}
	if (s->dirty) {
		/* the state changed (or the subscription ended) meanwhile */
		s->dirty = false;
		pres_sub_notify(ps, s);
		if (s->orq || s->away)
			return;
	}
	if (s->ending)
		s->dead = true;
}

static int
notify_cb(nta_outgoing_magic_t *magic, nta_outgoing_t *orq, const sip_t *sip)
{
	struct pres_sub *s = (struct pres_sub *)magic;
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);
	msg_t *resp = sip ? nta_outgoing_getresponse(orq) : NULL;
	tport_t *tp = resp ? nta_outgoing_transport(orq) : NULL;

	if (resp && !sipae_verified(presence_get()->w, tp, resp, sip_object(resp)))
		status = status < 200 ? status : 408; /* unsigned: as if it never came */
	tport_unref(tp);
	if (resp)
		msg_destroy(resp);
	if (status < 200)
		return 0;
	nta_outgoing_destroy(orq);
	s->orq = NULL;
	pres_notify_done(presence_get(), s, status);
	return 0;
}

/* A NOTIFY another worker can send: a UDP dialog without a route set going
 * to the address of a worker other than 0 (TCP, TLS, signed dialogs and
 * routed ones stay here, with the connection or the proxy's address). */
static bool
sent_elsewhere(struct presence *ps, const struct pres_sub *s, tport_t *tp, const char *hop)
{
	return tp == NULL && s->worker > 0 && s->worker < ps->w->w_gwd->nworkers &&
	       s->route == NULL && s->flow == 0 && strcmp(s->transport, "udp") == 0 && hop[0] &&
	       strstr(hop, ";transport=udp") != NULL;
}

/* The NOTIFY built whole here (Request-URI, Call-ID, tags, the dialog's next
 * CSeq, body) for another worker to send. */
static int
notify_elsewhere(struct presence *ps, struct pres_sub *s, const char *hop, const char *state,
		 const char *contact, const char *ctype, const char *body)
{
	msg_t *msg = nta_msg_create(ps->w->w_agent, 0);
	sip_t *sip = msg ? sip_object(msg) : NULL;

	if (sip == NULL ||
	    sip_add_tl(msg, sip, SIPTAG_MAX_FORWARDS_STR("70"),
		       SIPTAG_EVENT_STR(event_name(s->event)), SIPTAG_SUBSCRIPTION_STATE_STR(state),
		       SIPTAG_CONTACT_STR(contact), TAG_IF(body, SIPTAG_CONTENT_TYPE_STR(ctype)),
		       TAG_IF(body, SIPTAG_PAYLOAD_STR(body)), TAG_END()) < 0 ||
	    nta_msg_request_complete(msg, s->leg, SIP_METHOD_NOTIFY, NULL) < 0) {
		if (msg)
			msg_destroy(msg);
		return -ENOMEM;
	}
	return pres_fanout_send(ps, s, msg, hop);
}

int
presence_send_notify(struct presence *ps, struct pres_sub *s, const char *state, const char *ctype,
		     const char *body)
{
	char hop[160], contact[200], key[64], tok[20];
	tport_t *tp;
	bool held;

	if (s->leg == NULL && pres_sub_leg(ps, s) < 0)
		return -EIO;
	if (s->orq || s->away) {
		s->dirty = true; /* one NOTIFY at a time per dialog (RFC 6665 4.2.2) */
		return 0;
	}
	tp = notify_hop(ps, s, hop, sizeof(hop), &held);
	if (held) {
		/* not sent; the subscription stays (a later change is sent when the
		 * binding is proven, or the client subscribes again) */
		s->dirty = false;
		return -EHOSTUNREACH;
	}
	pres_our_contact(ps->w, s, contact, sizeof(contact));
	if (sent_elsewhere(ps, s, tp, hop)) {
		if (notify_elsewhere(ps, s, hop, state, contact, ctype, body) == 0)
			return 0;
		log_warnx("event=notify-failed watcher=%s presentity=%s worker=%d",
			  log_value(s->watcher), log_value(s->presentity), s->worker);
		return -EIO;
	}
	presence_token(ps, tok, sizeof(tok), "branch");
	sip_branch_make(ps->w, key, sizeof(key), tok, ++ps->counter);
	/* SIPAE: sign here */
	s->orq = nta_outgoing_tcreate(
	    s->leg, notify_cb, (nta_outgoing_magic_t *)s, hop[0] ? gw_url(hop) : NULL,
	    SIP_METHOD_NOTIFY, NULL, NTATAG_BRANCH_KEY(key), TAG_IF(tp, NTATAG_TPORT(tp)),
	    TAG_IF(!tp && gw_hop_ip6(hop), TPTAG_IDENT("v6")), SIPTAG_MAX_FORWARDS_STR("70"),
	    SIPTAG_EVENT_STR(event_name(s->event)), SIPTAG_SUBSCRIPTION_STATE_STR(state),
	    SIPTAG_CONTACT_STR(contact), TAG_IF(body, SIPTAG_CONTENT_TYPE_STR(ctype)),
	    TAG_IF(body, SIPTAG_PAYLOAD_STR(body)), TAG_END());
	if (s->orq == NULL) {
		log_warnx("event=notify-failed watcher=%s presentity=%s", log_value(s->watcher),
			  log_value(s->presentity));
		return -EIO;
	}
	return 0;
}
