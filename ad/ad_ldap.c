/*
 * ad_ldap.c - user searches over a bound connection: one user by SIP URI,
 * sAMAccountName or userPrincipalName, tokenGroups, the Greenwich group, paged listing.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_conn.h"

#define USER_FILTER "(&(objectCategory=person)(objectClass=user)"
#define PAGE_SIZE 500
#define UF_LOCKOUT 0x10

static char *user_attrs[] = {
    "sAMAccountName", "userPrincipalName",  "displayName", "mail",           "proxyAddresses",
    "objectSid",      "userAccountControl", "lockoutTime", "accountExpires", NULL};
static char *token_attrs[] = {"tokenGroups", "msDS-User-Account-Control-Computed", NULL};
static char *sid_attrs[] = {"objectSid", NULL};

static int
search(struct ad_conn *conn, const char *base, int scope, const char *filter, char **attrs,
       LDAPControl **ctrls, LDAPMessage **resp, char *reason)
{
	int ms = conn->cfg->query_timeout_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	int lrc;

	*resp = NULL;
	lrc = ldap_search_ext_s(conn->ld, base, scope, filter, attrs, 0, ctrls, NULL, &tv, 0, resp);
	if (lrc == LDAP_SUCCESS || lrc == LDAP_NO_SUCH_OBJECT)
		return 0;
	ad_reason_set(reason, "%s: search %s: %s", conn->host, filter, ldap_err2string(lrc));
	ldap_msgfree(*resp);
	*resp = NULL;
	return ad_ldap_gone(lrc) ? -AD_ERR_UNAVAILABLE : -AD_ERR_LDAP;
}

static char *
attr_str(LDAP *ld, LDAPMessage *e, const char *name)
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
	char *s = attr_str(ld, e, name);
	int64_t v = s != NULL ? strtoll(s, NULL, 10) : dflt;

	free(s);
	return v;
}

/* Binary SIDs of @name as text. */
static int
attr_sids(LDAP *ld, LDAPMessage *e, const char *name, char ***sidsp, size_t *countp)
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

/* The attributes of a user entry (no tokenGroups yet). */
static int
entry_decode(LDAP *ld, LDAPMessage *e, struct ad_user **userp)
{
	struct ad_user *u = calloc(1, sizeof(*u));
	char **sid = NULL;
	size_t nsid = 0;
	int64_t expires;
	int ret = -ENOMEM;

	if (u == NULL)
		goto done;
	u->dn = ldap_get_dn(ld, e);
	u->sam = attr_str(ld, e, "sAMAccountName");
	if (u->dn == NULL || u->sam == NULL) {
		ret = -AD_ERR_PARSE;
		goto done;
	}
	u->upn = attr_str(ld, e, "userPrincipalName");
	u->display_name = attr_str(ld, e, "displayName");
	u->mail = attr_str(ld, e, "mail");
	ret = attr_sids(ld, e, "objectSid", &sid, &nsid);
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

/* tokenGroups and the computed lockout bit (base search), then the Greenwich flag. */
static int
user_complete(struct ad_conn *conn, struct ad_user *u, char *reason)
{
	LDAPMessage *res = NULL, *e;
	char group[200];
	int64_t computed;
	int ret;

	ret = search(conn, u->dn, LDAP_SCOPE_BASE, "(objectClass=*)", token_attrs, NULL, &res,
		     reason);
	if (ret < 0)
		goto done;
	e = ldap_first_entry(conn->ld, res);
	if (e == NULL) {
		ad_reason_set(reason, "%s vanished", u->dn);
		ret = -AD_ERR_NOT_FOUND;
		goto done;
	}
	ret = attr_sids(conn->ld, e, "tokenGroups", &u->group_sids, &u->group_count);
	if (ret < 0)
		goto done;
	computed = attr_int(conn->ld, e, "msDS-User-Account-Control-Computed", -1);
	if (computed >= 0)
		u->flags = (u->flags & ~(unsigned)AD_USER_LOCKED_OUT) |
			   ((computed & UF_LOCKOUT) ? AD_USER_LOCKED_OUT : 0);
	ret = ad_ctx_group_sid(conn->ctx, conn, group, sizeof(group), reason);
	if (ret < 0)
		goto done;
	if (u->sip_uri != NULL && (group[0] == '\0' || ad_user_has_sid(u, group)))
		u->flags |= AD_USER_SIP_ENABLED;
done:
	ldap_msgfree(res);
	return ret;
}

static int
query_filter(const struct ad_query *q, char *filter, size_t len)
{
	char v[700];
	int ret = ad_filter_escape(q->type == AD_QUERY_SIP_URI ? ad_uri_addr(q->value) : q->value,
				   v, sizeof(v));

	if (ret < 0)
		return -EINVAL;
	if (q->type == AD_QUERY_SIP_URI)
		snprintf(filter, len, USER_FILTER "(|(proxyAddresses=sip:%s)(mail=%s)))", v, v);
	else if (q->type == AD_QUERY_SAM)
		snprintf(filter, len, USER_FILTER "(sAMAccountName=%s))", v);
	else
		snprintf(filter, len, USER_FILTER "(userPrincipalName=%s))", v);
	return 0;
}

struct lookup_arg {
	const struct ad_query *query;
	struct ad_user *user;
};

/* The one entry of @res that matches; a SIP URI must be one of the user's own. */
static int
lookup_pick(struct ad_conn *conn, LDAPMessage *res, const struct ad_query *q,
	    struct ad_user **userp)
{
	struct ad_user *u = NULL, *found = NULL;
	LDAPMessage *e;
	int ret = 0;

	for (e = ldap_first_entry(conn->ld, res); e != NULL && ret == 0;
	     e = ldap_next_entry(conn->ld, e)) {
		ret = entry_decode(conn->ld, e, &u);
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

static int
lookup_op(struct ad_conn *conn, void *arg, char *reason)
{
	struct lookup_arg *la = arg;
	LDAPMessage *res = NULL;
	char filter[1600];
	int ret;

	ret = query_filter(la->query, filter, sizeof(filter));
	if (ret == 0)
		ret = search(conn, conn->cfg->base_dn, LDAP_SCOPE_SUBTREE, filter, user_attrs, NULL,
			     &res, reason);
	if (ret == 0)
		ret = lookup_pick(conn, res, la->query, &la->user);
	if (ret == 0)
		ret = user_complete(conn, la->user, reason);
	if (ret < 0) {
		if (ret == -AD_ERR_NOT_FOUND || ret == -AD_ERR_AMBIGUOUS)
			ad_reason_set(reason, "%s: %s", la->query->value, ad_strerror(ret));
		ad_user_free(la->user);
		la->user = NULL;
	}
	ldap_msgfree(res);
	return ret;
}

int
ad_conn_lookup(struct ad_conn *conn, const struct ad_query *query, struct ad_user **userp,
	       char *reason)
{
	struct lookup_arg la = {query, NULL};
	int ret = ad_conn_run(conn, lookup_op, &la, reason);

	if (ret == 0)
		*userp = la.user;
	return ret;
}

int
ad_ldap_group_sid(struct ad_conn *conn, const char *name, char *out, size_t outlen, char *reason)
{
	LDAPMessage *res = NULL, *e;
	char v[600], filter[1400], **sids = NULL;
	size_t n = 0;
	int ret = ad_filter_escape(name, v, sizeof(v));

	if (ret < 0)
		return -AD_ERR_CONFIG;
	snprintf(filter, sizeof(filter), "(&(objectClass=group)(|(sAMAccountName=%s)(cn=%s)))", v,
		 v);
	ret = search(conn, conn->cfg->base_dn, LDAP_SCOPE_SUBTREE, filter, sid_attrs, NULL, &res,
		     reason);
	if (ret < 0)
		goto done;
	e = ldap_first_entry(conn->ld, res);
	if (e == NULL || ldap_next_entry(conn->ld, e) != NULL) {
		ad_reason_set(reason, "group \"%s\": %s", name, e ? "ambiguous" : "not found");
		ret = -AD_ERR_GROUP;
		goto done;
	}
	ret = attr_sids(conn->ld, e, "objectSid", &sids, &n);
	if (ret == 0 && n == 1)
		snprintf(out, outlen, "%s", sids[0]);
	else if (ret == 0)
		ret = -AD_ERR_PARSE;
done:
	ad_strv_free(sids, n);
	ldap_msgfree(res);
	return ret;
}

struct list_arg {
	struct ad_user **users;
	size_t count, size;
};

static void
list_reset(struct list_arg *la)
{
	ad_user_list_free(la->users, la->count);
	memset(la, 0, sizeof(*la));
}

static int
list_append(struct list_arg *la, struct ad_user *u)
{
	struct ad_user **v;

	if (la->count == la->size) {
		la->size = la->size ? la->size * 2 : 64;
		v = realloc(la->users, la->size * sizeof(*v));
		if (v == NULL) {
			ad_user_free(u);
			return -ENOMEM;
		}
		la->users = v;
	}
	la->users[la->count++] = u;
	return 0;
}

static int
list_page_entries(struct ad_conn *conn, LDAPMessage *res, struct list_arg *la, char *reason)
{
	struct ad_user *u = NULL;
	LDAPMessage *e;
	int ret = 0;

	for (e = ldap_first_entry(conn->ld, res); e != NULL && ret == 0;
	     e = ldap_next_entry(conn->ld, e)) {
		ret = entry_decode(conn->ld, e, &u);
		if (ret == 0)
			ret = user_complete(conn, u, reason);
		if (ret == 0)
			ret = list_append(la, u);
		else
			ad_user_free(u);
		u = NULL;
	}
	return ret;
}

/* The cookie of the next page (NULL after the last one). */
static int
list_next_cookie(LDAP *ld, LDAPMessage *res, struct berval **cookiep, char *reason)
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

static int
list_op(struct ad_conn *conn, void *arg, char *reason)
{
	struct list_arg *la = arg;
	struct berval *cookie = NULL;
	LDAPControl *page = NULL, *ctrls[2] = {NULL, NULL};
	LDAPMessage *res = NULL;
	int ret = 0;

	list_reset(la);
	do {
		if (ldap_create_page_control(conn->ld, PAGE_SIZE, cookie, 0, &page) !=
		    LDAP_SUCCESS) {
			ret = -ENOMEM;
			break;
		}
		ctrls[0] = page;
		ret = search(conn, conn->cfg->base_dn, LDAP_SCOPE_SUBTREE, USER_FILTER ")",
			     user_attrs, ctrls, &res, reason);
		ldap_control_free(page);
		if (ret == 0)
			ret = list_page_entries(conn, res, la, reason);
		if (ret == 0)
			ret = list_next_cookie(conn->ld, res, &cookie, reason);
		ldap_msgfree(res);
		res = NULL;
	} while (ret == 0 && cookie != NULL);
	ber_bvfree(cookie);
	if (ret < 0)
		list_reset(la);
	return ret;
}

int
ad_conn_list(struct ad_conn *conn, struct ad_user ***usersp, size_t *countp, char *reason)
{
	struct list_arg la = {NULL, 0, 0};
	int ret = ad_conn_run(conn, list_op, &la, reason);

	if (ret == 0) {
		*usersp = la.users;
		*countp = la.count;
	}
	return ret;
}

void
ad_user_list_free(struct ad_user **users, size_t count)
{
	size_t i;

	for (i = 0; users != NULL && i < count; i++)
		ad_user_free(users[i]);
	free(users);
}

/* ---- ad_ldap_user_each(): the caller's own connection */

#define SIP_FILTER "(|(proxyAddresses=sip:*)(mail=*))"
#define IN_CHAIN "1.2.840.113556.1.4.1941"

struct each {
	LDAP *ld;
	const struct ad_list_opts *o;
	struct timeval tv;
	ad_user_each_fn *cb;
	void *arg;
	bool enabled; /* what this search's users are */
};

static bool
contains(const char *hay, const char *needle)
{
	return hay != NULL && strcasestr(hay, needle) != NULL;
}

/* The text filter on what the user shows: the LDAP filter only narrows it down. */
static bool
text_match(const struct ad_user *u, const char *text)
{
	size_t i;

	if (text == NULL || text[0] == '\0')
		return true;
	if (contains(u->sam, text) || contains(u->display_name, text) ||
	    contains(u->sip_uri, text))
		return true;
	for (i = 0; i < u->alias_count; i++)
		if (contains(u->aliases[i], text))
			return true;
	return false;
}

static int
each_entries(struct each *ea, LDAPMessage *res, char *reason)
{
	struct ad_user *u = NULL;
	LDAPMessage *e;
	int ret = 0;

	for (e = ldap_first_entry(ea->ld, res); e != NULL && ret == 0;
	     e = ldap_next_entry(ea->ld, e)) {
		ret = entry_decode(ea->ld, e, &u);
		if (ret < 0) {
			ad_reason_set(reason, "a user entry could not be read: %s",
				      ad_strerror(ret));
			break;
		}
		if (u->sip_uri == NULL || !text_match(u, ea->o->text)) {
			ad_user_free(u);
			continue;
		}
		if (ea->enabled)
			u->flags |= AD_USER_SIP_ENABLED;
		ret = ea->cb(u, ea->arg);
	}
	return ret;
}

/* One paged search, page after page. */
static int
each_search(struct each *ea, const char *filter, char *reason)
{
	struct berval *cookie = NULL;
	LDAPControl *page = NULL, *ctrls[2] = {NULL, NULL};
	LDAPMessage *res = NULL;
	int size = ea->o->page_size > 0 ? ea->o->page_size : PAGE_SIZE, lrc, ret = 0;

	do {
		if (ldap_create_page_control(ea->ld, size, cookie, 0, &page) != LDAP_SUCCESS) {
			ret = -ENOMEM;
			break;
		}
		ctrls[0] = page;
		lrc = ldap_search_ext_s(ea->ld, ea->o->base_dn, LDAP_SCOPE_SUBTREE, filter,
					user_attrs, 0, ctrls, NULL, &ea->tv, 0, &res);
		ldap_control_free(page);
		if (lrc != LDAP_SUCCESS) {
			ad_reason_set(reason, "listing users: %s", ldap_err2string(lrc));
			ret = ad_ldap_gone(lrc) ? -AD_ERR_UNAVAILABLE : -AD_ERR_LDAP;
		}
		if (ret == 0)
			ret = each_entries(ea, res, reason);
		if (ret == 0)
			ret = list_next_cookie(ea->ld, res, &cookie, reason);
		ldap_msgfree(res);
		res = NULL;
	} while (ret == 0 && cookie != NULL);
	ber_bvfree(cookie);
	return ret;
}

int
ad_ldap_user_each(struct ldap *ld, const struct ad_list_opts *o, ad_user_each_fn *cb, void *arg,
		  char *reason)
{
	char group[1200] = "", text[600] = "", tclause[2800] = "", filter[5000];
	struct each ea = {ld, o, {0, 0}, cb, arg, false};
	int ms = o->timeout_ms > 0 ? o->timeout_ms : 10000, ret = -EINVAL, pass;

	ea.tv.tv_sec = ms / 1000;
	ea.tv.tv_usec = (ms % 1000) * 1000;
	if (ld == NULL || o->base_dn == NULL || cb == NULL)
		goto done;
	if (o->group_dn != NULL && o->group_dn[0] != '\0' &&
	    ad_filter_escape(o->group_dn, group, sizeof(group)) < 0)
		goto done;
	if (o->text != NULL && o->text[0] != '\0') {
		if (ad_filter_escape(o->text, text, sizeof(text)) < 0)
			goto done;
		snprintf(tclause, sizeof(tclause),
			 "(|(sAMAccountName=*%s*)(displayName=*%s*)(proxyAddresses=*%s*)"
			 "(mail=*%s*))",
			 text, text, text, text);
	}
	ret = 0;
	/* pass 0: the enabled users (all with a SIP URI when there is no group), 1: the others */
	for (pass = 0; pass < 2 && ret == 0; pass++) {
		if ((pass == 0 && o->enabled < 0) || (pass == 1 && o->enabled > 0) ||
		    (pass == 1 && group[0] == '\0'))
			continue;
		ea.enabled = pass == 0;
		if (group[0] == '\0')
			snprintf(filter, sizeof(filter), USER_FILTER SIP_FILTER "%s)", tclause);
		else
			snprintf(filter, sizeof(filter),
				 USER_FILTER SIP_FILTER "%s(memberOf:" IN_CHAIN ":=%s)%s%s)",
				 pass ? "(!" : "", group, pass ? ")" : "", tclause);
		ret = each_search(&ea, filter, reason);
	}
done:
	if (ret == -EINVAL)
		ad_reason_set(reason, "listing users: bad arguments");
	return ret;
}
