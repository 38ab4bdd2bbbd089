/*
 * ad_ldap.c - user searches over the machine account's connection: one user by SIP URI,
 * sAMAccountName, userPrincipalName or any of them, tokenGroups, the Greenwich group,
 * paged listing; and ad_ldap_user_each() over a connection the caller bound.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_conn.h"

#define USER_FILTER "(&(objectCategory=person)(objectClass=user)"
#define PAGE_SIZE 500

static char *sid_attrs[] = {"objectSid", NULL};

static int
search(struct ad_conn *conn, const char *base, int scope, const char *filter, char **attrs,
       LDAPControl **ctrls, LDAPMessage **resp, char *reason)
{
	return ad_ldap_search(conn->ld, conn->host, conn->cfg->query_timeout_ms, base, scope,
			      filter, attrs, ctrls, resp, reason);
}

/* tokenGroups and the computed lockout bit, then the Greenwich flag. */
static int
user_complete(struct ad_conn *conn, struct ad_user *u, char *reason)
{
	char group[200];
	int ret = ad_user_tokens(conn->ld, conn->host, conn->cfg->query_timeout_ms, u, reason);

	if (ret == 0)
		ret = ad_ctx_group_sid(conn->ctx, conn, group, sizeof(group), reason);
	if (ret == 0 && u->sip_uri != NULL && (group[0] == '\0' || ad_user_has_sid(u, group)))
		u->flags |= AD_USER_SIP_ENABLED;
	return ret;
}

struct lookup_arg {
	const struct ad_query *query;
	struct ad_user *user;
};

static int
lookup_op(struct ad_conn *conn, void *arg, char *reason)
{
	struct lookup_arg *la = arg;
	LDAPMessage *res = NULL;
	char filter[1600];
	int ret;

	ret = ad_query_filter(la->query, filter, sizeof(filter));
	if (ret == 0)
		ret = search(conn, conn->cfg->base_dn, LDAP_SCOPE_SUBTREE, filter,
			     ad_entry_user_attrs, NULL, &res, reason);
	if (ret == 0)
		ret = ad_query_pick(conn->ld, res, la->query, &la->user);
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
	ret = ad_entry_sids(conn->ld, e, "objectSid", &sids, &n);
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
		ret = ad_entry_user(conn->ld, e, &u);
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
			     ad_entry_user_attrs, ctrls, &res, reason);
		ldap_control_free(page);
		if (ret == 0)
			ret = list_page_entries(conn, res, la, reason);
		if (ret == 0)
			ret = ad_page_cookie(conn->ld, res, &cookie, reason);
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
	if (contains(u->sam, text) || contains(u->display_name, text) || contains(u->sip_uri, text))
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
		ret = ad_entry_user(ea->ld, e, &u);
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
					ad_entry_user_attrs, 0, ctrls, NULL, &ea->tv, 0, &res);
		ldap_control_free(page);
		if (lrc != LDAP_SUCCESS) {
			ad_reason_set(reason, "listing users: %s", ldap_err2string(lrc));
			ret = ad_ldap_gone(lrc) ? -AD_ERR_UNAVAILABLE : -AD_ERR_LDAP;
		}
		if (ret == 0)
			ret = each_entries(ea, res, reason);
		if (ret == 0)
			ret = ad_page_cookie(ea->ld, res, &cookie, reason);
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
