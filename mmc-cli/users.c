/*
 * users.c - `users list|show|enable|disable|set-uri`: directory users in AD, with the
 * admin's own Kerberos ticket (SASL/GSSAPI bind as the person running the command, so
 * AD decides what they may change).
 *
 * A user's SIP URI is the "SIP:" proxyAddresses value (other "sip:" values are
 * aliases), else sip:<mail>.  Enabled for Greenwich = member, also through nested
 * groups, of [domain] enabled-group (everyone with a SIP URI when it is empty).
 * `users list` is libgwad's paged listing (ad_ldap_user_each()) over the same connection.
 * `users show` adds, when greenwichd answers on its control socket, the user's
 * signed-in devices and composed presence.
 */
#include "config.h"

#include <errno.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ad_private.h"
#include "krb.h"
#include "mmc.h"
#include "users.h"

#define USER_FILTER "(&(objectCategory=person)(objectClass=user)"
#define IN_CHAIN "1.2.840.113556.1.4.1941"

static char *user_attrs[] = {"sAMAccountName", "proxyAddresses", "mail", "userAccountControl",
			     NULL};

const char *
mmc_uri_source(const char *const *proxies, size_t n, bool has_uri)
{
	const char *src = has_uri ? "mail" : "none";

	for (size_t i = 0; i < n; i++)
		if (!strncmp(proxies[i], "SIP:", 4) && proxies[i][4])
			return "proxyAddresses";
		else if (!strncasecmp(proxies[i], "sip:", 4) && proxies[i][4])
			src = "alias";
	return src;
}

static void
ud_close(struct ud *u)
{
	mmc_ldap_close(u->l);
	u->l = NULL;
	u->ld = NULL;
}

/* The enabled group's DN into u->group_dn ("" when none is configured). */
static int
group_find(struct ud *u, const char *g)
{
	char esc[600], filter[1400];
	LDAPMessage *res = NULL, *e;
	char *attrs[] = {"cn", NULL}, *dn;
	bool sid = strncmp(g, "S-1-", 4) == 0;

	u->group_dn[0] = '\0';
	if (g[0] == '\0')
		return MMC_EXIT_OK;
	if (ad_filter_escape(g, esc, sizeof(esc)) < 0)
		return mmc_fail(MMC_EXIT_USAGE, "enabled-group too long");
	if (sid)
		snprintf(filter, sizeof(filter), "(&(objectClass=group)(objectSid=%s))", esc);
	else
		snprintf(filter, sizeof(filter),
			 "(&(objectClass=group)(|(cn=%s)(sAMAccountName=%s)))", esc, esc);
	int rc = ldap_search_ext_s(u->ld, u->base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL,
				   NULL, 2, &res);
	e = rc == LDAP_SUCCESS ? ldap_first_entry(u->ld, res) : NULL;
	dn = e ? ldap_get_dn(u->ld, e) : NULL;
	if (dn)
		snprintf(u->group_dn, sizeof(u->group_dn), "%s", dn);
	ldap_memfree(dn);
	ldap_msgfree(res);
	if (u->group_dn[0] == '\0')
		return mmc_fail(
		    MMC_EXIT_NOTFOUND, "%s'%s' is not a group in %s",
		    g == u->m->conf->domain_enabled_group ? "the enabled-group of [domain] " : "",
		    g, u->m->conf->domain_name);
	return MMC_EXIT_OK;
}

/* Checks, DC, anonymous rootDSE, GSSAPI bind with the caller's ticket, the group. */
static int
ud_open_group(struct mmc *m, struct ud *u, const char *group)
{
	char realm[256], dc[256], err[600];
	time_t dc_time;

	memset(u, 0, sizeof(*u));
	u->m = m;
	if (m->conf->domain_name[0] == '\0')
		return mmc_fail(MMC_EXIT_FAIL, "this server is not joined to a domain: run "
					       "`greenwich-mmc domain join --domain DOMAIN` first");
	mmc_domain_realm(m->conf, realm, sizeof(realm));
	if (!mmc_krb_have_ticket(u->princ, sizeof(u->princ)))
		return mmc_fail(MMC_EXIT_AUTH,
				"no Kerberos ticket: run `kinit YOUR-ADMIN-ACCOUNT@%s` first "
				"(users commands act with your own rights)",
				realm);
	if (mmc_dc_find(m->conf, dc, sizeof(dc)) < 0)
		return mmc_fail(MMC_EXIT_UNREACHABLE, "no domain controller of %s found (DNS SRV)",
				m->conf->domain_name);
	if (mmc_ldap_open(dc, &u->l, err, sizeof(err)) < 0)
		return mmc_fail(MMC_EXIT_UNREACHABLE, "%s", err);
	u->ld = mmc_ldap_handle(u->l);
	if (mmc_ldap_rootdse(u->l, &dc_time, u->base, sizeof(u->base), err, sizeof(err)) < 0) {
		ud_close(u);
		return mmc_fail(MMC_EXIT_UNREACHABLE, "domain controller %s unreachable: %s", dc,
				err);
	}
	if (mmc_ldap_gssapi(u->l, getenv("KRB5CCNAME"), err, sizeof(err)) < 0) {
		ud_close(u);
		return mmc_fail(MMC_EXIT_AUTH, "%s refused the ticket of %s: %s", dc, u->princ,
				err);
	}
	int ret = group_find(u, group);
	if (ret != MMC_EXIT_OK)
		ud_close(u);
	return ret;
}

static int
ud_open(struct mmc *m, struct ud *u)
{
	return ud_open_group(m, u, m->conf->domain_enabled_group);
}

int
mmc_users_group_check(struct mmc *m, const char *group)
{
	struct ud u;
	int ret = ud_open_group(m, &u, group);

	if (ret == MMC_EXIT_OK)
		ud_close(&u);
	return ret;
}

static char **
values(LDAP *ld, LDAPMessage *e, const char *attr, size_t *np)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	size_t n = ldap_count_values_len(v);
	char **out = calloc(n + 1, sizeof(*out));

	for (size_t i = 0; out && i < n; i++)
		out[i] = strndup(v[i]->bv_val, v[i]->bv_len);
	ldap_value_free_len(v);
	*np = out ? n : 0;
	return out;
}

void
mmc_dir_user_free(struct mmc_dir_user *du)
{
	free(du->sam);
	free(du->dn);
	free(du->sip_uri);
	ad_strv_free(du->aliases, du->naliases);
	ad_strv_free(du->proxies, du->nproxies);
	memset(du, 0, sizeof(*du));
}

/* Decode one user entry. */
static void
user_read(struct ud *u, LDAPMessage *e, struct mmc_dir_user *du)
{
	size_t n;
	char **sam = values(u->ld, e, "sAMAccountName", &n), **mail, **uac;
	char *dn = ldap_get_dn(u->ld, e);

	memset(du, 0, sizeof(*du));
	du->sam = n ? strdup(sam[0]) : strdup("?");
	du->dn = strdup(dn ? dn : "");
	ldap_memfree(dn);
	ad_strv_free(sam, n);
	du->proxies = values(u->ld, e, "proxyAddresses", &du->nproxies);
	mail = values(u->ld, e, "mail", &n);
	if (ad_proxy_select((const char *const *)du->proxies, du->nproxies, n ? mail[0] : NULL,
			    &du->sip_uri, &du->aliases, &du->naliases) < 0)
		du->sip_uri = NULL;
	ad_strv_free(mail, n);
	uac = values(u->ld, e, "userAccountControl", &n);
	du->disabled = n && (strtoul(uac[0], NULL, 10) & 2);
	ad_strv_free(uac, n);
}

/* Is dn a member of the enabled group, directly or through nested groups? */
static bool
enabled(struct ud *u, const struct mmc_dir_user *du)
{
	char esc[1200], filter[1400];
	LDAPMessage *res = NULL;
	char *attrs[] = {"1.1", NULL};
	bool yes;

	if (u->group_dn[0] == '\0')
		return du->sip_uri != NULL;
	if (ad_filter_escape(u->group_dn, esc, sizeof(esc)) < 0)
		return false;
	snprintf(filter, sizeof(filter), "(memberOf:" IN_CHAIN ":=%s)", esc);
	yes = ldap_search_ext_s(u->ld, du->dn, LDAP_SCOPE_BASE, filter, attrs, 0, NULL, NULL, NULL,
				1, &res) == LDAP_SUCCESS &&
	      ldap_count_entries(u->ld, res) == 1;
	ldap_msgfree(res);
	return yes;
}

/* The user named by who: sAMAccountName, or user@domain (UPN, mail, SIP address). */
static int
user_find(struct ud *u, const char *who, struct mmc_dir_user *du)
{
	char esc[600], filter[2000];
	LDAPMessage *res = NULL, *e;
	const char *a = strncasecmp(who, "sip:", 4) == 0 ? who + 4 : who;
	int rc;

	if (ad_filter_escape(a, esc, sizeof(esc)) < 0)
		return mmc_fail(MMC_EXIT_USAGE, "user name too long");
	if (strchr(a, '@'))
		snprintf(filter, sizeof(filter),
			 USER_FILTER "(|(userPrincipalName=%s)(mail=%s)(proxyAddresses=sip:%s)))",
			 esc, esc, esc);
	else
		snprintf(filter, sizeof(filter), USER_FILTER "(sAMAccountName=%s))", esc);
	rc = ldap_search_ext_s(u->ld, u->base, LDAP_SCOPE_SUBTREE, filter, user_attrs, 0, NULL,
			       NULL, NULL, 2, &res);
	e = rc == LDAP_SUCCESS ? ldap_first_entry(u->ld, res) : NULL;
	if (e)
		user_read(u, e, du);
	ldap_msgfree(res);
	if (rc != LDAP_SUCCESS)
		return mmc_fail(MMC_EXIT_FAIL, "searching for %s: %s", who, ldap_err2string(rc));
	if (e == NULL)
		return mmc_fail(MMC_EXIT_NOTFOUND, "no user %s in %s", who,
				u->m->conf->domain_name);
	return MMC_EXIT_OK;
}

static int
user_cmp(const void *a, const void *b)
{
	const struct mmc_dir_user *x = a, *y = b;
	return strcasecmp(x->sam, y->sam);
}

struct listing {
	struct mmc_dir_user *v;
	size_t n, size;
};

/* ad_ldap_user_each()'s callback: keep what the table shows. */
static int
list_one(struct ad_user *au, void *arg)
{
	struct listing *l = arg;
	struct mmc_dir_user *du;
	int ret = -ENOMEM;

	if (l->n == l->size) {
		size_t size = l->size ? l->size * 2 : 64;
		struct mmc_dir_user *v = realloc(l->v, size * sizeof(*v));
		if (v == NULL)
			goto done;
		l->v = v;
		l->size = size;
	}
	du = &l->v[l->n++];
	memset(du, 0, sizeof(*du));
	du->sam = au->sam;
	du->dn = au->dn;
	du->sip_uri = au->sip_uri;
	du->aliases = au->aliases;
	du->naliases = au->alias_count;
	au->sam = au->dn = au->sip_uri = NULL;
	au->aliases = NULL;
	au->alias_count = 0;
	du->disabled = (au->flags & AD_USER_DISABLED) != 0;
	du->enabled = (au->flags & AD_USER_SIP_ENABLED) != 0;
	ret = 0;
done:
	ad_user_free(au);
	return ret;
}

/* One paged search through libgwad (two with an enabled-group and no --enabled or
 * --disabled: its nested members, then the others), sorted by account name. */
static int
users_list(struct ud *u, const struct ad_list_opts *lo)
{
	struct ad_list_opts o = *lo;
	struct listing l = {NULL, 0, 0};
	char reason[AD_REASON_LEN] = "";
	int rc, ret = MMC_EXIT_OK;

	o.base_dn = u->base;
	o.group_dn = u->group_dn[0] ? u->group_dn : NULL;
	rc = ad_ldap_user_each(u->ld, &o, list_one, &l, reason);
	if (rc != 0) {
		ret = mmc_fail(rc == -AD_ERR_UNAVAILABLE ? MMC_EXIT_UNREACHABLE : MMC_EXIT_FAIL,
			       "%s", reason[0] ? reason : ad_strerror(rc));
		goto done;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), user_cmp);
	mmc_users_print_list(l.v, l.n);
done:
	for (size_t i = 0; i < l.n; i++)
		mmc_dir_user_free(&l.v[i]);
	free(l.v);
	return ret;
}

/* users list [--filter TEXT] [--enabled|--disabled] [--page-size N] */
static int
list_args(int argc, char **argv, struct ad_list_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		if (!strcmp(argv[i], "--filter") && i + 1 < argc && argv[i + 1][0]) {
			o->text = argv[++i];
		} else if (!strcmp(argv[i], "--enabled") || !strcmp(argv[i], "--disabled")) {
			int want = argv[i][2] == 'e' ? 1 : -1;
			if (o->enabled && o->enabled != want)
				return mmc_fail(MMC_EXIT_USAGE,
						"users list: --enabled or --disabled, not both");
			o->enabled = want;
		} else if (!strcmp(argv[i], "--page-size") && i + 1 < argc &&
			   (o->page_size = (int)strtol(argv[i + 1], &end, 10)) > 0 && *end == '\0' &&
			   o->page_size <= 100000) {
			i++;
		} else {
			return mmc_fail(MMC_EXIT_USAGE, "usage: users list [--filter TEXT] "
							"[--enabled|--disabled] [--page-size N]");
		}
	}
	return MMC_EXIT_OK;
}

/* The names of the user's groups (tokenGroups: nested ones included). */
static char *
user_groups(struct ud *u, const struct mmc_dir_user *du)
{
	char *attrs[] = {"tokenGroups", NULL}, *names[] = {"sAMAccountName", NULL};
	LDAPMessage *res = NULL, *res2 = NULL;
	struct berval **v = NULL;
	char filter[8192] = "(|", sid[128], *out = calloc(1, 4096);
	size_t len = 0;

	if (ldap_search_ext_s(u->ld, du->dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
			      NULL, NULL, 1, &res) == LDAP_SUCCESS &&
	    ldap_first_entry(u->ld, res))
		v = ldap_get_values_len(u->ld, ldap_first_entry(u->ld, res), "tokenGroups");
	for (size_t i = 0; v && v[i]; i++)
		if (ad_sid_to_str((unsigned char *)v[i]->bv_val, v[i]->bv_len, sid, sizeof(sid)) ==
			0 &&
		    strlen(filter) + strlen(sid) + 16 < sizeof(filter))
			snprintf(filter + strlen(filter), sizeof(filter) - strlen(filter),
				 "(objectSid=%s)", sid);
	strcat(filter, ")");
	if (out && v && v[0] &&
	    ldap_search_ext_s(u->ld, u->base, LDAP_SCOPE_SUBTREE, filter, names, 0, NULL, NULL,
			      NULL, 0, &res2) == LDAP_SUCCESS) {
		for (LDAPMessage *e = ldap_first_entry(u->ld, res2); e;
		     e = ldap_next_entry(u->ld, e)) {
			size_t n;
			char **nm = values(u->ld, e, "sAMAccountName", &n);
			if (n && len + strlen(nm[0]) + 3 < 4096)
				len += (size_t)snprintf(out + len, 4096 - len, "%s%s",
							len ? "\n" : "", nm[0]);
			ad_strv_free(nm, n);
		}
	}
	ldap_value_free_len(v);
	ldap_msgfree(res);
	ldap_msgfree(res2);
	return out;
}

static int
users_show(struct ud *u, const char *who)
{
	struct mmc_dir_user du;
	char aor[300];
	json_object *devices = NULL, *presence = NULL;
	int ret = user_find(u, who, &du);

	if (ret != MMC_EXIT_OK)
		return ret;
	du.enabled = enabled(u, &du);
	char *groups = user_groups(u, &du);
	if (du.sip_uri) {
		mmc_user_aor(u->m, du.sip_uri, aor, sizeof(aor));
		if (mmc_ctl_try(u->m, mmc_ctl_req("registrations", "aor", aor), &devices) != 0)
			devices = NULL;
		if (mmc_ctl_try(u->m, mmc_ctl_req("presence", "aor", aor), &presence) != 0)
			presence = NULL;
	}
	mmc_users_print_one(&du, u->m->conf->domain_enabled_group, groups, devices, presence);
	json_object_put(devices);
	json_object_put(presence);
	free(groups);
	mmc_dir_user_free(&du);
	return MMC_EXIT_OK;
}

static int
modify_err(struct ud *u, int rc, const char *who, const char *what)
{
	if (rc == LDAP_INSUFFICIENT_ACCESS || rc == LDAP_STRONG_AUTH_REQUIRED)
		return mmc_fail(MMC_EXIT_AUTH, "access denied: %s may not change %s of %s",
				u->princ, what, who);
	return mmc_fail(MMC_EXIT_FAIL, "changing %s of %s: %s", what, who, ldap_err2string(rc));
}

/* enable/disable: add or remove the user as a direct member of the enabled group. */
static int
users_member(struct ud *u, const char *who, bool add)
{
	struct mmc_dir_user du;
	int ret = user_find(u, who, &du), rc;

	if (ret != MMC_EXIT_OK)
		return ret;
	if (u->group_dn[0] == '\0') {
		mmc_dir_user_free(&du);
		return mmc_fail(MMC_EXIT_USAGE,
				"no [domain] enabled-group is set, so everyone with "
				"a SIP URI is enabled (set one: greenwich-mmc set "
				"/%s enabled-group GROUP)",
				u->m->conf->domain_name);
	}
	struct berval bv = {strlen(du.dn), du.dn}, *bvs[] = {&bv, NULL};
	LDAPMod mod = {.mod_op = (add ? LDAP_MOD_ADD : LDAP_MOD_DELETE) | LDAP_MOD_BVALUES,
		       .mod_type = "member",
		       .mod_vals.modv_bvals = bvs},
		*mods[] = {&mod, NULL};
	rc = ldap_modify_ext_s(u->ld, u->group_dn, mods, NULL, NULL);
	bool direct_gone = rc == LDAP_NO_SUCH_ATTRIBUTE || rc == LDAP_UNWILLING_TO_PERFORM;
	if (rc == LDAP_SUCCESS || rc == LDAP_TYPE_OR_VALUE_EXISTS || rc == LDAP_ALREADY_EXISTS ||
	    (!add && direct_gone)) {
		ret = mmc_users_member_report(&du, u->m->conf->domain_enabled_group, add,
					      rc == LDAP_SUCCESS, enabled(u, &du));
		if (rc == LDAP_SUCCESS)
			mmc_audit(u->m->conf, add ? "users enable" : "users disable", du.sam,
				  "group", u->m->conf->domain_enabled_group, NULL);
	} else {
		ret = modify_err(u, rc, du.sam, "the members of the Greenwich group");
	}
	mmc_dir_user_free(&du);
	return ret;
}

/* Who else holds addr (without "sip:") as their SIP URI or an alias, the way libgwad
 * resolves a URI to a user (ad_ldap.c: proxyAddresses sip:ADDR or mail=ADDR, then only the
 * users whose own URIs, from ad_proxy_select(), include it).  *holder gets that user's
 * sAMAccountName (malloc'd) or NULL.  An exit code. */
static int
uri_holder(struct ud *u, const char *addr, const char *self_dn, char **holder)
{
	char esc[700], filter[1700];
	LDAPMessage *res = NULL;
	int rc;

	*holder = NULL;
	if (ad_filter_escape(addr, esc, sizeof(esc)) < 0)
		return mmc_fail(MMC_EXIT_USAGE, "SIP URI too long");
	snprintf(filter, sizeof(filter), USER_FILTER "(|(proxyAddresses=sip:%s)(mail=%s)))", esc,
		 esc);
	rc = ldap_search_ext_s(u->ld, u->base, LDAP_SCOPE_SUBTREE, filter, user_attrs, 0, NULL,
			       NULL, NULL, 0, &res);
	for (LDAPMessage *e = rc == LDAP_SUCCESS ? ldap_first_entry(u->ld, res) : NULL;
	     e && *holder == NULL; e = ldap_next_entry(u->ld, e)) {
		struct mmc_dir_user o;
		bool has = false;
		user_read(u, e, &o);
		if (strcasecmp(o.dn, self_dn) != 0) {
			has = o.sip_uri && !strcasecmp(o.sip_uri + 4, addr);
			for (size_t i = 0; !has && i < o.naliases; i++)
				has = !strcasecmp(o.aliases[i] + 4, addr);
		}
		if (has)
			*holder = strdup(o.sam);
		mmc_dir_user_free(&o);
	}
	ldap_msgfree(res);
	if (rc != LDAP_SUCCESS)
		return mmc_fail(MMC_EXIT_FAIL, "searching for sip:%s: %s", addr,
				ldap_err2string(rc));
	return MMC_EXIT_OK;
}

/* Refuse addr when another user holds it. */
static int
uri_free_check(struct ud *u, const char *addr, const struct mmc_dir_user *du)
{
	char *holder = NULL;
	int ret = uri_holder(u, addr, du->dn, &holder);

	if (ret == MMC_EXIT_OK && holder)
		ret = mmc_fail(MMC_EXIT_REFUSED,
			       "sip:%s is already the SIP URI (or an alias) of %s: two users with "
			       "one URI make every request for it fail; nothing changed",
			       addr, holder);
	free(holder);
	return ret;
}

/* Print a URI change: {"user", "sip_uri", "source", "changed"}. */
static void
uri_report(const struct mmc_dir_user *du, const char *uri, const char *source, bool changed)
{
	if (mmc_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "user", json_object_new_string(du->sam));
		json_object_object_add(o, "sip_uri", uri ? json_object_new_string(uri) : NULL);
		json_object_object_add(o, "source", json_object_new_string(source));
		json_object_object_add(o, "changed", json_object_new_boolean(changed));
		mmc_json_print(o);
	} else if (!changed) {
		printf("%s has no SIP: proxyAddresses value: the SIP URI stays %s (from %s)\n",
		       du->sam, uri ? uri : "none", source);
	} else {
		printf("the SIP URI of %s is now %s%s\n", du->sam, uri,
		       !strcmp(source, "mail")    ? " (from mail)"
		       : !strcmp(source, "alias") ? " (the first alias)"
						  : "");
	}
}

/* set-uri: the "SIP:" proxyAddresses value replaced; aliases kept (one equal to the new
 * address is dropped, it becomes the primary).  Checked first: the syntax, a served
 * domain, and that no other user holds the address. */
static int
users_set_uri(struct ud *u, const char *who, const char *uri)
{
	struct mmc_dir_user du;
	char addr[600], shown[620];
	int ret, rc;

	ret = mmc_sip_uri_check(u->m->conf, uri, addr, sizeof(addr));
	if (ret != MMC_EXIT_OK)
		return ret;
	ret = user_find(u, who, &du);
	if (ret != MMC_EXIT_OK)
		return ret;
	ret = uri_free_check(u, addr, &du);
	if (ret != MMC_EXIT_OK) {
		mmc_dir_user_free(&du);
		return ret;
	}
	char **del = calloc(du.nproxies + 1, sizeof(*del)), *primary = NULL;
	size_t nd = 0;
	for (size_t i = 0; del && i < du.nproxies; i++)
		if (!strncmp(du.proxies[i], "SIP:", 4) || (!strncasecmp(du.proxies[i], "sip:", 4) &&
							   !strcasecmp(du.proxies[i] + 4, addr)))
			del[nd++] = du.proxies[i];
	if (asprintf(&primary, "SIP:%s", addr) < 0)
		primary = NULL;
	char *add[] = {primary, NULL};
	LDAPMod mdel = {.mod_op = LDAP_MOD_DELETE, .mod_type = "proxyAddresses", .mod_values = del};
	LDAPMod madd = {.mod_op = LDAP_MOD_ADD, .mod_type = "proxyAddresses", .mod_values = add};
	LDAPMod *mods[] = {nd ? &mdel : &madd, nd ? &madd : NULL, NULL};
	rc = del && primary ? ldap_modify_ext_s(u->ld, du.dn, mods, NULL, NULL) : LDAP_NO_MEMORY;
	if (rc == LDAP_SUCCESS) {
		snprintf(shown, sizeof(shown), "sip:%s", addr);
		uri_report(&du, mmc_json ? primary : shown, "proxyAddresses", true);
		mmc_audit(u->m->conf, "users set-uri", du.sam, "uri", shown, "old",
			  du.sip_uri ? du.sip_uri : "-", NULL);
		ret = MMC_EXIT_OK;
	} else {
		ret = modify_err(u, rc, du.sam, "the SIP URI");
	}
	free(del);
	free(primary);
	mmc_dir_user_free(&du);
	return ret;
}

/* reset-uri: the "SIP:" value removed; the user's URI is then the first other sip: value
 * (an alias), else sip:<mail>, which no other user may hold. */
static int
users_reset_uri(struct ud *u, const char *who)
{
	struct mmc_dir_user du;
	LDAPMessage *res = NULL;
	char *attrs[] = {"mail", NULL}, **mail = NULL, *primary = NULL, **aliases = NULL;
	size_t nmail = 0, nal = 0, nkeep = 0;
	const char *source;
	int ret = user_find(u, who, &du), rc;

	if (ret != MMC_EXIT_OK)
		return ret;
	char **keep = calloc(du.nproxies + 1, sizeof(*keep)), *del[2] = {NULL, NULL};
	for (size_t i = 0; keep && i < du.nproxies; i++) {
		if (!strncmp(du.proxies[i], "SIP:", 4) && del[0] == NULL)
			del[0] = du.proxies[i];
		else
			keep[nkeep++] = du.proxies[i];
	}
	if (keep == NULL) {
		ret = mmc_fail(MMC_EXIT_FAIL, "out of memory");
		goto done;
	}
	if (ldap_search_ext_s(u->ld, du.dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
			      NULL, NULL, 1, &res) == LDAP_SUCCESS &&
	    ldap_first_entry(u->ld, res))
		mail = values(u->ld, ldap_first_entry(u->ld, res), "mail", &nmail);
	if (ad_proxy_select((const char *const *)keep, nkeep, nmail ? mail[0] : NULL, &primary,
			    &aliases, &nal) < 0) {
		ret = mmc_fail(MMC_EXIT_FAIL, "out of memory");
		goto done;
	}
	source = mmc_uri_source((const char *const *)keep, nkeep, primary != NULL);
	if (del[0] == NULL) {
		uri_report(&du, du.sip_uri,
			   mmc_uri_source((const char *const *)du.proxies, du.nproxies,
					  du.sip_uri != NULL),
			   false);
		ret = MMC_EXIT_OK;
		goto done;
	}
	if (primary == NULL) {
		ret =
		    mmc_fail(MMC_EXIT_REFUSED,
			     "%s has no mail and no other sip: address: without the SIP: value "
			     "the user would have no SIP URI (use users set-uri); nothing changed",
			     du.sam);
		goto done;
	}
	if ((ret = uri_free_check(u, primary + 4, &du)) != MMC_EXIT_OK)
		goto done;
	LDAPMod mdel = {.mod_op = LDAP_MOD_DELETE, .mod_type = "proxyAddresses", .mod_values = del};
	LDAPMod *mods[] = {&mdel, NULL};
	rc = ldap_modify_ext_s(u->ld, du.dn, mods, NULL, NULL);
	if (rc == LDAP_SUCCESS) {
		uri_report(&du, primary, source, true);
		mmc_audit(u->m->conf, "users reset-uri", du.sam, "uri", primary, "old",
			  du.sip_uri ? du.sip_uri : "-", NULL);
	} else {
		ret = modify_err(u, rc, du.sam, "the SIP URI");
	}
done:
	ldap_msgfree(res);
	ad_strv_free(mail, nmail);
	ad_strv_free(aliases, nal);
	free(primary);
	free(keep);
	mmc_dir_user_free(&du);
	return ret;
}

struct name_walk {
	const char *prefix;
	void (*cb)(const char *, void *);
	void *arg;
	int n;
};

static int
name_one(struct ad_user *au, void *arg)
{
	struct name_walk *nw = arg;
	int stop = 0;

	if (au->sam && strncasecmp(au->sam, nw->prefix, strlen(nw->prefix)) == 0) {
		nw->cb(au->sam, nw->arg);
		stop = ++nw->n >= 200;
	}
	ad_user_free(au);
	return stop;
}

void
mmc_users_names(struct mmc *m, const char *prefix, void (*cb)(const char *, void *), void *arg)
{
	struct name_walk nw = {prefix, cb, arg, 0};
	struct ad_list_opts o = {.text = prefix[0] ? prefix : NULL, .page_size = 200};
	char princ[300], reason[AD_REASON_LEN];
	struct ud u;

	if (m->conf == NULL || m->conf->domain_name[0] == '\0' ||
	    !mmc_krb_have_ticket(princ, sizeof(princ)))
		return;
	mmc_quiet = true;
	if (ud_open_group(m, &u, "") == MMC_EXIT_OK) {
		o.base_dn = u.base;
		ad_ldap_user_each(u.ld, &o, name_one, &nw, reason);
		ud_close(&u);
	}
	mmc_quiet = false;
}

/* argv[0]: list, show, enable, disable, set-uri, reset-uri. */
int
mmc_users_cmd(struct mmc *m, int argc, char **argv)
{
	const char *v = argv[0];
	int want = !strcmp(v, "list") ? 1 : !strcmp(v, "set-uri") ? 3 : 2, ret;
	struct ad_list_opts lo;
	struct ud u;

	if (want == 1) {
		ret = list_args(argc, argv, &lo);
		if (ret != MMC_EXIT_OK)
			return ret;
	} else if (argc != want)
		return mmc_fail(MMC_EXIT_USAGE, "usage: users %s%s", v,
				want == 3 ? " USER sip:USER@DOMAIN" : " USER");
	if (!strcmp(v, "set-uri")) {
		char addr[600];
		ret = mmc_sip_uri_check(m->conf, argv[2], addr, sizeof(addr));
		if (ret != MMC_EXIT_OK)
			return ret;
	}
	ret = ud_open(m, &u);
	if (ret != MMC_EXIT_OK)
		return ret;
	if (!strcmp(v, "list"))
		ret = users_list(&u, &lo);
	else if (!strcmp(v, "show"))
		ret = users_show(&u, argv[1]);
	else if (!strcmp(v, "enable") || !strcmp(v, "disable"))
		ret = users_member(&u, argv[1], !strcmp(v, "enable"));
	else if (!strcmp(v, "reset-uri"))
		ret = users_reset_uri(&u, argv[1]);
	else
		ret = users_set_uri(&u, argv[1], argv[2]);
	ud_close(&u);
	return ret;
}
