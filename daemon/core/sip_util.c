/*
 * sip_util.c - small helpers over Sofia's SIP types.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/hmac.h>
#include <openssl/evp.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su.h>

#include "digest.h"
#include "gwd.h"
#include "sip.h"

int
sip_url_aor(char *out, size_t len, const url_t *url)
{
	if (url == NULL || url->url_host == NULL || url->url_host[0] == '\0')
		return -EINVAL;
	/* by hand, not snprintf: several per request */
	size_t ul = url->url_user && url->url_user[0] ? strlen(url->url_user) : 0;
	size_t hl = strlen(url->url_host), n = ul ? ul + 1 : 0;
	if (n + hl >= len)
		return -ENAMETOOLONG;
	if (ul) {
		memcpy(out, url->url_user, ul);
		out[ul] = '@';
	}
	memcpy(out + n, url->url_host, hl + 1);
	for (char *p = strchr(out, '@') ? strchr(out, '@') : out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

tport_t *
sip_msg_tport(struct worker *w, msg_t *msg)
{
	if (w->w_resume_msg == msg && w->w_resume_tp)
		return tport_ref(w->w_resume_tp);
	return nta_incoming_transport(w->w_agent, NULL, msg);
}

/* "a.b.c.d:port" of an IPv4 address, as inet_ntop and "%s:%u" print it
 * (those cost ~3,500 instructions; this is on every REGISTER's path twice);
 * false when addrlen is too short for any such address. */
static bool
ipv4_source(char *addr, size_t addrlen, const unsigned char *a, unsigned port)
{
	char *p = addr;

	if (addrlen < sizeof("255.255.255.255:65535"))
		return false;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : ':';
	}
	char t[6];
	int n = 0;
	do
		t[n++] = (char)('0' + port % 10);
	while ((port /= 10) != 0);
	while (n > 0)
		*p++ = t[--n];
	*p = '\0';
	return true;
}

void
sip_source_host(char *hostport)
{
	char *colon = hostport[0] == '[' ? strstr(hostport, "]:") : strrchr(hostport, ':');

	if (colon)
		colon[hostport[0] == '[' ? 1 : 0] = '\0';
}

void
sip_msg_source(struct worker *w, msg_t *msg, char *addr, size_t addrlen, char *proto,
	       size_t protolen)
{
	su_addrinfo_t *ai = msg_addrinfo(msg);
	char host[64] = "?";
	unsigned port = 0;
	tport_t *tp = sip_msg_tport(w, msg);

	if (ai && ai->ai_addr && ((su_sockaddr_t *)ai->ai_addr)->su_family == AF_INET &&
	    ipv4_source(addr, addrlen,
			(const unsigned char *)&((su_sockaddr_t *)ai->ai_addr)->su_sin.sin_addr,
			ntohs(((su_sockaddr_t *)ai->ai_addr)->su_port))) {
		/* written */
	} else if (ai && ai->ai_addr) {
		su_sockaddr_t *su = (su_sockaddr_t *)ai->ai_addr;
		su_inet_ntop(su->su_family, SU_ADDR(su), host, sizeof(host));
		port = ntohs(su->su_port);
		if (su->su_family == AF_INET6)
			snprintf(addr, addrlen, "[%s]:%u", host, port);
		else
			snprintf(addr, addrlen, "%s:%u", host, port);
	} else {
		snprintf(addr, addrlen, "?");
	}
	const char *p = ai && ai->ai_protocol == IPPROTO_TCP ? "tcp" : "udp";
	if (tp && tport_name(tp) && tport_name(tp)->tpn_proto)
		p = tport_name(tp)->tpn_proto;
	size_t pl = strlen(p);
	if (protolen > 0) {
		if (pl >= protolen)
			pl = protolen - 1;
		memcpy(proto, p, pl);
		proto[pl] = '\0';
	}
	tport_unref(tp);
}

static bool
hostport_match(const char *listen, const url_t *url)
{
	char host[128];
	const char *colon;
	const char *port = url->url_port ? url->url_port : "5060";
	size_t hl;

	if (listen[0] == '[') {
		const char *e = strchr(listen, ']');
		if (e == NULL)
			return false;
		hl = (size_t)(e - listen + 1);
		colon = e[1] == ':' ? e + 1 : NULL;
	} else {
		colon = strrchr(listen, ':');
		hl = colon ? (size_t)(colon - listen) : strlen(listen);
	}
	if (hl >= sizeof(host))
		return false;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (strcasecmp(host, url->url_host) != 0)
		return false;
	return strcmp(colon ? colon + 1 : "5060", port) == 0;
}

bool
sip_url_is_us(struct worker *w, const url_t *url)
{
	const struct gw_conf *c = w->w_gwd->conf;

	if (url == NULL || url->url_host == NULL)
		return false;
	if (!(url->url_user && url->url_user[0]) && gw_conf_serves(c, url->url_host))
		return true;
	if (c->server_name[0] && strcasecmp(c->server_name, url->url_host) == 0)
		return true;
	const struct gw_strlist *lists[] = {&c->udp, &c->tcp, &c->tls};
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < lists[k]->n; i++)
			if (hostport_match(lists[k]->v[i], url))
				return true;
	return false;
}

/* HMAC-SHA256 keyed with the server secret.  The inner and outer hash states
 * after the key blocks are computed once per thread and copied for each token:
 * OpenSSL 3's one-shot HMAC() looks the digest up again on every call. */
struct token_ctx {
	EVP_MD_CTX *inner, *outer, *tmp;
	const unsigned char *key;
};
static __thread struct token_ctx token_ctx;

static int
token_ctx_init(struct token_ctx *t, const unsigned char *key, size_t keylen)
{
	unsigned char ipad[64], opad[64];

	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (size_t i = 0; i < keylen && i < 64; i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
	t->inner = EVP_MD_CTX_new();
	t->outer = EVP_MD_CTX_new();
	t->tmp = EVP_MD_CTX_new();
	if (!t->inner || !t->outer || !t->tmp || !EVP_DigestInit_ex(t->inner, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(t->inner, ipad, sizeof(ipad)) ||
	    !EVP_DigestInit_ex(t->outer, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(t->outer, opad, sizeof(opad)))
		return -1;
	t->key = key;
	return 0;
}

static int
token_mac(struct worker *w, const char *data, unsigned char *md, unsigned int *mdlen)
{
	struct token_ctx *t = &token_ctx;
	unsigned char ih[EVP_MAX_MD_SIZE];
	unsigned int ilen = 0;

	if (t->key != w->w_gwd->secret &&
	    token_ctx_init(t, w->w_gwd->secret, sizeof(w->w_gwd->secret)) < 0)
		return -1;
	if (!EVP_MD_CTX_copy_ex(t->tmp, t->inner) ||
	    !EVP_DigestUpdate(t->tmp, data, strlen(data)) ||
	    !EVP_DigestFinal_ex(t->tmp, ih, &ilen) || !EVP_MD_CTX_copy_ex(t->tmp, t->outer) ||
	    !EVP_DigestUpdate(t->tmp, ih, ilen) || !EVP_DigestFinal_ex(t->tmp, md, mdlen))
		return -1;
	return 0;
}

void
sip_token_thread_free(void)
{
	EVP_MD_CTX_free(token_ctx.inner);
	EVP_MD_CTX_free(token_ctx.outer);
	EVP_MD_CTX_free(token_ctx.tmp);
	memset(&token_ctx, 0, sizeof(token_ctx));
}

void
sip_token(struct worker *w, char *out, size_t outlen, const char *data)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t k = 0;

	if (token_mac(w, data, md, &mdlen) < 0)
		HMAC(EVP_sha256(), w->w_gwd->secret, sizeof(w->w_gwd->secret),
		     (const unsigned char *)data, strlen(data), md, &mdlen);
	for (unsigned int i = 0; i < mdlen && k + 2 < outlen; i++) {
		out[k++] = hexd[md[i] >> 4];
		out[k++] = hexd[md[i] & 15];
	}
	out[k] = '\0';
}

void
sip_branch_make(struct worker *w, char *out, size_t len, const char *tag, uint64_t counter)
{
	char data[160], mac[SIP_BRANCH_MAC_LEN + 1];

	snprintf(data, sizeof(data), "%s.%" PRIx64 "x%d", tag, counter, w->w_id);
	sip_token(w, mac, sizeof(mac), data);
	snprintf(out, len, "z9hG4bKgw%s.%" PRIx64 ".%sx%d", tag, counter, mac, w->w_id);
}

int
sip_branch_check(struct worker *w, const char *branch)
{
	char body[160], data[160], mac[SIP_BRANCH_MAC_LEN + 1];
	const char *x, *dot;
	char *end = NULL;

	if (branch == NULL || strncmp(branch, "z9hG4bKgw", 9) != 0 ||
	    (x = strrchr(branch, 'x')) == NULL || (size_t)(x - branch - 9) >= sizeof(body))
		return -1;
	long id = strtol(x + 1, &end, 10);
	if (end == x + 1 || *end != '\0' || id < 0 || id >= 64)
		return -1;
	memcpy(body, branch + 9, (size_t)(x - branch - 9));
	body[x - branch - 9] = '\0';
	if ((dot = strrchr(body, '.')) == NULL || strlen(dot + 1) != SIP_BRANCH_MAC_LEN)
		return -1;
	snprintf(data, sizeof(data), "%.*sx%ld", (int)(dot - body), body, id);
	sip_token(w, mac, sizeof(mac), data);
	return gw_digest_equal(mac, dot + 1) ? (int)id : -1;
}

void
sip_reply(struct worker *w, msg_t *msg, int status, const char *phrase)
{
	bool extra = status == 405 || status == 420 || (status >= 200 && status < 300);

	if (status >= 300)
		atomic_fetch_add(&w->w_gwd->stats.rejected, 1);
	nta_msg_treply(w->w_agent, msg, status, phrase, TAG_IF(extra, SIPTAG_ALLOW_STR(GW_ALLOW)),
		       TAG_IF(extra, SIPTAG_SUPPORTED_STR(GW_SUPPORTED)), TAG_END());
}
