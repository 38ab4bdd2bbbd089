/*
 * ldapcheck.c - the LDAP part of `domain test` (OpenLDAP libldap): the DC's rootDSE
 * (clock, naming context), a SASL/GSSAPI bind with the machine's credentials from the
 * keytab, and the computer account's servicePrincipalName values.
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gssapi/gssapi_krb5.h>
#include <ldap.h>
#include <sasl/sasl.h>

#include "krb.h"

struct mmc_ldap {
	LDAP *ld;
};

int
mmc_ldap_open(const char *dc, struct mmc_ldap **lp, char *err, size_t errlen)
{
	struct mmc_ldap *l = calloc(1, sizeof(*l));
	struct timeval tv = {5, 0};
	char uri[600];
	int v3 = LDAP_VERSION3, rc;

	if (l == NULL)
		return -ENOMEM;
	snprintf(uri, sizeof(uri), "ldap://%s", dc);
	rc = ldap_initialize(&l->ld, uri);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "%s: %s", uri, ldap_err2string(rc));
		free(l);
		return -EINVAL;
	}
	ldap_set_option(l->ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(l->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(l->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(l->ld, LDAP_OPT_TIMEOUT, &tv);
	/* We name the DC ourselves: ask for ldap/<that name>, no reverse lookup. */
	ldap_set_option(l->ld, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON);
	*lp = l;
	return 0;
}

void
mmc_ldap_close(struct mmc_ldap *l)
{
	if (l == NULL)
		return;
	ldap_unbind_ext_s(l->ld, NULL, NULL);
	free(l);
}

LDAP *
mmc_ldap_handle(struct mmc_ldap *l)
{
	return l->ld;
}

static int
first_value(LDAP *ld, LDAPMessage *res, const char *attr, char *buf, size_t len)
{
	LDAPMessage *e = ldap_first_entry(ld, res);
	struct berval **v = e ? ldap_get_values_len(ld, e, attr) : NULL;
	int ret = -ENOENT;

	if (v && v[0]) {
		snprintf(buf, len, "%.*s", (int)v[0]->bv_len, v[0]->bv_val);
		ret = 0;
	}
	ldap_value_free_len(v);
	return ret;
}

int
mmc_ldap_rootdse(struct mmc_ldap *l, time_t *dc_time, char *base, size_t blen, char *err,
		 size_t errlen)
{
	char *attrs[] = {"currentTime", "defaultNamingContext", NULL};
	LDAPMessage *res = NULL;
	char t[64];
	struct tm tm;
	int rc;

	rc = ldap_search_ext_s(l->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL,
			       NULL, 1, &res);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "rootDSE: %s", ldap_err2string(rc));
		ldap_msgfree(res);
		return -EIO;
	}
	memset(&tm, 0, sizeof(tm));
	if (first_value(l->ld, res, "currentTime", t, sizeof(t)) < 0 ||
	    strptime(t, "%Y%m%d%H%M%S", &tm) == NULL ||
	    first_value(l->ld, res, "defaultNamingContext", base, blen) < 0) {
		snprintf(err, errlen, "rootDSE has no currentTime or defaultNamingContext");
		ldap_msgfree(res);
		return -EIO;
	}
	*dc_time = timegm(&tm);
	ldap_msgfree(res);
	return 0;
}

static int
sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	(void)ld;
	(void)flags;
	(void)defaults;
	for (sasl_interact_t *i = in; i->id != SASL_CB_LIST_END; i++) {
		i->result = i->defresult ? i->defresult : "";
		i->len = (unsigned)strlen(i->result);
	}
	return LDAP_SUCCESS;
}

int
mmc_ldap_gssapi(struct mmc_ldap *l, const char *ccname, char *err, size_t errlen)
{
	OM_uint32 minor;
	const char *old = NULL;
	char *diag = NULL;
	int rc;

	if (gss_krb5_ccache_name(&minor, ccname, &old) != GSS_S_COMPLETE) {
		snprintf(err, errlen, "cannot select the credential cache %s", ccname);
		return -EIO;
	}
	ldap_set_option(l->ld, LDAP_OPT_X_SASL_SECPROPS, "minssf=56");
	rc = ldap_sasl_interactive_bind_s(l->ld, NULL, "GSSAPI", NULL, NULL, LDAP_SASL_QUIET,
					  sasl_interact, NULL);
	if (rc != LDAP_SUCCESS) {
		ldap_get_option(l->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
		snprintf(err, errlen, "%s%s%s", ldap_err2string(rc), diag && diag[0] ? ": " : "",
			 diag ? diag : "");
		ldap_memfree(diag);
	}
	gss_krb5_ccache_name(&minor, NULL, NULL);
	return rc == LDAP_SUCCESS ? 0 : -EACCES;
}

int
mmc_ldap_has_spn(struct mmc_ldap *l, const char *base, const char *sam, const char *spn, char *err,
		 size_t errlen)
{
	char *attrs[] = {"servicePrincipalName", NULL};
	char filter[400];
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	int rc, found = 0;

	snprintf(filter, sizeof(filter), "(&(objectClass=computer)(sAMAccountName=%s))", sam);
	rc = ldap_search_ext_s(l->ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, NULL,
			       2, &res);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "search for %s: %s", sam, ldap_err2string(rc));
		ldap_msgfree(res);
		return -EIO;
	}
	e = ldap_first_entry(l->ld, res);
	if (e == NULL) {
		snprintf(err, errlen, "no computer account %s in %s", sam, base);
		ldap_msgfree(res);
		return -ENOENT;
	}
	v = ldap_get_values_len(l->ld, e, "servicePrincipalName");
	for (size_t i = 0; v && v[i]; i++)
		if (v[i]->bv_len == strlen(spn) && !strncasecmp(v[i]->bv_val, spn, v[i]->bv_len))
			found = 1;
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return found;
}
