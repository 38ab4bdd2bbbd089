/*
 * sipae_sig.c - the string an MS-SIPAE signature covers, and the Kerberos/NTLM
 * credentials of a request.
 *
 * The string is built from header values exactly as they are (or will be) on
 * the wire: a received header's original text, or for a header we made, the
 * text Sofia will print for it.  Layout ([MS-SIPAE] 3.2.5, version 3):
 *   <protocol><rand><num><realm><targetname><Call-ID><CSeq number><CSeq method>
 *   <From URI><From tag><To URI><To tag><PAI sip URI><PAI tel URI><Expires>
 * and for a response also <status code>.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>

#include "sipae.h"

struct sbuf {
	char *p;
	size_t len, cap;
	bool err;
};

static void
sb_field(struct sbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 3 > b->cap) {
		size_t cap = (b->cap + n + 3) * 2;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->err = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	b->p[b->len++] = '<';
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len++] = '>';
	b->p[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_field(b, s ? s : "", s ? strlen(s) : 0);
}

/* The value text of header h as on the wire, without name, colon and CRLF. */
static bool
hvalue(const msg_header_t *h, char *tmp, size_t tmpsz, const char **v, size_t *vlen)
{
	const char *s;
	size_t n;

	if (h == NULL)
		return false;
	if (h->sh_data && h->sh_len) {
		s = h->sh_data;
		n = h->sh_len;
	} else {
		issize_t r = msg_header_e(tmp, tmpsz, h, 0);
		if (r <= 0 || (size_t)r >= tmpsz)
			return false;
		s = tmp;
		n = (size_t)r;
	}
	/* the text may start with the header name (full or compact) and a colon */
	const char *names[] = {h->sh_class->hc_name, h->sh_class->hc_short};
	for (size_t i = 0; i < 2; i++) {
		size_t nl = names[i] ? strlen(names[i]) : 0;
		if (nl == 0 || n <= nl || strncasecmp(s, names[i], nl) != 0)
			continue;
		size_t k = nl;
		while (k < n && (s[k] == ' ' || s[k] == '\t'))
			k++;
		if (k < n && s[k] == ':') {
			s += k + 1;
			n -= k + 1;
			break;
		}
	}
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*v = s;
	*vlen = n;
	return true;
}

/* The '<' that opens the URI of a name-addr: not one inside a quoted display name. */
static const char *
addr_open(const char *v, size_t n)
{
	bool quoted = false;

	for (size_t i = 0; i < n; i++) {
		if (quoted && v[i] == '\\' && i + 1 < n)
			i++;
		else if (v[i] == '"')
			quoted = !quoted;
		else if (!quoted && v[i] == '<')
			return v + i;
	}
	return NULL;
}

/*
 * Split a From/To value into its URI and tag, as the SIP parser sees them: a
 * display name cannot smuggle in the URI and tag that the signature covers.
 */
static void
addr_parts(const char *v, size_t n, const char **uri, size_t *urilen, const char **tag,
	   size_t *taglen)
{
	const char *lt = addr_open(v, n), *rest;

	if (lt) {
		const char *gt = memchr(lt, '>', n - (size_t)(lt - v));
		*uri = lt + 1;
		*urilen = gt ? (size_t)(gt - lt - 1) : n - (size_t)(lt + 1 - v);
		rest = gt ? gt : v + n;
	} else {
		const char *semi = memchr(v, ';', n);
		*uri = v;
		*urilen = semi ? (size_t)(semi - v) : n;
		while (*urilen && (v[*urilen - 1] == ' ' || v[*urilen - 1] == '\t'))
			(*urilen)--;
		rest = semi ? semi : v + n;
	}
	*tag = "";
	*taglen = 0;
	for (const char *p = rest; p + 5 <= v + n; p++) {
		if (*p == ';') {
			const char *q = p + 1;
			while (q < v + n && (*q == ' ' || *q == '\t'))
				q++;
			if (q + 4 <= v + n && strncasecmp(q, "tag=", 4) == 0) {
				const char *t = q + 4, *e = t;
				while (e < v + n && *e != ';' && *e != ' ' && *e != '\t')
					e++;
				*tag = t;
				*taglen = (size_t)(e - t);
				return;
			}
		}
	}
}

static void
sb_addr(struct sbuf *b, const msg_header_t *h, char *tmp, size_t tmpsz)
{
	const char *v, *uri = "", *tag = "";
	size_t n, ul = 0, tl = 0;

	if (hvalue(h, tmp, tmpsz, &v, &n))
		addr_parts(v, n, &uri, &ul, &tag, &tl);
	sb_field(b, uri, ul);
	sb_field(b, tag, tl);
}

static const char *const id_names[] = {"P-Asserted-Identity", "P-Preferred-Identity"};

/* Keep the first sip:/sips: and tel: URIs of an identity header's value. */
static void
id_uris(const char *v, size_t n, const char **sipu, size_t *sl, const char **telu, size_t *tl)
{
	bool quoted = false;
	int angle = 0;

	for (size_t i = 0, start = 0; i <= n; i++) {
		if (i < n) {
			if (v[i] == '"')
				quoted = !quoted;
			else if (!quoted && v[i] == '<')
				angle++;
			else if (!quoted && v[i] == '>' && angle)
				angle--;
			if (quoted || angle || v[i] != ',')
				continue;
		}
		const char *p = v + start, *uri, *tag;
		size_t pn = i - start, ul, tagl;
		while (pn && (*p == ' ' || *p == '\t'))
			p++, pn--;
		addr_parts(p, pn, &uri, &ul, &tag, &tagl);
		if (!*sl && ul > 4 &&
		    (strncasecmp(uri, "sip:", 4) == 0 || strncasecmp(uri, "sips:", 5) == 0))
			*sipu = uri, *sl = ul;
		else if (!*tl && ul > 4 && strncasecmp(uri, "tel:", 4) == 0)
			*telu = uri, *tl = ul;
		start = i + 1;
	}
}

/*
 * The first sip:/sips: and tel: URIs of the P-Asserted-Identity headers, else
 * of the P-Preferred-Identity ones.  Our parser knows neither header: they are
 * among the unknown ones.
 */
static void
sb_identity(struct sbuf *b, const sip_t *sip)
{
	const char *sipu = "", *telu = "";
	size_t sl = 0, tl = 0;
	bool found = false;

	for (size_t k = 0; k < 2 && !found; k++)
		for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
			if (u->un_name && u->un_value && strcasecmp(u->un_name, id_names[k]) == 0) {
				found = true;
				id_uris(u->un_value, strlen(u->un_value), &sipu, &sl, &telu, &tl);
			}
	sb_field(b, sipu, sl);
	sb_field(b, telu, tl);
}

void
sipae_identity_strip(msg_t *msg, sip_t *sip)
{
	for (sip_unknown_t *u = sip->sip_unknown, *next; u; u = next) {
		next = u->un_next;
		if (u->un_name && (strcasecmp(u->un_name, id_names[0]) == 0 ||
				   strcasecmp(u->un_name, id_names[1]) == 0))
			msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)u);
	}
}

char *
sipae_sig_string(msg_t *msg, const sip_t *sip, const char *protocol, const char *rand,
		 const char *num, const char *realm, const char *targetname, size_t *len)
{
	struct sbuf b = {0};
	char tmp[2048];
	const char *v;
	size_t n;
	char method[64] = "";

	(void)msg;
	sb_str(&b, protocol);
	sb_str(&b, rand);
	sb_str(&b, num);
	sb_str(&b, realm);
	sb_str(&b, targetname);
	if (hvalue((const msg_header_t *)sip->sip_call_id, tmp, sizeof(tmp), &v, &n))
		sb_field(&b, v, n);
	else
		sb_str(&b, "");
	/* CSeq: "<number> <method>" as written */
	if (hvalue((const msg_header_t *)sip->sip_cseq, tmp, sizeof(tmp), &v, &n)) {
		size_t k = 0;
		while (k < n && v[k] != ' ' && v[k] != '\t')
			k++;
		sb_field(&b, v, k);
		while (k < n && (v[k] == ' ' || v[k] == '\t'))
			k++;
		snprintf(method, sizeof(method), "%.*s", (int)(n - k), v + k);
	} else {
		sb_str(&b, "");
	}
	sb_str(&b, method);
	sb_addr(&b, (const msg_header_t *)sip->sip_from, tmp, sizeof(tmp));
	sb_addr(&b, (const msg_header_t *)sip->sip_to, tmp, sizeof(tmp));
	sb_identity(&b, sip);
	if (hvalue((const msg_header_t *)sip->sip_expires, tmp, sizeof(tmp), &v, &n))
		sb_field(&b, v, n);
	else
		sb_str(&b, "");
	if (sip->sip_status) {
		char code[8];
		snprintf(code, sizeof(code), "%03d", sip->sip_status->st_status);
		sb_str(&b, code);
	}
	if (b.err) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* The value of name=... in an auth header's parameters, unquoted into the msg's home. */
static const char *
param(su_home_t *home, msg_param_t const *params, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; params && params[i]; i++) {
		const char *p = params[i];
		if (strncasecmp(p, name, nl) != 0 || p[nl] != '=')
			continue;
		const char *v = p + nl + 1;
		if (*v == '"')
			return msg_unquote_dup(home, v);
		return v;
	}
	return NULL;
}

static bool
cred_from(su_home_t *home, const msg_auth_t *au, bool proxy, struct sipae_cred *cr)
{
	for (; au; au = au->au_next) {
		if (au->au_scheme == NULL)
			continue;
		if (strcasecmp(au->au_scheme, "NTLM") == 0)
			cr->scheme = SIPAE_NTLM;
		else if (strcasecmp(au->au_scheme, "Kerberos") == 0)
			cr->scheme = SIPAE_KERBEROS;
		else
			continue;
		cr->proxy = proxy;
		cr->opaque = param(home, au->au_params, "opaque");
		cr->realm = param(home, au->au_params, "realm");
		cr->targetname = param(home, au->au_params, "targetname");
		cr->gssapi_data = param(home, au->au_params, "gssapi-data");
		cr->version = param(home, au->au_params, "version");
		cr->crand = param(home, au->au_params, "crand");
		cr->cnum = param(home, au->au_params, "cnum");
		cr->response = param(home, au->au_params, "response");
		cr->qop = param(home, au->au_params, "qop");
		return true;
	}
	return false;
}

bool
sipae_cred_get(msg_t *msg, const sip_t *sip, struct sipae_cred *cr)
{
	su_home_t *home = msg_home(msg);

	memset(cr, 0, sizeof(*cr));
	return cred_from(home, sip->sip_authorization, false, cr) ||
	       cred_from(home, sip->sip_proxy_authorization, true, cr);
}
