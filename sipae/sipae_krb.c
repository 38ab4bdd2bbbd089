/*
 * sipae_krb.c - the Kerberos acceptor of MS-SIPAE: credentials from the joined
 * server's keytab (never the process-wide KRB5_KTNAME), one-token contexts
 * (the client asks for integrity only, no mutual authentication), MICs, and
 * the group SIDs of the ticket's PAC; the replay cache of our own (sipae_rcache.c) in
 * place of MIT's when the caller gives it a journal.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <profile.h>

#include "sipae_private.h"

struct sipae_krb {
	krb5_context kctx;
	krb5_keytab kt;
	gss_cred_id_t cred;
	char service[300];       /* "sip/<fqdn>": the only server principal accepted; "" any */
	char realm[256];         /* its realm; "" any */
	struct sipae_rcache *rc; /* NULL: MIT's replay cache */
};

struct sipae_krb_ctx {
	gss_ctx_id_t ctx;
	gss_name_t client;
};

/* "major text; minor text" of a GSS failure into err. */
static void
sipae_gss_err(char *err, size_t errlen, const char *what, OM_uint32 major, OM_uint32 minor)
{
	OM_uint32 maj, min, mctx = 0;
	gss_buffer_desc b1 = GSS_C_EMPTY_BUFFER, b2 = GSS_C_EMPTY_BUFFER;

	if (err == NULL || errlen == 0)
		return;
	maj = gss_display_status(&min, major, GSS_C_GSS_CODE, GSS_C_NO_OID, &mctx, &b1);
	if (GSS_ERROR(maj))
		b1.length = 0;
	mctx = 0;
	maj = gss_display_status(&min, minor, GSS_C_MECH_CODE, (gss_OID)gss_mech_krb5, &mctx, &b2);
	if (GSS_ERROR(maj))
		b2.length = 0;
	snprintf(err, errlen, "%s: %.*s; %.*s", what, (int)b1.length, (const char *)b1.value,
		 (int)b2.length, (const char *)b2.value);
	gss_release_buffer(&min, &b1);
	gss_release_buffer(&min, &b2);
}

int
sipae_krb_open(struct sipae_krb **out, const char *keytab, char *err, size_t errlen)
{
	return sipae_krb_open_for(out, keytab, NULL, err, errlen);
}

int
sipae_krb_open_for(struct sipae_krb **out, const char *keytab, const char *principal, char *err,
		   size_t errlen)
{
	struct sipae_krb *k = calloc(1, sizeof(*k));
	OM_uint32 major, minor = 0;
	krb5_error_code kret;
	krb5_principal princ = NULL;
	int ret = -ENOMEM;

	*out = NULL;
	if (k == NULL)
		goto done;
	ret = -EINVAL;
	kret = krb5_init_context(&k->kctx);
	if (kret != 0) {
		snprintf(err, errlen, "krb5_init_context: error %d", (int)kret);
		goto done;
	}
	kret = krb5_kt_resolve(k->kctx, keytab, &k->kt);
	if (kret != 0) {
		const char *msg = krb5_get_error_message(k->kctx, kret);

		snprintf(err, errlen, "keytab %s: %s", keytab, msg);
		krb5_free_error_message(k->kctx, msg);
		goto done;
	}
	if (principal && (kret = krb5_parse_name(k->kctx, principal, &princ)) != 0) {
		snprintf(err, errlen, "principal %s: cannot parse it", principal);
		goto done;
	}
	major = gss_krb5_import_cred(&minor, NULL, princ, k->kt, &k->cred);
	krb5_free_principal(k->kctx, princ); /* NULL: nothing */
	if (GSS_ERROR(major)) {
		sipae_gss_err(err, errlen, keytab, major, minor);
		ret = -ENOKEY;
		goto done;
	}
	*out = k;
	k = NULL;
	ret = 0;
done:
	sipae_krb_close(k);
	return ret;
}

int
sipae_krb_expect(struct sipae_krb *k, const char *service, const char *realm)
{
	if (k == NULL || service == NULL || strlen(service) >= sizeof(k->service) ||
	    (realm != NULL && strlen(realm) >= sizeof(k->realm)))
		return -EINVAL;
	snprintf(k->service, sizeof(k->service), "%s", service);
	snprintf(k->realm, sizeof(k->realm), "%s", realm != NULL ? realm : "");
	return 0;
}

/* One DER element at *p (before end): its tag and content; *p moves past it. */
static int
sipae_der(const uint8_t **p, const uint8_t *end, uint8_t *tag, const uint8_t **content, size_t *len)
{
	const uint8_t *q = *p;
	size_t n;

	if (end - q < 2)
		return -EINVAL;
	*tag = *q++;
	n = *q++;
	if (n & 0x80) {
		size_t k = n & 0x7f;
		if (k == 0 || k > 4 || (size_t)(end - q) < k)
			return -EINVAL;
		for (n = 0; k > 0; k--)
			n = n << 8 | *q++;
	}
	if ((size_t)(end - q) < n)
		return -EINVAL;
	*content = q;
	*len = n;
	*p = q + n;
	return 0;
}

/* The ciphertext of the authenticator's EncryptedData (RFC 4120 5.2.9: SEQUENCE { etype [0],
 * kvno [1] OPTIONAL, cipher [2] OCTET STRING }): what the replay cache keeps a tag of (the
 * other fields are not protected, the ciphertext is). */
static int
sipae_enc_cipher(const uint8_t *p, size_t len, const uint8_t **cipher, size_t *clen)
{
	const uint8_t *end = p + len, *c;
	uint8_t tag;
	size_t n;

	if (sipae_der(&p, end, &tag, &c, &n) < 0 || tag != 0x30)
		return -EINVAL;
	p = c;
	end = c + n;
	while (p < end) {
		if (sipae_der(&p, end, &tag, &c, &n) < 0)
			return -EINVAL;
		if (tag == 0xa2) {
			const uint8_t *q = c;
			if (sipae_der(&q, c + n, &tag, &c, &n) < 0 || tag != 0x04 || n == 0)
				return -EINVAL;
			*cipher = c;
			*clen = n;
			return 0;
		}
	}
	return -EINVAL;
}

/* The Ticket and the authenticator's ciphertext inside a krb5 GSS initial context token
 * (RFC 1964 / 4121: [APPLICATION 0] { krb5 OID, TOK_ID 01 00, AP-REQ }, AP-REQ ::=
 * [APPLICATION 14] SEQUENCE { ..., ticket [3] Ticket, authenticator [4] EncryptedData }):
 * the whole Ticket element, as krb5_decode_ticket reads it. */
static int
sipae_apreq_parts(const uint8_t *tok, size_t len, krb5_data *ticket, const uint8_t **auth,
		  size_t *authlen)
{
	static const uint8_t krb5_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
	const uint8_t *p = tok, *end = tok + len, *c, *q, *qend;
	uint8_t tag;
	size_t n;

	if (sipae_der(&p, end, &tag, &c, &n) < 0 || tag != 0x60)
		return -EINVAL;
	p = c;
	end = c + n;
	if (sipae_der(&p, end, &tag, &c, &n) < 0 || tag != 0x06 || n != sizeof(krb5_oid) ||
	    memcmp(c, krb5_oid, n) != 0 || end - p < 2 || p[0] != 0x01 || p[1] != 0x00)
		return -EINVAL;
	p += 2;
	if (sipae_der(&p, end, &tag, &c, &n) < 0 || tag != 0x6e)
		return -EINVAL;
	q = c;
	qend = c + n;
	if (sipae_der(&q, qend, &tag, &c, &n) < 0 || tag != 0x30)
		return -EINVAL;
	q = c;
	qend = c + n;
	bool have_ticket = false;
	while (q < qend) {
		if (sipae_der(&q, qend, &tag, &c, &n) < 0)
			return -EINVAL;
		if (tag == 0xa3) {
			ticket->magic = KV5M_DATA;
			ticket->data = (char *)c;
			ticket->length = (unsigned int)n;
			have_ticket = true;
		} else if (tag == 0xa4) {
			return have_ticket ? sipae_enc_cipher(c, n, auth, authlen) : -EINVAL;
		}
	}
	return -EINVAL;
}

/*
 * The server principal the ticket was issued for must be the one expected.  MIT's
 * acceptor on a whole keytab takes a ticket for any principal whose key it holds, and
 * the joined machine's sip/, HTTP/, host/ ... all share the machine key (nor does the
 * context's acceptor name help: it names the keytab entry whose key fit, often the
 * machine account).  So the ticket's sname is read from the AP-REQ itself.
 */
static int
sipae_ticket_server(struct sipae_krb *k, const krb5_data *der, char *err, size_t errlen)
{
	krb5_ticket *t = NULL;
	char *server = NULL;
	int ret = -EACCES;

	if (k->service[0] == '\0')
		return 0;
	if (krb5_decode_ticket(der, &t) != 0 || t->server == NULL ||
	    krb5_unparse_name(k->kctx, t->server, &server) != 0) {
		snprintf(err, errlen, "not a Kerberos AP-REQ with a ticket");
		ret = -EINVAL;
		goto done;
	}
	char *at = strrchr(server, '@');
	size_t svclen = at ? (size_t)(at - server) : strlen(server);
	/* AD compares service principal names without regard to case */
	if (svclen != strlen(k->service) || strncasecmp(server, k->service, svclen) != 0 ||
	    (k->realm[0] && (at == NULL || strcasecmp(at + 1, k->realm) != 0))) {
		snprintf(err, errlen, "ticket for %.300s, not %s%s%s", server, k->service,
			 k->realm[0] ? "@" : "", k->realm);
		goto done;
	}
	ret = 0;
done:
	if (server)
		krb5_free_unparsed_name(k->kctx, server);
	if (t)
		krb5_free_ticket(k->kctx, t);
	return ret;
}

/* A profile that says only [libdefaults] default_rcache_name = none: (the context it
 * makes gives the "none" replay cache MIT's acceptor then skips). */
static long
rc_none_get(void *cbdata, const char *const *names, char ***ret)
{
	(void)cbdata;
	if (names[0] == NULL || strcmp(names[0], "libdefaults") != 0 || names[1] == NULL ||
	    strcmp(names[1], "default_rcache_name") != 0 || names[2] != NULL)
		return PROF_NO_RELATION;
	if ((*ret = calloc(2, sizeof(char *))) == NULL || ((*ret)[0] = strdup("none:")) == NULL) {
		free(*ret);
		return ENOMEM;
	}
	return 0;
}

static void
rc_none_free(void *cbdata, char **values)
{
	(void)cbdata;
	for (size_t i = 0; values && values[i]; i++)
		free(values[i]);
	free(values);
}

/* MIT's acceptor on k->cred stops using its replay cache file. */
static int
sipae_krb_rc_none(struct sipae_krb *k, char *err, size_t errlen)
{
	static struct profile_vtable vt = {
	    .minor_ver = 1, .get_values = rc_none_get, .free_values = rc_none_free};
	profile_t prof = NULL;
	krb5_context ctx = NULL;
	krb5_rcache rc = NULL;
	krb5_data piece = {KV5M_DATA, 3, (char *)"sip"};
	OM_uint32 major, minor = 0;
	int ret = -EIO;

	if (profile_init_vtable(&vt, NULL, &prof) != 0 ||
	    krb5_init_context_profile(prof, 0, &ctx) != 0 ||
	    krb5_get_server_rcache(ctx, &piece, &rc) != 0) {
		snprintf(err, errlen, "cannot make a \"none\" replay cache");
		goto done;
	}
	major = gss_krb5_set_cred_rcache(&minor, k->cred, rc);
	if (GSS_ERROR(major)) {
		sipae_gss_err(err, errlen, "gss_krb5_set_cred_rcache", major, minor);
		goto done; /* (the cred kept its own; rc was not taken) */
	}
	rc = NULL;
	ret = 0;
done:
	if (rc != NULL) {
		/* the public way to close a replay cache: an auth context closes its own */
		krb5_auth_context ac = NULL;
		if (krb5_auth_con_init(ctx, &ac) == 0 && krb5_auth_con_setrcache(ctx, ac, rc) == 0)
			rc = NULL;
		krb5_auth_con_free(ctx, ac);
	}
	if (ctx != NULL)
		krb5_free_context(ctx);
	if (prof != NULL)
		profile_release(prof);
	return ret;
}

int
sipae_krb_replay_journal(struct sipae_krb *k, const char *path, char *err, size_t errlen)
{
	profile_t prof = NULL;
	int skew = 300, ret;

	if (k == NULL || path == NULL || k->rc != NULL)
		return -EINVAL;
	/* the skew the acceptor allows, from the same configuration its context reads */
	if (krb5_get_profile(k->kctx, &prof) == 0) {
		if (profile_get_integer(prof, "libdefaults", "clockskew", NULL, 300, &skew) != 0 ||
		    skew <= 0)
			skew = 300;
		profile_release(prof);
	}
	ret = sipae_rcache_open(&k->rc, path, 2 * (int64_t)skew, (int64_t)time(NULL));
	if (ret < 0) {
		snprintf(err, errlen, "replay journal %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = sipae_krb_rc_none(k, err, errlen);
	if (ret < 0) {
		sipae_rcache_close(k->rc);
		k->rc = NULL;
	}
	return ret;
}

void
sipae_krb_close(struct sipae_krb *k)
{
	OM_uint32 minor;

	if (k == NULL)
		return;
	if (k->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &k->cred);
	sipae_rcache_close(k->rc);
	if (k->kt != NULL)
		krb5_kt_close(k->kctx, k->kt);
	if (k->kctx != NULL)
		krb5_free_context(k->kctx);
	free(k);
}

static int
sipae_accept_errno(OM_uint32 major, OM_uint32 minor)
{
	if (minor == (OM_uint32)KRB5KRB_AP_ERR_SKEW)
		return -ETIME;
	if (minor == (OM_uint32)KRB5KRB_AP_ERR_TKT_EXPIRED ||
	    GSS_ROUTINE_ERROR(major) == GSS_S_CREDENTIALS_EXPIRED ||
	    GSS_ROUTINE_ERROR(major) == GSS_S_CONTEXT_EXPIRED)
		return -EKEYEXPIRED;
	if (GSS_ROUTINE_ERROR(major) == GSS_S_DEFECTIVE_TOKEN ||
	    GSS_ROUTINE_ERROR(major) == GSS_S_BAD_MECH)
		return -EINVAL;
	return -EACCES;
}

/* Principal, end time and reply token of an established context. */
static int
sipae_accepted(struct sipae_krb_ctx *c, OM_uint32 time_rec, gss_buffer_t reply, char *principal,
	       size_t plen, time_t *expires, uint8_t **out, size_t *outlen)
{
	gss_buffer_desc name = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor;
	int ret = -EACCES;

	major = gss_display_name(&minor, c->client, &name, NULL);
	if (GSS_ERROR(major))
		goto done;
	ret = -ENAMETOOLONG;
	if (name.length >= plen)
		goto done;
	memcpy(principal, name.value, name.length);
	principal[name.length] = '\0';
	*expires = time(NULL) + (time_rec == GSS_C_INDEFINITE ? 36000 : (time_t)time_rec);
	ret = 0;
	if (reply->length > 0 && out != NULL) {
		ret = -ENOMEM;
		*out = malloc(reply->length);
		if (*out == NULL)
			goto done;
		memcpy(*out, reply->value, reply->length);
		*outlen = reply->length;
		ret = 0;
	}
done:
	gss_release_buffer(&minor, &name);
	return ret;
}

int
sipae_krb_accept(struct sipae_krb *k, const uint8_t *token, size_t len, const uint8_t *cb,
		 size_t cblen, struct sipae_krb_ctx **ctx, char *principal, size_t plen,
		 time_t *expires, uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	gss_buffer_desc in = {len, (void *)token}, reply = GSS_C_EMPTY_BUFFER;
	/* no addresses, address types 0: what TLS clients bind to (RFC 5929, [MS-NLMP]) */
	struct gss_channel_bindings_struct bindings = {
	    .initiator_addrtype = GSS_C_AF_UNSPEC,
	    .acceptor_addrtype = GSS_C_AF_UNSPEC,
	    .application_data = {cblen, (void *)cb},
	};
	struct sipae_krb_ctx *c = calloc(1, sizeof(*c));
	OM_uint32 major, minor = 0, time_rec = 0;
	int ret = -ENOMEM;

	*ctx = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out != NULL) {
		*out = NULL;
		*outlen = 0;
	}
	if (c == NULL)
		goto done;
	ret = -EINVAL;
	if (len < 16 || token[0] != 0x60) { /* RFC 2743 3.1: [APPLICATION 0] framing */
		snprintf(err, errlen, "not a GSS-API initial context token");
		goto done;
	}
	krb5_data ticket;
	const uint8_t *auth = NULL;
	size_t authlen = 0;
	uint8_t tag[SIPAE_RCACHE_TAG];
	if (sipae_apreq_parts(token, len, &ticket, &auth, &authlen) < 0) {
		snprintf(err, errlen, "not a Kerberos AP-REQ with a ticket");
		goto done;
	}
	/* the ticket must be for the expected service (before the replay cache sees it) */
	ret = sipae_ticket_server(k, &ticket, err, errlen);
	if (ret < 0)
		goto done;
	if (k->rc != NULL && sipae_rcache_tag(auth, authlen, tag) < 0) {
		ret = -EIO;
		goto done;
	}
	c->ctx = GSS_C_NO_CONTEXT;
	/* MIT's acceptor compares the authenticator's bindings hash with these, and takes an
	 * all-zero hash (a client without bindings) whatever the acceptor passes */
	major = gss_accept_sec_context(&minor, &c->ctx, k->cred, &in,
				       cb ? &bindings : GSS_C_NO_CHANNEL_BINDINGS, &c->client, NULL,
				       &reply, NULL, &time_rec, NULL);
	if (GSS_ROUTINE_ERROR(major) == GSS_S_BAD_BINDINGS) {
		snprintf(err, errlen, "Kerberos channel bindings are not this connection's");
		ret = -EACCES;
		goto done;
	}
	if (GSS_ERROR(major)) {
		sipae_gss_err(err, errlen, "gss_accept_sec_context", major, minor);
		ret = sipae_accept_errno(major, minor);
		goto done;
	}
	ret = -EPROTO;
	if (major & GSS_S_CONTINUE_NEEDED) {
		snprintf(err, errlen, "the context needs more than one token");
		goto done;
	}
	/* a copy of an authenticator accepted before is a replay; recorded only now that it
	 * decrypted and verified (as MIT's replay cache, so forgeries cannot fill it) */
	if (k->rc != NULL && (ret = sipae_rcache_add(k->rc, tag, (int64_t)time(NULL))) < 0) {
		snprintf(err, errlen, "%s",
			 ret == -EALREADY ? "Request is a replay (authenticator seen before)"
					  : "the replay cache cannot be written");
		ret = ret == -EALREADY ? -EACCES : -EIO;
		goto done;
	}
	ret = sipae_accepted(c, time_rec, &reply, principal, plen, expires, out, outlen);
	if (ret < 0) {
		snprintf(err, errlen, "no usable client name");
		goto done;
	}
	*ctx = c;
	c = NULL;
done:
	gss_release_buffer(&minor, &reply);
	sipae_krb_ctx_free(c);
	return ret;
}

int
sipae_krb_mic(struct sipae_krb_ctx *ctx, const void *data, size_t len, uint8_t **mic,
	      size_t *miclen)
{
	gss_buffer_desc msg = {len, (void *)data}, tok = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor;
	int ret = 0;

	*mic = NULL;
	*miclen = 0;
	major = gss_get_mic(&minor, ctx->ctx, GSS_C_QOP_DEFAULT, &msg, &tok);
	if (GSS_ROUTINE_ERROR(major) == GSS_S_CONTEXT_EXPIRED) {
		ret = -EKEYEXPIRED;
	} else if (GSS_ERROR(major)) {
		ret = -EIO;
	} else if ((*mic = malloc(tok.length ? tok.length : 1)) == NULL) {
		ret = -ENOMEM;
	} else {
		memcpy(*mic, tok.value, tok.length);
		*miclen = tok.length;
	}
	gss_release_buffer(&minor, &tok);
	return ret;
}

int
sipae_krb_verify_mic(struct sipae_krb_ctx *ctx, const void *data, size_t len, const uint8_t *mic,
		     size_t miclen)
{
	gss_buffer_desc msg = {len, (void *)data}, tok = {miclen, (void *)mic};
	OM_uint32 major, minor;

	major = gss_verify_mic(&minor, ctx->ctx, &msg, &tok, NULL);
	if (GSS_ROUTINE_ERROR(major) == GSS_S_CONTEXT_EXPIRED)
		return -EKEYEXPIRED;
	if (GSS_ERROR(major) || (major & GSS_S_DUPLICATE_TOKEN))
		return -EBADMSG;
	return 0;
}

int
sipae_krb_sids(struct sipae_krb_ctx *ctx, char ***sids, size_t *nsids)
{
	char attr_name[] = "urn:mspac:logon-info";
	gss_buffer_desc attr = {sizeof(attr_name) - 1, attr_name};
	gss_buffer_desc value = GSS_C_EMPTY_BUFFER, display = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor;
	int authenticated = 0, complete = 0, more = -1, ret = -ENOENT;

	*sids = NULL;
	*nsids = 0;
	major = gss_get_name_attribute(&minor, ctx->client, &attr, &authenticated, &complete,
				       &value, &display, &more);
	if (GSS_ERROR(major))
		goto done;
	ret = -EACCES;
	if (!authenticated) /* the PAC's server signature did not verify */
		goto done;
	ret = sipae_pac_logon_sids(value.value, value.length, sids, nsids);
done:
	gss_release_buffer(&minor, &value);
	gss_release_buffer(&minor, &display);
	return ret;
}

void
sipae_krb_ctx_free(struct sipae_krb_ctx *ctx)
{
	OM_uint32 minor;

	if (ctx == NULL)
		return;
	if (ctx->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &ctx->ctx, GSS_C_NO_BUFFER);
	if (ctx->client != GSS_C_NO_NAME)
		gss_release_name(&minor, &ctx->client);
	free(ctx);
}
