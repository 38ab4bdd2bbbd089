/*
 * sip_request.c - intake of every request nta hands over statelessly:
 * sanity checks, then the registrar, the server's own answers, or the proxy.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tag.h>

#include "gwd.h"
#include "log.h"
#include "presence.h"
#include "overload.h"
#include "sip.h"
#include "sipae.h"

void
sip_reply(struct worker *w, msg_t *msg, int status, const char *phrase)
{
	bool extra = status == 405 || status == 420 || (status >= 200 && status < 300);

	if (status >= 300)
		atomic_fetch_add(&w->w_gwd->stats.rejected, 1);
	nta_msg_treply(w->w_agent, msg, status, phrase, TAG_IF(extra, SIPTAG_ALLOW_STR(GW_ALLOW)),
		       TAG_IF(extra, SIPTAG_SUPPORTED_STR(GW_SUPPORTED)), TAG_END());
}

/* The option tags we implement; anything else in Require/Proxy-Require is 420. */
static bool
option_supported(const char *tag)
{
	return strcasecmp(tag, "path") == 0 || strcasecmp(tag, "outbound") == 0 ||
	       strcasecmp(tag, "ms-benotify") == 0; /* pidgin-sipe's SUBSCRIBEs */
}

static bool
check_required(struct worker *w, msg_t *msg, sip_t *sip)
{
	const msg_list_t *lists[] = {(msg_list_t *)sip->sip_proxy_require,
				     sip->sip_request->rq_method == sip_method_register
					     ? (msg_list_t *)sip->sip_require
					     : NULL};

	for (size_t k = 0; k < 2; k++) {
		if (lists[k] == NULL)
			continue;
		for (const msg_list_t *l = lists[k]; l; l = l->k_next)
			for (size_t i = 0; l->k_items && l->k_items[i]; i++)
				if (!option_supported(l->k_items[i])) {
					nta_msg_treply(w->w_agent, msg, SIP_420_BAD_EXTENSION,
						       SIPTAG_UNSUPPORTED_STR(l->k_items[i]),
						       TAG_END());
					return false;
				}
	}
	return true;
}

/* Requests addressed to the server itself (no user part, or one of our addresses). */
static void
handle_own(struct worker *w, msg_t *msg, sip_t *sip)
{
	switch (sip->sip_request->rq_method) {
	case sip_method_options:
		sip_reply(w, msg, SIP_200_OK);
		return;
	case sip_method_ack:
		msg_destroy(msg);
		return;
	default:
		sip_reply(w, msg, SIP_405_METHOD_NOT_ALLOWED);
		return;
	}
}

static bool
sane(struct worker *w, msg_t *msg, sip_t *sip)
{
	if (!sip->sip_from || !sip->sip_to || !sip->sip_call_id || !sip->sip_cseq ||
	    !sip->sip_via || !sip->sip_from->a_url->url_host) {
		nta_msg_treply(w->w_agent, msg, 400, "Missing mandatory header", TAG_END());
		return false;
	}
	if (sip->sip_cseq->cs_method != sip->sip_request->rq_method ||
	    (sip->sip_request->rq_method == sip_method_unknown &&
	     strcasecmp(sip->sip_cseq->cs_method_name, sip->sip_request->rq_method_name) != 0)) {
		nta_msg_treply(w->w_agent, msg, 400, "CSeq method does not match", TAG_END());
		return false;
	}
	if (sip->sip_error) {
		nta_msg_treply(w->w_agent, msg, 400, "Malformed header", TAG_END());
		return false;
	}
	const url_t *ru = sip->sip_request->rq_url;
	size_t ulen = (ru->url_user ? strlen(ru->url_user) : 0) + (ru->url_host ? strlen(ru->url_host) : 0);
	if (ulen > GW_AOR_MAX) {
		nta_msg_treply(w->w_agent, msg, SIP_414_REQUEST_URI_TOO_LONG, TAG_END());
		return false;
	}
	return true;
}

static void dispatch(struct worker *w, msg_t *msg, sip_t *sip);

int
sip_request_cb(nta_agent_magic_t *magic, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	struct worker *w = (struct worker *)magic;

	if (sip == NULL) {
		msg_destroy(msg);
		return 0;
	}
	if (sip->sip_status) {
		sip_proxy_stray_response(w, msg, sip);
		return 0;
	}
	if (sip->sip_request == NULL) {
		msg_destroy(msg);
		return 0;
	}
	atomic_fetch_add(&w->w_gwd->stats.requests, 1);
	if (!sane(w, msg, sip))
		return 0;
	/* domain sign-in: handshakes, and the signature of signed-in clients */
	if (w->w_gwd->sipae && w->w_id == 0 && sipae_intake(w, msg, sip))
		return 0;
	dispatch(w, msg, sip);
	w->w_auth_user = NULL;
	w->w_auth_sa = NULL;
	return 0;
}

static void
dispatch(struct worker *w, msg_t *msg, sip_t *sip)
{
	if (sip->sip_request->rq_method == sip_method_ack) {
		sip_proxy_stateless(w, msg, sip);
		return;
	}
	if (overload_shed(w, msg, sip))
		return;
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0 &&
	    !(sip->sip_request->rq_method == sip_method_options &&
	      sip_url_is_us(w, sip->sip_request->rq_url) && !sip->sip_route)) {
		sip_reply(w, msg, SIP_483_TOO_MANY_HOPS);
		return;
	}
	if (!check_required(w, msg, sip))
		return;
	switch (sip->sip_request->rq_method) {
	case sip_method_register:
		sip_register_handle(w, msg, sip);
		return;
	case sip_method_cancel:
		/* a CANCEL that matched a transaction of this worker never gets here */
		sip_proxy_cancel(w, msg, sip);
		return;
	default:
		break;
	}
	if (presence_claims(w, sip)) {
		presence_request(w, msg, sip, NULL);
		return;
	}
	if (!sip->sip_route && !sip->sip_request->rq_url->url_user &&
	    sip_url_is_us(w, sip->sip_request->rq_url)) {
		handle_own(w, msg, sip);
		return;
	}
	if (sip->sip_request->rq_method == sip_method_unknown) {
		sip_reply(w, msg, SIP_405_METHOD_NOT_ALLOWED);
		return;
	}
	sip_proxy_handle(w, msg, sip);
	return;
}
