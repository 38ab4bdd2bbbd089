/*
 * sipae_handshake.c - the REGISTER handshakes of domain sign-in ([MS-SIPAE]
 * 3.1): connectionless NTLM (challenge, then the client's AUTHENTICATE
 * verified by a domain controller through winbind on a pool thread) and
 * Kerberos (one AP-REQ accepted with the keytab).  The authenticated account
 * is then looked up in the directory: it must be enabled for Greenwich and
 * the REGISTER's From and To must be one of its SIP URIs.  Only then the SA
 * is established and the REGISTER goes on to the registrar, whose 200 OK is
 * the first message signed with the new SA.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/su_tag.h>

#include "directory.h"
#include "flow.h"
#include "gwad.h"
#include "auth_guard.h"
#include "gwd.h"
#include "log.h"
#include "sip.h"
#include "sip_auth.h"
#include "service.h"
#include "sipae.h"

/* One sign-in in progress: the REGISTER waits here for the DC or the directory. */
struct hs_job {
	struct worker *w;
	char opaque[9];
	msg_t *msg;
	uint64_t flow; /* the connection the REGISTER came over (flow id of worker 0) */
	uint8_t *raw;  /* the decoded AUTHENTICATE message (auth points into it) */
	size_t rawlen;
	struct sipae_ntlm_auth auth;
	uint8_t chal[8];
	uint8_t *chal_msg; /* the CHALLENGE rebuilt, for the MIC */
	size_t chal_len;
	struct sipae_ntlm_result res;
	int rc;
	char src[80]; /* the client's address, for the guessing limits */
};

/* While a parked REGISTER is answered or registered, its connection is known. */
static void
resume_begin(struct hs_job *j)
{
	j->w->w_resume_tp = sa_flow_tport(j->w->w_gwd, j->flow);
	j->w->w_resume_msg = j->msg;
}

static void
resume_end(struct worker *w)
{
	w->w_resume_tp = NULL;
	w->w_resume_msg = NULL;
}

static const char *
scheme_name(enum sipae_scheme s)
{
	return s == SIPAE_NTLM ? "NTLM" : "Kerberos";
}

static void
job_free(struct hs_job *j)
{
	if (j == NULL)
		return;
	sipae_ntlm_auth_free(&j->auth);
	sipae_ntlm_result_free(&j->res);
	free(j->raw);
	free(j->chal_msg);
	free(j);
}

/*
 * A sign-in that failed: log it (never a secret) and answer.  401 asks for
 * credentials again; 403 with a Warning the client shows; 503 when the
 * domain cannot be asked.  The SA, if any, is dropped.
 */
static void
hs_refuse(struct worker *w, msg_t *msg, struct sipae_sa *sa, enum sipae_scheme scheme,
	  const char *account, const char *reason, int status, const char *phrase)
{
	struct gwd *g = w->w_gwd;
	char warning[512];

	sip_auth_failed(w, msg, scheme_name(scheme), account, NULL, reason);
	if (sa)
		sa_drop(g, sa);
	if (status == 401) {
		sip_auth_challenge(w, msg, true);
		return;
	}
	if (status == 503) {
		nta_msg_treply(w->w_agent, msg, 503, phrase, SIPTAG_RETRY_AFTER_STR("30"),
			       TAG_END());
		return;
	}
	snprintf(warning, sizeof(warning), "399 %s \"%s\"", g->sipae->fqdn, phrase);
	nta_msg_treply(w->w_agent, msg, status, phrase, SIPTAG_WARNING_STR(warning), TAG_END());
}

/* "user@domain" forms of a directory user's SIP URIs, NULL-ended. */
static char **
user_uris(const struct ad_user *u)
{
	char **v = calloc(u->alias_count + 2, sizeof(char *));
	size_t n = 0;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i <= u->alias_count; i++) {
		const char *uri = i == 0 ? u->sip_uri : u->aliases[i - 1];
		if (uri == NULL)
			continue;
		if (strncasecmp(uri, "sip:", 4) == 0)
			uri += 4;
		char *s = strdup(uri);
		if (s == NULL)
			break;
		s[strcspn(s, ";?>")] = '\0';
		v[n++] = s;
	}
	return v;
}

/* The directory's answer for the authenticated account: establish or refuse. */
static void
user_cb(int status, struct ad_user *user, const char *reason, void *arg)
{
	struct hs_job *j = arg;
	struct worker *w = j->w;
	struct gwd *g = w->w_gwd;
	struct sipae_sa *sa = sa_find(g, j->opaque);
	msg_t *msg = j->msg;
	sip_t *sip = sip_object(msg);
	const char *why = reason && reason[0] ? reason : ad_strerror(status);
	char from[GW_AOR_MAX + 1], to[GW_AOR_MAX + 1];
	int rc;

	resume_begin(j);
	j->msg = NULL;
	if (sa == NULL || g->sipae->stopping) {
		nta_msg_treply(w->w_agent, msg, 503, "Server shutting down", TAG_END());
		goto done;
	}
	if (status == -AD_ERR_NOT_FOUND) {
		hs_refuse(w, msg, sa, sa->scheme, sa->account, "account not in the directory", 404,
			  "Not Found");
	} else if (status < 0) {
		hs_refuse(w, msg, sa, sa->scheme, sa->account, why, 503, "Directory unavailable");
	} else if (sa->sids && sa->sids[0] && user->sid && strcmp(sa->sids[0], user->sid) != 0) {
		/* e.g. a user of a trusted domain with the same account name as ours */
		hs_refuse(w, msg, sa, sa->scheme, sa->account,
			  "the account's SID is not the directory user's", 403,
			  "Account of another domain");
	} else if ((rc = ad_user_check(user)) < 0) {
		hs_refuse(w, msg, sa, sa->scheme, sa->account, ad_strerror(rc), 403,
			  dir_refusal_phrase(rc));
	} else if (user->sip_uri == NULL || (sa->uris = user_uris(user)) == NULL ||
		   sa->uris[0] == NULL) {
		hs_refuse(w, msg, sa, sa->scheme, sa->account, "no SIP URI", 403,
			  "Not enabled for Greenwich");
	} else if (sip_url_aor(from, sizeof(from), sip->sip_from->a_url) < 0 ||
		   sip_url_aor(to, sizeof(to), sip->sip_to->a_url) < 0 ||
		   !ad_user_has_uri(user, from) || !ad_user_has_uri(user, to)) {
		hs_refuse(w, msg, sa, sa->scheme, sa->account, "From/To is not the signed-in user",
			  403, "Identity does not match credentials");
	} else if (strcasecmp(to, sa->uris[0]) != 0) {
		/* the registrar binds To, and calls reach the primary address only */
		hs_refuse(w, msg, sa, sa->scheme, sa->account,
			  "REGISTER To is not the user's primary SIP address", 403,
			  "Register your primary SIP address");
	} else {
		const struct gw_conf *c = g->conf;
		time_t now = time(NULL), until = now + c->sa_lifetime;
		snprintf(sa->aor, sizeof(sa->aor), "%s", sa->uris[0]);
		for (char *h = strchr(sa->aor, '@'); h && *h; h++)
			*h = (char)tolower((unsigned char)*h);
		if (sa->expires <= now || sa->scheme == SIPAE_NTLM || sa->expires > until)
			sa->expires = until;
		sa_bind(g, sa);
		log_notice("event=sign-in scheme=%s user=%s account=%s opaque=%s expires=%lds",
			   scheme_name(sa->scheme), log_value(sa->aor), log_value(sa->account),
			   log_value(sa->opaque), (long)(sa->expires - now));
		w->w_auth_user = sa->aor;
		w->w_auth_sa = sa;
		w->w_auth_sids = sa->sids;
		gwd_resume(w, msg, sip);
		w->w_auth_user = NULL;
		w->w_auth_sa = NULL;
		w->w_auth_sids = NULL;
	}
done:
	resume_end(w);
	ad_user_free(user);
	job_free(j);
}

/* Ask the directory for the account (sAMAccountName); the job waits. */
static void
lookup_account(struct hs_job *j, const char *sam)
{
	struct ad_query q = {AD_QUERY_SAM, sam};
	struct ad_ctx *ctx = dir_ctx(j->w->w_gwd);

	if (ctx == NULL || ad_lookup_send(ctx, &q, user_cb, j) < 0)
		user_cb(-AD_ERR_UNAVAILABLE, NULL, "cannot start a directory lookup", j);
}

/* A new handshake may start on tp; otherwise it was answered 503 here. */
static bool
admitted(struct worker *w, msg_t *msg, enum sipae_scheme scheme, tport_t *tp, char *src,
	 size_t srclen)
{
	char proto[16];

	sip_msg_source(w, msg, src, srclen, proto, sizeof(proto));
	sip_source_host(src); /* the address, without its port */
	int rc = sa_admit(w->w_gwd, tp, src);
	if (rc == 0)
		return true;
	hs_refuse(w, msg, NULL, scheme, "-",
		  rc == -EAGAIN ? "too many sign-ins in progress from this client"
				: "too many sign-ins in progress",
		  503, "Too many sign-ins in progress");
	return false;
}

/* ---- NTLM ---- */

/*
 * The CHALLENGE is stateless: nothing is kept when it is sent.  Its opaque, server
 * challenge and MsvAvTimestamp are derived with the server's secret (HMAC-SHA256,
 * sip_token) from the time slot, the connection (flow id) and the REGISTER's Call-ID;
 * the client returns the opaque with its AUTHENTICATE on the same connection and
 * Call-ID, and the server finds the slot whose opaque matches (the current one or the
 * one before: a CHALLENGE is good for HS_SLOT to 2 * HS_SLOT seconds), then derives
 * the rest again and rebuilds the CHALLENGE byte for byte for the MIC.  Only the
 * AUTHENTICATE costs state (an SA while the DC is asked), under sa_admit's caps.
 */
#define HS_SLOT 10

struct hs_chal {
	char opaque[9];
	uint8_t chal[8];
	uint64_t filetime;
};

static void
hs_derive(struct worker *w, uint64_t flow, const char *call_id, long slot, struct hs_chal *hc)
{
	char data[400], mac[80];

	snprintf(data, sizeof(data), "ntlm-opaque:%ld:%llu:%.300s", slot, (unsigned long long)flow,
		 call_id);
	sip_token(w, mac, sizeof(mac), data);
	for (size_t i = 0; i < 8; i++)
		hc->opaque[i] = (char)toupper((unsigned char)mac[i]);
	hc->opaque[8] = '\0';
	snprintf(data, sizeof(data), "ntlm-challenge:%s:%ld:%llu:%.300s", hc->opaque, slot,
		 (unsigned long long)flow, call_id);
	sip_token(w, mac, sizeof(mac), data);
	mac[16] = '\0';
	sipae_unhex(hc->chal, sizeof(hc->chal), mac);
	hc->filetime = sipae_filetime((time_t)slot * HS_SLOT);
}

static int
hs_challenge_msg(struct sipae_srv *s, const struct hs_chal *hc, uint8_t **cm, size_t *cmlen)
{
	const struct sipae_ntlm_names names = {s->nb_domain, s->nb_computer, s->dns_domain,
					       s->fqdn};

	return sipae_ntlm_challenge_make(&names, hc->chal, hc->filetime, cm, cmlen);
}

static void
ntlm_challenge(struct worker *w, msg_t *msg, sip_t *sip, tport_t *tp)
{
	struct gwd *g = w->w_gwd;
	struct sipae_srv *s = g->sipae;
	uint8_t *cm = NULL;
	size_t cmlen = 0;
	char *b64 = NULL, *v = NULL;
	struct hs_chal hc;
	uint64_t flow = flow_id(g->workers[0].w_flows, tp);

	hs_derive(w, flow, sip->sip_call_id->i_id, (long)(time(NULL) / HS_SLOT), &hc);
	if (flow == 0 || hs_challenge_msg(s, &hc, &cm, &cmlen) < 0 ||
	    sipae_b64_encode(cm, cmlen, &b64) < 0 ||
	    asprintf(&v,
		     "NTLM opaque=\"%s\", gssapi-data=\"%s\", targetname=\"%s\", "
		     "realm=\"%s\", version=3",
		     hc.opaque, b64, s->tn_ntlm, s->realm) < 0) {
		v = NULL;
		sip_reply(w, msg, 500, "Cannot make an NTLM challenge");
		goto done;
	}
	log_debug("event=ntlm-challenge opaque=%s call-id=%s", log_value(hc.opaque),
		  log_value(sip->sip_call_id->i_id));
	nta_msg_treply(w->w_agent, msg, SIP_401_UNAUTHORIZED, SIPTAG_WWW_AUTHENTICATE_STR(v),
		       TAG_END());
done:
	free(cm);
	free(b64);
	free(v);
}

static void
ntlm_complete(struct worker *w, void *arg)
{
	struct hs_job *j = arg;
	struct gwd *g = w->w_gwd;
	struct sipae_sa *sa = sa_find(g, j->opaque);
	char who[600];

	snprintf(who, sizeof(who), "%s\\%s", j->auth.domain ? j->auth.domain : "",
		 j->auth.user ? j->auth.user : "?");
	resume_begin(j);
	if (sa == NULL || g->sipae->stopping) {
		nta_msg_treply(w->w_agent, j->msg, 503, "Server shutting down", TAG_END());
		j->msg = NULL;
		job_free(j);
		resume_end(w);
		return;
	}
	if (j->rc < 0 || j->res.refusal != SIPAE_OK) {
		const char *why = j->rc < 0 ? "winbind call failed" : j->res.status;
		int st = 401;
		const char *phrase = "Unauthorized";
		switch (j->rc < 0 ? SIPAE_DC_DOWN : j->res.refusal) {
		case SIPAE_DISABLED:
			st = 403, phrase = "Account disabled";
			break;
		case SIPAE_LOCKED:
			st = 403, phrase = "Account locked out";
			break;
		case SIPAE_EXPIRED:
			st = 403, phrase = "Account or password expired";
			break;
		case SIPAE_LOGON_HOURS:
			st = 403, phrase = "Sign-in not allowed now";
			break;
		case SIPAE_DC_DOWN:
			st = 503, phrase = "Domain controller unreachable";
			break;
		case SIPAE_WRONG_PASSWORD:
			why = "wrong user name or password";
			guard_failed(who, j->src, time(NULL));
			break;
		default:
			break;
		}
		hs_refuse(w, j->msg, sa, SIPAE_NTLM, who, why, st, phrase);
		j->msg = NULL;
		job_free(j);
		resume_end(w);
		return;
	}
	if (sipae_ntlm_check_mic(&j->auth, j->res.session_base_key, j->chal_msg, j->chal_len) < 0) {
		/* the DC accepted the response, but CHALLENGE or AUTHENTICATE was changed */
		hs_refuse(w, j->msg, sa, SIPAE_NTLM, who, "NTLM MIC does not match the messages",
			  401, NULL);
		j->msg = NULL;
		job_free(j);
		resume_end(w);
		return;
	}
	if (sipae_ntlm_derive(j->res.session_base_key, j->auth.enc_session_key, &sa->keys) < 0) {
		hs_refuse(w, j->msg, sa, SIPAE_NTLM, who, "key derivation failed", 401, NULL);
		j->msg = NULL;
		job_free(j);
		resume_end(w);
		return;
	}
	guard_succeeded(who, j->src, time(NULL));
	snprintf(sa->account, sizeof(sa->account), "%s\\%s", j->res.domain, j->res.account);
	sa->sids = j->res.sids;
	j->res.sids = NULL;
	j->res.nsids = 0;
	resume_end(w);
	lookup_account(j, j->res.account);
}

static void
ntlm_work(void *arg)
{
	struct hs_job *j = arg;

	j->rc = sipae_ntlm_check(&j->auth, j->chal, &j->res);
}

static void
ntlm_done(void *arg)
{
	struct hs_job *j = arg;

	if (worker_post(j->w, ntlm_complete, j) < 0) {
		/* worker 0 is gone: nobody can answer any more */
		msg_destroy(j->msg);
		j->msg = NULL;
		job_free(j);
	}
}

static void
ntlm_authenticate(struct worker *w, msg_t *msg, sip_t *sip, const struct sipae_cred *cr,
		  tport_t *tp)
{
	struct gwd *g = w->w_gwd;
	struct sipae_srv *s = g->sipae;
	struct sipae_sa *sa = NULL;
	struct hs_job *j = NULL;
	struct hs_chal hc;
	char err[300] = "", src[80];
	uint64_t flow = flow_id(g->workers[0].w_flows, tp);
	long now = (long)(time(NULL) / HS_SLOT), slot;
	bool found = false;

	/* the opaque of a CHALLENGE made for this connection and Call-ID, not too old */
	for (slot = now; slot >= now - 1 && cr->opaque && flow; slot--) {
		hs_derive(w, flow, sip->sip_call_id->i_id, slot, &hc);
		if (strcmp(hc.opaque, cr->opaque) == 0) {
			found = true;
			break;
		}
	}
	if (!found) {
		hs_refuse(w, msg, NULL, SIPAE_NTLM, "-", "unknown or expired NTLM challenge", 401,
			  NULL);
		return;
	}
	if (sa_find(g, hc.opaque)) {
		/* the same AUTHENTICATE again, or its SA still lives: one sign-in per CHALLENGE */
		hs_refuse(w, msg, NULL, SIPAE_NTLM, "-", "NTLM challenge already answered", 401,
			  NULL);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL || sipae_b64_decode(cr->gssapi_data, &j->raw, &j->rawlen) < 0 ||
	    sipae_ntlm_parse_auth(j->raw, j->rawlen, &j->auth, err, sizeof(err)) < 0) {
		hs_refuse(w, msg, NULL, SIPAE_NTLM, "-", err[0] ? err : "malformed NTLM message",
			  401, NULL);
		job_free(j);
		return;
	}
	/* extended protection: made for us, on this TLS connection (before the DC is asked) */
	struct sipae_tls_cb cb;
	const struct sipae_ntlm_binding b = {s->tn_krb,
					     sipae_tls_bindings(tp, &cb) ? cb.md5 : NULL};
	if (sipae_ntlm_check_binding(&j->auth, &b, err, sizeof(err)) < 0) {
		char who[600];
		snprintf(who, sizeof(who), "%s\\%s", j->auth.domain, j->auth.user);
		hs_refuse(w, msg, NULL, SIPAE_NTLM, who, err, 401, NULL);
		job_free(j);
		return;
	}
	if (hs_challenge_msg(s, &hc, &j->chal_msg, &j->chal_len) < 0) {
		sip_reply(w, msg, 500, "Cannot rebuild the NTLM challenge");
		job_free(j);
		return;
	}
	if (!admitted(w, msg, SIPAE_NTLM, tp, src, sizeof(src))) {
		job_free(j);
		return;
	}
	int retry = 0;
	snprintf(j->src, sizeof(j->src), "%s", src);
	if (!guard_allows(j->auth.user ? j->auth.user : "", j->src, time(NULL), &retry)) {
		/* refused before the DC is asked: no guess reaches the account */
		char ra[16], held[72];
		atomic_fetch_add(&g->stats.auth_failures, 1);
		guard_held_source(j->src, time(NULL), held, sizeof(held));
		log_notice("event=auth-throttled scheme=NTLM user=%s source=%s retry-after=%d "
			   "reason=\"too many failed sign-ins\" held=%s%s",
			   log_value(j->auth.user), j->src, retry, held[0] ? "source:" : "account",
			   held);
		snprintf(ra, sizeof(ra), "%d", retry);
		nta_msg_treply(w->w_agent, msg, 403, "Too many failed sign-ins",
			       SIPTAG_RETRY_AFTER_STR(ra), TAG_END());
		job_free(j);
		return;
	}
	sa = sa_new(g, SIPAE_NTLM, tp, src, hc.opaque);
	if (sa == NULL) {
		sip_reply(w, msg, 500, "Out of memory");
		job_free(j);
		return;
	}
	snprintf(sa->call_id, sizeof(sa->call_id), "%s", sip->sip_call_id->i_id);
	j->w = w;
	j->msg = msg;
	j->flow = sa->flow;
	memcpy(j->opaque, sa->opaque, sizeof(j->opaque));
	memcpy(j->chal, hc.chal, sizeof(j->chal));
	sa->state = SA_VERIFYING;
	if (g->sipae->pool == NULL || sipae_pool_run(g->sipae->pool, ntlm_work, ntlm_done, j) < 0) {
		j->msg = NULL;
		hs_refuse(w, msg, sa, SIPAE_NTLM, j->auth.user, "too many sign-ins waiting", 503,
			  "Too many sign-ins, try again");
		job_free(j);
	}
}

/* ---- Kerberos ---- */

static void
kerberos(struct worker *w, msg_t *msg, const struct sipae_cred *cr, tport_t *tp)
{
	struct gwd *g = w->w_gwd;
	struct sipae_srv *s = g->sipae;
	uint8_t *tok = NULL, *out = NULL;
	size_t toklen = 0, outlen = 0;
	char principal[512] = "", err[256] = "", src[80];
	struct sipae_krb_ctx *ctx = NULL;
	time_t expires = 0;
	struct sipae_sa *sa;
	struct hs_job *j;
	int rc;

	if (!admitted(w, msg, SIPAE_KERBEROS, tp, src, sizeof(src)))
		goto done;
	if (sipae_b64_decode(cr->gssapi_data, &tok, &toklen) < 0 || toklen == 0) {
		hs_refuse(w, msg, NULL, SIPAE_KERBEROS, "-", "malformed Kerberos token", 401, NULL);
		goto done;
	}
	/* an authenticator that carries channel bindings must carry this TLS connection's
	 * (over plain TCP, or when its certificate is not known, none are: empty ones) */
	struct sipae_tls_cb cb;
	sipae_tls_bindings(tp, &cb);
	rc = sipae_krb_accept(s->krb, tok, toklen, cb.data, cb.len, &ctx, principal,
			      sizeof(principal), &expires, &out, &outlen, err, sizeof(err));
	if (rc < 0) {
		const char *why = rc == -ETIME         ? "clock skew too great"
				  : rc == -EKEYEXPIRED ? "ticket expired"
						       : err;
		hs_refuse(w, msg, NULL, SIPAE_KERBEROS, principal, why[0] ? why : "bad ticket", 401,
			  NULL);
		goto done;
	}
	char *at = strrchr(principal, '@');
	if (at == NULL || strcasecmp(at + 1, s->krb_realm) != 0) {
		sipae_krb_ctx_free(ctx);
		hs_refuse(w, msg, NULL, SIPAE_KERBEROS, principal, "principal of another realm",
			  403, "Account of another domain");
		goto done;
	}
	sa = sa_new(g, SIPAE_KERBEROS, tp, src, NULL);
	j = calloc(1, sizeof(*j));
	if (sa == NULL || j == NULL) {
		sipae_krb_ctx_free(ctx);
		free(j);
		if (sa)
			sa_drop(g, sa);
		sip_reply(w, msg, 500, "Out of memory");
		goto done;
	}
	sa->krb = ctx;
	sa->state = SA_VERIFYING;
	sa->expires = expires;
	snprintf(sa->account, sizeof(sa->account), "%s", principal);
	if (sipae_krb_sids(ctx, &sa->sids, &(size_t){0}) < 0)
		sa->sids = NULL;
	j->w = w;
	j->msg = msg;
	j->flow = sa->flow;
	memcpy(j->opaque, sa->opaque, sizeof(j->opaque));
	*at = '\0';
	lookup_account(j, principal);
done:
	free(tok);
	free(out);
}

void
sipae_handshake(struct worker *w, msg_t *msg, sip_t *sip, const struct sipae_cred *cr, tport_t *tp)
{
	struct sipae_srv *s = w->w_gwd->sipae;

	if (cr->scheme == SIPAE_KERBEROS) {
		if (!s->kerberos || cr->gssapi_data == NULL || cr->gssapi_data[0] == '\0')
			sip_auth_challenge(w, msg, true);
		else
			kerberos(w, msg, cr, tp);
		return;
	}
	if (!s->ntlm) {
		sip_auth_challenge(w, msg, true);
		return;
	}
	if (cr->gssapi_data == NULL || cr->gssapi_data[0] == '\0')
		ntlm_challenge(w, msg, sip, tp);
	else
		ntlm_authenticate(w, msg, sip, cr, tp);
}
