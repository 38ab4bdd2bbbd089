/*
 * users.c - `users list|show|enable|disable|set-uri|reset-uri`: directory users in AD,
 * through libgwad's session bound with the admin's own Kerberos ticket (SASL/GSSAPI as the
 * person running the command, so AD decides what they may change).
 *
 * A user's SIP URI is the "SIP:" proxyAddresses value (other "sip:" values are aliases),
 * else sip:<mail> (ad_proxy_select()).  Enabled for Greenwich = a member of [domain]
 * enabled-group, also through nested groups (tokenGroups, as greenwichd reads them), or
 * when none is set, a SIP URI.  Users are found with libgwad's own lookup, so a name two users
 * share is refused as ambiguous, and set-uri asks the same lookup greenwichd routes with
 * who holds an address.  `users list` is libgwad's paged listing (ad_ldap_user_each()).
 * `users show` adds, when greenwichd answers on its control socket, the user's signed-in
 * devices and composed presence.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwad.h"
#include "krb.h"
#include "mmc.h"
#include "users.h"

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
	ad_session_close(u->ses);
	u->ses = NULL;
}

/* A libgwad error as an exit code, with its reason printed. */
static int
ad_fail(int ret, const char *reason)
{
	int code = ret == -AD_ERR_UNAVAILABLE ? MMC_EXIT_UNREACHABLE
		   : ret == -AD_ERR_DENIED    ? MMC_EXIT_AUTH
		   : ret == -EINVAL           ? MMC_EXIT_USAGE
					      : MMC_EXIT_FAIL;

	return mmc_fail(code, "%s", reason && reason[0] ? reason : ad_strerror(ret));
}

/* The enabled group's DN and SID into u ("" when none is configured). */
static int
group_find(struct ud *u, const char *g)
{
	char reason[AD_REASON_LEN] = "";
	int ret;

	u->group_dn[0] = u->group_sid[0] = '\0';
	if (g[0] == '\0')
		return MMC_EXIT_OK;
	ret = ad_session_group(u->ses, g, u->group_dn, sizeof(u->group_dn), u->group_sid,
			       sizeof(u->group_sid), reason);
	if (ret == -AD_ERR_GROUP)
		return mmc_fail(
		    MMC_EXIT_NOTFOUND, "%s'%s' is not a group in %s",
		    g == u->m->conf->domain_enabled_group ? "the enabled-group of [domain] " : "",
		    g, u->m->conf->domain_name);
	return ret < 0 ? ad_fail(ret, reason) : MMC_EXIT_OK;
}

/* Checks, DC, anonymous rootDSE, GSSAPI bind with the caller's ticket, the group. */
static int
ud_open_group(struct mmc *m, struct ud *u, const char *group)
{
	char realm[256], dc[256], reason[AD_REASON_LEN] = "";

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
	if (ad_session_open(dc, 5000, &u->ses, reason) < 0)
		return mmc_fail(MMC_EXIT_UNREACHABLE, "domain controller %s unreachable: %s", dc,
				reason);
	if (ad_session_bind(u->ses, NULL, reason) < 0) {
		ud_close(u);
		return mmc_fail(MMC_EXIT_AUTH, "%s refused the ticket of %s: %s", dc, u->princ,
				reason);
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

void
mmc_dir_user_free(struct mmc_dir_user *du)
{
	free(du->sam);
	free(du->dn);
	free(du->sip_uri);
	ad_strv_free(du->aliases, du->naliases);
	ad_strv_free(du->proxies, du->nproxies);
	ad_strv_free(du->groups, du->ngroups);
	memset(du, 0, sizeof(*du));
}

/* What the commands show of a libgwad user; au is emptied. */
static void
dir_user_take(struct mmc_dir_user *du, struct ad_user *au)
{
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
}

/* Enabled for Greenwich: with an enabled-group, a member of it (nested too: tokenGroups),
 * else a SIP URI. */
static bool
user_enabled(const struct ud *u, const struct ad_user *au, const struct mmc_dir_user *du)
{
	if (u->group_sid[0] == '\0')
		return du->sip_uri != NULL;
	return ad_user_has_sid(au, u->group_sid);
}

/* The user named by who: sAMAccountName, or user@domain (UPN, mail, SIP address), with its
 * proxyAddresses as stored; with_groups: the names of its groups (tokenGroups) too. */
static int
user_find(struct ud *u, const char *who, bool with_groups, struct mmc_dir_user *du)
{
	struct ad_query q = {AD_QUERY_ANY, who};
	char reason[AD_REASON_LEN] = "";
	struct ad_user *au = NULL;
	int ret = ad_session_lookup(u->ses, &q, NULL, &au, reason);

	memset(du, 0, sizeof(*du));
	if (ret == -AD_ERR_NOT_FOUND)
		return mmc_fail(MMC_EXIT_NOTFOUND, "no user %s in %s", who,
				u->m->conf->domain_name);
	if (ret == -AD_ERR_AMBIGUOUS)
		return mmc_fail(MMC_EXIT_FAIL,
				"%s names more than one user in %s: use the account name", who,
				u->m->conf->domain_name);
	if (ret < 0)
		return ad_fail(ret, reason);
	dir_user_take(du, au);
	du->enabled = user_enabled(u, au, du);
	if (with_groups)
		ret = ad_session_sid_names(u->ses, au->group_sids, au->group_count, &du->groups,
					   &du->ngroups, reason);
	ad_user_free(au);
	if (ret == 0)
		ret = ad_session_proxies(u->ses, du->dn, &du->proxies, &du->nproxies, NULL, reason);
	if (ret < 0) {
		mmc_dir_user_free(du);
		return ad_fail(ret, reason);
	}
	return MMC_EXIT_OK;
}

/* Is the user enabled now (asked again after a change)? */
static bool
enabled_now(struct ud *u, const struct mmc_dir_user *du)
{
	struct ad_query q = {AD_QUERY_SAM, du->sam};
	struct ad_user *au = NULL;
	bool yes =
	    ad_session_lookup(u->ses, &q, u->group_sid, &au, NULL) == 0 && user_enabled(u, au, du);

	ad_user_free(au);
	return yes;
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
	int ret = -ENOMEM;

	if (l->n == l->size) {
		size_t size = l->size ? l->size * 2 : 64;
		struct mmc_dir_user *v = realloc(l->v, size * sizeof(*v));
		if (v == NULL)
			goto done;
		l->v = v;
		l->size = size;
	}
	dir_user_take(&l->v[l->n++], au);
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

	o.base_dn = ad_session_base(u->ses);
	o.group_dn = u->group_dn[0] ? u->group_dn : NULL;
	rc = ad_ldap_user_each(ad_session_ldap(u->ses), &o, list_one, &l, reason);
	if (rc != 0) {
		ret = ad_fail(rc, reason);
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
			   (o->page_size = (int)strtol(argv[i + 1], &end, 10)) > 0 &&
			   *end == '\0' && o->page_size <= 100000) {
			i++;
		} else {
			return mmc_fail(MMC_EXIT_USAGE, "usage: users list [--filter TEXT] "
							"[--enabled|--disabled] [--page-size N]");
		}
	}
	return MMC_EXIT_OK;
}

/* The group names, one a line (malloc'd). */
static char *
groups_text(const struct mmc_dir_user *du)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < du->ngroups; i++)
		len += strlen(du->groups[i]) + 1;
	if ((out = calloc(1, len)) == NULL)
		return NULL;
	for (size_t i = 0; i < du->ngroups; i++) {
		if (i)
			strcat(out, "\n");
		strcat(out, du->groups[i]);
	}
	return out;
}

static int
users_show(struct ud *u, const char *who)
{
	struct mmc_dir_user du;
	char aor[300];
	json_object *devices = NULL, *presence = NULL;
	int ret = user_find(u, who, true, &du);

	if (ret != MMC_EXIT_OK)
		return ret;
	char *groups = groups_text(&du);
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

/* A write libgwad refused: access denied names who and what. */
static int
modify_err(struct ud *u, int ret, const char *reason, const char *who, const char *what)
{
	if (ret == -AD_ERR_DENIED)
		return mmc_fail(MMC_EXIT_AUTH, "access denied: %s may not change %s of %s",
				u->princ, what, who);
	return ad_fail(ret, reason);
}

/* enable/disable: add or remove the user as a direct member of the enabled group. */
static int
users_member(struct ud *u, const char *who, bool add)
{
	struct mmc_dir_user du;
	char reason[AD_REASON_LEN] = "";
	int ret = user_find(u, who, false, &du), rc;

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
	rc = ad_session_member_set(u->ses, u->group_dn, du.dn, add, reason);
	if (rc >= 0) {
		ret = mmc_users_member_report(&du, u->m->conf->domain_enabled_group, add, rc == 1,
					      enabled_now(u, &du));
		if (rc == 1)
			mmc_audit(u->m->conf, add ? "users enable" : "users disable", du.sam,
				  "group", u->m->conf->domain_enabled_group, NULL);
	} else {
		ret = modify_err(u, rc, reason, du.sam, "the members of the Greenwich group");
	}
	mmc_dir_user_free(&du);
	return ret;
}

/* Refuse addr (without "sip:") when another user holds it as SIP URI or alias: libgwad's
 * own lookup by URI, the one greenwichd routes with (proxyAddresses sip:ADDR or mail=ADDR,
 * then only users whose own URIs include it; two such users are ambiguous). */
static int
uri_free_check(struct ud *u, const char *addr, const struct mmc_dir_user *du)
{
	struct ad_query q = {AD_QUERY_SIP_URI, addr};
	char reason[AD_REASON_LEN] = "";
	struct ad_user *holder = NULL;
	int ret = ad_session_lookup(u->ses, &q, NULL, &holder, reason);

	if (ret == -AD_ERR_NOT_FOUND || (ret == 0 && strcasecmp(holder->dn, du->dn) == 0))
		ret = MMC_EXIT_OK;
	else if (ret == 0)
		ret = mmc_fail(MMC_EXIT_REFUSED,
			       "sip:%s is already the SIP URI (or an alias) of %s: two users with "
			       "one URI make every request for it fail; nothing changed",
			       addr, holder->sam);
	else if (ret == -AD_ERR_AMBIGUOUS)
		ret = mmc_fail(MMC_EXIT_REFUSED,
			       "sip:%s is already the SIP URI (or an alias) of more than one user: "
			       "every request for it fails; nothing changed",
			       addr);
	else
		ret = ad_fail(ret, reason);
	ad_user_free(holder);
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
	char addr[600], shown[620], reason[AD_REASON_LEN] = "";
	int ret, rc;

	ret = mmc_sip_uri_check(u->m->conf, uri, addr, sizeof(addr));
	if (ret != MMC_EXIT_OK)
		return ret;
	ret = user_find(u, who, false, &du);
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
	rc = del && primary ? ad_session_proxies_change(u->ses, du.dn, del, nd, primary, reason)
			    : -ENOMEM;
	if (rc == 0) {
		snprintf(shown, sizeof(shown), "sip:%s", addr);
		uri_report(&du, mmc_json ? primary : shown, "proxyAddresses", true);
		mmc_audit(u->m->conf, "users set-uri", du.sam, "uri", shown, "old",
			  du.sip_uri ? du.sip_uri : "-", NULL);
		ret = MMC_EXIT_OK;
	} else {
		ret = modify_err(u, rc, reason, du.sam, "the SIP URI");
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
	char *mail = NULL, *primary = NULL, **aliases = NULL, reason[AD_REASON_LEN] = "";
	size_t nal = 0, nkeep = 0;
	const char *source;
	int ret = user_find(u, who, false, &du), rc;

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
	if (del[0] == NULL) {
		uri_report(&du, du.sip_uri,
			   mmc_uri_source((const char *const *)du.proxies, du.nproxies,
					  du.sip_uri != NULL),
			   false);
		ret = MMC_EXIT_OK;
		goto done;
	}
	char **ignored = NULL;
	size_t nignored = 0;
	rc = ad_session_proxies(u->ses, du.dn, &ignored, &nignored, &mail, reason);
	ad_strv_free(ignored, nignored);
	if (rc < 0) {
		ret = ad_fail(rc, reason);
		goto done;
	}
	if (ad_proxy_select((const char *const *)keep, nkeep, mail, &primary, &aliases, &nal) < 0) {
		ret = mmc_fail(MMC_EXIT_FAIL, "out of memory");
		goto done;
	}
	source = mmc_uri_source((const char *const *)keep, nkeep, primary != NULL);
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
	rc = ad_session_proxies_change(u->ses, du.dn, del, 1, NULL, reason);
	if (rc == 0) {
		uri_report(&du, primary, source, true);
		mmc_audit(u->m->conf, "users reset-uri", du.sam, "uri", primary, "old",
			  du.sip_uri ? du.sip_uri : "-", NULL);
	} else {
		ret = modify_err(u, rc, reason, du.sam, "the SIP URI");
	}
done:
	free(mail);
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
		o.base_dn = ad_session_base(u.ses);
		ad_ldap_user_each(ad_session_ldap(u.ses), &o, name_one, &nw, reason);
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
