/*
 * sip_request.c - intake of every request nta hands over statelessly:
 * sanity checks, then the registrar, the server's own answers, or the proxy.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>

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

/* A host of a sip: or sips: URI: a name, an IPv4 address, or an IPv6 reference.
 * RFC 3261's ABNF let "::" before an IPv4 tail be written ":::" (the bug RFC
 * 5118 describes); such a reference is accepted. */
static bool
host_valid(const char *h)
{
	char a[INET6_ADDRSTRLEN + 2];
	struct in6_addr in6;
	size_t n = h ? strlen(h) : 0;

	if (n == 0)
		return false;
	if (h[0] == '[') {
		if (n < 4 || h[n - 1] != ']' || n - 2 >= sizeof(a))
			return false;
		memcpy(a, h + 1, n - 2);
		a[n - 2] = '\0';
		char *three = strstr(a, ":::");
		if (three && strchr(three, '.'))
			memmove(three, three + 1, strlen(three));
		return inet_pton(AF_INET6, a, &in6) == 1;
	}
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

static bool
refuse(struct worker *w, msg_t *msg, int status, const char *phrase)
{
	nta_msg_treply(w->w_agent, msg, status, phrase, TAG_END());
	return false;
}

/* Intake's checks, in this order: the message's syntax (400 with what is
 * wrong, 414), then the Request-URI's scheme (416).  Nothing about the
 * sender (who they are, what the policy says) is looked at before a request is
 * known to be well formed. */
static bool
sane(struct worker *w, msg_t *msg, sip_t *sip)
{
	const sip_request_t *rq = sip->sip_request;
	const url_t *ru = rq->rq_url;
	char phrase[80];

	if (!sip->sip_from || !sip->sip_to || !sip->sip_call_id || !sip->sip_cseq ||
	    !sip->sip_via || !sip->sip_from->a_url->url_host)
		return refuse(w, msg, 400, "Missing mandatory header");
	if (sip->sip_error) {
		const msg_header_t *h = (const msg_header_t *)sip->sip_error;
		const char *name =
		    h->sh_class == sip_error_class ? h->sh_error->er_name : h->sh_class->hc_name;
		snprintf(phrase, sizeof(phrase), "Bad %.40s Header", name ? name : "");
		return refuse(w, msg, 400, phrase);
	}
	if (sip->sip_cseq->cs_method != rq->rq_method ||
	    (rq->rq_method == sip_method_unknown &&
	     strcasecmp(sip->sip_cseq->cs_method_name, rq->rq_method_name) != 0))
		return refuse(w, msg, 400, "CSeq method does not match");
	if (ru->url_type == url_sip || ru->url_type == url_sips) {
		if (!host_valid(ru->url_host))
			return refuse(w, msg, 400, "Bad Request-URI host");
		/* headers belong in the message, never in a Request-URI (RFC 3261 19.1.1) */
		if (ru->url_headers)
			return refuse(w, msg, 400, "Headers in Request-URI");
	}
	size_t ulen = (ru->url_user ? strlen(ru->url_user) : 0) + (ru->url_host ? strlen(ru->url_host) : 0);
	if (ulen > GW_AOR_MAX)
		return refuse(w, msg, SIP_414_REQUEST_URI_TOO_LONG);
	if (ru->url_type != url_sip && ru->url_type != url_sips)
		return refuse(w, msg, SIP_416_UNSUPPORTED_URI);
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
