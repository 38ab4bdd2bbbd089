/*
 * proxy_forward.c - a proxied request's transaction: one client transaction
 * per target forked in parallel, provisional and 2xx answers relayed at
 * once, the best final answer sent when every branch has answered (RFC 3261
 * 16.7), CANCEL and timer C, the loop hash in our branch, Record-Route with
 * the dialog token, and the dialogs its answers establish (sip_dialog.c).
 */
#include "config.h"

#include <errno.h>
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

#include "addr_count.h"
#include "federation.h"
#include "gwd.h"
#include "log.h"
#include "overload.h"
#include "pool.h"
#include "proxy_int.h"
#include "sip.h"
#include "sip_admit.h"
#include "sip_dialog.h"
#include "sipae.h"

#define LOOP_HASH_LEN 17

struct pcall;

struct branch {
	struct pcall *pc;
	nta_outgoing_t *orq;
	int status;
	char key[64]; /* our Via branch */
	/* a hop to another front end over TLS: watched until it is heard from,
	 * so that a connection the TLS handshake (or the certificate check)
	 * closed is answered at once, not when the transaction times out */
	su_timer_t *watch;
	unsigned watch_left; /* ticks */
	bool heard;
	nta_outgoing_t *cancel; /* our CANCEL of this INVITE branch, until its final */
};

#define HOP_WATCH_MS 100
#define HOP_WATCH_TICKS 100 /* 10 s: long past any handshake */

struct pcall {
	struct worker *w;
	nta_incoming_t *irq;
	struct branch br[MAX_BRANCHES];
	size_t nbr, npending;
	int best_status;
	msg_t *best;
	bool final_sent, canceled, is_invite, reaping;
	su_timer_t *timer;
	su_timer_t *spent_timer; /* a timer that fired for the last time, freed with the call */
	struct pcall *next, **prevp;
	struct pcall *reap_next;
	char *ho_key;             /* Call-ID, CSeq and branch of a request handed to worker 0 */
	struct addr_entry *share; /* one of its sender's address's calls (sources) */
	bool rr;                  /* dialog-creating and record-routed: its answers make dialogs */
	bool reserved;            /* holds room for its dialog (sip_dialog.h) */
	struct addr_entry *dlg_share; /* with it, its source's share of the dialogs */
	char user[GW_AOR_MAX + 1];    /* how its sender was admitted, for the dialog */
	int zone;
	char token[ADMIT_TOKEN_LEN];
};

/* live calls of each worker, for shutdown */
static __thread struct pcall *pcalls;
/* and how many: each may hold client transactions that retransmit toward a
 * slow next hop; past the bound new requests are refused (503) instead */
static __thread size_t npcalls;
#define PCALLS_MAX 1024
/* and by the address that sent them: one address may have [limits]
 * calls-per-source of them at once, so that it cannot take the bound for all */
static __thread struct addr_count *sources;
#define CALLS_RETRY_AFTER "5"
/* an address holding its share of the dialogs: those last minutes or hours */
#define DLG_SHARE_RETRY_AFTER "60"
static __thread uint64_t branch_counter;

/* Set while worker 0 works on a handed-over request: the UDP socket to answer on. */
__thread tport_t *proxy_answer_tport;

static __thread struct pcall *reap_list;
static __thread su_timer_t *reap_timer;

static void
loop_hash(struct worker *w, char *out, const sip_t *sip)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	char *data = su_sprintf(
	    home, "%s|%s|%s|%" PRIu32 "|%s", url_as_string(home, sip->sip_request->rq_url),
	    sip->sip_call_id->i_id, sip->sip_from->a_tag ? sip->sip_from->a_tag : "",
	    sip->sip_cseq->cs_seq, sip->sip_to->a_tag ? sip->sip_to->a_tag : "");

	sip_token(w, out, LOOP_HASH_LEN, data ? data : "");
	su_home_deinit(home);
}

bool
proxy_loop_detected(struct worker *w, const sip_t *sip)
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
	const char *host =
	    w->w_gwd->conf->server_name[0] ? w->w_gwd->conf->server_name : listen_for(w, proto);

	admit_rr_token(w, tok, sip);
	snprintf(buf, sizeof(buf), "<%s:%s;transport=%s;lr;gwd=%s>",
		 strcasecmp(proto, "tls") == 0 ? "sips" : "sip", host, proto, tok);
	sip_record_route_t *rr = sip_record_route_make(msg_home(msg), buf);
	if (rr)
		msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)rr);
}

static void
watch_stop(struct branch *b)
{
	if (b->watch)
		su_timer_destroy(b->watch);
	b->watch = NULL;
}

static void
pcall_free(struct pcall *pc)
{
	for (size_t i = 0; i < pc->nbr; i++) {
		watch_stop(&pc->br[i]);
		if (pc->br[i].orq)
			nta_outgoing_destroy(pc->br[i].orq);
		if (pc->br[i].cancel)
			nta_outgoing_destroy(pc->br[i].cancel); /* no callback any more */
	}
	if (pc->timer)
		su_timer_destroy(pc->timer);
	if (pc->spent_timer)
		su_timer_destroy(pc->spent_timer);
	if (pc->best)
		msg_destroy(pc->best);
	if (pc->irq)
		nta_incoming_destroy(pc->irq);
	free(pc->ho_key);
	addr_count_put(sources, pc->share);
	if (pc->reserved)
		dlg_unreserve(pc->dlg_share); /* it ended without a dialog */
	if (pc->prevp) {
		npcalls--;
		*pc->prevp = pc->next;
		if (pc->next)
			pc->next->prevp = pc->prevp;
	}
	free(pc);
}

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

static int cancel_cb(nta_outgoing_magic_t *magic, nta_outgoing_t *orq, sip_t const *sip);

/* CANCEL every open branch (nta sends one per INVITE transaction, once, after
 * its provisional answer; a later call is a no-op). */
static void
cancel_pending(struct pcall *pc)
{
	for (size_t i = 0; i < pc->nbr; i++) {
		struct branch *b = &pc->br[i];
		if (b->orq == NULL || b->status >= 200 || b->cancel)
			continue;
		b->cancel =
		    nta_outgoing_tcancel(b->orq, cancel_cb, (nta_outgoing_magic_t *)b, TAG_END());
	}
}

/* A non-INVITE answered 2xx upstream: nothing the other branches answer can
 * change that (RFC 3261 16.7), and no CANCEL is sent for a non-INVITE (9.1).
 * Let them go now: a device that went away without a word (its UDP port
 * closed, the ICMP error not matched to the transaction by Sofia) would keep
 * the call for Timer F's 32 s, and under a steady flow those calls filled the
 * worker's bound (PCALLS_MAX): new requests were refused 503, which the front
 * end one hop up turns into 500 (16.7). nta finishes the transaction alone.
 * Also the INVITE branches still open 64*T1 after their CANCEL (cancel_wait_cb):
 * each counts as a 408. */
static void
end_pending(struct pcall *pc)
{
	for (size_t i = 0; i < pc->nbr; i++) {
		struct branch *b = &pc->br[i];
		if (b->orq == NULL || b->status >= 200)
			continue;
		watch_stop(b);
		nta_outgoing_destroy(b->orq); /* no callback any more */
		b->orq = NULL;
		b->status = 408;
		pc->npending--;
	}
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
	if (pc->rr) {
		/* no 2xx went up (that sets final_sent): the early dialogs this request
		 * made are over, also those whose branch ended without a To tag (a
		 * timeout inside nta, our own 480), which dlg_failed cannot name */
		msg_t *req = nta_incoming_getrequest(pc->irq);
		if (req) {
			dlg_call_failed(sip_object(req));
			msg_destroy(req);
		}
	}
	if (pc->best) {
		msg_t *m = pc->best;
		pc->best = NULL;
		if (pc->best_status == 503) {
			nta_incoming_treply(pc->irq, 500, "Service Unavailable downstream",
					    TAG_END());
			msg_destroy(m);
			return;
		}
		nta_incoming_mreply(pc->irq, m);
		return;
	}
	if (pc->canceled)
		nta_incoming_treply(pc->irq, SIP_487_REQUEST_CANCELLED, TAG_END());
	else if (pc->best_status == 503)
		/* ours: the hop to another front end failed (watch_cb); as the
		 * pool's other 503s, the client may try again shortly */
		nta_incoming_treply(pc->irq, 503, "Front end not reachable",
				    SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
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
		else
			end_pending(pc);
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

/* An answer nta made itself (transport error, no route): no peer address. */
static bool
answered_here(msg_t *resp)
{
	su_addrinfo_t *ai = msg_addrinfo(resp);

	return ai == NULL || ai->ai_addr == NULL || ai->ai_addr->sa_family == AF_UNSPEC;
}

static int
branch_cb(nta_outgoing_magic_t *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct branch *b = (struct branch *)magic;
	struct pcall *pc = b->pc;
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);
	msg_t *resp = sip ? nta_outgoing_getresponse(orq) : NULL;

	b->heard = true;

	if (resp && status >= 500 && status < 600 && answered_here(resp)) {
		/* nta's own answer: the device could not be reached (connection refused,
		 * or the connection it registered over is gone, as after a restart): for
		 * the caller that is a user not available now, not a failing server */
		msg_destroy(resp);
		branch_response(b, 480, NULL);
		return 0;
	}

	tport_t *tp = resp ? nta_outgoing_transport(orq) : NULL; /* a reference */
	bool verified = resp == NULL || sipae_verified(pc->w, tp, resp, sip_object(resp));
	tport_unref(tp);
	if (!verified) {
		/* a signed-in client's connection carried an answer it did not sign: it
		 * counts as an invalid answer from downstream (RFC 3261 502), which the
		 * caller does get; a 408 would not reach it for a non-INVITE request
		 * (Sofia's nta follows RFC 4320 and sends no 408 there) */
		msg_destroy(resp);
		if (status < 200)
			return 0;
		branch_response(b, 502, NULL);
		log_debug("event=answer-dropped status=%d pending=%zu final-sent=%d", status,
			  pc->npending, pc->final_sent);
		return 0;
	}
	sip = resp ? sip_object(resp) : sip;

	if (pc->rr && sip && status > 100 && status < 300 && sip->sip_to && sip->sip_to->a_tag) {
		msg_t *req = nta_incoming_getrequest(pc->irq);
		if (req) {
			dlg_record(sip_object(req), sip, pc->user, pc->zone, pc->token,
				   &pc->reserved, &pc->dlg_share);
			msg_destroy(req);
		}
	} else if (pc->rr && sip && status >= 300 && sip->sip_to && sip->sip_to->a_tag) {
		dlg_failed(sip); /* its early dialog, if any, is over */
	} else if (!pc->rr && sip && status >= 200 && status < 300 && sip->sip_contact &&
		   sip->sip_cseq &&
		   (sip->sip_cseq->cs_method == sip_method_invite ||
		    sip->sip_cseq->cs_method == sip_method_update ||
		    sip->sip_cseq->cs_method == sip_method_subscribe)) {
		dlg_refresh(sip); /* the answer to a target refresh: the answerer's Contact */
	}
	branch_response(b, status, resp);
	return 0;
}

/* A hop to another front end over TLS whose connection closed before any
 * answer (the handshake failed, or its certificate did not verify: Sofia
 * closes the connection without telling the transaction, which would wait
 * for its timeout): 503 for this branch now. */
static void
watch_cb(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	struct branch *b = (struct branch *)arg;
	struct pcall *pc = b->pc;
	tport_t *tp;
	bool closed;

	if (b->heard || b->status >= 200 || b->orq == NULL || --b->watch_left == 0) {
		watch_stop(b);
		return;
	}
	tp = nta_outgoing_transport(b->orq); /* a reference */
	closed = tp && tport_is_closed(tp);
	tport_unref(tp);
	if (!closed)
		return;
	log_warnx("event=pool-hop-failed reason=\"TLS connection closed before an answer\" "
		  "branch=%s",
		  b->key);
	watch_stop(b);
	nta_outgoing_destroy(b->orq);
	b->orq = NULL;
	branch_response(b, 503, NULL);
	if (pc->npending == 0)
		send_best(pc);
	pcall_maybe_done(pc);
}

static void
watch_start(struct worker *w, struct branch *b)
{
	b->watch = su_timer_create(su_root_task(w->w_root), HOP_WATCH_MS);
	b->watch_left = HOP_WATCH_TICKS;
	if (b->watch && su_timer_run(b->watch, watch_cb, (su_timer_arg_t *)b) < 0)
		watch_stop(b);
}

/* RFC 3261 9.1: an INVITE branch that has no final answer 64*T1 after its
 * CANCEL is given up.  A callee that rang and went away (its connection
 * closed, the CANCEL refused), or one that ignores the CANCEL, would otherwise
 * hold the call for ever: the caller without a final answer, the call counted
 * against the worker's bound (PCALLS_MAX) and its early dialog kept. */
#define CANCEL_WAIT_MS (64 * 500)

static void
cancel_wait_cb(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	struct pcall *pc = (struct pcall *)arg;

	/* not destroyed from inside its own callback: freed with the call */
	pc->spent_timer = pc->timer;
	pc->timer = NULL;
	if (pc->npending == 0)
		return;
	msg_t *req = nta_incoming_getrequest(pc->irq);
	const sip_t *rs = req ? sip_object(req) : NULL;
	log_info("event=call-gave-up reason=\"no final answer after CANCEL\" branches=%zu "
		 "call-id=%s",
		 pc->npending, log_value(rs && rs->sip_call_id ? rs->sip_call_id->i_id : "-"));
	if (req)
		msg_destroy(req);
	end_pending(pc); /* the branches still open count as 408 */
	send_best(pc);
	pcall_maybe_done(pc);
}

/* Our CANCEL of branch b has its final answer.  When nta answered it itself
 * with an error (the callee could not be reached: the connection the INVITE
 * went over is gone and a new one is refused), the callee never hears of the
 * CANCEL and will not end its INVITE: the branch is given up now, as a 408,
 * instead of 64*T1 later (cancel_wait_cb).  Any answer from the callee itself
 * leaves the branch to the INVITE's own final (its 487, or a 2xx that crossed
 * the CANCEL). */
static int
cancel_cb(nta_outgoing_magic_t *magic, nta_outgoing_t *orq, sip_t const *sip)
{
	struct branch *b = (struct branch *)magic;
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);
	msg_t *resp;
	bool ours;

	if (status < 200)
		return 0;
	resp = nta_outgoing_getresponse(orq);
	/* 5xx made by nta: the CANCEL could not be sent (a timeout, 408, is left to
	 * cancel_wait_cb, which comes at the same moment) */
	ours = status >= 500 && status < 600 && resp != NULL && answered_here(resp);
	if (resp)
		msg_destroy(resp);
	nta_outgoing_destroy(orq);
	b->cancel = NULL;
	if (!ours || b->orq == NULL || b->status >= 200)
		return 0;
	log_info("event=call-gave-up reason=\"CANCEL could not reach the callee\" status=%d "
		 "branch=%s",
		 status, b->key);
	watch_stop(b);
	nta_outgoing_destroy(b->orq); /* no callback any more */
	b->orq = NULL;
	branch_response(b, 408, NULL); /* sends the best final when it was the last */
	return 0;
}

/* A CANCEL went to the open branches (timer C, or the caller's CANCEL). */
static void
cancel_wait(struct pcall *pc)
{
	if (pc->timer == NULL && pc->spent_timer == NULL)
		pc->timer = su_timer_create(su_root_task(pc->w->w_root), 0);
	if (pc->timer)
		su_timer_set_interval(pc->timer, cancel_wait_cb, (su_timer_arg_t *)pc,
				      CANCEL_WAIT_MS);
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
		cancel_wait(pc);
	}
	return 0;
}

static void
timer_c_cb(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	struct pcall *pc = (struct pcall *)arg;

	cancel_pending(pc);
	cancel_wait(pc); /* the same timer, set again from its own callback */
}

/* A copy of the request for one target, rewritten as RFC 3261 16.6 says. */
/* Only this front end says that a request comes from the pool: whatever
 * X-Greenwich-Pool came in goes; a branch to another front end gets ours. */
static int
pool_header(struct worker *w, msg_t *m, sip_t *s, const struct target *t, const char *user)
{
	char v[600], h[640];

	for (sip_unknown_t *u = s->sip_unknown, *next; u; u = next) {
		next = u->un_next;
		if (u->un_name && strcasecmp(u->un_name, POOL_HEADER) == 0)
			msg_header_remove(m, (msg_pub_t *)s, (msg_header_t *)u);
	}
	if (!t->pool_hop)
		return 0;
	if (pool_hop_sign(w->w_gwd, s, user, v, sizeof(v)) < 0)
		return -1;
	snprintf(h, sizeof(h), POOL_HEADER ": %s", v);
	return sip_add_tl(m, s, SIPTAG_HEADER_STR(h), TAG_END()) < 0 ? -1 : 0;
}

static msg_t *
branch_request(struct worker *w, msg_t *orig, const struct target *t, bool record_route,
	       const char *user)
{
	msg_t *m = msg_dup(orig);
	sip_t *s = m ? sip_object(m) : NULL;

	if (s == NULL)
		goto fail;
	if (t->ruri[0]) {
		sip_request_t *rq =
		    sip_request_create(msg_home(m), s->sip_request->rq_method,
				       s->sip_request->rq_method_name, gw_url(t->ruri), NULL);
		if (rq == NULL ||
		    msg_header_replace(m, (msg_pub_t *)s, (msg_header_t *)s->sip_request,
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
	if (pool_header(w, m, s, t, user) < 0)
		goto fail;
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

/* A new request takes one of its address's share of this worker's calls (on
 * worker 0 a handed-over one counts for the client's address, which the
 * handoff kept).  False: the address has all its share in progress; answered
 * 503 before anything rings. */
static bool
share_take(struct worker *w, msg_t *msg, struct pcall *pc)
{
	struct gwd *g = w->w_gwd;
	int limit = g->conf->calls_per_source;
	su_addrinfo_t *ai = msg_addrinfo(msg);
	bool over = false;
	char text[64];

	if (sources == NULL)
		sources = addr_count_alloc(); /* NULL: nothing counted, nothing refused */
	if (ai == NULL || ai->ai_addr == NULL)
		return true;
	pc->share = addr_count_take(sources, ai->ai_addr, limit > 0 ? (unsigned)limit : 0, &over);
	if (!over)
		return true;
	unsigned long n = atomic_fetch_add(&g->stats.calls_refused, 1) + 1;
	if (addr_count_due(sources, ai->ai_addr, time(NULL), 60)) {
		addr_count_text(ai->ai_addr, text, sizeof(text));
		log_notice("event=calls-refused source=%s limit=%d worker=%d reason=\"too many "
			   "calls from this address in progress\" refused=%lu",
			   text, limit, w->w_id, n);
	}
	atomic_fetch_add(&g->stats.rejected, 1);
	nta_msg_treply(w->w_agent, msg, 503, "Too many calls from your address",
		       SIPTAG_RETRY_AFTER_STR(CALLS_RETRY_AFTER),
		       TAG_IF(proxy_answer_tport, NTATAG_TPORT(proxy_answer_tport)), TAG_END());
	return false;
}

/* Where a dialog-creating request counts for its share of the dialogs: its
 * client's address (on worker 0 a handed-over one's, which the handoff kept);
 * NULL for a pool hop (the other front end held its sender to its share). */
static const struct sockaddr *
dialog_source(msg_t *msg, const struct admit *a)
{
	su_addrinfo_t *ai = msg_addrinfo(msg);

	return a->pool_hop || ai == NULL ? NULL : ai->ai_addr;
}

/* [limits] dialogs-per-source, as reload left it (0: no limit) */
static unsigned
dialog_share(struct worker *w)
{
	int limit = w->w_gwd->conf->dialogs_per_source;

	return limit > 0 ? (unsigned)limit : 0;
}

void
proxy_forward(struct worker *w, msg_t *msg, sip_t *sip, struct target *t, size_t nt,
	      const struct admit *a)
{
	struct pcall *pc = calloc(1, sizeof(*pc));
	char lh[LOOP_HASH_LEN];
	bool rr = dialog_creating(sip);

	if (pc == NULL) {
		sip_reply(w, msg, 500, "Out of memory");
		return;
	}
	/* within a dialog we routed, or from another front end of the pool (which
	 * held its sender to its own share), a request is never refused here; one
	 * that merely carries a To tag counts as any other */
	if (!a->in_dialog && !a->pool_hop && !share_take(w, msg, pc)) {
		free(pc);
		return;
	}
	/* no room for the dialog it would make (in the table, or in its address's
	 * share of it): refused before anything rings */
	enum dlg_room room =
	    rr ? dlg_reserve(dialog_source(msg, a), dialog_share(w), &pc->dlg_share) : DLG_ROOM;
	if (room != DLG_ROOM) {
		addr_count_put(sources, pc->share);
		free(pc);
		atomic_fetch_add(&w->w_gwd->stats.rejected, 1);
		if (room == DLG_SOURCE_FULL)
			atomic_fetch_add(&w->w_gwd->stats.dialog_shares_refused, 1);
		nta_msg_treply(w->w_agent, msg, 503,
			       room == DLG_FULL ? "Too many calls in progress"
						: "Too many calls from your address",
			       SIPTAG_RETRY_AFTER_STR(room == DLG_FULL ? DLG_RETRY_AFTER
								       : DLG_SHARE_RETRY_AFTER),
			       TAG_IF(proxy_answer_tport, NTATAG_TPORT(proxy_answer_tport)),
			       TAG_END());
		return;
	}
	pc->reserved = rr;
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
				      TAG_IF(proxy_answer_tport, NTATAG_TPORT(proxy_answer_tport)),
				      TAG_END());
	if (pc->irq == NULL) {
		if (pc->reserved)
			dlg_unreserve(pc->dlg_share);
		addr_count_put(sources, pc->share);
		free(pc);
		sip_reply(w, msg, 500, "Cannot create transaction");
		return;
	}
	nta_incoming_bind(pc->irq, irq_cb, (nta_incoming_magic_t *)pc);
	if (proxy_answer_tport)
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
		proxy_target_pick_family(w, &t[i]);
		msg_t *m = branch_request(w, orig, &t[i], rr, a ? a->user : "");
		if (m == NULL)
			continue;
		sip_branch_make(w, key, sizeof(key), lh, ++branch_counter);
		struct branch *b = &pc->br[pc->nbr];
		b->pc = pc;
		snprintf(b->key, sizeof(b->key), "%s", key);
		b->orq = nta_outgoing_mcreate(
		    w->w_agent, branch_cb, (nta_outgoing_magic_t *)b, gw_url(t[i].hop), m,
		    NTATAG_BRANCH_KEY(key),
		    TAG_IF(t[i].tp && tport_is_secondary(t[i].tp), NTATAG_TPORT(t[i].tp)),
		    TAG_IF(t[i].tp && tport_is_primary(t[i].tp) && tport_has_ip6(t[i].tp),
			   TPTAG_IDENT("v6")),
		    TAG_END());
		if (b->orq == NULL) {
			log_warnx("event=forward-failed target=%s", log_value(t[i].hop));
			msg_destroy(m);
			continue;
		}
		pc->nbr++;
		pc->npending++;
		if (t[i].pool_hop && pool_tls(w->w_gwd))
			watch_start(w, b);
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

/* Hand the request to worker 0, which owns the connection it must go out on. */
void
proxy_handoff(struct worker *w, msg_t *msg, sip_t *sip, int kind, const struct admit *a)
{
	int ret = handoff_msg(w, msg, sip, kind, a, a ? sizeof(*a) : 0);

	if (ret == 0)
		return;
	if (ret == -EBUSY && kind == HANDOFF_PROXY)
		/* its address has its share of worker 0's queue waiting already */
		nta_msg_treply(w->w_agent, msg, 503, "Too many requests from your address",
			       SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
	else if (kind == HANDOFF_PROXY)
		sip_reply(w, msg, 500, "Cannot hand over request");
	else
		msg_destroy(msg);
}

/* A final answer Sofia did not match to the branch that caused it (seen for
 * answers that lost the caller's Via): finish that branch all the same. */
bool
proxy_finish_branch(struct worker *w, msg_t *msg, sip_t *sip)
{
	const char *key = sip->sip_via ? sip->sip_via->v_branch : NULL;

	if (key == NULL || sip->sip_status->st_status < 200 ||
	    sip_branch_check(w, sip->sip_via->v_branch) != w->w_id)
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
proxy_calls_stop(struct worker *w)
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
	addr_count_free(sources); /* empty now: every call gave its share back */
	sources = NULL;
}

bool
proxy_busy(struct worker *w)
{
	return npcalls >= overload_bound(w, PCALLS_MAX);
}

bool
proxy_cancel_handed(const sip_t *sip)
{
	struct pcall *pc = handoff_find(sip);

	if (pc == NULL || pc->final_sent)
		return false;
	pc->canceled = true;
	cancel_pending(pc);
	cancel_wait(pc);
	return true;
}

bool
proxy_handed_known(const sip_t *sip)
{
	return handoff_find(sip) != NULL;
}
