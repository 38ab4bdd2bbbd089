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

#include "gwad.h"
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
		return mmc_fail(
		    MMC_EXIT_AUTH,
		    "access denied: %s may not change Greenwich policy in this domain (%s)",
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
	if (ad_session_open(dc, 5000, &s->ses, reason) < 0)
		return store_fail(s, -ENOTCONN, reason);
	snprintf(s->base, sizeof(s->base), "%s", ad_session_base(s->ses));
	if (ad_session_bind(s->ses, NULL, reason) < 0)
		return store_fail(s, -ENOKEY, reason);
	s->ld = ad_session_ldap(s->ses);
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
			 need_ad
			     ? "federation settings live in Active Directory: join a domain first"
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
	ad_session_close(s->ses);
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

int
polstore_put(struct polstore *s, const char *name, bool create)
{
	char reason[POL_AD_REASON_LEN] = "";
	const struct pol_rule *r = pol_set_get(s->set, name);
	int ret;

	if (!s->ad)
		return file_save(s);
	ret = pol_ad_prepare(s->ld, s->container, reason);
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
	int ret = pol_ad_prepare(s->ld, s->container, reason);

	if (ret == 0)
		ret = pol_ad_fed_change(s->ld, s->container, domain, allow, reason);
	if (ret == -ENOENT && allow < 0)
		snprintf(reason, sizeof(reason), "%s has no federation setting", domain);
	return ret < 0 ? store_fail(s, ret, reason) : 0;
}

int
polstore_fed_raw(struct polstore *s, char ***valsp, size_t *np)
{
	char reason[POL_AD_REASON_LEN] = "";
	int ret = pol_ad_fed_values(s->ld, s->container, valsp, np, reason);

	return ret < 0 ? store_fail(s, ret, reason) : 0;
}

int
polstore_fed_delete_raw(struct polstore *s, const char *value)
{
	char reason[POL_AD_REASON_LEN] = "";
	int ret = pol_ad_fed_delete_value(s->ld, s->container, value, reason);

	return ret < 0 ? store_fail(s, ret, reason) : 0;
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
