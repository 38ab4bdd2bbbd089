/*
 * polstore.c - where greenwich-mmc finds the policy: Active Directory when the server is
 * joined (bound with the administrator's own Kerberos ticket, so AD decides who may change
 * it), else the [policy] rules-file.  Loads the rules (group names looked up for display)
 * and the federation settings, and writes changes back.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwpolicy_ad.h"
#include "krb.h"
#include "mmc.h"
#include "polstore.h"

static int
store_fail(struct polstore *s, int ret, const char *reason)
{
	snprintf(s->err, sizeof(s->err), "%s", reason && reason[0] ? reason : strerror(-ret));
	return ret;
}

int
polstore_exit(const struct polstore *s, int ret)
{
	switch (ret) {
	case 0:
		return MMC_EXIT_OK;
	case -EACCES:
		return mmc_fail(MMC_EXIT_AUTH, "access denied: %s may not change Greenwich policy in this domain (%s)",
			s->who[0] ? s->who : "this user", s->err);
	case -ENOENT:
		return mmc_fail(MMC_EXIT_NOTFOUND, "%s", s->err);
	case -ENOTCONN:
		return mmc_fail(MMC_EXIT_UNREACHABLE, "no domain controller answers: %s", s->err);
	case -ENOKEY:
		return mmc_fail(MMC_EXIT_AUTH, "%s", s->err);
	case -EEXIST:
		return mmc_fail(MMC_EXIT_REFUSED, "%s", s->err);
	case -EINVAL:
	case -ERANGE:
		return mmc_fail(MMC_EXIT_USAGE, "%s", s->err);
	default:
		return mmc_fail(MMC_EXIT_FAIL, "%s", s->err);
	}
}

static int
ad_open(struct polstore *s, const struct gw_conf *c)
{
	char dc[300], reason[POL_AD_REASON_LEN] = "";
	time_t t;
	int ret;

	if (!mmc_krb_have_ticket(s->who, sizeof(s->who))) {
		snprintf(s->err, sizeof(s->err),
			 "no Kerberos ticket: run kinit as a user allowed to manage Greenwich");
		return -ENOKEY;
	}
	if (mmc_dc_find(c, dc, sizeof(dc)) < 0) {
		snprintf(s->err, sizeof(s->err), "no domain controller found for %s",
			 c->domain_name);
		return -ENOTCONN;
	}
	if (mmc_ldap_open(dc, &s->l, s->err, sizeof(s->err)) < 0 ||
	    mmc_ldap_rootdse(s->l, &t, s->base, sizeof(s->base), s->err, sizeof(s->err)) < 0)
		return -ENOTCONN;
	if (mmc_ldap_gssapi(s->l, getenv("KRB5CCNAME"), s->err, sizeof(s->err)) < 0)
		return -ENOKEY;
	s->ld = mmc_ldap_handle(s->l);
	ret = pol_ad_container(s->ld, s->container, sizeof(s->container), reason);
	return ret < 0 ? store_fail(s, ret, reason) : 0;
}

/* Show each group under its current name. */
static void
names_resolve(struct polstore *s)
{
	for (size_t i = 0; i < pol_set_group_count(s->set); i++) {
		char name[300], sid[200];
		snprintf(sid, sizeof(sid), "%s", pol_set_group_sid(s->set, i));
		if (pol_ad_group_name(s->ld, s->base, sid, name, sizeof(name), NULL) == 0)
			pol_set_group_name(s->set, sid, name);
	}
}

static int
ad_load(struct polstore *s)
{
	char reason[POL_AD_REASON_LEN] = "";
	int ret = pol_ad_load(s->ld, s->container, &s->set, &s->fed, reason);

	if (ret < 0)
		return store_fail(s, ret, reason);
	names_resolve(s);
	return 0;
}

static int
file_load(struct polstore *s, const char *path)
{
	struct pol_error perr = {0};
	int ret = pol_set_load_file(path, &s->set, &perr);

	if (ret == -ENOENT)
		return pol_set_alloc(&s->set);
	if (ret < 0) {
		snprintf(s->err, sizeof(s->err), "%s:%u:%u: %s", path, perr.line, perr.column,
			 perr.msg[0] ? perr.msg : strerror(-ret));
		return ret;
	}
	return 0;
}

int
polstore_open(struct polstore *s, const struct gw_conf *c, bool need_ad)
{
	int ret;

	memset(s, 0, sizeof(*s));
	if (c->domain_name[0]) {
		s->ad = true;
		ret = ad_open(s, c);
		return ret < 0 ? ret : ad_load(s);
	}
	if (need_ad || c->policy_rules_file[0] == '\0') {
		snprintf(s->err, sizeof(s->err), "%s",
			 need_ad ? "federation settings live in Active Directory: join a domain first"
				 : "this server is not joined to a domain and has no [policy] "
				   "rules-file");
		return -ENOENT;
	}
	s->path = c->policy_rules_file;
	return file_load(s, s->path);
}

void
polstore_close(struct polstore *s)
{
	pol_set_free(s->set);
	pol_fed_clear(&s->fed);
	mmc_ldap_close(s->l);
	memset(s, 0, sizeof(*s));
}

/* The whole file again, written to a temporary file and renamed over the old one. */
static int
file_save(struct polstore *s)
{
	char tmp[600], *text = NULL;
	FILE *fp = NULL;
	int ret = pol_set_text(s->set, &text);

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", s->path, (int)getpid());
	if (ret == 0 && (fp = fopen(tmp, "w")) == NULL)
		ret = -errno;
	if (fp) {
		fprintf(fp, "# Greenwich policy rules, written by greenwich-mmc\n%s", text);
		if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
			ret = -errno;
		if (fclose(fp) != 0 && ret == 0)
			ret = -errno;
		if (ret == 0 && rename(tmp, s->path) < 0)
			ret = -errno;
		if (ret < 0)
			unlink(tmp);
	}
	free(text);
	if (ret < 0)
		snprintf(s->err, sizeof(s->err), "%s: %s", s->path, strerror(-ret));
	return ret;
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

/* The Greenwich and Policies containers, created only when missing: a delegated
 * administrator (domain delegate) may write below them but not create them, and AD refuses
 * an add under CN=Services for lack of rights before it says the object exists. */
static int
prepare(struct polstore *s, char *reason)
{
	char dn[sizeof(s->container) + 16];

	snprintf(dn, sizeof(dn), "CN=Policies,%s", s->container);
	if (exists(s->ld, dn))
		return 0;
	return pol_ad_prepare(s->ld, s->container, reason);
}

int
polstore_put(struct polstore *s, const char *name, bool create)
{
	char reason[POL_AD_REASON_LEN] = "";
	const struct pol_rule *r = pol_set_get(s->set, name);
	int ret;

	if (!s->ad)
		return file_save(s);
	ret = prepare(s, reason);
	if (ret == 0)
		ret = pol_ad_rule_put(s->ld, s->container, r, create, reason);
	return ret < 0 ? store_fail(s, ret, reason) : 0;
}

int
polstore_delete(struct polstore *s, const char *name)
{
	char reason[POL_AD_REASON_LEN] = "";
	int ret;

	if (!s->ad)
		return file_save(s);
	ret = pol_ad_rule_delete(s->ld, s->container, name, reason);
	return ret < 0 ? store_fail(s, ret, reason) : 0;
}

int
polstore_fed(struct polstore *s, const char *domain, int allow)
{
	char reason[POL_AD_REASON_LEN] = "";
	int ret = prepare(s, reason);

	if (ret == 0)
		ret = pol_ad_fed_change(s->ld, s->container, domain, allow, reason);
	if (ret == -ENOENT && allow < 0)
		snprintf(reason, sizeof(reason), "%s has no federation setting", domain);
	return ret < 0 ? store_fail(s, ret, reason) : 0;
}

int
polstore_fed_raw(struct polstore *s, char ***valsp, size_t *np)
{
	char dn[700], *attrs[] = {"msDS-Settings", NULL};
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	size_t n;
	int lrc;

	*valsp = NULL;
	*np = 0;
	snprintf(dn, sizeof(dn), "CN=Federation,%s", s->container);
	lrc = ldap_search_ext_s(s->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL,
				NULL, 1, &res);
	if (lrc == LDAP_NO_SUCH_OBJECT) {
		ldap_msgfree(res);
		return 0;
	}
	if (lrc != LDAP_SUCCESS) {
		ldap_msgfree(res);
		snprintf(s->err, sizeof(s->err), "%.400s: %s", dn, ldap_err2string(lrc));
		return pol_ad_errno(lrc);
	}
	e = ldap_first_entry(s->ld, res);
	v = e ? ldap_get_values_len(s->ld, e, "msDS-Settings") : NULL;
	n = (size_t)ldap_count_values_len(v);
	*valsp = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; *valsp && i < n; i++)
		(*valsp)[i] = strndup(v[i]->bv_val, v[i]->bv_len);
	*np = *valsp ? n : 0;
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return *valsp ? 0 : -ENOMEM;
}

int
polstore_fed_delete_raw(struct polstore *s, const char *value)
{
	char dn[700], *vals[] = {(char *)value, NULL};
	LDAPMod m = {LDAP_MOD_DELETE, "msDS-Settings", {.modv_strvals = vals}};
	LDAPMod *mods[] = {&m, NULL};
	int lrc;

	snprintf(dn, sizeof(dn), "CN=Federation,%s", s->container);
	lrc = ldap_modify_ext_s(s->ld, dn, mods, NULL, NULL);
	if (lrc == LDAP_SUCCESS)
		return 0;
	snprintf(s->err, sizeof(s->err), "%.400s: %s", dn, ldap_err2string(lrc));
	return lrc == LDAP_NO_SUCH_ATTRIBUTE ? -ENOENT : pol_ad_errno(lrc);
}

/* For pol_text_resolve_groups(): a group's SID by name, from AD. */
static int
group_sid_cb(const char *name, char *sid, size_t len, void *arg)
{
	struct polstore *s = arg;

	if (!s->ad)
		return -ENOENT;
	return pol_ad_group_sid(s->ld, s->base, name, sid, len, NULL);
}

int
polstore_parse_rule(struct polstore *s, const char *text, struct pol_rule **out)
{
	struct pol_error perr = {0};
	char *resolved = NULL;
	int ret = pol_text_resolve_groups(text, strlen(text), group_sid_cb, s, &resolved, &perr);

	if (ret == 0)
		ret = pol_rule_parse(resolved, strlen(resolved), out, &perr);
	if (ret < 0)
		snprintf(s->err, sizeof(s->err), "%u:%u: %s", perr.line, perr.column,
			 perr.msg[0] ? perr.msg : strerror(-ret));
	free(resolved);
	return ret == -ENOENT ? -EINVAL : ret;
}

struct member_find {
	const char *aor;
	bool found;
};

static void
member_cb(const char *aor, void *arg)
{
	struct member_find *f = arg;

	if (strcasecmp(aor, f->aor) == 0)
		f->found = true;
}

int
polstore_groups_of(struct polstore *s, const char *aor, char ***sidsp, size_t *np)
{
	char **v = calloc(pol_set_group_count(s->set) + 1, sizeof(char *));
	size_t n = 0;
	int ret = v ? 0 : -ENOMEM;

	for (size_t i = 0; s->ad && ret == 0 && i < pol_set_group_count(s->set); i++) {
		const char *sid = pol_set_group_sid(s->set, i);
		struct member_find f = {aor, false};
		char reason[POL_AD_REASON_LEN] = "";
		ret = pol_ad_group_members(s->ld, s->base, sid, member_cb, &f, reason);
		if (ret == -ENOENT)
			ret = 0; /* the group is gone: nobody is in it */
		else if (ret < 0)
			store_fail(s, ret, reason);
		if (ret == 0 && f.found && (v[n++] = strdup(sid)) == NULL)
			ret = -ENOMEM;
	}
	*sidsp = v;
	*np = n;
	return ret;
}
