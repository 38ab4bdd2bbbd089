/*
 * ad_session_dir.c - what greenwich-mmc reads and changes in the directory over a
 * session: users (the same lookup as greenwichd's), groups and their members, the names
 * of SIDs, proxyAddresses, and the SPNs of a computer account.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ad_session.h"

int
ad_session_lookup(struct ad_session *s, const struct ad_query *query, const char *group_sid,
		  struct ad_user **userp, char *reason)
{
	struct ad_user *u = NULL;
	LDAPMessage *res = NULL;
	char filter[1600];
	int ret;

	*userp = NULL;
	if (query == NULL || query->value == NULL || query->value[0] == '\0' ||
	    ad_query_filter(query, filter, sizeof(filter)) < 0) {
		ad_reason_set(reason, "not a usable user name");
		return -EINVAL;
	}
	ret = ad_session_search(s, s->base, LDAP_SCOPE_SUBTREE, filter, ad_entry_user_attrs, NULL,
				&res, reason);
	if (ret == 0)
		ret = ad_query_pick(s->ld, res, query, &u);
	if (ret == 0)
		ret = ad_user_tokens(s->ld, s->dc, s->timeout_ms, u, reason);
	if (ret == 0 && u->sip_uri != NULL &&
	    (group_sid == NULL || group_sid[0] == '\0' || ad_user_has_sid(u, group_sid)))
		u->flags |= AD_USER_SIP_ENABLED;
	if (ret == -AD_ERR_NOT_FOUND || ret == -AD_ERR_AMBIGUOUS)
		ad_reason_set(reason, "%s: %s", query->value, ad_strerror(ret));
	if (ret == 0) {
		*userp = u;
		u = NULL;
	}
	ad_user_free(u);
	ldap_msgfree(res);
	return ret;
}

int
ad_session_group(struct ad_session *s, const char *name, char *dn, size_t dnlen, char *sid,
		 size_t sidlen, char *reason)
{
	char esc[600], filter[1400], *attrs[] = {"objectSid", NULL}, **sids = NULL, *d = NULL;
	LDAPMessage *res = NULL, *e;
	size_t n = 0;
	int ret;

	if (ad_filter_escape(name, esc, sizeof(esc)) < 0) {
		ad_reason_set(reason, "group name too long");
		return -EINVAL;
	}
	if (strncmp(name, "S-1-", 4) == 0)
		snprintf(filter, sizeof(filter), "(&(objectClass=group)(objectSid=%s))", esc);
	else
		snprintf(filter, sizeof(filter),
			 "(&(objectClass=group)(|(sAMAccountName=%s)(cn=%s)))", esc, esc);
	ret = ad_session_search(s, s->base, LDAP_SCOPE_SUBTREE, filter, attrs, NULL, &res, reason);
	if (ret < 0)
		goto done;
	e = ldap_first_entry(s->ld, res);
	if (e == NULL || ldap_next_entry(s->ld, e) != NULL) {
		ad_reason_set(reason, "group \"%s\": %s", name, e ? "ambiguous" : "not found");
		ret = -AD_ERR_GROUP;
		goto done;
	}
	ret = ad_entry_sids(s->ld, e, "objectSid", &sids, &n);
	if (ret == 0 && n != 1)
		ret = -AD_ERR_PARSE;
	if (ret == 0 && (d = ldap_get_dn(s->ld, e)) == NULL)
		ret = -AD_ERR_PARSE;
	if (ret < 0)
		goto done;
	if (dn != NULL)
		ad_str_copy(dn, dnlen, d);
	if (sid != NULL)
		ad_str_copy(sid, sidlen, sids[0]);
done:
	ldap_memfree(d);
	ad_strv_free(sids, n);
	ldap_msgfree(res);
	return ret;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* The names of one batch of SIDs (one search), appended to v (at most max in all). */
static int
names_batch(struct ad_session *s, const char *filter, char **v, size_t *count, size_t max,
	    char *reason)
{
	char *attrs[] = {"sAMAccountName", NULL};
	LDAPMessage *res = NULL, *e;
	int ret =
	    ad_session_search(s, s->base, LDAP_SCOPE_SUBTREE, filter, attrs, NULL, &res, reason);

	for (e = ret == 0 ? ldap_first_entry(s->ld, res) : NULL; e && *count < max;
	     e = ldap_next_entry(s->ld, e))
		if ((v[*count] = ad_entry_str(s->ld, e, "sAMAccountName")) != NULL)
			(*count)++;
	ldap_msgfree(res);
	return ret;
}

int
ad_session_sid_names(struct ad_session *s, char *const *sids, size_t n, char ***names,
		     size_t *countp, char *reason)
{
	char filter[8192], **v = calloc(n + 1, sizeof(*v));
	size_t i, len = 0, count = 0;
	int ret = v ? 0 : -ENOMEM;

	/* (|(objectSid=...)...) with as many SIDs as fit: a search per batch */
	for (i = 0; ret == 0 && i <= n; i++) {
		bool usable = i < n && strncmp(sids[i], "S-1-", 4) == 0 && strlen(sids[i]) < 150;
		if (len > 0 && (i == n || len + 170 >= sizeof(filter))) {
			snprintf(filter + len, sizeof(filter) - len, ")");
			ret = names_batch(s, filter, v, &count, n, reason);
			len = 0;
		}
		if (usable)
			len += (size_t)snprintf(filter + len, sizeof(filter) - len,
						"%s(objectSid=%s)", len ? "" : "(|", sids[i]);
	}
	if (ret < 0) {
		ad_strv_free(v, count);
		return ret;
	}
	qsort(v, count, sizeof(*v), name_cmp);
	*names = v;
	*countp = count;
	return 0;
}

int
ad_session_member_set(struct ad_session *s, const char *group_dn, const char *member_dn, bool add,
		      char *reason)
{
	struct berval bv = {strlen(member_dn), (char *)member_dn}, *bvs[] = {&bv, NULL};
	LDAPMod mod = {.mod_op = (add ? LDAP_MOD_ADD : LDAP_MOD_DELETE) | LDAP_MOD_BVALUES,
		       .mod_type = "member",
		       .mod_vals.modv_bvals = bvs},
		*mods[] = {&mod, NULL};
	int lrc = ldap_modify_ext_s(s->ld, group_dn, mods, NULL, NULL);

	if (lrc == LDAP_SUCCESS)
		return 1;
	/* already a member; not a direct member (AD says unwilling for a missing value) */
	if (add ? lrc == LDAP_TYPE_OR_VALUE_EXISTS || lrc == LDAP_ALREADY_EXISTS
		: lrc == LDAP_NO_SUCH_ATTRIBUTE || lrc == LDAP_UNWILLING_TO_PERFORM)
		return 0;
	ad_reason_set(reason, "%s: changing the members of %s: %s", s->dc, group_dn,
		      ldap_err2string(lrc));
	return ad_ldap_err(lrc);
}

int
ad_session_proxies(struct ad_session *s, const char *dn, char ***proxiesp, size_t *countp,
		   char **mailp, char *reason)
{
	char *attrs[] = {"proxyAddresses", "mail", NULL}, **v = NULL;
	LDAPMessage *res = NULL, *e;
	struct berval **bv = NULL;
	size_t i, n = 0;
	int ret;

	ret =
	    ad_session_search(s, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, NULL, &res, reason);
	e = ret == 0 ? ldap_first_entry(s->ld, res) : NULL;
	if (ret == 0 && e == NULL) {
		ad_reason_set(reason, "%s: no such object", dn);
		ret = -AD_ERR_NOT_FOUND;
	}
	if (ret < 0)
		goto done;
	bv = ldap_get_values_len(s->ld, e, "proxyAddresses");
	n = (size_t)ldap_count_values_len(bv);
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++)
		if ((v[i] = strndup(bv[i]->bv_val, bv[i]->bv_len)) == NULL) {
			ret = -ENOMEM;
			goto done;
		}
	if (mailp != NULL)
		*mailp = ad_entry_str(s->ld, e, "mail");
	*proxiesp = v;
	*countp = n;
	v = NULL;
done:
	ad_strv_free(v, n);
	ldap_value_free_len(bv);
	ldap_msgfree(res);
	return ret;
}

int
ad_session_proxies_change(struct ad_session *s, const char *dn, char *const *del, size_t ndel,
			  const char *add, char *reason)
{
	char **dv = calloc(ndel + 1, sizeof(*dv)), *av[] = {(char *)add, NULL};
	LDAPMod mdel = {.mod_op = LDAP_MOD_DELETE, .mod_type = "proxyAddresses", .mod_values = dv};
	LDAPMod madd = {.mod_op = LDAP_MOD_ADD, .mod_type = "proxyAddresses", .mod_values = av};
	LDAPMod *mods[3] = {NULL, NULL, NULL};
	size_t i, m = 0;
	int ret;

	if (dv == NULL)
		return -ENOMEM;
	for (i = 0; i < ndel; i++)
		dv[i] = del[i];
	if (ndel > 0)
		mods[m++] = &mdel;
	if (add != NULL)
		mods[m++] = &madd;
	ret = m ? ad_session_modify(s, dn, mods, NULL, "proxyAddresses", reason) : 0;
	free(dv);
	return ret;
}

int
ad_session_has_spn(struct ad_session *s, const char *sam, const char *spn, char *reason)
{
	char esc[600], filter[800], *attrs[] = {"servicePrincipalName", NULL};
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	int ret, found = 0;

	if (ad_filter_escape(sam, esc, sizeof(esc)) < 0)
		return -EINVAL;
	snprintf(filter, sizeof(filter), "(&(objectClass=computer)(sAMAccountName=%s))", esc);
	ret = ad_session_search(s, s->base, LDAP_SCOPE_SUBTREE, filter, attrs, NULL, &res, reason);
	e = ret == 0 ? ldap_first_entry(s->ld, res) : NULL;
	if (ret == 0 && e == NULL) {
		ad_reason_set(reason, "no computer account %s in %s", sam, s->base);
		ret = -AD_ERR_NOT_FOUND;
	}
	if (ret == 0) {
		v = ldap_get_values_len(s->ld, e, "servicePrincipalName");
		for (size_t i = 0; v && v[i]; i++)
			if (v[i]->bv_len == strlen(spn) &&
			    strncasecmp(v[i]->bv_val, spn, v[i]->bv_len) == 0)
				found = 1;
		ret = found;
	}
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return ret;
}
