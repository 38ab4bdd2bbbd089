/*
 * sip_proxy.c - the transaction-stateful proxy (RFC 3261 section 16).
 *
 * A request for a user of a served domain is forked in parallel to every
 * registered contact; provisional and 2xx responses are relayed at once,
 * other finals are collected and the best one is sent when every branch has
 * answered.  Dialog-creating requests are record-routed; the answers that
 * establish a dialog are recorded (sip_dialog.c) so that its later requests
 * go only where the dialog says.  What may be routed at all was decided by
 * admission (sip_admit.c) before anything here runs.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/tport_tag.h>

#include "directory.h"
#include "federation.h"
#include "flow.h"
#include "gwd.h"
#include "loc.h"
#include "log.h"
#include "overload.h"
#include "presence.h"
#include "sip.h"
#include "sip_admit.h"
#include "sip_dialog.h"
#include "sipae.h"
#include "userdb.h"

#define LOOP_HASH_LEN 17
#define MAX_BRANCHES 16

struct pcall;

struct branch {
	struct pcall *pc;
	nta_outgoing_t *orq;
	int status;
	char key[64]; /* our Via branch */
};

struct pcall {
	struct worker *w;
	nta_incoming_t *irq;
	struct branch br[MAX_BRANCHES];
	size_t nbr, npending;
	int best_status;
	msg_t *best;
	bool final_sent, canceled, is_invite, reaping;
	su_timer_t *timer;
	struct pcall *next, **prevp;
	struct pcall *reap_next;
	char *ho_key; /* Call-ID, CSeq and branch of a request handed to worker 0 */
	bool rr;      /* dialog-creating and record-routed: its answers make dialogs */
	char user[GW_AOR_MAX + 1]; /* how its sender was admitted, for the dialog */
	int zone;
	char token[ADMIT_TOKEN_LEN];
};

/* live calls of each worker, for shutdown */
static __thread struct pcall *pcalls;
/* and how many: each may hold client transactions that retransmit toward a
 * slow next hop; past the bound new requests are refused (503) instead */
static __thread size_t npcalls;
#define PCALLS_MAX 1024
static __thread uint64_t branch_counter;

/* One place a request is forwarded to. */
struct target {
	char ruri[512];	    /* new Request-URI, "" keeps the current one */
	char hop[600];	    /* next-hop URL for nta */
	char *path;	    /* Route headers to add (from Path), or NULL */
	tport_t *tp;	    /* connection to use, or NULL */
	int flow_worker;    /* worker owning the client's connection, -1 for none */
	char proto[8];
};

/* Set while worker 0 works on a handed-over request: the UDP socket to answer on. */
static __thread tport_t *handoff_tport;

static void
loop_hash(struct worker *w, char *out, const sip_t *sip)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	char *data = su_sprintf(home, "%s|%s|%s|%" PRIu32 "|%s",
				url_as_string(home, sip->sip_request->rq_url), sip->sip_call_id->i_id,
				sip->sip_from->a_tag ? sip->sip_from->a_tag : "",
				sip->sip_cseq->cs_seq, sip->sip_to->a_tag ? sip->sip_to->a_tag : "");

	sip_token(w, out, LOOP_HASH_LEN, data ? data : "");
	su_home_deinit(home);
}

static bool
loop_detected(struct worker *w, const sip_t *sip)
{
	char lh[LOOP_HASH_LEN];
	size_t pfx = strlen("z9hG4bKgw");

	loop_hash(w, lh, sip);
	for (const sip_via_t *v = sip->sip_via; v; v = v->v_next)
		if (v->v_branch && strncmp(v->v_branch, "z9hG4bKgw", pfx) == 0 &&
		    strncmp(v->v_branch + pfx, lh, LOOP_HASH_LEN - 1) == 0)
			return true;
	return false;
}

static const char *
listen_for(struct worker *w, const char *proto)
{
	const struct gw_conf *c = w->w_gwd->conf;

	if (strcasecmp(proto, "tcp") == 0 && c->tcp.n)
		return c->tcp.v[0];
	if (strcasecmp(proto, "tls") == 0 && c->tls.n)
		return c->tls.v[0];
	return c->udp.n ? c->udp.v[0] : w->w_rr_host;
}

static void
add_record_route(struct worker *w, msg_t *msg, sip_t *sip, const char *proto)
{
	char tok[ADMIT_TOKEN_LEN], buf[400];
	const char *host = w->w_gwd->conf->server_name[0] ? w->w_gwd->conf->server_name
							   : listen_for(w, proto);

	admit_rr_token(w, tok, sip);
	snprintf(buf, sizeof(buf), "<%s:%s;transport=%s;lr;gwd=%s>",
		 strcasecmp(proto, "tls") == 0 ? "sips" : "sip", host, proto, tok);
	sip_record_route_t *rr = sip_record_route_make(msg_home(msg), buf);
	if (rr)
		msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)rr);
}

/* Reach the contact at the address its REGISTER came from rather than at its
 * Contact URI when the client asked for it (RFC 5626 reg-id / ob) or when the
 * Contact's host is not the host the request came from (a NAT in between). */
static bool
contact_behind_nat(const struct loc_contact *c)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	url_t *u = url_make(home, c->uri);
	char src[64];
	bool nat = false;

	if (c->flow.addr[0] == '\0' || c->flow.addr[0] == '?' || u == NULL || u->url_host == NULL)
		goto done;
	snprintf(src, sizeof(src), "%s", c->flow.addr);
	char *colon = src[0] == '[' ? strstr(src, "]:") : strrchr(src, ':');
	if (colon)
		colon[src[0] == '[' ? 1 : 0] = '\0';
	nat = strcasecmp(src, u->url_host) != 0 ||
	      (u->url_params && (url_has_param(u, "ob") || url_has_param(u, "reg-id")));
done:
	su_home_deinit(home);
	return nat;
}

static void
target_from_contact(struct worker *w, struct target *t, const struct loc_contact *c)
{
	snprintf(t->ruri, sizeof(t->ruri), "%s", c->uri);
	snprintf(t->proto, sizeof(t->proto), "%s", c->flow.transport[0] ? c->flow.transport : "udp");
	t->path = c->path ? strdup(c->path) : NULL;
	t->flow_worker = c->flow.id ? c->flow.worker : -1;
	if (c->path) {
		/* the first Path entry is the next hop; all of them become Route */
		su_home_t home[1] = {SU_HOME_INIT(home)};
		sip_route_t *r = sip_route_make(home, c->path);
		if (r)
			snprintf(t->hop, sizeof(t->hop), "%s", url_as_string(home, r->r_url));
		su_home_deinit(home);
		return;
	}
	if (c->flow.worker == w->w_id && c->flow.id)
		t->tp = flow_get(w->w_flows, c->flow.id);
	if (t->tp || contact_behind_nat(c))
		snprintf(t->hop, sizeof(t->hop), "%s:%s;transport=%s",
			 strcmp(t->proto, "tls") == 0 ? "sips" : "sip", c->flow.addr, t->proto);
	else
		snprintf(t->hop, sizeof(t->hop), "%s", c->uri);
}

/* Sofia may pick the first listener of a protocol whatever its address
 * family: for an IPv6 next hop, name the IPv6 listener explicitly. */
static void
target_pick_family(struct worker *w, struct target *t)
{
	const char *at = strchr(t->hop, '@');
	const char *host = at ? at + 1 : strchr(t->hop, ':') ? strchr(t->hop, ':') + 1 : t->hop;
	bool reliable = strcasecmp(t->proto, "udp") != 0;

	if (t->tp || host[0] != '[')
		return;
	for (tport_t *tp = tport_primaries(nta_agent_tports(w->w_agent)); tp; tp = tport_next(tp))
		if (tport_has_ip6(tp) && (reliable ? (tport_is_tcp(tp) && !tport_has_tls(tp) &&
						      strcasecmp(t->proto, "tcp") == 0) ||
							     (tport_has_tls(tp) &&
							      strcasecmp(t->proto, "tls") == 0)
						   : tport_is_udp(tp))) {
			t->tp = tp;
			return;
		}
}

static void
targets_free(struct target *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].path);
}

static void
pcall_free(struct pcall *pc)
{
	for (size_t i = 0; i < pc->nbr; i++)
		if (pc->br[i].orq)
			nta_outgoing_destroy(pc->br[i].orq);
	if (pc->timer)
		su_timer_destroy(pc->timer);
	if (pc->best)
		msg_destroy(pc->best);
	if (pc->irq)
		nta_incoming_destroy(pc->irq);
	free(pc->ho_key);
	if (pc->prevp) {
		npcalls--;
		*pc->prevp = pc->next;
		if (pc->next)
			pc->next->prevp = pc->prevp;
	}
	free(pc);
}

static __thread struct pcall *reap_list;
static __thread su_timer_t *reap_timer;

static void
reap_cb(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	while (reap_list) {
		struct pcall *pc = reap_list;
		reap_list = pc->reap_next;
		pcall_free(pc);
	}
}

/* Free a finished call from the event loop, never from inside one of its
 * own transaction callbacks (Sofia is still using the transaction there). */
static void
pcall_maybe_done(struct pcall *pc)
{
	if (pc->npending != 0 || !pc->final_sent || pc->reaping)
		return;
	pc->reaping = true;
	if (pc->timer)
		su_timer_destroy(pc->timer);
	pc->timer = NULL;
	pc->reap_next = reap_list;
	reap_list = pc;
	if (reap_timer == NULL)
		reap_timer = su_timer_create(su_root_task(pc->w->w_root), 0);
	if (reap_timer)
		su_timer_set_interval(reap_timer, reap_cb, NULL, 0);
}

static void
cancel_pending(struct pcall *pc)
{
	for (size_t i = 0; i < pc->nbr; i++)
		if (pc->br[i].orq && pc->br[i].status < 200)
			nta_outgoing_cancel(pc->br[i].orq);
}

/* RFC 3261 16.7: 6xx wins, else the lowest class; 503 becomes 500. */
static int
status_rank(int st)
{
	if (st >= 600)
		return 0;
	if (st >= 400 && st < 500)
		return 1;
	if (st >= 300 && st < 400)
		return 2;
	return 3;
}

static void
send_best(struct pcall *pc)
{
	if (pc->final_sent)
		return;
	pc->final_sent = true;
	if (pc->best) {
		msg_t *m = pc->best;
		pc->best = NULL;
		if (pc->best_status == 503) {
			nta_incoming_treply(pc->irq, 500, "Service Unavailable downstream", TAG_END());
			msg_destroy(m);
			return;
		}
		nta_incoming_mreply(pc->irq, m);
		return;
	}
	if (pc->canceled)
		nta_incoming_treply(pc->irq, SIP_487_REQUEST_CANCELLED, TAG_END());
	else
		nta_incoming_treply(pc->irq, pc->best_status ? pc->best_status : 408,
				    pc->best_status ? NULL : "Request Timeout", TAG_END());
}

/* Send a response upstream without our Via; takes the reference to m. */
static void
relay(struct pcall *pc, msg_t *m)
{
	sip_t *s = m ? sip_object(m) : NULL;

	if (s == NULL || s->sip_via == NULL || s->sip_via->v_next == NULL) {
		if (m)
			msg_destroy(m); /* it lost the caller's Via: cannot be relayed */
		return;
	}
	msg_header_remove(m, (msg_pub_t *)s, (msg_header_t *)s->sip_via);
	nta_incoming_mreply(pc->irq, m);
}

/* Keep m (a reference) as the best final so far when it ranks higher. */
static void
best_update(struct pcall *pc, int status, msg_t *m)
{
	sip_t *s = m ? sip_object(m) : NULL;

	if (pc->best_status != 0 && status_rank(status) >= status_rank(pc->best_status)) {
		if (m)
			msg_destroy(m);
		return;
	}
	if (pc->best)
		msg_destroy(pc->best);
	pc->best = NULL;
	pc->best_status = status;
	if (s && s->sip_via && s->sip_via->v_next) {
		msg_header_remove(m, (msg_pub_t *)s, (msg_header_t *)s->sip_via);
		pc->best = m;
	} else if (m) {
		msg_destroy(m); /* malformed answer (no Via of the caller): keep only its code */
	}
}

/* One branch's response; m is a new reference to it, or NULL (timeout). */
static void
branch_response(struct branch *b, int status, msg_t *m)
{
	struct pcall *pc = b->pc;

	if (status < 200) {
		if (status > 100 && !pc->final_sent)
			relay(pc, m);
		else if (m)
			msg_destroy(m);
		return;
	}
	if (b->status >= 200) {
		if (m)
			msg_destroy(m); /* a retransmitted final */
		return;
	}
	b->status = status;
	pc->npending--;
	if (status < 300) {
		if (pc->is_invite || !pc->final_sent)
			relay(pc, m);
		else if (m)
			msg_destroy(m);
		pc->final_sent = true;
		if (pc->is_invite)
			cancel_pending(pc);
	} else if (!pc->final_sent) {
		best_update(pc, status, m);
		if (status >= 600 && pc->is_invite)
			cancel_pending(pc);
	} else if (m) {
		msg_destroy(m);
	}
	if (pc->npending == 0)
		send_best(pc);
	pcall_maybe_done(pc);
}

static int
branch_cb(nta_outgoing_magic_t *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct branch *b = (struct branch *)magic;
	struct pcall *pc = b->pc;
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);
	msg_t *resp = sip ? nta_outgoing_getresponse(orq) : NULL;

	tport_t *tp = resp ? nta_outgoing_transport(orq) : NULL; /* a reference */
	bool verified = resp == NULL || sipae_verified(pc->w, tp, resp, sip_object(resp));
	tport_unref(tp);
	if (!verified) {
		/* a signed-in client's connection carried an answer it did not sign */
		msg_destroy(resp);
		if (status < 200)
			return 0;
		branch_response(b, 408, NULL); /* as if it never came */
		log_debug("event=answer-dropped status=%d pending=%zu final-sent=%d", status,
			  pc->npending, pc->final_sent);
		return 0;
	}
	sip = resp ? sip_object(resp) : sip;

	if (pc->rr && sip && status > 100 && status < 300 && sip->sip_to && sip->sip_to->a_tag) {
		msg_t *req = nta_incoming_getrequest(pc->irq);
		if (req) {
			dlg_record(sip_object(req), sip, pc->user, pc->zone, pc->token);
			msg_destroy(req);
		}
	} else if (!pc->rr && sip && status >= 200 && status < 300 && sip->sip_contact &&
		   sip->sip_cseq && (sip->sip_cseq->cs_method == sip_method_invite ||
				     sip->sip_cseq->cs_method == sip_method_update ||
				     sip->sip_cseq->cs_method == sip_method_subscribe)) {
		dlg_refresh(sip); /* the answer to a target refresh: the answerer's Contact */
	}
	branch_response(b, status, resp);
	return 0;
}

static int
irq_cb(nta_incoming_magic_t *magic, nta_incoming_t *irq, sip_t const *sip)
{
	struct pcall *pc = (struct pcall *)magic;

	if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_cancel) {
		/* nta matched it to our transaction, past sipae_intake(): a signed-in
		 * client's CANCEL must be signed like the rest */
		msg_t *cm = nta_incoming_getrequest_ackcancel(irq);
		tport_t *tp = cm ? nta_incoming_transport(pc->w->w_agent, NULL, cm) : NULL;
		bool ok = cm == NULL || sipae_verified(pc->w, tp, cm, sip_object(cm));
		tport_unref(tp);
		if (cm)
			msg_destroy(cm);
		if (!ok)
			return 0;
		pc->canceled = true;
		cancel_pending(pc);
	}
	return 0;
}

static void
timer_c_cb(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	struct pcall *pc = (struct pcall *)arg;

	cancel_pending(pc);
}

/* A copy of the request for one target, rewritten as RFC 3261 16.6 says. */
static msg_t *
branch_request(struct worker *w, msg_t *orig, const struct target *t, bool record_route)
{
	msg_t *m = msg_dup(orig);
	sip_t *s = m ? sip_object(m) : NULL;

	if (s == NULL)
		goto fail;
	if (t->ruri[0]) {
		sip_request_t *rq = sip_request_create(msg_home(m), s->sip_request->rq_method,
						       s->sip_request->rq_method_name,
						       gw_url(t->ruri), NULL);
		if (rq == NULL || msg_header_replace(m, (msg_pub_t *)s,
						     (msg_header_t *)s->sip_request,
						     (msg_header_t *)rq) < 0)
			goto fail;
	}
	if (s->sip_max_forwards) {
		s->sip_max_forwards->mf_count--;
		msg_fragment_clear(s->sip_max_forwards->mf_common);
	} else {
		sip_add_tl(m, s, SIPTAG_MAX_FORWARDS_STR("70"), TAG_END());
	}
	if (record_route)
		add_record_route(w, m, s, t->proto);
	if (t->path) {
		sip_route_t *r = sip_route_make(msg_home(m), t->path);
		if (r)
			msg_header_insert(m, (msg_pub_t *)s, (msg_header_t *)r);
	}
	return m;
fail:
	if (m)
		msg_destroy(m);
	return NULL;
}

static bool
dialog_creating(const sip_t *sip)
{
	sip_method_t m = sip->sip_request->rq_method;

	return !sip->sip_to->a_tag &&
	       (m == sip_method_invite || m == sip_method_subscribe || m == sip_method_refer);
}

/* Identifies a handed-over INVITE so that its retransmissions and its CANCEL,
 * which reach the worker that handed it over, can find it on worker 0. */
static char *
handoff_key(const sip_t *sip)
{
	char *k = NULL;

	if (asprintf(&k, "%s|%" PRIu32 "|%s", sip->sip_call_id->i_id, sip->sip_cseq->cs_seq,
		     sip->sip_via->v_branch ? sip->sip_via->v_branch : "") < 0)
		return NULL;
	return k;
}

static struct pcall *
handoff_find(const sip_t *sip)
{
	char *k = handoff_key(sip);
	struct pcall *pc = NULL;

	for (pc = pcalls; k && pc; pc = pc->next)
		if (pc->ho_key && strcmp(pc->ho_key, k) == 0)
			break;
	free(k);
	return pc;
}

static void
forward(struct worker *w, msg_t *msg, sip_t *sip, struct target *t, size_t nt,
	const struct admit *a)
{
	struct pcall *pc = calloc(1, sizeof(*pc));
	char lh[LOOP_HASH_LEN];
	bool rr = dialog_creating(sip);

	if (pc == NULL) {
		sip_reply(w, msg, 500, "Out of memory");
		return;
	}
	loop_hash(w, lh, sip);
	pc->w = w;
	pc->is_invite = sip->sip_request->rq_method == sip_method_invite;
	pc->rr = rr;
	if (rr) {
		snprintf(pc->user, sizeof(pc->user), "%s", a->user);
		pc->zone = a->zone;
		admit_rr_token(w, pc->token, sip);
	}
	if (a->in_dialog && (sip->sip_request->rq_method == sip_method_bye ||
			     (sip->sip_expires && sip->sip_expires->ex_delta == 0 &&
			      sip->sip_request->rq_method == sip_method_subscribe)))
		dlg_ending(sip);
	pc->irq = nta_incoming_create(w->w_agent, NULL, msg, sip,
				      TAG_IF(handoff_tport, NTATAG_TPORT(handoff_tport)), TAG_END());
	if (pc->irq == NULL) {
		free(pc);
		sip_reply(w, msg, 500, "Cannot create transaction");
		return;
	}
	nta_incoming_bind(pc->irq, irq_cb, (nta_incoming_magic_t *)pc);
	if (handoff_tport)
		pc->ho_key = handoff_key(sip);
	pc->next = pcalls;
	if (pcalls)
		pcalls->prevp = &pc->next;
	pcalls = pc;
	pc->prevp = &pcalls;
	npcalls++;
	if (pc->is_invite)
		nta_incoming_treply(pc->irq, SIP_100_TRYING, TAG_END());
	msg_t *orig = nta_incoming_getrequest(pc->irq);
	for (size_t i = 0; i < nt && pc->nbr < MAX_BRANCHES; i++) {
		char key[64];
		target_pick_family(w, &t[i]);
		msg_t *m = branch_request(w, orig, &t[i], rr);
		if (m == NULL)
			continue;
		sip_branch_make(w, key, sizeof(key), lh, ++branch_counter);
		struct branch *b = &pc->br[pc->nbr];
		b->pc = pc;
		snprintf(b->key, sizeof(b->key), "%s", key);
		b->orq = nta_outgoing_mcreate(w->w_agent, branch_cb, (nta_outgoing_magic_t *)b,
					      gw_url(t[i].hop), m, NTATAG_BRANCH_KEY(key),
					      TAG_IF(t[i].tp && tport_is_secondary(t[i].tp),
						     NTATAG_TPORT(t[i].tp)),
					      TAG_IF(t[i].tp && tport_is_primary(t[i].tp) &&
							     tport_has_ip6(t[i].tp),
						     TPTAG_IDENT("v6")),
					      TAG_END());
		if (b->orq == NULL) {
			log_warnx("event=forward-failed target=%s", t[i].hop);
			msg_destroy(m);
			continue;
		}
		pc->nbr++;
		pc->npending++;
	}
	if (orig)
		msg_destroy(orig);
	atomic_fetch_add(&w->w_gwd->stats.proxied, 1);
	if (pc->npending == 0) {
		pc->final_sent = true;
		nta_incoming_treply(pc->irq, 480, "Temporarily Unavailable", TAG_END());
		pcall_free(pc);
		return;
	}
	if (pc->is_invite) {
		pc->timer = su_timer_create(su_root_task(w->w_root),
					    (su_duration_t)w->w_gwd->conf->invite_timeout * 1000);
		su_timer_set(pc->timer, timer_c_cb, (su_timer_arg_t *)pc);
	}
}

/* A target whose next hop is this server (a contact registered with our own
 * address): forwarding there would only bring the request back. */
static bool
target_is_us(struct worker *w, const struct target *t)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	url_t *u = t->path || t->tp ? NULL : url_make(home, t->hop);
	bool us = u && sip_url_is_us(w, u);

	su_home_deinit(home);
	return us;
}

/* Known user without a registration: 480; unknown: 404. */
static void
reply_not_found(struct worker *w, msg_t *msg, const char *aor, bool known)
{
	struct userdb_account acct;

	if (known || userdb_get(w->w_userdb, aor, &acct) == 0)
		sip_reply(w, msg, 480, "User not signed in");
	else
		sip_reply(w, msg, 404, "User not found");
	memset(&acct, 0, sizeof(acct));
}

/* The registered contacts of aor; 0 with *nt set, or a status already answered. */
static int
location_targets(struct worker *w, msg_t *msg, const char *aor, bool known, struct target *t,
		 size_t *nt)
{
	struct loc_contact *cs = NULL;
	size_t n = 0;

	if (loc_lookup(w->w_gwd->loc, aor, time(NULL), &cs, &n) < 0) {
		sip_reply(w, msg, 500, "Location lookup failed");
		return 500;
	}
	if (n == 0) {
		reply_not_found(w, msg, aor, known);
		return 404;
	}
	size_t k = 0, held = 0;
	for (size_t i = 0; i < n && k < MAX_BRANCHES; i++) {
		/* a binding of a domain sign-in whose client has signed nothing yet: held */
		if (w->w_id == 0 && sipae_enabled(w->w_gwd) && cs[i].flow.worker == 0 &&
		    cs[i].flow.id && !sa_flow_proven(w->w_gwd, cs[i].flow.id)) {
			log_info("event=binding-held user=%s contact=%s reason=\"no signed request "
				 "on its security association yet\"",
				 aor, cs[i].uri);
			held++;
			continue;
		}
		target_from_contact(w, &t[k], &cs[i]);
		if (!target_is_us(w, &t[k]))
			k++;
		else
			free(t[k].path), memset(&t[k], 0, sizeof(t[k]));
	}
	loc_contacts_free(cs, n);
	if (k == 0 && held > 0) {
		sip_reply(w, msg, 480, "User not signed in");
		return 480;
	}
	if (k == 0) {
		/* every contact is this server itself: the request would only come back */
		sip_reply(w, msg, SIP_482_LOOP_DETECTED);
		return 482;
	}
	*nt = k;
	return 0;
}

/* resolve_targets(): the request waits for the directory, which answers or resumes it. */
#define RESOLVE_PENDING 1

static void handoff(struct worker *w, msg_t *msg, sip_t *sip, int kind, const struct admit *a);
static void forward(struct worker *w, msg_t *msg, sip_t *sip, struct target *t, size_t nt,
		    const struct admit *a);

/* Worker 0, the directory found the user: on as for a local user, with the primary AOR. */
static void
directory_resume(struct worker *w, msg_t *msg, const char *aor, const struct dir_resume *r)
{
	struct target t[MAX_BRANCHES];
	struct admit a = {.zone = r->zone};
	size_t nt = 0;

	memset(t, 0, sizeof(t));
	snprintf(a.user, sizeof(a.user), "%.250s", r->user);
	snprintf(a.to_aor, sizeof(a.to_aor), "%s", aor);
	handoff_tport = r->tport;
	if (r->flow && (handoff_tport = flow_get(w->w_flows, r->flow)) == NULL) {
		/* the sender's connection closed while we waited: nobody to answer */
		msg_destroy(msg);
		return;
	}
	if (location_targets(w, msg, aor, true, t, &nt) == 0)
		forward(w, msg, sip_object(msg), t, nt, &a);
	targets_free(t, nt);
	handoff_tport = NULL;
}

/* A served-domain user that is no local account: ask the directory, on worker 0. */
static bool
directory_user(struct worker *w, msg_t *msg, sip_t *sip, const struct admit *a, const char *aor)
{
	struct userdb_account acct;
	struct dir_resume r = {.tport = handoff_tport, .zone = a->zone};
	bool local = userdb_get(w->w_userdb, aor, &acct) == 0;

	memset(&acct, 0, sizeof(acct));
	if (local || !dir_enabled(w->w_gwd))
		return false;
	if (w->w_id != 0) {
		handoff(w, msg, sip, HANDOFF_PROXY, a);
		return true;
	}
	if (r.tport == NULL) {
		/* after the wait Sofia no longer knows the connection: remember it */
		tport_t *tp = sip_msg_tport(w, msg);
		if (tp && tport_is_reliable(tp))
			r.flow = flow_id(w->w_flows, tp);
		tport_unref(tp);
	}
	snprintf(r.user, sizeof(r.user), "%s", a->user);
	dir_lookup(w, msg, aor, &r, directory_resume);
	return true;
}

/* Inside a dialog: the peer's remote target, over the connection of its
 * binding when the device is registered to the peer's AOR, never another's. */
static void
dialog_target(struct worker *w, sip_t *sip, const struct admit *a, struct target *t)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const char *ruri = url_as_string(home, sip->sip_request->rq_url);
	struct loc_contact c;

	t->flow_worker = -1;
	snprintf(t->proto, sizeof(t->proto), "udp");
	if (loc_lookup_uri(w->w_gwd->loc, a->dlg.target, time(NULL), &c) == 0) {
		if (strcasecmp(c.aor, a->dlg.peer_aor) == 0)
			target_from_contact(w, t, &c);
		loc_contact_clear(&c);
	}
	if (t->hop[0] == '\0') {
		snprintf(t->hop, sizeof(t->hop), "%s", a->dlg.target);
		if (strcasestr(a->dlg.target, "transport=tcp"))
			snprintf(t->proto, sizeof(t->proto), "tcp");
		else if (strncasecmp(a->dlg.target, "sips:", 5) == 0 ||
			 strcasestr(a->dlg.target, "transport=tls"))
			snprintf(t->proto, sizeof(t->proto), "tls");
	}
	/* the Request-URI is the remote target, whatever the client wrote */
	if (ruri && strcmp(ruri, a->dlg.target) == 0)
		t->ruri[0] = '\0';
	else
		snprintf(t->ruri, sizeof(t->ruri), "%s", a->dlg.target);
	su_home_deinit(home);
}

/* Targets for an admitted request; 0 with *nt set, or a status already answered. */
static int
resolve_targets(struct worker *w, msg_t *msg, sip_t *sip, const struct admit *a,
		struct target *t, size_t *nt)
{
	const url_t *ru = sip->sip_request->rq_url;
	const char *app;
	su_home_t home[1] = {SU_HOME_INIT(home)};

	*nt = 0;
	if (a->in_dialog && sip->sip_route) {
		/* the dialog's route set beyond us, as admission checked it */
		snprintf(t[0].hop, sizeof(t[0].hop), "%s",
			 url_as_string(home, sip->sip_route->r_url));
		snprintf(t[0].proto, sizeof(t[0].proto), "udp");
		t[0].flow_worker = -1;
		*nt = 1;
		goto done;
	}
	if (a->in_dialog) {
		dialog_target(w, sip, a, &t[0]);
		*nt = 1;
		goto done;
	}
	if (a->to_aor[0] && !a->to_device && (app = gw_conf_route(w->w_gwd->conf, a->to_aor))) {
		/* a service address: on to its application server, Request-URI kept */
		snprintf(t[0].hop, sizeof(t[0].hop), "%s", app);
		snprintf(t[0].proto, sizeof(t[0].proto), "%s",
			 strstr(app, "transport=tcp") ? "tcp" : strstr(app, "transport=tls") ? "tls" : "udp");
		t[0].flow_worker = -1;
		*nt = 1;
		goto done;
	}
	if (a->to_aor[0] && !a->to_device) {
		int rc = RESOLVE_PENDING;
		if (!directory_user(w, msg, sip, a, a->to_aor))
			rc = location_targets(w, msg, a->to_aor, false, t, nt);
		su_home_deinit(home);
		return rc;
	}
	struct loc_contact c;
	char *ruri = url_as_string(home, ru);
	if (a->to_device && ruri && loc_lookup_uri(w->w_gwd->loc, ruri, time(NULL), &c) == 0) {
		/* one of our users addressed a device: it goes to that device only */
		target_from_contact(w, &t[0], &c);
		t[0].ruri[0] = '\0';
		loc_contact_clear(&c);
		*nt = 1;
		goto done;
	}
	if (fed_next_hop(w->w_gwd->conf, ru->url_host, t[0].hop, sizeof(t[0].hop)) == 0) {
		/* a partner domain: its server, found by DNS, over mutual TLS */
		snprintf(t[0].proto, sizeof(t[0].proto), "tls");
		t[0].flow_worker = -1;
		*nt = 1;
		goto done;
	}
	sip_reply(w, msg, 403, "Domain not served here");
	su_home_deinit(home);
	return 403;
done:
	su_home_deinit(home);
	return 0;
}

/* Only worker 0 has TCP and TLS. */
static bool
needs_stream(const struct target *t, size_t nt)
{
	for (size_t i = 0; i < nt; i++)
		if (t[i].flow_worker == 0 || strcasecmp(t[i].proto, "udp") != 0 ||
		    strstr(t[i].hop, "transport=tcp") || strstr(t[i].hop, "transport=tls") ||
		    strncasecmp(t[i].hop, "sips:", 5) == 0)
			return true;
	return false;
}

static void
handoff(struct worker *w, msg_t *msg, sip_t *sip, int kind, const struct admit *a)
{
	struct gwd *g = w->w_gwd;
	struct handoff *h = calloc(1, sizeof(*h));
	su_addrinfo_t *ai = msg_addrinfo(msg);
	su_home_t home[1] = {SU_HOME_INIT(home)};
	size_t len = 0;
	char *s = NULL;

	if (h == NULL || ai == NULL || ai->ai_addrlen > sizeof(h->addr) ||
	    msg_serialize(msg, (msg_pub_t *)sip) < 0 ||
	    (s = msg_as_string(home, msg, (msg_pub_t *)sip, 0, &len)) == NULL ||
	    (h->data = malloc(len + 1)) == NULL ||
	    (a && (h->adm = malloc(sizeof(*a))) == NULL)) {
		if (h)
			free(h->data);
		free(h);
		if (kind == HANDOFF_PROXY)
			sip_reply(w, msg, 500, "Cannot hand over request");
		else
			msg_destroy(msg);
		su_home_deinit(home);
		return;
	}
	memcpy(h->data, s, len);
	h->data[len] = '\0';
	h->len = len;
	h->kind = kind;
	if (a)
		*h->adm = *a; /* worker 0 routes what was admitted here, as it was admitted */
	memcpy(&h->addr, ai->ai_addr, ai->ai_addrlen);
	h->addrlen = (socklen_t)ai->ai_addrlen;
	su_home_deinit(home);
	msg_destroy(msg);
	if (worker_handoff(&g->workers[0], h) < 0)
		log_warnx("event=handoff-failed reason=\"worker 0 queue full\"");
}

void
sip_proxy_handoff(struct worker *w, msg_t *msg, sip_t *sip, int kind)
{
	handoff(w, msg, sip, kind, NULL);
}

void
sip_proxy_handle(struct worker *w, msg_t *msg, sip_t *sip)
{
	struct target t[MAX_BRANCHES];
	struct admit a;
	size_t nt = 0;

	memset(t, 0, sizeof(t));
	if (!sip->sip_to->a_tag && npcalls >= overload_bound(w, PCALLS_MAX)) {
		overload_refuse(w, msg);
		return;
	}
	if (loop_detected(w, sip)) {
		sip_reply(w, msg, SIP_482_LOOP_DETECTED);
		return;
	}
	if (admit_request(w, msg, sip, &a) != ADMIT_GO ||
	    resolve_targets(w, msg, sip, &a, t, &nt) != 0)
		return;
	if (w->w_id != 0 && needs_stream(t, nt))
		handoff(w, msg, sip, HANDOFF_PROXY, &a);
	else
		forward(w, msg, sip, t, nt, &a);
	targets_free(t, nt);
}

/* Forward an ACK for a 2xx along its dialog (no transaction). */
static void
stateless_forward(struct worker *w, msg_t *msg, sip_t *sip, const struct admit *a)
{
	struct target t[1];
	su_home_t home[1] = {SU_HOME_INIT(home)};

	memset(t, 0, sizeof(t));
	t[0].flow_worker = -1;
	snprintf(t[0].proto, sizeof(t[0].proto), "udp");
	if (sip->sip_route)
		snprintf(t[0].hop, sizeof(t[0].hop), "%s", url_as_string(home, sip->sip_route->r_url));
	else
		dialog_target(w, sip, a, &t[0]);
	if (w->w_id != 0 && needs_stream(t, 1)) {
		handoff(w, msg, sip, HANDOFF_STATELESS, a);
		goto done;
	}
	if (t[0].ruri[0] && !sip->sip_route) {
		sip_request_t *rq = sip_request_create(msg_home(msg), sip->sip_request->rq_method,
						       sip->sip_request->rq_method_name,
						       gw_url(t[0].ruri), NULL);
		if (rq)
			msg_header_replace(msg, (msg_pub_t *)sip, (msg_header_t *)sip->sip_request,
					   (msg_header_t *)rq);
	}
	if (nta_msg_tsend(w->w_agent, msg, gw_url(t[0].hop), TAG_IF(t[0].tp, NTATAG_TPORT(t[0].tp)),
			  TAG_END()) < 0)
		log_debug("event=ack-forward-failed call-id=%s", sip->sip_call_id->i_id);
done:
	targets_free(t, 1);
	su_home_deinit(home);
}

void
sip_proxy_stateless(struct worker *w, msg_t *msg, sip_t *sip)
{
	struct admit a;

	if (admit_ack(w, msg, sip, &a) != ADMIT_GO)
		return;
	if (sip->sip_max_forwards) {
		if (sip->sip_max_forwards->mf_count == 0) {
			msg_destroy(msg);
			return;
		}
		sip->sip_max_forwards->mf_count--;
		msg_fragment_clear(sip->sip_max_forwards->mf_common);
	}
	stateless_forward(w, msg, sip, &a);
}

/* The UDP listener of worker 0 matching the client's address family. */
static tport_t *
udp_primary(struct worker *w, int family)
{
	for (tport_t *tp = tport_primaries(nta_agent_tports(w->w_agent)); tp; tp = tport_next(tp))
		if (tport_is_udp(tp) && (family == AF_INET6 ? tport_has_ip6(tp) : tport_has_ip4(tp)))
			return tp;
	return NULL;
}

void
sip_proxy_handoff_recv(struct worker *w, struct handoff *h)
{
	struct target t[MAX_BRANCHES];
	size_t nt = 0;
	msg_t *m = msg_make(sip_default_mclass(), 0, h->data, (isize_t)h->len);
	sip_t *sip = m ? sip_object(m) : NULL;

	if (sip == NULL || sip->sip_request == NULL || !sip->sip_call_id || !sip->sip_from ||
	    !sip->sip_to || !sip->sip_cseq || !sip->sip_via) {
		log_warnx("event=handoff-dropped reason=\"unparsable\"");
		if (m)
			msg_destroy(m);
		return;
	}
	msg_set_address(m, &h->addr, h->addrlen);
	msg_addrinfo(m)->ai_protocol = IPPROTO_UDP;
	msg_addrinfo(m)->ai_family = h->addr.su_family;
	handoff_tport = udp_primary(w, h->addr.su_family);
	if (h->kind == HANDOFF_STATELESS) {
		if (h->adm)
			stateless_forward(w, m, sip, h->adm);
		else
			msg_destroy(m);
	} else if (h->kind == HANDOFF_CANCEL) {
		struct pcall *pc = handoff_find(sip);
		if (pc && !pc->final_sent) {
			pc->canceled = true;
			cancel_pending(pc);
			nta_msg_treply(w->w_agent, m, SIP_200_OK, TAG_END());
		} else {
			nta_msg_treply(w->w_agent, m, SIP_481_NO_TRANSACTION, TAG_END());
		}
	} else if (h->kind == HANDOFF_PRESENCE) {
		presence_request(w, m, sip, handoff_tport);
	} else if (handoff_find(sip)) {
		msg_destroy(m); /* a retransmission of a request already in progress here */
	} else {
		memset(t, 0, sizeof(t));
		if (h->adm == NULL) {
			msg_destroy(m); /* nothing hands over a request it did not admit */
		} else if (resolve_targets(w, m, sip, h->adm, t, &nt) == 0) {
			forward(w, m, sip, t, nt, h->adm);
		}
		targets_free(t, nt);
	}
	handoff_tport = NULL;
}

/* The worker whose transaction a response belongs to; -1 when its branch is not ours. */
static int
branch_worker(struct worker *w, const sip_t *sip)
{
	return sip_branch_check(w, sip->sip_via ? sip->sip_via->v_branch : NULL);
}

static bool
relay_response(struct worker *w, msg_t *msg, sip_t *sip)
{
	struct gwd *g = w->w_gwd;
	int id = branch_worker(w, sip);
	su_home_t home[1] = {SU_HOME_INIT(home)};
	size_t len = 0;

	if (id < 0 || id == w->w_id || id >= g->nworkers || g->workers[id].w_relay_len == 0 ||
	    w->w_relay_fd < 0)
		return false;
	char *s = msg_as_string(home, msg, (msg_pub_t *)sip, 0, &len);
	if (s && sendto(w->w_relay_fd, s, len, 0, &g->workers[id].w_relay.su_sa,
			g->workers[id].w_relay_len) < 0)
		log_debug("event=relay-failed worker=%d", id);
	su_home_deinit(home);
	msg_destroy(msg);
	return true;
}

void
sip_proxy_cancel(struct worker *w, msg_t *msg, sip_t *sip)
{
	/* A CANCEL nta did not match: its INVITE may be on worker 0 */
	if (w->w_id != 0)
		handoff(w, msg, sip, HANDOFF_CANCEL, false);
	else
		sip_reply(w, msg, SIP_481_NO_TRANSACTION);
}

/* A final answer Sofia did not match to the branch that caused it (seen for
 * answers that lost the caller's Via): finish that branch all the same. */
static bool
finish_branch(struct worker *w, msg_t *msg, sip_t *sip)
{
	const char *key = sip->sip_via ? sip->sip_via->v_branch : NULL;

	if (key == NULL || sip->sip_status->st_status < 200 || branch_worker(w, sip) != w->w_id)
		return false;
	for (struct pcall *pc = pcalls; pc; pc = pc->next)
		for (size_t i = 0; i < pc->nbr; i++)
			if (pc->br[i].status < 200 && strcmp(pc->br[i].key, key) == 0) {
				branch_response(&pc->br[i], sip->sip_status->st_status, msg);
				return true;
			}
	return false;
}

void
sip_proxy_stray_response(struct worker *w, msg_t *msg, sip_t *sip)
{
	if (relay_response(w, msg, sip) || finish_branch(w, msg, sip))
		return;
	/* Only a retransmitted 2xx to INVITE must travel on without a transaction: through
	 * a branch we made, in a dialog we routed, back to where its INVITE came from */
	if (sip->sip_cseq && sip->sip_cseq->cs_method == sip_method_invite &&
	    sip->sip_status->st_status >= 200 && sip->sip_status->st_status < 300 && sip->sip_via &&
	    sip->sip_via->v_next && branch_worker(w, sip) >= 0 && dlg_answer_ok(sip) &&
	    sip->sip_via->v_next->v_protocol &&
	    tport_by_protocol(nta_agent_tports(w->w_agent),
			      strchr(sip->sip_via->v_next->v_protocol, '/')
				      ? strrchr(sip->sip_via->v_next->v_protocol, '/') + 1
				      : sip->sip_via->v_next->v_protocol)) {
		/* nta_msg_tsend removes our Via and sends along the next one */
		nta_msg_tsend(w->w_agent, msg, NULL, TAG_END());
		return;
	}
	msg_destroy(msg);
}

void
sip_proxy_shutdown(struct worker *w)
{
	reap_cb(NULL, NULL, NULL);
	fed_thread_free();
	if (reap_timer)
		su_timer_destroy(reap_timer);
	reap_timer = NULL;
	while (pcalls) {
		struct pcall *pc = pcalls;
		if (!pc->final_sent) {
			pc->final_sent = true;
			nta_incoming_treply(pc->irq, 503, "Server shutting down", TAG_END());
		}
		pc->npending = 0;
		pcall_free(pc); /* unlinks itself from pcalls */
	}
}
