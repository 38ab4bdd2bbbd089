/*
 * ad_session_sd.c - security descriptors of directory objects over a session (the DACL
 * only, through the SD_FLAGS control, so READ_CONTROL and WRITE_DAC suffice) and the
 * schemaIDGUIDs that object ACEs name.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_session.h"

#define SD_FLAGS_OID "1.2.840.113556.1.4.801"

/* BER SEQUENCE { INTEGER 4 }: DACL_SECURITY_INFORMATION */
static struct berval dacl_only = {5, (char *)"\x30\x03\x02\x01\x04"};

int
ad_session_sd_get(struct ad_session *s, const char *dn, unsigned char **sdp, size_t *lenp,
		  char *reason)
{
	LDAPControl ctl = {SD_FLAGS_OID, dacl_only, 1}, *ctls[] = {&ctl, NULL};
	char *attrs[] = {"nTSecurityDescriptor", NULL};
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	int lrc, ret = 0;

	*sdp = NULL;
	lrc = ldap_search_ext_s(s->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, ctls, NULL,
				NULL, 1, &res);
	if (lrc != LDAP_SUCCESS) {
		ad_reason_set(reason, "%s: reading the permissions of %s: %s", s->dc, dn,
			      ldap_err2string(lrc));
		ret = ad_ldap_err(lrc);
		goto done;
	}
	e = ldap_first_entry(s->ld, res);
	v = e ? ldap_get_values_len(s->ld, e, "nTSecurityDescriptor") : NULL;
	if (v == NULL || v[0] == NULL) {
		/* AD leaves the attribute out when the account may not read it */
		ad_reason_set(reason, "the permissions of %s are not readable", dn);
		ret = -AD_ERR_DENIED;
		goto done;
	}
	if ((*sdp = malloc(v[0]->bv_len ? v[0]->bv_len : 1)) == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	memcpy(*sdp, v[0]->bv_val, v[0]->bv_len);
	*lenp = v[0]->bv_len;
done:
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return ret;
}

int
ad_session_sd_set(struct ad_session *s, const char *dn, const unsigned char *sd, size_t len,
		  char *reason)
{
	LDAPControl ctl = {SD_FLAGS_OID, dacl_only, 1}, *ctls[] = {&ctl, NULL};
	struct berval bv = {len, (char *)sd}, *vals[] = {&bv, NULL};
	LDAPMod m = {
	    LDAP_MOD_REPLACE | LDAP_MOD_BVALUES, "nTSecurityDescriptor", {.modv_bvals = vals}};
	LDAPMod *mods[] = {&m, NULL};
	int lrc = ldap_modify_ext_s(s->ld, dn, mods, ctls, NULL);

	if (lrc == LDAP_SUCCESS)
		return 0;
	ad_reason_set(reason, "%s: changing the permissions of %s: %s", s->dc, dn,
		      ldap_err2string(lrc));
	/* AD answers a DACL the account may not write with a constraint violation */
	return lrc == LDAP_CONSTRAINT_VIOLATION ? -AD_ERR_DENIED : ad_ldap_err(lrc);
}

int
ad_session_schema_guid(struct ad_session *s, const char *name, unsigned char guid[16], char *reason)
{
	char *rattrs[] = {"schemaNamingContext", NULL}, *attrs[] = {"schemaIDGUID", NULL};
	char esc[200], filter[300], *schema = NULL;
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	int ret;

	if (ad_filter_escape(name, esc, sizeof(esc)) < 0)
		return -EINVAL;
	ret = ad_session_search(s, "", LDAP_SCOPE_BASE, "(objectClass=*)", rattrs, NULL, &res,
				reason);
	e = ret == 0 ? ldap_first_entry(s->ld, res) : NULL;
	schema = e ? ad_entry_str(s->ld, e, "schemaNamingContext") : NULL;
	ldap_msgfree(res);
	res = NULL;
	if (ret == 0 && schema == NULL) {
		ad_reason_set(reason, "%s: the rootDSE names no schema", s->dc);
		ret = -AD_ERR_LDAP;
	}
	if (ret < 0)
		goto done;
	snprintf(filter, sizeof(filter), "(lDAPDisplayName=%s)", esc);
	ret = ad_session_search(s, schema, LDAP_SCOPE_ONELEVEL, filter, attrs, NULL, &res, reason);
	e = ret == 0 ? ldap_first_entry(s->ld, res) : NULL;
	v = e ? ldap_get_values_len(s->ld, e, "schemaIDGUID") : NULL;
	if (ret == 0 && (v == NULL || v[0] == NULL || v[0]->bv_len != 16)) {
		ad_reason_set(reason, "%s: no schemaIDGUID of %s", s->dc, name);
		ret = -AD_ERR_NOT_FOUND;
	}
	if (ret == 0)
		memcpy(guid, v[0]->bv_val, 16);
done:
	ldap_value_free_len(v);
	ldap_msgfree(res);
	free(schema);
	return ret;
}
