/* SIP message helpers: our own addresses, request rewriting, request facts. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/su_alloc.h>

#include "gwp_internal.h"

static int
host_eq(const char *a, const char *b)
{
	size_t la, lb;

	if (*a == '[')
		a++;
	if (*b == '[')
		b++;
	la = strcspn(a, "]");
	lb = strcspn(b, "]");
	return la == lb && strncasecmp(a, b, la) == 0;
}

static int
addr_is_ours(const struct gwp_proxy *p, const char *host, const char *port, int secure)
{
	unsigned n = port && *port ? (unsigned)strtoul(port, NULL, 10) : (secure ? 5061 : 5060);
	size_t i;

	for (i = 0; host && i < p->cfg.n_listens; i++)
		if (host_eq(host, p->cfg.listens[i].host) && n == p->cfg.listens[i].port)
			return 1;
	return 0;
}

int
gwp_url_is_ours(const struct gwp_proxy *p, const url_t *url)
{
	return url && addr_is_ours(p, url->url_host, url->url_port, url->url_type == url_sips);
}

int
gwp_host_is_local(const struct gwp_proxy *p, const char *host)
{
	size_t i;

	if (!host)
		return 0;
	if (p->cfg.domain && strcasecmp(host, p->cfg.domain) == 0)
		return 1;
	for (i = 0; i < p->cfg.n_listens; i++)
		if (host_eq(host, p->cfg.listens[i].host))
			return 1;
	return 0;
}

int
gwp_via_has_us(const struct gwp_proxy *p, const sip_via_t *via)
{
	for (; via; via = via->v_next)
		if (addr_is_ours(p, via->v_host, via->v_port, 0))
			return 1;
	return 0;
}

/* The Route entries that do not name us, as one string ("" when there are
 * none, NULL when out of memory): what a request would be relayed through. */
char *
gwp_routes_foreign(const struct gwp_proxy *p, const sip_route_t *r)
{
	size_t len = 0, n;
	char *out = strdup(""), *s, *grown;

	for (; r && out; r = r->r_next) {
		if (gwp_url_is_ours(p, r->r_url))
			continue;
		s = url_as_string(NULL, r->r_url);
		n = s ? strlen(s) : 0;
		grown = s ? realloc(out, len + n + 4) : NULL; /* ",<" s ">" NUL */
		if (!grown) {
			free(out);
			out = NULL;
		} else {
			out = grown;
			len += (size_t)snprintf(out + len, n + 4, "%s<%s>", len ? "," : "", s);
		}
		su_free(NULL, s);
	}
	return out;
}

/* A URI string equals a parsed URI (RFC 3261 19.1.4 comparison). */
int
gwp_uri_equal(const char *a, const url_t *b)
{
	url_t *ua = a ? url_make(NULL, a) : NULL;
	int eq = ua && b && url_cmp_all(ua, b) == 0;

	su_free(NULL, ua);
	return eq;
}

/* The listener matching the transport the request came on (top Via). */
static const struct gwp_listen *
listen_for(const struct gwp_proxy *p, const sip_t *sip)
{
	const char *proto = sip->sip_via ? sip->sip_via->v_protocol : NULL;
	enum gwp_transport tp = GWP_TRANSPORT_UDP;
	size_t i;

	if (proto && strcasestr(proto, "/TCP"))
		tp = GWP_TRANSPORT_TCP;
	else if (proto && strcasestr(proto, "/TLS"))
		tp = GWP_TRANSPORT_TLS;
	for (i = 0; i < p->cfg.n_listens; i++)
		if (p->cfg.listens[i].tp == tp)
			return &p->cfg.listens[i];
	return &p->cfg.listens[0];
}

static int
record_route_add(struct gwp_proxy *p, msg_t *m, sip_t *sip)
{
	const struct gwp_listen *l = listen_for(p, sip);
	static const char *const tp[] = {"udp", "tcp", "tls"};
	sip_record_route_t *rr;
	const char *scheme = l->tp == GWP_TRANSPORT_TLS ? "sips" : "sip";
	char buf[300];

	if (strchr(l->host, ':'))
		snprintf(buf, sizeof(buf), "<%s:[%s]:%u;transport=%s;lr>", scheme, l->host, l->port,
			 tp[l->tp]);
	else
		snprintf(buf, sizeof(buf), "<%s:%s:%u;transport=%s;lr>", scheme, l->host, l->port,
			 tp[l->tp]);
	rr = sip_record_route_make(msg_home(m), buf);
	if (!rr)
		return -1;
	return msg_header_insert(m, (msg_pub_t *)sip, (msg_header_t *)rr);
}

static int
max_forwards_step(msg_t *m, sip_t *sip)
{
	sip_max_forwards_t *mf;
	unsigned long n = 70;

	if (sip->sip_max_forwards)
		n = sip->sip_max_forwards->mf_count;
	mf = sip_max_forwards_format(msg_home(m), "%lu", n > 0 ? n - 1 : 0);
	if (!mf)
		return -1;
	if (!sip->sip_max_forwards)
		return msg_header_insert(m, (msg_pub_t *)sip, (msg_header_t *)mf);
	return msg_header_replace(m, (msg_pub_t *)sip, (msg_header_t *)sip->sip_max_forwards,
				  (msg_header_t *)mf);
}

static void
routes_strip_ours(const struct gwp_proxy *p, msg_t *m, sip_t *sip)
{
	sip_route_t *r, *next;

	for (r = sip->sip_route; r; r = next) {
		next = r->r_next;
		if (gwp_url_is_ours(p, r->r_url))
			msg_header_remove(m, (msg_pub_t *)sip, (msg_header_t *)r);
	}
}

/* A copy of the request ready to forward: every Route naming us removed,
 * Max-Forwards decremented, and our Record-Route on top when asked. */
msg_t *
gwp_msg_prepare(struct gwp_proxy *p, msg_t *orig, int record_route)
{
	msg_t *m = msg_dup(orig);
	sip_t *sip = sip_object(m);

	if (!m || !sip)
		goto fail;
	routes_strip_ours(p, m, sip);
	if (max_forwards_step(m, sip) < 0)
		goto fail;
	if (record_route && record_route_add(p, m, sip) < 0)
		goto fail;
	return m;
fail:
	msg_destroy(m);
	return NULL;
}

int
gwp_status_fails_over(int status)
{
	return status == 408 || status == 480 || status == 486 || status == 600 || status == 603 ||
	       (status >= 500 && status < 600);
}

/* Rank of a final response when choosing what the caller gets after every
 * branch failed; lower is better: 6xx, then busy, then other 4xx, then 5xx,
 * then responses made locally (timeouts, transport errors). */
int
gwp_status_rank(int status, int local)
{
	if (status >= 600)
		return 0;
	if (status == 486)
		return 1;
	if (local)
		return 4;
	return status < 500 ? 2 : 3;
}

char *
gwp_url_string(const url_t *url)
{
	char *s = url ? url_as_string(NULL, url) : NULL;
	char *copy = gwp_strdup(s);

	su_free(NULL, s);
	return copy;
}

static char *
source_string(msg_t *msg)
{
	su_sockaddr_t su;
	socklen_t len = sizeof(su);
	char host[INET6_ADDRSTRLEN] = "?", buf[INET6_ADDRSTRLEN + 16];

	memset(&su, 0, sizeof(su));
	if (msg_get_address(msg, &su, &len) == 0)
		inet_ntop(su.su_family, SU_ADDR(&su), host, sizeof(host));
	if (strchr(host, ':'))
		snprintf(buf, sizeof(buf), "[%s]:%u", host, ntohs(su.su_port));
	else
		snprintf(buf, sizeof(buf), "%s:%u", host, ntohs(su.su_port));
	return strdup(buf);
}

static int
headers_collect(struct gwp_request *req, msg_t *msg)
{
	msg_header_t **head = msg_chain_head(msg);
	msg_header_t *h;
	const char *name;
	char value[2048];

	for (h = head ? *head : NULL; h; h = h->sh_succ) {
		if (h->sh_class == sip_request_class || h->sh_class == sip_separator_class ||
		    h->sh_class == sip_payload_class || h->sh_class == sip_error_class)
			continue;
		if (h->sh_class == sip_unknown_class) {
			name = h->sh_unknown->un_name;
			snprintf(value, sizeof(value), "%s",
				 h->sh_unknown->un_value ? h->sh_unknown->un_value : "");
		} else {
			name = h->sh_class->hc_name;
			if (msg_header_field_e(value, sizeof(value), h, 0) < 0)
				continue;
		}
		value[sizeof(value) - 1] = '\0';
		if (!name)
			continue;
		if (gwp_request_add_header(req, name, value) != GWP_OK)
			return GWP_ERR_NOMEM;
	}
	return GWP_OK;
}

static void
contact_facts(struct gwp_request *req, sip_t const *sip)
{
	sip_contact_t const *m = sip->sip_contact;

	req->expires = 3600;
	if (!m || m->m_url->url_type == url_any) {
		if (sip->sip_expires)
			req->expires = sip->sip_expires->ex_delta;
		return;
	}
	req->contact = gwp_url_string(m->m_url);
	req->expires = sip_contact_expires(m, sip->sip_expires, sip->sip_date, 3600, sip_now());
}

struct gwp_request *
gwp_request_from_sip(struct gwp_proxy *p, msg_t *msg, sip_t const *sip)
{
	struct gwp_request *req = calloc(1, sizeof(*req));
	const url_t *ru = sip->sip_request->rq_url;

	if (!req)
		return NULL;
	req->method = gwp_strdup(sip->sip_request->rq_method_name);
	req->uri = gwp_url_string(ru);
	req->user = gwp_strdup(ru->url_user ? ru->url_user : "");
	req->from = gwp_url_string(sip->sip_from ? sip->sip_from->a_url : NULL);
	req->to = gwp_url_string(sip->sip_to ? sip->sip_to->a_url : NULL);
	req->call_id = gwp_strdup(sip->sip_call_id ? sip->sip_call_id->i_id : "");
	req->source = source_string(msg);
	contact_facts(req, sip);
	if (!req->method || !req->uri || !req->user || !req->from || !req->to || !req->call_id ||
	    !req->source || headers_collect(req, msg) != GWP_OK) {
		gwp_request_free(req);
		return NULL;
	}
	gwp_proxy_ref(p);
	req->proxy = p;
	return req;
}
