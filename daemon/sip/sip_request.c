/*
 * sip_request.c - intake of every request nta hands over statelessly:
 * sanity checks, then the registrar, the server's own answers, or the proxy.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_buffer.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/su_tag.h>

#include "gwd.h"
#include "log.h"
#include "presence.h"
#include "overload.h"
#include "sip.h"
#include "service.h"
#include "sip_proxy.h"
#include "sip_register.h"
#include "sip_request.h"
#include "sipae.h"

/*
 * What nta gets to see.  Sofia parses a message before nta looks at it, and nta
 * silently drops two kinds of request that deserve an answer:
 *  - a Request-Line it cannot parse (an IPv6 host without brackets, LWS inside
 *    the Request-URI) is garbage to it; here such a line still becomes a
 *    request, with a Request-URI of type url_invalid, and intake answers 400;
 *  - a top Via naming another transport than the one the request came over
 *    (nta's "Via check: invalid transport"); here the top Via of a request
 *    names the transport it came over, so that it is answered over that
 *    transport as other servers do.  Only UDP and TCP can be told apart from
 *    the message; on a TCP connection, a Via naming TLS (or TCP over TLS) is
 *    ambiguous and left alone when TLS is served.
 * A quoted-pair may escape a NUL (RFC 3261 25.1, RFC 4475 3.1.1.2), but Sofia
 * ends a header line at a NUL: before the headers are split, such a NUL is
 * read as '?' (the body is left alone).
 * A Request-Line that parses only with extra or trailing whitespace is marked
 * (its version string is loose_version) and answered 400 by intake too.
 * A request whose top Via does not parse (RFC 4475 3.1.2.1: empty parameters)
 * is answered 400 by nta only if it has a Via: the sent-protocol and sent-by
 * of the first Via line, when they parse alone, become one.
 */
static msg_mclass_t *intake_class;
static struct msg_hclass_s request_class[1];
static issize_t (*sip_body_extract)(msg_t *, msg_pub_t *, char[], isize_t, int);
static atomic_bool intake_tls;
static pthread_once_t intake_once = PTHREAD_ONCE_INIT;
static char const loose_version[] = "SIP/2.0";
/* the first Via line's sent-protocol and sent-by, as read before parsing */
static __thread struct {
	const msg_t *msg;
	char via[128];
} via_seen;

static bool
line_is_strict(char const *s, size_t len)
{
	size_t sp = 0;

	if (len == 0 || s[0] == ' ' || s[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\t')
			return false;
		if (s[i] == ' ' && (++sp > 2 || s[i + 1] == ' '))
			return false;
	}
	return sp == 2;
}

static void
via_note(const msg_t *msg, const char *b, const char *end)
{
	via_seen.msg = msg;
	via_seen.via[0] = '\0';
	for (const char *l = b; l < end;) {
		const char *eol = memchr(l, '\n', (size_t)(end - l));
		const char *e = eol ? eol : end, *p = l;
		while (p < e && (isalpha((unsigned char)*p) || *p == '-'))
			p++;
		size_t nl = (size_t)(p - l);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e && *p == ':' &&
		    ((nl == 3 && su_casenmatch(l, "via", 3)) || (nl == 1 && (*l | 0x20) == 'v'))) {
			const char *v = ++p;
			while (p < e && *p != ';' && *p != ',' && *p != '\r')
				p++;
			size_t len = (size_t)(p - v);
			if (len < sizeof(via_seen.via)) {
				memcpy(via_seen.via, v, len);
				via_seen.via[len] = '\0';
			}
			return;
		}
		l = e + 1;
	}
}

/* The header block of the message whose Request-Line is being parsed: the
 * Request-Line comes first in what the message has received and not parsed. */
static void
headers_unnul(msg_t *msg, const char *line)
{
	char *b = msg_buf_committed_data(msg);
	size_t n = msg_buf_committed(msg);

	if (b == NULL || line < b || line >= b + n)
		return;
	/* memchr, not memmem and a loop over every byte: this runs for every request */
	char *end = NULL;
	for (char *q = b; (q = memchr(q, '\r', (size_t)(b + n - q))) != NULL && q + 3 < b + n; q++)
		if (q[1] == '\n' && q[2] == '\r' && q[3] == '\n') {
			end = q;
			break;
		}
	if (end == NULL)
		end = b + n;
	for (char *p = b + 1; p < end && (p = memchr(p, '\0', (size_t)(end - p))) != NULL; p++)
		if (p[-1] == '\\')
			*p = '?';
	via_note(msg, b, end);
}

/* Parses the Request-Line of a message: home is the message's (msg_home()). */
static issize_t
request_d(su_home_t *home, msg_header_t *h, char *s, isize_t slen)
{
	sip_request_t *rq = (sip_request_t *)h;
	char *line = su_strndup(home, s, (size_t)slen);

	headers_unnul((msg_t *)home, s);
	issize_t n = sip_request_class->hc_parse(home, h, s, slen);

	if (line == NULL)
		return n;
	if (n >= 0) {
		if (!line_is_strict(line, strlen(line)) &&
		    su_casematch(rq->rq_version, sip_version_2_0))
			rq->rq_version = loose_version;
		return n;
	}
	/* METHOD SP <anything> SP SIP/x.y: a request with a Request-URI we cannot read */
	char *sp1 = strchr(line, ' '), *sp2 = strrchr(line, ' ');
	if (sp1 == NULL || sp2 == sp1 || !su_casenmatch(sp2 + 1, "SIP/", 4))
		return n;
	*sp1 = '\0';
	for (char const *m = line; *m; m++)
		if (!isgraph((unsigned char)*m))
			return n;
	memset(rq->rq_url, 0, sizeof(rq->rq_url));
	rq->rq_url->url_type = url_invalid;
	rq->rq_method_name = line;
	rq->rq_method = sip_method_code(line);
	rq->rq_version = su_casematch(sp2 + 1, sip_version_2_0) ? sip_version_2_0 : sp2 + 1;
	return 0;
}

static issize_t
body_extract(msg_t *msg, msg_pub_t *pub, char b[], isize_t bsiz, int eos)
{
	issize_t n = sip_body_extract(msg, pub, b, bsiz, eos);
	sip_t *sip = (sip_t *)pub;
	su_addrinfo_t *ai = msg_addrinfo(msg);
	sip_via_t *v = sip->sip_via;
	char const *proto = NULL;

	if (sip->sip_request && v == NULL && via_seen.msg == msg && via_seen.via[0] &&
	    (v = sip_via_make(msg_home(msg), via_seen.via)) != NULL &&
	    msg_header_insert(msg, pub, (msg_header_t *)v) < 0)
		v = NULL;
	if (sip->sip_request == NULL || v == NULL || v->v_protocol == NULL || ai == NULL)
		return n;
	if (ai->ai_protocol == IPPROTO_UDP)
		proto = sip_transport_udp;
	else if (ai->ai_protocol == IPPROTO_TCP &&
		 (!atomic_load(&intake_tls) || (!su_casematch(v->v_protocol, sip_transport_tls) &&
						!su_casematch(v->v_protocol, sip_transport_tcp))))
		proto = sip_transport_tcp;
	if (proto && !su_strmatch(v->v_protocol, proto) &&
	    !su_casenmatch(v->v_protocol, "SIP/2.0/WS", 10)) {
		v->v_protocol = proto;
		msg_fragment_clear(v->v_common);
	}
	return n;
}

static void
intake_class_init(void)
{
	msg_mclass_t *mc = msg_mclass_clone(sip_default_mclass(), 0, 0);

	if (mc == NULL)
		return;
	*request_class = *sip_request_class;
	request_class->hc_parse = request_d;
	mc->mc_request->hr_class = request_class;
	sip_body_extract = mc->mc_extract_body;
	mc->mc_extract_body = body_extract;
	intake_class = mc;
}

static msg_mclass_t const *
sip_request_mclass(bool tls)
{
	if (tls)
		atomic_store(&intake_tls, true);
	pthread_once(&intake_once, intake_class_init);
	return intake_class ? intake_class : sip_default_mclass();
}

/* The option tags we implement; anything else in Require/Proxy-Require is 420. */
static bool
option_supported(const char *tag)
{
	return strcasecmp(tag, "path") == 0 || strcasecmp(tag, "outbound") == 0 ||
	       strcasecmp(tag, "ms-benotify") == 0; /* pidgin-sipe's SUBSCRIBEs */
}

/* Require (REGISTER) and Proxy-Require: 420 for an option we do not implement. */
static enum gw_verdict
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
					return GW_TAKEN;
				}
	}
	return GW_PASS;
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

static enum gw_verdict
refuse(struct worker *w, msg_t *msg, int status, const char *phrase)
{
	nta_msg_treply(w->w_agent, msg, status, phrase, TAG_END());
	return GW_TAKEN;
}

/* Intake's checks, in this order: the message's size and syntax (413, 400 with
 * what is wrong, 414), then the Request-URI's scheme (416).  Nothing about the
 * sender (who they are, what the policy says) is looked at before a request is
 * known to be well formed. */
static enum gw_verdict
sane(struct worker *w, msg_t *msg, sip_t *sip)
{
	const sip_request_t *rq = sip->sip_request;
	const url_t *ru = rq->rq_url;
	char phrase[80];

	/* Sofia reads a busy connection in large pieces and cannot apply the limit
	 * per message: it is applied here */
	if (msg_size(msg) > (usize_t)w->w_gwd->conf->max_message_size)
		return refuse(w, msg, SIP_413_REQUEST_TOO_LARGE);
	if (ru->url_type == url_invalid)
		return refuse(w, msg, 400, "Malformed Request-URI");
	if (rq->rq_version == loose_version)
		return refuse(w, msg, 400, "Malformed Request-Line");
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
	size_t ulen =
	    (ru->url_user ? strlen(ru->url_user) : 0) + (ru->url_host ? strlen(ru->url_host) : 0);
	if (ulen > GW_AOR_MAX)
		return refuse(w, msg, SIP_414_REQUEST_URI_TOO_LONG);
	if (ru->url_type != url_sip && ru->url_type != url_sips)
		return refuse(w, msg, SIP_416_UNSUPPORTED_URI);
	return GW_PASS;
}

/* Domain sign-in (worker 0): handshakes, and the signature of signed-in clients. */
static enum gw_verdict
signin(struct worker *w, msg_t *msg, sip_t *sip)
{
	if (w->w_gwd->sipae == NULL || w->w_id != 0)
		return GW_PASS;
	return sipae_intake(w, msg, sip);
}

/* An ACK has no transaction to answer it: forwarded along its dialog, or dropped. */
static enum gw_verdict
ack_stateless(struct worker *w, msg_t *msg, sip_t *sip)
{
	if (sip->sip_request->rq_method != sip_method_ack)
		return GW_PASS;
	sip_proxy_stateless(w, msg, sip);
	return GW_TAKEN;
}

/* Max-Forwards 0: 483, except an OPTIONS to the server itself (RFC 3261 11). */
static enum gw_verdict
hops_left(struct worker *w, msg_t *msg, sip_t *sip)
{
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0 &&
	    !(sip->sip_request->rq_method == sip_method_options &&
	      sip_url_is_us(w, sip->sip_request->rq_url) && !sip->sip_route)) {
		sip_reply(w, msg, SIP_483_TOO_MANY_HOPS);
		return GW_TAKEN;
	}
	return GW_PASS;
}

/*
 * The pipeline: stages run in order until one takes the request.  Every
 * request meets the first list; the second also meets a request resumed after
 * an asynchronous sign-in step (resume()).
 */
typedef enum gw_verdict intake_stage(struct worker *w, msg_t *msg, sip_t *sip);

static intake_stage *const on_arrival[] = {
    sane,   /* size and syntax: 413, 400, 414, 416 */
    signin, /* MS-SIPAE handshakes and signatures */
};

static intake_stage *const before_dispatch[] = {
    ack_stateless,  /* ACK: along its dialog, nothing else */
    overload_shed,  /* 503 while the worker falls behind */
    hops_left,      /* 483 */
    check_required, /* 420 */
};

static enum gw_verdict
run_stages(intake_stage *const *stages, size_t n, struct worker *w, msg_t *msg, sip_t *sip)
{
	for (size_t i = 0; i < n; i++)
		if (stages[i](w, msg, sip) == GW_TAKEN)
			return GW_TAKEN;
	return GW_PASS;
}

static void dispatch(struct worker *w, msg_t *msg, sip_t *sip);

static int
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
	if (run_stages(on_arrival, sizeof(on_arrival) / sizeof(on_arrival[0]), w, msg, sip) ==
	    GW_TAKEN)
		return 0;
	dispatch(w, msg, sip);
	w->w_auth_user = NULL;
	w->w_auth_sa = NULL;
	w->w_auth_sids = NULL;
	return 0;
}

static void
dispatch(struct worker *w, msg_t *msg, sip_t *sip)
{
	if (run_stages(before_dispatch, sizeof(before_dispatch) / sizeof(before_dispatch[0]), w,
		       msg, sip) == GW_TAKEN)
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

/* A REGISTER whose sign-in handshake completed (worker 0, w_auth_* set). */
static void
resume(struct worker *w, msg_t *msg, sip_t *sip)
{
	if (sip->sip_request && sip->sip_request->rq_method == sip_method_register)
		sip_register_handle(w, msg, sip);
	else
		dispatch(w, msg, sip);
}

const struct gw_intake sip_intake = {
    .request = sip_request_cb,
    .mclass = sip_request_mclass,
    .resume = resume,
};
