/*
 * sipae_auth.c - domain sign-in ([MS-SIPAE]) in greenwichd: set-up, the
 * Kerberos/NTLM challenge headers, and the check of every request that
 * arrives on a connection with a security association (SA).
 *
 * Rules ([MS-SIPAE] 3.3.5): a request with the signed form of our credentials
 * is verified (signature, SA, connection, replay, identity); one without
 * valid credentials on a signed-in connection gets a fresh challenge (ACK and
 * CANCEL are dropped); the handshake form on REGISTER runs the handshake.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su_tag.h>

#include "directory.h"
#include "gwd.h"
#include "service.h"
#include "log.h"
#include "sip.h"
#include "sip_auth.h"
#include "sipae.h"

/* First DNS label of name, upper case, at most 15 characters (a NetBIOS name). */
static void
netbios(char *out, size_t len, const char *name)
{
	size_t i = 0;

	for (; name[i] && name[i] != '.' && i < 15 && i + 1 < len; i++)
		out[i] = (char)toupper((unsigned char)name[i]);
	out[i] = '\0';
}

static void
names_init(struct sipae_srv *s, const struct gw_conf *c)
{
	snprintf(s->realm, sizeof(s->realm), "%s", c->sipae_realm);
	snprintf(s->fqdn, sizeof(s->fqdn), "%s", c->domain_fqdn);
	snprintf(s->tn_ntlm, sizeof(s->tn_ntlm), "%s", c->domain_fqdn);
	snprintf(s->tn_krb, sizeof(s->tn_krb), "sip/%s", c->domain_fqdn);
	snprintf(s->dns_domain, sizeof(s->dns_domain), "%s", c->domain_name);
	netbios(s->nb_domain, sizeof(s->nb_domain), c->domain_name);
	netbios(s->nb_computer, sizeof(s->nb_computer), c->domain_fqdn);
	if (c->domain_realm && c->domain_realm[0])
		snprintf(s->krb_realm, sizeof(s->krb_realm), "%s", c->domain_realm);
	else
		for (size_t i = 0; c->domain_name[i] && i + 1 < sizeof(s->krb_realm); i++)
			s->krb_realm[i] = (char)toupper((unsigned char)c->domain_name[i]);
}

int
sipae_server_init(struct gwd *g)
{
	const struct gw_conf *c = g->conf;
	bool krb = gw_conf_scheme(c, GW_SCHEME_KERBEROS), ntlm = gw_conf_scheme(c, GW_SCHEME_NTLM);
	struct sipae_srv *s;
	const char *keytab = dir_keytab(g);
	char err[256] = "";

	if (!dir_enabled(g) || (!krb && !ntlm))
		return 0;
	if (c->domain_fqdn == NULL || c->domain_fqdn[0] == '\0') {
		log_err(
		    "event=sipae-failed reason=\"Kerberos and NTLM sign-in need [domain] fqdn\"");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	names_init(s, c);
	if (krb && c->domain_sip_keytab && c->domain_sip_keytab[0]) {
		/* sip/ has an account and key of its own: only that key (docs/DESIGN.md) */
		char princ[600];
		keytab = c->domain_sip_keytab;
		snprintf(princ, sizeof(princ), "%s@%s", s->tn_krb, s->krb_realm);
		if (sipae_krb_open_for(&s->krb, keytab, princ, err, sizeof(err)) < 0)
			log_warnx("event=sipae-kerberos-off keytab=%s reason=\"%s\"", keytab, err);
	} else if (krb && sipae_krb_open(&s->krb, keytab, err, sizeof(err)) < 0) {
		log_warnx("event=sipae-kerberos-off keytab=%s reason=\"%s\"", keytab, err);
	}
	/* tickets for sip/<fqdn> only: not HTTP/, host/ ... that share the machine key */
	if (s->krb && sipae_krb_expect(s->krb, s->tn_krb, s->krb_realm) < 0) {
		log_warnx("event=sipae-kerberos-off reason=\"service name %s too long\"",
			  s->tn_krb);
		sipae_krb_close(s->krb);
		s->krb = NULL;
	}
	/* replays refused by our own cache, journaled in the state directory, rather than by
	 * MIT's file cache, opened and written on every sign-in (docs/DESIGN.md) */
	if (s->krb) {
		char journal[PATH_MAX];
		snprintf(journal, sizeof(journal), "%s/kerberos-replay", c->state_dir);
		if (sipae_krb_replay_journal(s->krb, journal, err, sizeof(err)) < 0)
			log_warnx("event=sipae-replay-cache cache=mit reason=\"%s\"", err);
	}
	s->kerberos = s->krb != NULL;
	if (ntlm && sipae_pool_start(&s->pool, 2, 256) < 0)
		log_warnx("event=sipae-ntlm-off reason=\"cannot start threads\"");
	s->ntlm = s->pool != NULL;
	if (sa_table_init(g) < 0) {
		sipae_krb_close(s->krb);
		if (s->pool)
			sipae_pool_stop(s->pool);
		free(s);
		return -ENOMEM;
	}
	g->sipae = s;
	log_info("event=sipae kerberos=%s ntlm=%s targetname=%s realm=\"%s\" transports=%s%s%s",
		 s->kerberos ? "on" : "off", s->ntlm ? "on" : "off", s->tn_krb, s->realm,
		 gw_conf_sipae_transport(c, "tls") ? "tls" : "",
		 gw_conf_sipae_transport(c, "tls") && gw_conf_sipae_transport(c, "tcp") ? "," : "",
		 gw_conf_sipae_transport(c, "tcp") ? "tcp" : "");
	if (gw_conf_sipae_transport(c, "tcp"))
		log_warnx("event=sipae-plain-tcp reason=\"[auth] sipae-transports lists tcp: "
			  "Kerberos and NTLM sign-in and signed messages travel unencrypted, "
			  "NTLM without channel binding\"");
	return 0;
}

void
sipae_server_shutdown(struct gwd *g)
{
	struct sipae_srv *s = g->sipae;

	if (s == NULL)
		return;
	if (s->pool)
		sipae_pool_stop(s->pool);
	sa_table_free(g);
	sipae_krb_close(s->krb);
	free(s);
	g->sipae = NULL;
}

static int
sipae_attach(struct worker *w)
{
	if (w->w_gwd->sipae)
		sipae_send_bind(w->w_gwd);
	return 0;
}

static void
sipae_detach(struct worker *w)
{
	struct sipae_srv *s = w->w_gwd->sipae;

	if (s == NULL)
		return;
	s->stopping = true;
	if (s->pool) {
		/* finish the winbind round trips; their completions answer 503 */
		sipae_pool_stop(s->pool);
		s->pool = NULL;
		s->ntlm = false;
	}
	worker_drain_calls(w);
}

/* "tls" or "tcp": the transport of a connection, as [auth] sipae-transports names it. */
static const char *
transport_of(tport_t *tp)
{
	return tport_has_tls(tp) ? "tls" : "tcp";
}

/* Kerberos/NTLM may be used over tp: a connection ([auth] sipae-transports). */
static bool
transport_allowed(const struct gwd *g, tport_t *tp)
{
	return tp && tport_is_reliable(tp) && gw_conf_sipae_transport(g->conf, transport_of(tp));
}

/* Kerberos/NTLM are offered over connections that worker 0 owns, of a listed transport. */
bool
sipae_offer(struct worker *w, msg_t *req)
{
	bool ok = false;

	if (w->w_gwd->sipae == NULL || w->w_id != 0)
		return false;
	tport_t *tp = sip_msg_tport(w, req);
	ok = transport_allowed(w->w_gwd, tp);
	tport_unref(tp);
	return ok;
}

bool
sipae_challenge_add(struct worker *w, msg_t *reply, enum gw_scheme scheme, bool is_register)
{
	struct sipae_srv *s = w->w_gwd->sipae;
	msg_hclass_t *hc = is_register ? sip_www_authenticate_class : sip_proxy_authenticate_class;
	char v[700];

	if (s == NULL)
		return false;
	if (scheme == GW_SCHEME_KERBEROS && s->kerberos)
		snprintf(v, sizeof(v), "Kerberos realm=\"%s\", targetname=\"%s\", version=3",
			 s->realm, s->tn_krb);
	else if (scheme == GW_SCHEME_NTLM && s->ntlm)
		snprintf(v, sizeof(v), "NTLM realm=\"%s\", targetname=\"%s\", version=3", s->realm,
			 s->tn_ntlm);
	else
		return false;
	return msg_header_add_make(reply, NULL, hc, v) == 0;
}

static bool
ours(const struct sipae_srv *s, const struct sipae_cred *cr)
{
	const char *tn = cr->scheme == SIPAE_NTLM ? s->tn_ntlm : s->tn_krb;

	if (cr->scheme == SIPAE_NTLM && !s->ntlm && !cr->response)
		return false;
	if (cr->scheme == SIPAE_KERBEROS && !s->kerberos)
		return false;
	return cr->realm && cr->targetname && strcmp(cr->realm, s->realm) == 0 &&
	       strcasecmp(cr->targetname, tn) == 0;
}

static void
sign_fail(struct worker *w, msg_t *msg, const struct sipae_sa *sa, const char *opaque,
	  const char *reason)
{
	sip_t *sip = sip_object(msg);

	sip_auth_failed(w, msg, sa ? (sa->scheme == SIPAE_NTLM ? "NTLM" : "Kerberos") : "-",
			sa ? sa->aor : NULL, opaque ? opaque : "-", reason);
	if (sip->sip_request->rq_method == sip_method_ack ||
	    sip->sip_request->rq_method == sip_method_cancel)
		msg_destroy(msg);
	else
		sip_auth_challenge(w, msg, true);
}

static bool
signature_valid(struct sipae_sa *sa, msg_t *msg, sip_t *sip, const struct sipae_cred *cr)
{
	uint8_t sig[256];
	size_t len = 0;
	int n = sipae_unhex(sig, sizeof(sig), cr->response);
	bool ok = false;

	if (n <= 0)
		return false;
	char *str = sipae_sig_string(msg, sip, sa->scheme == SIPAE_NTLM ? "NTLM" : "Kerberos",
				     cr->crand, cr->cnum, cr->realm, cr->targetname, &len);
	if (str == NULL)
		return false;
	if (sa->scheme == SIPAE_NTLM)
		ok = n == 16 && sipae_ntlm_verify(&sa->keys, str, len, sig) == 0;
	else
		ok = sipae_krb_verify_mic(sa->krb, str, len, sig, (size_t)n) == 0;
	free(str);
	return ok;
}

static bool
identity_ok(const struct sipae_sa *sa, const url_t *url)
{
	char aor[GW_AOR_MAX + 1];

	if (sip_url_aor(aor, sizeof(aor), url) < 0)
		return false;
	for (size_t i = 0; sa->uris && sa->uris[i]; i++)
		if (strcasecmp(sa->uris[i], aor) == 0)
			return true;
	return false;
}

/* The REGISTER To: the user's primary address, which calls reach (sa->uris[0]). */
static bool
is_primary(const struct sipae_sa *sa, const url_t *url)
{
	char aor[GW_AOR_MAX + 1];

	return sa->uris && sa->uris[0] && sip_url_aor(aor, sizeof(aor), url) == 0 &&
	       strcasecmp(sa->uris[0], aor) == 0;
}

/* A request with the signed form: GW_TAKEN when it was answered here. */
static enum gw_verdict
check_signed(struct worker *w, msg_t *msg, sip_t *sip, const struct sipae_cred *cr, tport_t *tp)
{
	struct gwd *g = w->w_gwd;
	struct sipae_sa *sa = sa_find(g, cr->opaque);
	char *end = NULL;
	unsigned long cnum;

	if (sa == NULL || sa->state != SA_ESTABLISHED || sa->scheme != cr->scheme) {
		sign_fail(w, msg, NULL, cr->opaque, "unknown security association");
		return GW_TAKEN;
	}
	if (!sa_on(g, sa, tp)) {
		sign_fail(w, msg, sa, cr->opaque, "security association of another connection");
		return GW_TAKEN;
	}
	if (sa->expires <= time(NULL)) {
		sign_fail(w, msg, sa, cr->opaque, "security association expired");
		sa_drop(g, sa);
		return GW_TAKEN;
	}
	if (!cr->crand || !cr->cnum || !cr->response || !cr->cnum[0] ||
	    (cnum = strtoul(cr->cnum, &end, 10), *end != '\0') || cnum > UINT32_MAX) {
		sign_fail(w, msg, sa, cr->opaque, "incomplete signature");
		return GW_TAKEN;
	}
	if (!signature_valid(sa, msg, sip, cr)) {
		sign_fail(w, msg, sa, cr->opaque, "bad signature (tampered message)");
		return GW_TAKEN;
	}
	if (!sa_cnum_fresh(sa, (uint32_t)cnum)) {
		sign_fail(w, msg, sa, cr->opaque, "replayed message");
		return GW_TAKEN;
	}
	if (!identity_ok(sa, sip->sip_from->a_url) ||
	    (sip->sip_request->rq_method == sip_method_register &&
	     !is_primary(sa, sip->sip_to->a_url))) {
		atomic_fetch_add(&g->stats.auth_failures, 1);
		log_notice("event=auth-failed scheme=%s user=%s method=%s call-id=%s "
			   "reason=\"From/To is not the signed-in user\"",
			   sa->scheme == SIPAE_NTLM ? "NTLM" : "Kerberos", log_value(sa->aor),
			   log_value(sip->sip_request->rq_method_name),
			   log_value(sip->sip_call_id->i_id));
		sip_reply(w, msg, 403, "Identity does not match credentials");
		return GW_TAKEN;
	}
	if (!sa->proven)
		log_info("event=sa-proven opaque=%s user=%s method=%s", log_value(sa->opaque),
			 log_value(sa->aor), log_value(sip->sip_request->rq_method_name));
	sa->proven = true; /* the client holds the keys: its binding may be reached */
	w->w_auth_user = sa->aor;
	w->w_auth_sa = sa;
	w->w_auth_sids = sa->sids;
	return GW_PASS;
}

/* Kerberos or NTLM credentials over a transport [auth] sipae-transports does not list:
 * 403 with a Warning the client shows, and a log line (ACK and CANCEL are dropped). */
static void
refuse_transport(struct worker *w, msg_t *msg, sip_t *sip, const struct sipae_cred *cr,
		 const char *transport)
{
	struct gwd *g = w->w_gwd;
	char reason[120], warning[400];

	snprintf(reason, sizeof(reason),
		 "Kerberos and NTLM are not accepted over %s ([auth] sipae-transports)", transport);
	sip_auth_failed(w, msg, cr->scheme == SIPAE_NTLM ? "NTLM" : "Kerberos", NULL, NULL, reason);
	if (sip->sip_request->rq_method == sip_method_ack ||
	    sip->sip_request->rq_method == sip_method_cancel) {
		msg_destroy(msg);
		return;
	}
	snprintf(warning, sizeof(warning), "399 %s \"Kerberos and NTLM sign-in need %s\"",
		 g->sipae->fqdn, gw_conf_sipae_transport(g->conf, "tls") ? "TLS" : "TCP");
	nta_msg_treply(w->w_agent, msg, 403, "Sign-in over this transport not allowed",
		       SIPTAG_WARNING_STR(warning), TAG_END());
}

enum gw_verdict
sipae_intake(struct worker *w, msg_t *msg, sip_t *sip)
{
	struct gwd *g = w->w_gwd;
	struct sipae_cred cr;
	enum gw_verdict v = GW_PASS;
	tport_t *tp = sip_msg_tport(w, msg);

	if (tp == NULL || !tport_is_reliable(tp))
		goto done;
	if (!transport_allowed(g, tp)) {
		/* no SA can exist here; credentials over this transport are refused outright */
		if (sipae_cred_get(msg, sip, &cr)) {
			refuse_transport(w, msg, sip, &cr, transport_of(tp));
			v = GW_TAKEN;
		}
		goto done;
	}
	if (!sipae_cred_get(msg, sip, &cr) || !ours(g->sipae, &cr)) {
		/* a signed-in connection sends nothing unsigned */
		if (sa_by_tport(g, tp)) {
			sign_fail(w, msg, NULL, NULL, "unsigned request on a signed-in connection");
			v = GW_TAKEN;
		}
		goto done;
	}
	if (cr.response || cr.crand) {
		v = check_signed(w, msg, sip, &cr, tp);
		/* a client asserts no identity (RFC 3325): once checked, they go */
		if (v == GW_PASS)
			sipae_identity_strip(msg, sip);
		goto done;
	}
	if (sip->sip_request->rq_method != sip_method_register) {
		sign_fail(w, msg, NULL, cr.opaque, "sign-in outside REGISTER");
		v = GW_TAKEN;
		goto done;
	}
	sipae_handshake(w, msg, sip, &cr, tp);
	v = GW_TAKEN;
done:
	tport_unref(tp);
	return v;
}

bool
sipae_verified(struct worker *w, tport_t *tp, msg_t *msg, sip_t *sip)
{
	struct gwd *g = w->w_gwd;
	struct sipae_cred cr = {0};
	struct sipae_sa *sa = NULL;
	const char *why = NULL;
	char *end = NULL;
	unsigned long cnum = 0;

	if (g->sipae == NULL || w->w_id != 0 || tp == NULL || sa_by_tport(g, tp) == NULL)
		return true; /* nobody signed in over this connection: nothing to check */
	if (!sipae_cred_get(msg, sip, &cr) || cr.opaque == NULL)
		why = "unsigned message on a signed-in connection";
	else if ((sa = sa_find(g, cr.opaque)) == NULL || sa->state != SA_ESTABLISHED ||
		 !sa_on(g, sa, tp))
		why = "message signed with another security association";
	else if (!cr.crand || !cr.cnum || !cr.response ||
		 (cnum = strtoul(cr.cnum, &end, 10), *end != '\0') || cnum > UINT32_MAX)
		why = "incomplete signature";
	else if (!signature_valid(sa, msg, sip, &cr))
		why = "bad signature (tampered message)";
	else if (!sa_cnum_fresh(sa, (uint32_t)cnum))
		why = "replayed message";
	else if (sip->sip_request && !identity_ok(sa, sip->sip_from->a_url))
		why = "From is not the signed-in user";
	if (why == NULL) {
		sa->proven = true;
		sipae_consume(msg, sip); /* the client's signature is for us alone */
		return true;
	}
	atomic_fetch_add(&g->stats.auth_failures, 1);
	log_notice("event=auth-failed scheme=- method=%s status=%d call-id=%s reason=%s",
		   log_value(sip->sip_request ? sip->sip_request->rq_method_name
			     : sip->sip_cseq  ? sip->sip_cseq->cs_method_name
					      : "-"),
		   sip->sip_status ? sip->sip_status->st_status : 0,
		   log_value(sip->sip_call_id ? sip->sip_call_id->i_id : "-"), log_value(why));
	return false;
}

void
sipae_consume(msg_t *msg, sip_t *sip)
{
	msg_auth_t *lists[] = {sip->sip_authorization, sip->sip_proxy_authorization};

	for (size_t k = 0; k < 2; k++)
		for (msg_auth_t *au = lists[k], *next; au; au = next) {
			next = au->au_next;
			if (au->au_scheme && (strcasecmp(au->au_scheme, "NTLM") == 0 ||
					      strcasecmp(au->au_scheme, "Kerberos") == 0))
				msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)au);
		}
}

static void
signin_tick(struct worker *w, time_t now)
{
	if (w->w_gwd->sas)
		sa_expire(w->w_gwd, now);
}

const struct gw_service sipae_service = {
    .name = "sign-in",
    .worker0 = true,
    .attach = sipae_attach,
    .detach = sipae_detach,
    .tick = signin_tick,
};
