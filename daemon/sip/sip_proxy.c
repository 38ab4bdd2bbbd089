/*
 * sip_proxy.c - the transaction-stateful proxy (RFC 3261 section 16): its
 * entry points.
 *
 * A request for a user of a served domain is forked in parallel to every
 * registered contact (targets: proxy_targets.c; the transaction and its
 * answers: proxy_forward.c).  Here: a new request is admitted (sip_admit.c)
 * before anything is routed, an ACK for a 2xx goes along its dialog without a
 * transaction, worker 0 takes what other workers hand over, and answers
 * that match no transaction are relayed to the worker that made their
 * branch, finish a branch, or (a retransmitted 2xx in a dialog we routed)
 * travel on.
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

#include "gwd.h"
#include "log.h"
#include "overload.h"
#include "proxy_int.h"
#include "service.h"
#include "sip.h"
#include "sip_admit.h"
#include "sip_dialog.h"
#include "sip_proxy.h"

void
sip_proxy_handle(struct worker *w, msg_t *msg, sip_t *sip)
{
	struct target t[MAX_BRANCHES];
	struct admit a;
	size_t nt = 0;

	memset(t, 0, sizeof(t));
	if (!sip->sip_to->a_tag && proxy_busy(w)) {
		overload_refuse(w, msg);
		return;
	}
	if (proxy_loop_detected(w, sip)) {
		sip_reply(w, msg, SIP_482_LOOP_DETECTED);
		return;
	}
	if (admit_request(w, msg, sip, &a) != GW_PASS ||
	    proxy_resolve(w, msg, sip, &a, t, &nt) != 0)
		return;
	if (w->w_id != 0 && proxy_needs_stream(t, nt))
		proxy_handoff(w, msg, sip, HANDOFF_PROXY, &a);
	else
		proxy_forward(w, msg, sip, t, nt, &a);
	proxy_targets_free(t, nt);
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
		snprintf(t[0].hop, sizeof(t[0].hop), "%s",
			 url_as_string(home, sip->sip_route->r_url));
	else
		proxy_dialog_target(w, sip, a, &t[0]);
	if (t[0].held) {
		msg_destroy(msg); /* an ACK for a device whose binding is held: nowhere to go */
		goto done;
	}
	if (w->w_id != 0 && proxy_needs_stream(t, 1)) {
		proxy_handoff(w, msg, sip, HANDOFF_STATELESS, a);
		goto done;
	}
	if (t[0].ruri[0] && !sip->sip_route) {
		sip_request_t *rq =
		    sip_request_create(msg_home(msg), sip->sip_request->rq_method,
				       sip->sip_request->rq_method_name, gw_url(t[0].ruri), NULL);
		if (rq)
			msg_header_replace(msg, (msg_pub_t *)sip, (msg_header_t *)sip->sip_request,
					   (msg_header_t *)rq);
	}
	if (nta_msg_tsend(w->w_agent, msg, gw_url(t[0].hop), TAG_IF(t[0].tp, NTATAG_TPORT(t[0].tp)),
			  TAG_END()) < 0)
		log_debug("event=ack-forward-failed call-id=%s", log_value(sip->sip_call_id->i_id));
done:
	proxy_targets_free(t, 1);
	su_home_deinit(home);
}

void
sip_proxy_stateless(struct worker *w, msg_t *msg, sip_t *sip)
{
	struct admit a;

	if (admit_ack(w, msg, sip, &a) != GW_PASS)
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

static void
handoff_recv(struct worker *w, struct handoff *h)
{
	struct target t[MAX_BRANCHES];
	size_t nt = 0;
	msg_t *m = handoff_msg_read(w, h, &proxy_answer_tport);
	sip_t *sip = m ? sip_object(m) : NULL;

	if (m == NULL)
		return;
	if (h->kind == HANDOFF_STATELESS) {
		if (h->adm)
			stateless_forward(w, m, sip, h->adm);
		else
			msg_destroy(m);
	} else if (h->kind == HANDOFF_CANCEL) {
		if (proxy_cancel_handed(sip))
			nta_msg_treply(w->w_agent, m, SIP_200_OK, TAG_END());
		else
			nta_msg_treply(w->w_agent, m, SIP_481_NO_TRANSACTION, TAG_END());
	} else if (proxy_handed_known(sip)) {
		msg_destroy(m); /* a retransmission of a request already in progress here */
	} else {
		memset(t, 0, sizeof(t));
		if (h->adm == NULL) {
			msg_destroy(m); /* nothing hands over a request it did not admit */
		} else if (proxy_resolve(w, m, sip, h->adm, t, &nt) == 0) {
			proxy_forward(w, m, sip, t, nt, h->adm);
		}
		proxy_targets_free(t, nt);
	}
	proxy_answer_tport = NULL;
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
		proxy_handoff(w, msg, sip, HANDOFF_CANCEL, false);
	else
		sip_reply(w, msg, SIP_481_NO_TRANSACTION);
}

void
sip_proxy_stray_response(struct worker *w, msg_t *msg, sip_t *sip)
{
	if (relay_response(w, msg, sip) || proxy_finish_branch(w, msg, sip))
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

const struct gw_service sip_proxy_service = {
    .name = "proxy",
    .handoff_kinds = 1u << HANDOFF_PROXY | 1u << HANDOFF_STATELESS | 1u << HANDOFF_CANCEL,
    .handoff = handoff_recv,
    .detach = proxy_calls_stop,
};
