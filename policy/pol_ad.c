/*
 * pol_ad.c - rules and federation settings in Active Directory (see gwpolicy_ad.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwad.h"
#include "gwpolicy_ad.h"
#include "pol_private.h"

#define FED_CN "CN=Federation"
#define POLICIES_CN "CN=Policies"

static void
reason_set(char *reason, const char *what, int lrc)
{
	if (reason)
		snprintf(reason, POL_AD_REASON_LEN, "%.160s: %s", what, ldap_err2string(lrc));
}

int
pol_ad_errno(int lrc)
{
	switch (lrc) {
	case LDAP_SUCCESS:
		return 0;
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return -EACCES;
	case LDAP_NO_SUCH_OBJECT:
		return -ENOENT;
	case LDAP_ALREADY_EXISTS:
		return -EEXIST;
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_TIMEOUT:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
		return -ENOTCONN;
	case LDAP_NO_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* A search; *res is set even on failure (free it). */
static int
search(LDAP *ld, const char *base, int scope, const char *filter, char **attrs, int limit,
       LDAPMessage **res, char *reason)
{
	int lrc =
	    ldap_search_ext_s(ld, base, scope, filter, attrs, 0, NULL, NULL, NULL, limit, res);

	if (lrc != LDAP_SUCCESS && lrc != LDAP_SIZELIMIT_EXCEEDED) {
		reason_set(reason, base[0] ? base : "rootDSE", lrc);
		return pol_ad_errno(lrc);
	}
	return 0;
}

static int
first_value(LDAP *ld, LDAPMessage *e, const char *attr, char *buf, size_t len)
{
	struct berval **v = e ? ldap_get_values_len(ld, e, attr) : NULL;
	int ret = -ENOENT;

	if (v && v[0] && v[0]->bv_len < len) {
		memcpy(buf, v[0]->bv_val, v[0]->bv_len);
		buf[v[0]->bv_len] = '\0';
		ret = 0;
	}
	ldap_value_free_len(v);
	return ret;
}

static int
rootdse_value(LDAP *ld, const char *attr, char *buf, size_t len, char *reason)
{
	char *attrs[] = {(char *)attr, NULL};
	LDAPMessage *res = NULL;
	int ret = search(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 1, &res, reason);

	if (ret == 0 && (ret = first_value(ld, ldap_first_entry(ld, res), attr, buf, len)) < 0 &&
	    reason)
		snprintf(reason, POL_AD_REASON_LEN, "the rootDSE has no %s", attr);
	ldap_msgfree(res);
	return ret;
}

int
pol_ad_container(LDAP *ld, char *dn, size_t len, char *reason)
{
	char conf[POL_AD_DN_MAX];
	int ret = rootdse_value(ld, "configurationNamingContext", conf, sizeof(conf), reason);

	if (ret == 0 && (size_t)snprintf(dn, len, "CN=Greenwich,CN=Services,%s", conf) >= len)
		ret = -ENAMETOOLONG;
	return ret;
}

int
pol_ad_usn(LDAP *ld, uint64_t *usn, char *reason)
{
	char buf[32];
	int ret = rootdse_value(ld, "highestCommittedUSN", buf, sizeof(buf), reason);

	if (ret == 0)
		*usn = strtoull(buf, NULL, 10);
	return ret;
}

/* Every rule object's text into one set: the set sorts them and checks names and numbers. */
static int
read_rules(LDAP *ld, const char *container, struct pol_set **setp, size_t *nobj, char *reason)
{
	char base[POL_AD_DN_MAX + 16], *attrs[] = {"msDS-Settings", "cn", NULL};
	LDAPMessage *res = NULL;
	struct pol_set *set = NULL;
	int ret;

	snprintf(base, sizeof(base), POLICIES_CN ",%s", container);
	ret = search(ld, base, LDAP_SCOPE_ONELEVEL, "(objectClass=msDS-App-Configuration)", attrs,
		     0, &res, reason);
	if (ret == -ENOENT) {
		ret = pol_set_alloc(setp);
		goto done;
	}
	if (ret < 0 || (ret = pol_set_alloc(&set)) < 0)
		goto done;
	for (LDAPMessage *e = ldap_first_entry(ld, res); e && ret == 0;
	     e = ldap_next_entry(ld, e)) {
		struct berval **v = ldap_get_values_len(ld, e, "msDS-Settings");
		struct pol_rule *rule = NULL;
		struct pol_error perr = {0};
		char cn[128] = "?";

		first_value(ld, e, "cn", cn, sizeof(cn));
		ret =
		    v && v[0] ? pol_rule_parse(v[0]->bv_val, v[0]->bv_len, &rule, &perr) : -EINVAL;
		if (ret == 0 && (ret = pol_set_add(set, rule, &perr)) < 0)
			pol_rule_free(rule);
		if (ret < 0 && reason)
			snprintf(reason, POL_AD_REASON_LEN, "rule object %.64s: %.170s", cn,
				 perr.msg[0] ? perr.msg : "no rule text");
		ldap_value_free_len(v);
		(*nobj)++;
	}
	if (ret == 0) {
		*setp = set;
		set = NULL;
	}
done:
	pol_set_free(set);
	ldap_msgfree(res);
	return ret;
}

static int
read_fed(LDAP *ld, const char *container, struct pol_fed *fed, char *reason)
{
	char base[POL_AD_DN_MAX + 16], *attrs[] = {"msDS-Settings", NULL};
	LDAPMessage *res = NULL;
	struct berval **v = NULL;
	int ret;

	snprintf(base, sizeof(base), FED_CN ",%s", container);
	ret = search(ld, base, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 1, &res, reason);
	if (ret == -ENOENT) {
		ret = 0;
		goto done;
	}
	if (ret < 0)
		goto done;
	v = ldap_get_values_len(ld, ldap_first_entry(ld, res), "msDS-Settings");
	for (size_t i = 0; v && v[i] && ret == 0; i++) {
		struct pol_fed_entry en;
		/* a value this version does not understand is skipped, not fatal */
		if (pol_fed_parse_value(v[i]->bv_val, v[i]->bv_len, &en) == 0)
			ret = pol_fed_set(fed, en.domain, en.allow);
	}
done:
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return ret;
}

int
pol_ad_load(LDAP *ld, const char *container, struct pol_set **set, struct pol_fed *fed,
	    char *reason)
{
	size_t nobj = 0;
	int ret;

	*set = NULL;
	fed->v = NULL;
	fed->n = 0;
	ret = read_rules(ld, container, set, &nobj, reason);
	if (ret == 0)
		ret = read_fed(ld, container, fed, reason);
	if (ret < 0) {
		pol_set_free(*set);
		*set = NULL;
		pol_fed_clear(fed);
	}
	return ret;
}

static int
add_object(LDAP *ld, const char *dn, const char *oclass, const char *settings, char *reason)
{
	char *oc[] = {(char *)oclass, NULL}, *st[] = {(char *)settings, NULL};
	LDAPMod moc = {LDAP_MOD_ADD, "objectClass", {.modv_strvals = oc}};
	LDAPMod mst = {LDAP_MOD_ADD, "msDS-Settings", {.modv_strvals = st}};
	LDAPMod *mods[] = {&moc, settings ? &mst : NULL, NULL};
	int lrc = ldap_add_ext_s(ld, dn, mods, NULL, NULL);

	if (lrc != LDAP_SUCCESS)
		reason_set(reason, dn, lrc);
	return pol_ad_errno(lrc);
}

static bool
exists(LDAP *ld, const char *dn)
{
	char *attrs[] = {"1.1", NULL};
	LDAPMessage *res = NULL;
	int lrc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
				    NULL, NULL, 1, &res);

	ldap_msgfree(res);
	return lrc == LDAP_SUCCESS;
}

/* Nothing is added when the Policies container is there: a delegated administrator may
 * write below the containers but not create them, and AD refuses an add under CN=Services
 * for lack of rights before it says the object exists. */
int
pol_ad_prepare(LDAP *ld, const char *container, char *reason)
{
	char dn[POL_AD_DN_MAX + 16];
	int ret;

	snprintf(dn, sizeof(dn), POLICIES_CN ",%s", container);
	if (exists(ld, dn))
		return 0;
	ret = add_object(ld, container, "container", NULL, reason);
	if (ret == -EEXIST)
		ret = 0;
	if (ret == 0 && (ret = add_object(ld, dn, "container", NULL, reason)) == -EEXIST)
		ret = 0;
	return ret;
}

static int
modify_values(LDAP *ld, const char *dn, int op, const char *value, char *reason)
{
	char *vals[] = {(char *)value, NULL};
	LDAPMod m = {op, "msDS-Settings", {.modv_strvals = vals}};
	LDAPMod *mods[] = {&m, NULL};
	int lrc = ldap_modify_ext_s(ld, dn, mods, NULL, NULL);

	if (lrc != LDAP_SUCCESS)
		reason_set(reason, dn, lrc);
	return lrc == LDAP_NO_SUCH_ATTRIBUTE ? -ENOENT : pol_ad_errno(lrc);
}

int
pol_ad_rule_put(LDAP *ld, const char *container, const struct pol_rule *rule, bool create,
		char *reason)
{
	char dn[POL_AD_DN_MAX + 100], *text = NULL;
	int ret = pol_rule_text(rule, &text);

	if (ret < 0)
		return ret;
	snprintf(dn, sizeof(dn), "CN=%s," POLICIES_CN ",%s", pol_rule_name(rule), container);
	if (create)
		ret = add_object(ld, dn, "msDS-App-Configuration", text, reason);
	else
		ret = modify_values(ld, dn, LDAP_MOD_REPLACE, text, reason);
	free(text);
	return ret;
}

int
pol_ad_rule_delete(LDAP *ld, const char *container, const char *name, char *reason)
{
	char dn[POL_AD_DN_MAX + 100];
	int lrc;

	snprintf(dn, sizeof(dn), "CN=%s," POLICIES_CN ",%s", name, container);
	lrc = ldap_delete_ext_s(ld, dn, NULL, NULL);
	if (lrc != LDAP_SUCCESS)
		reason_set(reason, dn, lrc);
	return pol_ad_errno(lrc);
}

int
pol_ad_fed_change(LDAP *ld, const char *container, const char *domain, int allow, char *reason)
{
	char dn[POL_AD_DN_MAX + 16], value[300];
	struct pol_fed fed = {0};
	const struct pol_fed_entry *old;
	int ret;

	snprintf(dn, sizeof(dn), FED_CN ",%s", container);
	if ((ret = read_fed(ld, container, &fed, reason)) < 0)
		goto done;
	if ((old = pol_fed_find(&fed, domain)) != NULL) {
		snprintf(value, sizeof(value), "%s %s", old->allow ? "allow" : "block",
			 old->domain);
		if ((ret = modify_values(ld, dn, LDAP_MOD_DELETE, value, reason)) < 0)
			goto done;
	} else if (allow < 0) {
		ret = -ENOENT;
		goto done;
	}
	if (allow < 0)
		goto done;
	snprintf(value, sizeof(value), "%s %s", allow ? "allow" : "block", domain);
	for (char *p = value; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	ret = modify_values(ld, dn, LDAP_MOD_ADD, value, reason);
	if (ret == -ENOENT || ret == -EIO) /* no Federation object yet */
		ret = add_object(ld, dn, "msDS-App-Configuration", value, reason);
done:
	pol_fed_clear(&fed);
	return ret;
}

int
pol_ad_fed_values(LDAP *ld, const char *container, char ***valsp, size_t *np, char *reason)
{
	char dn[POL_AD_DN_MAX + 16], *attrs[] = {"msDS-Settings", NULL}, **vals = NULL;
	LDAPMessage *res = NULL;
	struct berval **v = NULL;
	size_t i, n = 0;
	int ret;

	*valsp = NULL;
	*np = 0;
	snprintf(dn, sizeof(dn), FED_CN ",%s", container);
	ret = search(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 1, &res, reason);
	if (ret == -ENOENT)
		ret = 0;
	else if (ret == 0 && ldap_first_entry(ld, res) != NULL)
		v = ldap_get_values_len(ld, ldap_first_entry(ld, res), "msDS-Settings");
	n = (size_t)ldap_count_values_len(v);
	if (ret == 0 && (vals = calloc(n + 1, sizeof(*vals))) == NULL)
		ret = -ENOMEM;
	for (i = 0; ret == 0 && i < n; i++)
		if ((vals[i] = strndup(v[i]->bv_val, v[i]->bv_len)) == NULL)
			ret = -ENOMEM;
	if (ret == 0) {
		*valsp = vals;
		*np = n;
	} else if (vals != NULL) {
		for (i = 0; i < n; i++)
			free(vals[i]);
		free(vals);
	}
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return ret;
}

int
pol_ad_fed_delete_value(LDAP *ld, const char *container, const char *value, char *reason)
{
	char dn[POL_AD_DN_MAX + 16];

	snprintf(dn, sizeof(dn), FED_CN ",%s", container);
	return modify_values(ld, dn, LDAP_MOD_DELETE, value, reason);
}

static int
group_attr(LDAP *ld, const char *base, const char *filter, const char *attr, char *out, size_t len,
	   char *reason)
{
	char *attrs[] = {(char *)attr, NULL};
	LDAPMessage *res = NULL;
	LDAPMessage *e;
	int ret = search(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 2, &res, reason);

	if (ret < 0)
		goto done;
	e = ldap_first_entry(ld, res);
	if (e == NULL) {
		ret = -ENOENT;
	} else if (ldap_next_entry(ld, e) != NULL) {
		ret = -EINVAL;
		if (reason)
			snprintf(reason, POL_AD_REASON_LEN, "more than one group matches %s",
				 filter);
	} else if (strcmp(attr, "objectSid") == 0) {
		struct berval **v = ldap_get_values_len(ld, e, attr);
		if (v == NULL || v[0] == NULL)
			ret = -ENOENT;
		else if (ad_sid_to_str((unsigned char *)v[0]->bv_val, v[0]->bv_len, out, len) < 0)
			ret = -EINVAL;
		else
			ret = 0;
		ldap_value_free_len(v);
	} else {
		ret = first_value(ld, e, attr, out, len);
	}
done:
	ldap_msgfree(res);
	return ret;
}

int
pol_ad_group_sid(LDAP *ld, const char *base, const char *name, char *sid, size_t len, char *reason)
{
	char esc[300], filter[700];

	if (ad_filter_escape(name, esc, sizeof(esc)) < 0)
		return -EINVAL;
	snprintf(filter, sizeof(filter), "(&(objectClass=group)(|(sAMAccountName=%s)(cn=%s)))", esc,
		 esc);
	return group_attr(ld, base, filter, "objectSid", sid, len, reason);
}

int
pol_ad_group_name(LDAP *ld, const char *base, const char *sid, char *name, size_t len, char *reason)
{
	char filter[300];

	if (!pol_sid_valid(sid))
		return -EINVAL;
	snprintf(filter, sizeof(filter), "(objectSid=%s)", sid);
	return group_attr(ld, base, filter, "sAMAccountName", name, len, reason);
}

/* "sip:" values of proxyAddresses (any case), else mail. */
static void
member_addresses(LDAP *ld, LDAPMessage *e, pol_member_fn *fn, void *arg)
{
	struct berval **v = ldap_get_values_len(ld, e, "proxyAddresses");
	char aor[300];
	size_t found = 0;

	for (size_t i = 0; v && v[i]; i++) {
		if (v[i]->bv_len <= 4 || v[i]->bv_len - 4 >= sizeof(aor) ||
		    strncasecmp(v[i]->bv_val, "sip:", 4) != 0)
			continue;
		memcpy(aor, v[i]->bv_val + 4, v[i]->bv_len - 4);
		aor[v[i]->bv_len - 4] = '\0';
		for (char *p = aor; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		fn(aor, arg);
		found++;
	}
	ldap_value_free_len(v);
	if (found == 0 && first_value(ld, e, "mail", aor, sizeof(aor)) == 0) {
		for (char *p = aor; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		fn(aor, arg);
	}
}

/* The users whose primary group (primaryGroupID, e.g. Domain Users) is the group named by the
 * entry e's objectSid; memberOf never lists a primary group.  Groups of other domains are
 * skipped: primaryGroupID is a RID of the user's own domain. */
static int
primary_members(LDAP *ld, const char *base, LDAPMessage *e, pol_member_fn *fn, void *arg,
		char *reason)
{
	char *attrs[] = {"proxyAddresses", "mail", NULL};
	struct berval **v = ldap_get_values_len(ld, e, "objectSid");
	char *dn = ldap_get_dn(ld, e), filter[100];
	size_t dl = dn ? strlen(dn) : 0, bl = strlen(base);
	LDAPMessage *res = NULL;
	int ret = 0;

	if (v == NULL || v[0] == NULL || v[0]->bv_len < 12 || dl <= bl ||
	    strcasecmp(dn + dl - bl, base) != 0 || dn[dl - bl - 1] != ',')
		goto done;
	const unsigned char *r = (const unsigned char *)v[0]->bv_val + v[0]->bv_len - 4;
	snprintf(filter, sizeof(filter), "(&(objectCategory=person)(primaryGroupID=%" PRIu32 "))",
		 (uint32_t)r[0] | (uint32_t)r[1] << 8 | (uint32_t)r[2] << 16 |
		     (uint32_t)r[3] << 24);
	ret = search(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, &res, reason);
	for (LDAPMessage *u = ret == 0 ? ldap_first_entry(ld, res) : NULL; u;
	     u = ldap_next_entry(ld, u))
		member_addresses(ld, u, fn, arg);
	ldap_msgfree(res);
done:
	ldap_value_free_len(v);
	ldap_memfree(dn);
	return ret;
}

/* The group and every group nested in it, each with the users it is the primary group of. */
static int
primary_members_nested(LDAP *ld, const char *base, const char *esc_sid_filter, const char *esc_dn,
		       pol_member_fn *fn, void *arg, char *reason)
{
	char *attrs[] = {"objectSid", NULL};
	char filter[POL_AD_DN_MAX * 3 + 400];
	LDAPMessage *res = NULL;
	int ret;

	snprintf(filter, sizeof(filter),
		 "(&(objectCategory=group)(|%s(memberOf:1.2.840.113556.1.4.1941:=%s)))",
		 esc_sid_filter, esc_dn);
	ret = search(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, &res, reason);
	for (LDAPMessage *e = ret == 0 ? ldap_first_entry(ld, res) : NULL; e && ret == 0;
	     e = ldap_next_entry(ld, e))
		ret = primary_members(ld, base, e, fn, arg, reason);
	ldap_msgfree(res);
	return ret;
}

int
pol_ad_group_members(LDAP *ld, const char *base, const char *sid, pol_member_fn *fn, void *arg,
		     char *reason)
{
	char *attrs[] = {"proxyAddresses", "mail", NULL};
	char gdn[POL_AD_DN_MAX], filter[POL_AD_DN_MAX * 3 + 100], esc[POL_AD_DN_MAX * 3];
	char sidf[200];
	LDAPMessage *res = NULL;
	int ret = 0;

	snprintf(sidf, sizeof(sidf), "(objectSid=%s)", sid);
	if (!pol_sid_valid(sid) ||
	    (ret = group_attr(ld, base, sidf, "distinguishedName", gdn, sizeof(gdn), reason)) < 0)
		return ret < 0 ? ret : -EINVAL;
	if (ad_filter_escape(gdn, esc, sizeof(esc)) < 0)
		return -ENAMETOOLONG;
	snprintf(filter, sizeof(filter),
		 "(&(objectCategory=person)(memberOf:1.2.840.113556.1.4.1941:=%s))", esc);
	ret = search(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, &res, reason);
	for (LDAPMessage *e = ret == 0 ? ldap_first_entry(ld, res) : NULL; e;
	     e = ldap_next_entry(ld, e))
		member_addresses(ld, e, fn, arg);
	ldap_msgfree(res);
	if (ret == 0)
		ret = primary_members_nested(ld, base, sidf, esc, fn, arg, reason);
	return ret;
}
