/*
 * ad_session.c - a session as the person running the program: one LDAP connection to a
 * named DC, its rootDSE read anonymously, then a SASL/GSSAPI bind (signing and sealing)
 * with that person's Kerberos ticket or a credential cache the caller names.
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <errno.h>
#include <gssapi/gssapi_krb5.h>
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ad_session.h"

#define AD_MIN_SSF 56 /* integrity and confidentiality (sealing) */

int
ad_session_search(struct ad_session *s, const char *base, int scope, const char *filter,
		  char **attrs, LDAPControl **ctrls, LDAPMessage **resp, char *reason)
{
	return ad_ldap_search(s->ld, s->dc, s->timeout_ms, base, scope, filter, attrs, ctrls, resp,
			      reason);
}

int
ad_session_modify(struct ad_session *s, const char *dn, LDAPMod **mods, LDAPControl **ctrls,
		  const char *what, char *reason)
{
	int lrc = ldap_modify_ext_s(s->ld, dn, mods, ctrls, NULL);

	if (lrc == LDAP_SUCCESS)
		return 0;
	ad_reason_set(reason, "%s: changing %s of %s: %s", s->dc, what, dn, ldap_err2string(lrc));
	return ad_ldap_err(lrc);
}

/* currentTime and defaultNamingContext, anonymously. */
static int
rootdse_read(struct ad_session *s, char *reason)
{
	char *attrs[] = {"currentTime", "defaultNamingContext", NULL}, *t = NULL, *base = NULL;
	LDAPMessage *res = NULL, *e;
	struct tm tm;
	int ret;

	ret =
	    ad_session_search(s, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, NULL, &res, reason);
	if (ret < 0)
		goto done;
	e = ldap_first_entry(s->ld, res);
	t = e ? ad_entry_str(s->ld, e, "currentTime") : NULL;
	base = e ? ad_entry_str(s->ld, e, "defaultNamingContext") : NULL;
	memset(&tm, 0, sizeof(tm));
	if (t == NULL || base == NULL || strptime(t, "%Y%m%d%H%M%S", &tm) == NULL) {
		ad_reason_set(reason, "%s: the rootDSE has no currentTime or defaultNamingContext",
			      s->dc);
		ret = -AD_ERR_LDAP;
		goto done;
	}
	s->dc_time = timegm(&tm);
	ad_str_copy(s->base, sizeof(s->base), base);
done:
	free(t);
	free(base);
	ldap_msgfree(res);
	return ret;
}

int
ad_session_open(const char *dc, int timeout_ms, struct ad_session **sp, char *reason)
{
	struct ad_session *s = calloc(1, sizeof(*s));
	struct timeval tv;
	int v3 = LDAP_VERSION3, lrc = 0, ret;
	char uri[320];

	if (s == NULL)
		return -ENOMEM;
	s->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	tv.tv_sec = s->timeout_ms / 1000;
	tv.tv_usec = (s->timeout_ms % 1000) * 1000;
	ad_str_copy(s->dc, sizeof(s->dc), dc);
	snprintf(uri, sizeof(uri), "ldap://%.299s", dc);
	if (ldap_initialize(&s->ld, uri) != LDAP_SUCCESS) {
		ad_reason_set(reason, "%s: not a usable LDAP address", uri);
		ret = -AD_ERR_LDAP;
		goto done;
	}
	lrc |= ldap_set_option(s->ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	lrc |= ldap_set_option(s->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	lrc |= ldap_set_option(s->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	lrc |= ldap_set_option(s->ld, LDAP_OPT_TIMEOUT, &tv);
	/* The DC is named by the caller: ask for ldap/<that name>, no reverse lookup. */
	lrc |= ldap_set_option(s->ld, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON);
	lrc |= ldap_set_option(s->ld, LDAP_OPT_X_SASL_SECPROPS, "minssf=56");
	if (lrc != LDAP_SUCCESS) {
		ad_reason_set(reason, "%s: cannot set up the LDAP handle", uri);
		ret = -AD_ERR_LDAP;
		goto done;
	}
	ret = rootdse_read(s, reason);
done:
	if (ret < 0) {
		ad_session_close(s);
		s = NULL;
	}
	*sp = s;
	return ret;
}

static int
sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	sasl_interact_t *it;

	(void)ld;
	(void)flags;
	(void)defaults;
	for (it = in; it->id != SASL_CB_LIST_END; it++) {
		it->result = it->defresult ? it->defresult : "";
		it->len = (unsigned)strlen(it->result);
	}
	return LDAP_SUCCESS;
}

int
ad_session_bind(struct ad_session *s, const char *ccache, char *reason)
{
	OM_uint32 minor;
	ber_len_t ssf = 0;
	char *diag = NULL;
	int lrc, ret = 0;

	/* NULL: the GSSAPI default, which is the caller's KRB5CCNAME or default cache. */
	if (gss_krb5_ccache_name(&minor, ccache, NULL) != GSS_S_COMPLETE) {
		ad_reason_set(reason, "cannot use the credential cache %s", ccache);
		return -AD_ERR_BIND;
	}
	lrc = ldap_sasl_interactive_bind_s(s->ld, NULL, "GSSAPI", NULL, NULL, LDAP_SASL_QUIET,
					   sasl_interact, NULL);
	if (lrc != LDAP_SUCCESS) {
		ldap_get_option(s->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
		ad_reason_set(reason, "%s%s%s", ldap_err2string(lrc), diag && diag[0] ? ": " : "",
			      diag ? diag : "");
		ldap_memfree(diag);
		ret = ad_ldap_gone(lrc) ? -AD_ERR_UNAVAILABLE : -AD_ERR_BIND;
	} else if (ldap_get_option(s->ld, LDAP_OPT_X_SASL_SSF, &ssf) != LDAP_OPT_SUCCESS ||
		   ssf < AD_MIN_SSF) {
		ad_reason_set(reason, "SASL security layer too weak (ssf %lu)", (unsigned long)ssf);
		ret = -AD_ERR_BIND;
	}
	gss_krb5_ccache_name(&minor, NULL, NULL);
	s->bound = ret == 0;
	return ret;
}

void
ad_session_close(struct ad_session *s)
{
	if (s == NULL)
		return;
	if (s->ld != NULL)
		ldap_unbind_ext_s(s->ld, NULL, NULL);
	free(s);
}

const char *
ad_session_dc(const struct ad_session *s)
{
	return s->dc;
}

const char *
ad_session_base(const struct ad_session *s)
{
	return s->base;
}

time_t
ad_session_dc_time(const struct ad_session *s)
{
	return s->dc_time;
}

struct ldap *
ad_session_ldap(struct ad_session *s)
{
	return s->ld;
}
