/*
 * sip_auth.c - Digest sign-in of local accounts (RFC 3261 22, RFC 8760).
 *
 * Nonces carry their own issue time and an HMAC over it, so any worker can
 * check any nonce without shared state; a nonce older than nonce-lifetime
 * is answered with stale=true.  The authenticated user must be the From of
 * the request (and the To of a REGISTER): nobody speaks as somebody else.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/su_tag.h>

#include "accounts.h"
#include "auth_guard.h"
#include "digest.h"
#include "gwd.h"
#include "log.h"
#include "sip.h"
#include "sip_auth.h"
#include "sip_nonce.h"
#include "sipae.h"
#include "gwstore.h"

#define NONCE_MAC_LEN 33

/* v in lower-case hex without leading zeros (as "%" PRIx64) at p; the end. */
static char *
hex_put(char *p, uint64_t v)
{
	static const char hexd[] = "0123456789abcdef";
	char t[16];
	int n = 0;

	do
		t[n++] = hexd[v & 15];
	while ((v >>= 4) != 0);
	while (n > 0)
		*p++ = t[--n];
	return p;
}

/* "<issue time>.<id>.<mac>": the id (hex, nonce_id_next) is unique for every
 * challenge, so that each nonce's counts belong to one client; the MAC covers
 * the time, the id and the realm.  Written by hand, not with snprintf: two of
 * these per registration (the challenge and the check). */
static void
nonce_make(struct worker *w, char *out, size_t len, time_t now, const char *unique)
{
	char data[200], mac[NONCE_MAC_LEN], u[20], *p;
	const char *realm = gw_conf_realm(w->w_gwd->conf);
	size_t ul, rl = strlen(realm);

	if (unique == NULL) {
		*hex_put(u, nonce_id_next()) = '\0';
		unique = u;
	}
	ul = strnlen(unique, 20);
	p = hex_put(data, (uint64_t)now);
	*p++ = ':';
	memcpy(p, unique, ul);
	p += ul;
	*p++ = ':';
	if (rl > (size_t)(data + sizeof(data) - 1 - p)) /* as snprintf cut it */
		rl = (size_t)(data + sizeof(data) - 1 - p);
	memcpy(p, realm, rl);
	p[rl] = '\0';
	sip_token(w, mac, sizeof(mac), data);
	if (len < 16 + 20 + NONCE_MAC_LEN + 2) {
		snprintf(out, len, "%" PRIx64 ".%.20s.%s", (uint64_t)now, unique, mac);
		return;
	}
	p = hex_put(out, (uint64_t)now);
	*p++ = '.';
	memcpy(p, unique, ul);
	p += ul;
	*p++ = '.';
	memcpy(p, mac, sizeof(mac)); /* with its NUL */
}

/* 1 fresh, 0 stale (ours but too old), -1 not ours; *id gets the nonce's id. */
static int
nonce_check(struct worker *w, const char *nonce, time_t now, uint64_t *id)
{
	char expect[160], unique[24];
	const char *dot = strchr(nonce, '.'), *dot2;
	char *end = NULL;
	uint64_t t;

	if (dot == NULL || (dot2 = strchr(dot + 1, '.')) == NULL ||
	    (size_t)(dot2 - dot - 1) >= sizeof(unique) || dot2 == dot + 1)
		return -1;
	t = strtoull(nonce, &end, 16);
	if (end != dot)
		return -1;
	memcpy(unique, dot + 1, (size_t)(dot2 - dot - 1));
	unique[dot2 - dot - 1] = '\0';
	nonce_make(w, expect, sizeof(expect), (time_t)t, unique);
	if (!gw_digest_equal(expect, nonce))
		return -1;
	*id = strtoull(unique, NULL, 16);
	if ((time_t)t > now + 5 || now - (time_t)t > w->w_gwd->conf->nonce_lifetime)
		return 0;
	return 1;
}

static bool
digest_allowed(const struct gw_conf *c, const sip_t *sip)
{
	const char *host = sip->sip_from->a_url->url_host;

	if (!c->local_accounts || !gw_conf_scheme(c, GW_SCHEME_DIGEST))
		return false;
	for (size_t i = 0; host && i < c->digest_disabled_domains.n; i++)
		if (strcasecmp(c->digest_disabled_domains.v[i], host) == 0)
			return false;
	return true;
}

/* "name=\"value\"" (or unquoted) in home. */
static char *
param_make(su_home_t *home, const char *name, const char *value, bool quote)
{
	size_t n = strlen(name), v = strlen(value);
	char *p = su_alloc(home, n + v + 4);

	if (p == NULL)
		return NULL;
	memcpy(p, name, n);
	p[n++] = '=';
	if (quote)
		p[n++] = '"';
	memcpy(p + n, value, v);
	n += v;
	if (quote)
		p[n++] = '"';
	p[n] = '\0';
	return p;
}

/* One challenge header per algorithm offered, made in place in the reply
 * (not printed and parsed again): Digest realm, nonce, algorithm, qop, stale. */
static bool
digest_challenge_add(struct worker *w, msg_t *reply, msg_hclass_t *hc, bool stale)
{
	const struct gw_conf *c = w->w_gwd->conf;
	su_home_t *home = msg_home(reply);
	char nonce[128];
	bool any = false;

	nonce_make(w, nonce, sizeof(nonce), time(NULL), NULL);
	char *realm = param_make(home, "realm", gw_conf_realm(c), true);
	char *nc = param_make(home, "nonce", nonce, true);
	for (size_t i = 0; realm && nc && i < c->digest_algorithms.n; i++) {
		msg_auth_t *au = (msg_auth_t *)msg_header_alloc(home, hc, 0);
		msg_param_t *params = su_zalloc(home, 6 * sizeof(*params));
		if (au == NULL || params == NULL)
			break;
		params[0] = realm;
		params[1] = nc;
		params[2] = param_make(home, "algorithm", c->digest_algorithms.v[i], false);
		params[3] = "qop=\"auth\"";
		params[4] = stale ? "stale=true" : NULL;
		au->au_scheme = "Digest";
		au->au_params = params;
		if (params[2] && msg_header_insert(reply, NULL, (msg_header_t *)au) == 0)
			any = true;
	}
	return any;
}

static void refuse(struct worker *w, msg_t *msg, const char *user, const char *reason, int status,
		   const char *phrase);

/* 401/407 with a header per scheme offered, in [auth] schemes order. */
static void
challenge(struct worker *w, msg_t *msg, bool www, bool stale)
{
	const struct gw_conf *c = w->w_gwd->conf;
	sip_t *sip = sip_object(msg);
	msg_hclass_t *hc = www ? sip_www_authenticate_class : sip_proxy_authenticate_class;
	msg_t *reply = nta_msg_create(w->w_agent, 0);
	bool sipae = sipae_offer(w, msg), digest = digest_allowed(c, sip), any = false;

	if (reply == NULL) {
		msg_destroy(msg);
		return;
	}
	for (size_t i = 0; i < c->auth_schemes.n; i++) {
		enum gw_scheme scheme = c->auth_schemes.v[i];
		if (scheme == GW_SCHEME_DIGEST)
			any |= digest && digest_challenge_add(w, reply, hc, stale);
		else if (sipae)
			any |= sipae_challenge_add(w, reply, scheme, www);
	}
	if (!any) {
		msg_destroy(reply);
		refuse(w, msg, "-", "no sign-in method available to this user", 403,
		       "No sign-in method available");
		return;
	}
	if (www)
		nta_msg_mreply(w->w_agent, reply, sip_object(reply), SIP_401_UNAUTHORIZED, msg,
			       TAG_END());
	else
		nta_msg_mreply(w->w_agent, reply, sip_object(reply), SIP_407_PROXY_AUTH_REQUIRED,
			       msg, TAG_END());
}

void
sip_auth_challenge(struct worker *w, msg_t *msg, bool www)
{
	challenge(w, msg, www, false);
}

void
sip_auth_failed(struct worker *w, msg_t *msg, const char *scheme, const char *user,
		const char *opaque, const char *reason)
{
	sip_t *sip = sip_object(msg);
	char addr[80], proto[16];

	atomic_fetch_add(&w->w_gwd->stats.auth_failures, 1);
	sip_msg_source(w, msg, addr, sizeof(addr), proto, sizeof(proto));
	log_notice("event=auth-failed scheme=%s user=%s method=%s call-id=%s%s%s reason=%s "
		   "source=%s transport=%s",
		   scheme, log_value(user && user[0] ? user : "-"),
		   log_value(sip->sip_request->rq_method_name), log_value(sip->sip_call_id->i_id),
		   opaque ? " opaque=" : "", opaque ? log_value(opaque) : "", log_value(reason),
		   addr, proto);
}

static void
refuse(struct worker *w, msg_t *msg, const char *user, const char *reason, int status,
       const char *phrase)
{
	sip_auth_failed(w, msg, "digest", user, NULL, reason);
	nta_msg_treply(w->w_agent, msg, status, phrase, TAG_END());
}

/* The credentials header for our realm, parsed into *ar (in home), or NULL. */
static msg_auth_t *
find_credentials(su_home_t *home, sip_t *sip, bool is_register, const char *realm,
		 auth_response_t *ar)
{
	msg_auth_t *au = is_register ? sip->sip_authorization : sip->sip_proxy_authorization;

	for (; au; au = au->au_next) {
		if (au->au_scheme == NULL || strcasecmp(au->au_scheme, "Digest") != 0)
			continue;
		*ar = (auth_response_t){.ar_size = sizeof(*ar)};
		if (auth_digest_response_get(home, ar, au->au_params) > 0 && ar->ar_realm &&
		    strcmp(ar->ar_realm, realm) == 0)
			return au;
	}
	return NULL;
}

/* The account the credentials claim: username@<domain of From> (copied by
 * hand: this and the caller's copy of the result were two snprintf calls of
 * every registration). */
static int
claimed_aor(char *out, size_t len, const char *username, const url_t *from)
{
	size_t ul = strlen(username), hl = 0;
	bool at = strchr(username, '@') != NULL;

	if (!at) {
		if (from->url_host == NULL)
			return -1;
		hl = strlen(from->url_host) + 1;
	}
	if (ul + hl >= len)
		return -1;
	memcpy(out, username, ul);
	if (!at) {
		out[ul] = '@';
		memcpy(out + ul + 1, from->url_host, hl - 1);
	}
	out[ul + hl] = '\0';
	return 0;
}

static bool
response_valid(const struct gwstore_account *acct, const auth_response_t *ar, const char *method)
{
	int alg = gw_digest_alg_parse(ar->ar_algorithm);
	char expect[65];

	if (alg < 0)
		return false;
	if (strcmp(acct->realm, ar->ar_realm) != 0)
		return false;
	const char *ha1 = alg == GW_DIGEST_SHA256 ? acct->ha1_sha256 : acct->ha1_md5;
	const char *qop = ar->ar_qop;
	if (qop && strcasecmp(qop, "auth") != 0)
		return false;
	if (qop && (!ar->ar_nc || !ar->ar_cnonce))
		return false;
	if (gw_digest_response(alg, expect, ha1, ar->ar_nonce, ar->ar_nc, ar->ar_cnonce, qop,
			       method, ar->ar_uri) < 0)
		return false;
	return gw_digest_equal(expect, ar->ar_response);
}

/* The Digest uri parameter names the request it was computed for, or this
 * server itself (SIPp and some phones put their registrar's address there); the
 * nonce count, bound to the Request-URI and body, keeps either from serving twice. */
static bool
uri_is_request_uri(struct worker *w, su_home_t *home, const char *uri, const sip_t *sip)
{
	url_t *u = url_make(home, uri);

	return u != NULL && (url_cmp_all(u, sip->sip_request->rq_url) == 0 ||
			     (!(u->url_user && u->url_user[0]) && sip_url_is_us(w, u)));
}

static void
throttled(struct worker *w, msg_t *msg, const char *user, const char *src, int retry)
{
	char ra[16], held[72];

	atomic_fetch_add(&w->w_gwd->stats.auth_failures, 1);
	guard_held_source(src, time(NULL), held, sizeof(held));
	log_notice("event=auth-throttled scheme=digest user=%s source=%s retry-after=%d "
		   "reason=\"too many failed sign-ins\" held=%s%s",
		   log_value(user), src, retry, held[0] ? "source:" : "account", held);
	snprintf(ra, sizeof(ra), "%d", retry);
	nta_msg_treply(w->w_agent, msg, 403, "Too many failed sign-ins", SIPTAG_RETRY_AFTER_STR(ra),
		       TAG_END());
}

static const char *
contact_of(su_home_t *home, const sip_t *sip)
{
	const char *c = sip->sip_contact ? url_as_string(home, sip->sip_contact->m_url) : NULL;

	return c ? c : "";
}

static unsigned long
body_hash(const sip_t *sip)
{
	unsigned long h = 5381;

	if (sip->sip_payload)
		for (usize_t i = 0; i < sip->sip_payload->pl_len; i++)
			h = h * 33 + (unsigned char)sip->sip_payload->pl_data[i];
	return h & 0xffffffffUL;
}

static void
replay(struct worker *w, msg_t *msg, const char *user, const char *why)
{
	char addr[80], proto[16];

	atomic_fetch_add(&w->w_gwd->stats.auth_failures, 1);
	sip_msg_source(w, msg, addr, sizeof(addr), proto, sizeof(proto));
	log_notice("event=auth-replay scheme=digest user=%s reason=\"%s\" source=%s "
		   "transport=%s",
		   log_value(user), why, addr, proto);
}

static bool
offered(const struct gw_conf *c, const char *alg)
{
	for (size_t i = 0; i < c->digest_algorithms.n; i++)
		if (strcasecmp(c->digest_algorithms.v[i], alg ? alg : "MD5") == 0)
			return true;
	return false;
}

enum gw_verdict
sip_auth_check(struct worker *w, msg_t *msg, sip_t *sip, bool is_register, char *user,
	       size_t userlen)
{
	const struct gw_conf *c = w->w_gwd->conf;
	const char *realm = gw_conf_realm(c);
	su_home_t home[1] = {SU_HOME_INIT(home)};
	auth_response_t ar = {.ar_size = sizeof(ar)};
	struct gwstore_account acct;
	char aor[256], from[256], to[256];
	enum gw_verdict res = GW_TAKEN;
	msg_auth_t *au;

	if (w->w_auth_user) {
		/* signed by a domain sign-in: identity checked with the signature */
		snprintf(user, userlen, "%s", w->w_auth_user);
		return GW_PASS;
	}
	au = find_credentials(home, sip, is_register, realm, &ar);
	if (au == NULL || !digest_allowed(c, sip)) {
		challenge(w, msg, is_register, false);
		goto done;
	}
	if (!ar.ar_username || !ar.ar_nonce || !ar.ar_response || !ar.ar_uri) {
		nta_msg_treply(w->w_agent, msg, 400, "Incomplete credentials", TAG_END());
		goto done;
	}
	if (!offered(c, ar.ar_algorithm)) {
		challenge(w, msg, is_register, false);
		goto done;
	}
	uint64_t nonce_id = 0;
	int fresh = nonce_check(w, ar.ar_nonce, time(NULL), &nonce_id);
	if (fresh <= 0) {
		challenge(w, msg, is_register, fresh == 0);
		goto done;
	}
	char src[80], proto[16];
	int retry = 0;
	sip_msg_source(w, msg, src, sizeof(src), proto, sizeof(proto));
	sip_source_host(src);
	if (!guard_allows(ar.ar_username, src, time(NULL), &retry)) {
		throttled(w, msg, ar.ar_username, src, retry);
		goto done;
	}
	if (claimed_aor(aor, sizeof(aor), ar.ar_username, sip->sip_from->a_url) < 0 ||
	    accounts_get(w, aor, &acct) < 0 ||
	    (!response_valid(&acct, &ar, sip->sip_request->rq_method_name) &&
	     /* the password may have changed a moment ago */
	     (accounts_get_fresh(w, aor, &acct) < 0 ||
	      !response_valid(&acct, &ar, sip->sip_request->rq_method_name)))) {
		guard_failed(ar.ar_username, src, time(NULL));
		refuse(w, msg, ar.ar_username, "wrong user name or password", 403,
		       "Authentication failed");
		goto done;
	}
	memset(&acct, 0, sizeof(acct));
	if (sip_url_aor(from, sizeof(from), sip->sip_from->a_url) < 0 ||
	    strcasecmp(from, aor) != 0 ||
	    (is_register &&
	     (sip_url_aor(to, sizeof(to), sip->sip_to->a_url) < 0 || strcasecmp(to, aor) != 0))) {
		refuse(w, msg, aor, "From/To is not the authenticated user", 403,
		       "Identity does not match credentials");
		goto done;
	}
	if (!uri_is_request_uri(w, home, ar.ar_uri, sip)) {
		/* credentials computed for another request, played again here */
		replay(w, msg, aor, "uri is not the Request-URI");
		challenge(w, msg, is_register, false);
		goto done;
	}
	/* what makes a second use the same request: a retransmission repeats all of it */
	char ident[1000];
	time_t now = time(NULL);
	snprintf(ident, sizeof(ident), "%.256s|%" PRIu32 "|%.200s|%s|%s|%08lx",
		 sip->sip_call_id->i_id, sip->sip_cseq->cs_seq,
		 sip->sip_via->v_branch ? sip->sip_via->v_branch : "",
		 url_as_string(home, sip->sip_request->rq_url) ?: "", contact_of(home, sip),
		 body_hash(sip));
	int used = nonce_use(nonce_id, ar.ar_qop ? ar.ar_nc : NULL, ident);
	if (used == -EINVAL) {
		nta_msg_treply(w->w_agent, msg, 400, "Bad nonce count", TAG_END());
		goto done;
	}
	if (used < 0) {
		if (used == -EALREADY)
			replay(w, msg, aor, "nonce count used before");
		challenge(w, msg, is_register, used == -ENOSPC);
		goto done;
	}
	guard_succeeded(ar.ar_username, src, now);
	if (userlen > 0) {
		size_t al = strnlen(aor, userlen - 1);
		memcpy(user, aor, al);
		user[al] = '\0';
	}
	res = GW_PASS;
done:
	su_home_deinit(home);
	return res;
}

void
sip_auth_consume(struct worker *w, msg_t *msg, sip_t *sip)
{
	const char *realm = gw_conf_realm(w->w_gwd->conf);
	msg_auth_t *au = sip->sip_proxy_authorization;

	/* our own credentials are not passed on to the callee */
	sipae_consume(msg, sip);
	au = sip->sip_proxy_authorization;
	while (au) {
		msg_auth_t *next = au->au_next;
		su_home_t home[1] = {SU_HOME_INIT(home)};
		auth_response_t ar = {.ar_size = sizeof(ar)};
		if (au->au_scheme && strcasecmp(au->au_scheme, "Digest") == 0 &&
		    auth_digest_response_get(home, &ar, au->au_params) > 0 && ar.ar_realm &&
		    strcmp(ar.ar_realm, realm) == 0)
			msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)au);
		su_home_deinit(home);
		au = next;
	}
}
