/*
 * ad_entry.c - searching and reading user entries over a bound LDAP handle, for the
 * machine account's connections and a caller's sessions alike.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_entry.h"

#define USER_FILTER "(&(objectCategory=person)(objectClass=user)"
#define UF_LOCKOUT 0x10

char *ad_entry_user_attrs[] = {
    "sAMAccountName", "userPrincipalName",  "displayName", "mail",           "proxyAddresses",
    "objectSid",      "userAccountControl", "lockoutTime", "accountExpires", NULL};
static char *token_attrs[] = {"tokenGroups", "msDS-User-Account-Control-Computed", NULL};

bool
ad_ldap_gone(int lrc)
{
	return lrc == LDAP_SERVER_DOWN || lrc == LDAP_CONNECT_ERROR || lrc == LDAP_TIMEOUT ||
	       lrc == LDAP_UNAVAILABLE || lrc == LDAP_BUSY;
}

int
ad_ldap_err(int lrc)
{
	if (ad_ldap_gone(lrc))
		return -AD_ERR_UNAVAILABLE;
	if (lrc == LDAP_INSUFFICIENT_ACCESS || lrc == LDAP_STRONG_AUTH_REQUIRED)
		return -AD_ERR_DENIED;
	if (lrc == LDAP_NO_SUCH_OBJECT)
		return -AD_ERR_NOT_FOUND;
	return -AD_ERR_LDAP;
}

int
ad_ldap_search(LDAP *ld, const char *host, int timeout_ms, const char *base, int scope,
	       const char *filter, char **attrs, LDAPControl **ctrls, LDAPMessage **resp,
	       char *reason)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	int lrc;

	*resp = NULL;
	lrc = ldap_search_ext_s(ld, base, scope, filter, attrs, 0, ctrls, NULL, &tv, 0, resp);
	if (lrc == LDAP_SUCCESS || lrc == LDAP_NO_SUCH_OBJECT)
		return 0;
	ad_reason_set(reason, "%s: search %s: %s", host, filter, ldap_err2string(lrc));
	ldap_msgfree(*resp);
	*resp = NULL;
	return ad_ldap_gone(lrc) ? -AD_ERR_UNAVAILABLE : -AD_ERR_LDAP;
}

char *
ad_entry_str(LDAP *ld, LDAPMessage *e, const char *name)
{
	struct berval **v = ldap_get_values_len(ld, e, name);
	char *s = NULL;

	if (v != NULL && v[0] != NULL)
		s = strndup(v[0]->bv_val, v[0]->bv_len);
	ldap_value_free_len(v);
	return s;
}

static int64_t
attr_int(LDAP *ld, LDAPMessage *e, const char *name, int64_t dflt)
{
	char *s = ad_entry_str(ld, e, name);
	int64_t v = s != NULL ? strtoll(s, NULL, 10) : dflt;

	free(s);
	return v;
}

int
ad_entry_sids(LDAP *ld, LDAPMessage *e, const char *name, char ***sidsp, size_t *countp)
{
	struct berval **v = ldap_get_values_len(ld, e, name);
	size_t i, n = (size_t)ldap_count_values_len(v), count = 0;
	char **sids = calloc(n + 1, sizeof(*sids)), buf[200];
	int ret = -ENOMEM;

	if (sids == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		ret = ad_sid_to_str((unsigned char *)v[i]->bv_val, v[i]->bv_len, buf, sizeof(buf));
		if (ret < 0)
			goto done;
		sids[count] = strdup(buf);
		if (sids[count++] == NULL) {
			ret = -ENOMEM;
			goto done;
		}
	}
	*sidsp = sids;
	*countp = count;
	sids = NULL;
	ret = 0;
done:
	ad_strv_free(sids, count);
	ldap_value_free_len(v);
	return ret;
}

static int
entry_sip(LDAP *ld, LDAPMessage *e, struct ad_user *u)
{
	struct berval **v = ldap_get_values_len(ld, e, "proxyAddresses");
	size_t i, n = (size_t)ldap_count_values_len(v);
	char **proxies = calloc(n + 1, sizeof(*proxies));
	int ret = -ENOMEM;

	if (proxies == NULL)
		goto done;
	for (i = 0; i < n; i++)
		if ((proxies[i] = strndup(v[i]->bv_val, v[i]->bv_len)) == NULL)
			goto done;
	ret = ad_proxy_select((const char *const *)proxies, n, u->mail, &u->sip_uri, &u->aliases,
			      &u->alias_count);
done:
	ad_strv_free(proxies, n);
	ldap_value_free_len(v);
	return ret;
}

int
ad_entry_user(LDAP *ld, LDAPMessage *e, struct ad_user **userp)
{
	struct ad_user *u = calloc(1, sizeof(*u));
	char **sid = NULL;
	size_t nsid = 0;
	int64_t expires;
	int ret = -ENOMEM;

	if (u == NULL)
		goto done;
	u->dn = ldap_get_dn(ld, e);
	u->sam = ad_entry_str(ld, e, "sAMAccountName");
	if (u->dn == NULL || u->sam == NULL) {
		ret = -AD_ERR_PARSE;
		goto done;
	}
	u->upn = ad_entry_str(ld, e, "userPrincipalName");
	u->display_name = ad_entry_str(ld, e, "displayName");
	u->mail = ad_entry_str(ld, e, "mail");
	ret = ad_entry_sids(ld, e, "objectSid", &sid, &nsid);
	if (ret == 0 && nsid == 1) {
		u->sid = sid[0];
		sid[0] = NULL;
	} else if (ret == 0) {
		ret = -AD_ERR_PARSE;
	}
	if (ret == 0)
		ret = entry_sip(ld, e, u);
	if (ret < 0)
		goto done;
	u->uac = (uint32_t)attr_int(ld, e, "userAccountControl", 0);
	expires = attr_int(ld, e, "accountExpires", 0);
	u->account_expires = ad_filetime_to_unix(expires);
	u->flags =
	    ad_account_flags(u->uac, -1, attr_int(ld, e, "lockoutTime", 0), expires, time(NULL));
	*userp = u;
	u = NULL;
done:
	ad_strv_free(sid, nsid);
	ad_user_free(u);
	return ret;
}

int
ad_query_filter(const struct ad_query *q, char *filter, size_t len)
{
	const char *value = q->type == AD_QUERY_SIP_URI || q->type == AD_QUERY_ANY
				? gw_uri_addr(q->value)
				: q->value;
	char v[700];

	if (ad_filter_escape(value, v, sizeof(v)) < 0)
		return -EINVAL;
	if (q->type == AD_QUERY_SIP_URI)
		snprintf(filter, len, USER_FILTER "(|(proxyAddresses=sip:%s)(mail=%s)))", v, v);
	else if (q->type == AD_QUERY_SAM || (q->type == AD_QUERY_ANY && !strchr(value, '@')))
		snprintf(filter, len, USER_FILTER "(sAMAccountName=%s))", v);
	else if (q->type == AD_QUERY_UPN)
		snprintf(filter, len, USER_FILTER "(userPrincipalName=%s))", v);
	else
		snprintf(filter, len,
			 USER_FILTER "(|(userPrincipalName=%s)(mail=%s)(proxyAddresses=sip:%s)))",
			 v, v, v);
	return 0;
}

int
ad_query_pick(LDAP *ld, LDAPMessage *res, const struct ad_query *q, struct ad_user **userp)
{
	struct ad_user *u = NULL, *found = NULL;
	LDAPMessage *e;
	int ret = 0;

	for (e = ldap_first_entry(ld, res); e != NULL && ret == 0; e = ldap_next_entry(ld, e)) {
		ret = ad_entry_user(ld, e, &u);
		if (ret < 0)
			break;
		if (q->type == AD_QUERY_SIP_URI && !ad_user_has_uri(u, q->value)) {
			ad_user_free(u);
		} else if (found != NULL) {
			ad_user_free(u);
			ret = -AD_ERR_AMBIGUOUS;
		} else {
			found = u;
		}
		u = NULL;
	}
	if (ret == 0 && found == NULL)
		ret = -AD_ERR_NOT_FOUND;
	if (ret == 0) {
		*userp = found;
		found = NULL;
	}
	ad_user_free(found);
	return ret;
}

int
ad_user_tokens(LDAP *ld, const char *host, int timeout_ms, struct ad_user *u, char *reason)
{
	LDAPMessage *res = NULL, *e;
	int64_t computed;
	int ret;

	ret = ad_ldap_search(ld, host, timeout_ms, u->dn, LDAP_SCOPE_BASE, "(objectClass=*)",
			     token_attrs, NULL, &res, reason);
	if (ret < 0)
		goto done;
	e = ldap_first_entry(ld, res);
	if (e == NULL) {
		ad_reason_set(reason, "%s vanished", u->dn);
		ret = -AD_ERR_NOT_FOUND;
		goto done;
	}
	ret = ad_entry_sids(ld, e, "tokenGroups", &u->group_sids, &u->group_count);
	if (ret < 0)
		goto done;
	computed = attr_int(ld, e, "msDS-User-Account-Control-Computed", -1);
	if (computed >= 0)
		u->flags = (u->flags & ~(unsigned)AD_USER_LOCKED_OUT) |
			   ((computed & UF_LOCKOUT) ? AD_USER_LOCKED_OUT : 0);
done:
	ldap_msgfree(res);
	return ret;
}

int
ad_page_cookie(LDAP *ld, LDAPMessage *res, struct berval **cookiep, char *reason)
{
	LDAPControl **ctrls = NULL, *page;
	struct berval cookie = {0, NULL};
	ber_int_t total;
	int err = LDAP_SUCCESS, lrc, ret = 0;

	ber_bvfree(*cookiep);
	*cookiep = NULL;
	lrc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL, &ctrls, 0);
	if (lrc != LDAP_SUCCESS || err != LDAP_SUCCESS) {
		ad_reason_set(reason, "paged search: %s",
			      ldap_err2string(lrc != LDAP_SUCCESS ? lrc : err));
		ret = ad_ldap_gone(lrc) || ad_ldap_gone(err) ? -AD_ERR_UNAVAILABLE : -AD_ERR_LDAP;
		goto done;
	}
	page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
	if (page == NULL)
		goto done;
	if (ldap_parse_pageresponse_control(ld, page, &total, &cookie) != LDAP_SUCCESS) {
		ad_reason_set(reason, "paged search: bad page control");
		ret = -AD_ERR_LDAP;
		goto done;
	}
	if (cookie.bv_len > 0)
		*cookiep = ber_bvdup(&cookie);
	ber_memfree(cookie.bv_val);
done:
	ldap_controls_free(ctrls);
	return ret;
}
