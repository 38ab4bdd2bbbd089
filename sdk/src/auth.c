/* The authentication hook: Digest challenges and the checks of credentials.
 *
 * In the SIP thread the library checks what it can alone (realm, uri equal
 * to the Request-URI, qop=auth, the nonce is ours and fresh, nonce-count
 * strictly increasing). The response is then checked against the HA1 that
 * the application's callback gives, in the thread that runs the routing
 * callback, just before it. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/su_tag.h>

#include "gwp_internal.h"

static unsigned
method_bit(sip_method_t m)
{
	switch (m) {
	case sip_method_register:
		return GWP_AUTH_REGISTER;
	case sip_method_invite:
		return GWP_AUTH_INVITE;
	case sip_method_message:
		return GWP_AUTH_MESSAGE;
	default:
		return 0;
	}
}

void
gwp_credentials_free(struct gwp_credentials *c)
{
	if (!c)
		return;
	free(c->username);
	free(c->realm);
	free(c->method);
	free(c->uri);
	free(c->nonce);
	free(c->nc);
	free(c->cnonce);
	free(c->qop);
	free(c->response);
	free(c);
}

/* The value of a Digest parameter, unquoted, malloc'd; NULL when absent. */
static char *
param_get(msg_param_t const *params, const char *name)
{
	const char *v = params ? msg_params_find(params, name) : NULL;
	char *out, *o;
	size_t len;

	if (!v)
		return NULL;
	len = strlen(v);
	if (len < 2 || v[0] != '"' || v[len - 1] != '"')
		return strdup(v);
	out = malloc(len);
	if (!out)
		return NULL;
	for (o = out, v++, len -= 2; len > 0; v++, len--) {
		if (*v == '\\' && len > 1) {
			v++;
			len--;
		}
		*o++ = *v;
	}
	*o = '\0';
	return out;
}

static int
is_hex(const char *s, size_t len)
{
	size_t i;

	if (!s || strlen(s) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static void
lower(char *s)
{
	for (; s && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

void
gwp_auth_challenge(struct gwp_proxy *p, nta_incoming_t *irq, sip_t const *sip, int stale)
{
	char nonce[GWP_NONCE_LEN + 1], hdr[512];
	int reg = sip->sip_request->rq_method == sip_method_register;

	gwp_nonce_make(&p->nonces, time(NULL), nonce);
	snprintf(hdr, sizeof(hdr),
		 "Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, qop=\"auth\"%s",
		 p->cfg.auth_realm, nonce, stale ? ", stale=true" : "");
	if (reg)
		nta_incoming_treply(irq, 401, "Unauthorized", SIPTAG_WWW_AUTHENTICATE_STR(hdr),
				    TAG_END());
	else
		nta_incoming_treply(irq, 407, "Proxy Authentication Required",
				    SIPTAG_PROXY_AUTHENTICATE_STR(hdr), TAG_END());
}

/* Our realm's Digest credentials among the Authorization (REGISTER) or
 * Proxy-Authorization (others) headers. */
static const msg_auth_t *
credentials_find(const struct gwp_proxy *p, sip_t const *sip)
{
	const msg_auth_t *au = sip->sip_request->rq_method == sip_method_register
				   ? sip->sip_authorization
				   : sip->sip_proxy_authorization;
	char *realm;
	int ours;

	for (; au; au = au->au_next) {
		if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") != 0)
			continue;
		realm = param_get(au->au_params, "realm");
		ours = realm && strcmp(realm, p->cfg.auth_realm) == 0;
		free(realm);
		if (ours)
			return au;
	}
	return NULL;
}

static struct gwp_credentials *
credentials_parse(const msg_auth_t *au, sip_t const *sip)
{
	struct gwp_credentials *c = calloc(1, sizeof(*c));
	char *alg;

	if (!c)
		return NULL;
	c->username = param_get(au->au_params, "username");
	c->realm = param_get(au->au_params, "realm");
	c->uri = param_get(au->au_params, "uri");
	c->nonce = param_get(au->au_params, "nonce");
	c->nc = param_get(au->au_params, "nc");
	c->cnonce = param_get(au->au_params, "cnonce");
	c->qop = param_get(au->au_params, "qop");
	c->response = param_get(au->au_params, "response");
	c->method = gwp_strdup(sip->sip_request->rq_method_name);
	alg = param_get(au->au_params, "algorithm");
	lower(c->response);
	/* MD5 with qop=auth only: nc and cnonce are what make replay visible. */
	if (!c->username || !*c->username || !c->realm || !c->uri || !c->nonce || !c->cnonce ||
	    !*c->cnonce || !c->qop || strcmp(c->qop, "auth") != 0 || !is_hex(c->nc, 8) ||
	    !is_hex(c->response, 32) || !c->method || (alg && strcasecmp(alg, "MD5") != 0)) {
		gwp_credentials_free(c);
		c = NULL;
	}
	free(alg);
	return c;
}

/* Check the credentials of a new request as far as the SIP thread can.
 * Returns 0 to go on (*out holds credentials to verify, or NULL when the
 * request has none and needs none), or the status already answered. */
int
gwp_auth_intake(struct gwp_proxy *p, nta_incoming_t *irq, sip_t const *sip,
		struct gwp_credentials **out)
{
	sip_method_t m = sip->sip_request->rq_method;
	int required = (p->cfg.auth_methods & method_bit(m)) != 0;
	int reg = m == sip_method_register;
	const msg_auth_t *au;
	struct gwp_credentials *c;
	enum gwp_nonce_result nr;

	*out = NULL;
	if (!p->cfg.auth_realm)
		return 0;
	au = credentials_find(p, sip);
	if (!au) {
		if (!required)
			return 0;
		gwp_auth_challenge(p, irq, sip, 0);
		return reg ? 401 : 407;
	}
	c = credentials_parse(au, sip);
	if (!c) {
		nta_incoming_treply(irq, 400, "Bad Credentials", TAG_END());
		return 400;
	}
	if (!gwp_uri_equal(c->uri, sip->sip_request->rq_url)) {
		gwp_credentials_free(c);
		nta_incoming_treply(irq, 400, "Credentials For Another URI", TAG_END());
		return 400;
	}
	nr = gwp_nonce_check(&p->nonces, c->nonce, strtoul(c->nc, NULL, 16), time(NULL));
	if (nr != GWP_NONCE_OK) {
		gwp_credentials_free(c);
		gwp_auth_challenge(p, irq, sip, nr == GWP_NONCE_STALE);
		return reg ? 401 : 407;
	}
	*out = c;
	return 0;
}

/* In the routing callback's thread: the response against the HA1 the
 * application gives. Returns 0 (the request is authenticated, or carried no
 * credentials) or -1 after answering 403. */
int
gwp_auth_verify(struct gwp_proxy *p, struct gwp_request *req)
{
	struct gwp_credentials *c = req->cred;
	char ha1[64];
	int ok;

	if (!c)
		return 0;
	req->cred = NULL;
	memset(ha1, 0, sizeof(ha1));
	ok = p->cfg.auth_fn(p->cfg.auth_arg, c->username, c->realm, ha1, sizeof(ha1)) == 0;
	ha1[sizeof(ha1) - 1] = '\0';
	lower(ha1);
	ok = ok && gwp_digest_response_ok(c, ha1);
	memset(ha1, 0, sizeof(ha1));
	if (ok)
		req->auth_user = gwp_strdup(c->username);
	gwp_credentials_free(c);
	if (!ok || !req->auth_user) {
		gwp_request_respond(req, 403, "Wrong Credentials");
		return -1;
	}
	return 0;
}
