/*
 * delegate.c - `domain delegate [--remove] GROUP` and the delegated groups of `domain show`:
 * an AD group may manage Greenwich without being Domain Admins.  With the caller's own
 * ticket, ACEs for the group's SID are put into (or taken out of) the DACLs, read and
 * written with libgwad (nTSecurityDescriptor with the SD_FLAGS control, DACL only):
 *   - CN=Greenwich,CN=Services,<configuration NC>: create, delete, list, read and write
 *     every property, inherited by the containers and rules below (policies, federation);
 *   - the domain's naming context: read and write proxyAddresses, inherited by user
 *     objects only (users set-uri / reset-uri);
 *   - [domain] enabled-group: write its member attribute (users enable / disable).
 * --remove takes out every explicit ACE of the group on those objects.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwad.h"
#include "gwpolicy_ad.h"
#include "mmc.h"
#include "polstore.h"

/* create child, delete child, list, self, read and write property, delete tree, list
 * object, delete, read control */
#define MASK_CONTAINER 0x000300FFu
#define MASK_RP_WP 0x00000030u
#define MASK_WP 0x00000020u

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct target {
	char dn[1024];
	struct ad_ace ace;
	const char *what;
};

/* Apply one change to one object's DACL; an exit code. */
static int
target_apply(struct polstore *s, struct target *t, bool remove, bool *changed)
{
	struct ad_sd old = {NULL, 0}, neu = {NULL, 0};
	char reason[AD_REASON_LEN] = "";
	int ret;
	bool ch = false;

	ret = ad_session_sd_get(s->ses, t->dn, &old.p, &old.len, reason);
	if (ret == -AD_ERR_DENIED)
		return mmc_fail(MMC_EXIT_AUTH,
				"access denied: %s may not read the permissions of %s", s->who,
				t->dn);
	if (ret < 0)
		return mmc_fail(MMC_EXIT_FAIL, "%s", reason[0] ? reason : ad_strerror(ret));
	ret = ad_sd_edit(&old, remove ? NULL : &t->ace, remove ? t->ace.sid : NULL, t->ace.sidlen,
			 &neu, &ch);
	free(old.p);
	if (ret < 0)
		return mmc_fail(MMC_EXIT_FAIL, "the security descriptor of %s is malformed", t->dn);
	ret = ch ? ad_session_sd_set(s->ses, t->dn, neu.p, neu.len, reason) : 0;
	free(neu.p);
	if (ret == -AD_ERR_DENIED)
		return mmc_fail(MMC_EXIT_AUTH,
				"access denied: %s may not change the permissions of %s", s->who,
				t->dn);
	if (ret < 0)
		return mmc_fail(MMC_EXIT_FAIL, "%s", reason[0] ? reason : ad_strerror(ret));
	*changed = *changed || ch;
	return MMC_EXIT_OK;
}

static void
delegate_report(const char *group, const char *sid, bool remove, bool changed,
		const struct target *t, size_t n)
{
	if (mmc_json) {
		json_object *o = json_object_new_object(), *a = json_object_new_array();
		json_object_object_add(o, "group", json_object_new_string(group));
		json_object_object_add(o, "sid", json_object_new_string(sid));
		json_object_object_add(o, "delegated", json_object_new_boolean(!remove));
		json_object_object_add(o, "changed", json_object_new_boolean(changed));
		for (size_t i = 0; i < n; i++)
			json_object_array_add(a, json_object_new_string(t[i].dn));
		json_object_object_add(o, "objects", a);
		mmc_json_print(o);
		return;
	}
	if (remove) {
		printf(changed
			   ? "%s may no longer manage Greenwich (its permissions were removed)\n"
			   : "%s had no Greenwich permissions: nothing changed\n",
		       group);
		return;
	}
	printf(changed ? "%s may now manage Greenwich:\n" : "%s could manage Greenwich already:\n",
	       group);
	for (size_t i = 0; i < n; i++)
		printf("  %s: %s\n", t[i].what, t[i].dn);
}

static int
delegate_run(struct polstore *s, const struct gw_conf *c, const char *group, bool remove)
{
	unsigned char g_proxy[16], g_user[16], g_member[16];
	struct target t[3];
	char sid[200], reason[POL_AD_REASON_LEN] = "";
	size_t n = 0;
	bool changed = false;
	int ret = MMC_EXIT_OK;

	memset(t, 0, sizeof(t));
	if (ad_session_group(s->ses, group, NULL, 0, sid, sizeof(sid), reason) < 0)
		return mmc_fail(MMC_EXIT_NOTFOUND, "'%s' is not a group in %s", group,
				c->domain_name);
	if (!remove && (ad_session_schema_guid(s->ses, "proxyAddresses", g_proxy, reason) < 0 ||
			ad_session_schema_guid(s->ses, "user", g_user, reason) < 0 ||
			ad_session_schema_guid(s->ses, "member", g_member, reason) < 0))
		return mmc_fail(MMC_EXIT_FAIL, "the schema of %s could not be read: %s",
				c->domain_name, reason);
	if (!remove && (ret = pol_ad_prepare(s->ld, s->container, reason)) < 0) {
		ret = ret == -EACCES
			  ? mmc_fail(MMC_EXIT_AUTH, "access denied: %s may not create %s", s->who,
				     s->container)
			  : mmc_fail(MMC_EXIT_FAIL, "cannot create %s: %s", s->container, reason);
		return ret;
	}
	ret = MMC_EXIT_OK;
	snprintf(t[n].dn, sizeof(t[n].dn), "%s", s->container);
	t[n].what = "policies and federation";
	t[n++].ace = (struct ad_ace){AD_ACE_ALLOWED, AD_ACE_CI, MASK_CONTAINER, NULL, NULL, {0}, 0};
	snprintf(t[n].dn, sizeof(t[n].dn), "%s", s->base);
	t[n].what = "users' SIP addresses (proxyAddresses)";
	t[n++].ace = (struct ad_ace){
	    AD_ACE_ALLOWED_OBJECT, AD_ACE_CI | AD_ACE_IO, MASK_RP_WP, g_proxy, g_user, {0}, 0};
	if (c->domain_enabled_group[0] && ad_session_group(s->ses, c->domain_enabled_group, t[n].dn,
							   sizeof(t[n].dn), NULL, 0, reason) == 0) {
		t[n].what = "members of the enabled-group";
		t[n++].ace =
		    (struct ad_ace){AD_ACE_ALLOWED_OBJECT, 0, MASK_WP, g_member, NULL, {0}, 0};
	} else if (!remove && !mmc_json) {
		printf("note: no [domain] enabled-group (or it is not found), so the group gets no "
		       "right to enable users; every user with a SIP URI is enabled\n");
	}
	for (size_t i = 0; i < n && ret == MMC_EXIT_OK; i++) {
		if (ad_sid_from_str(sid, t[i].ace.sid, sizeof(t[i].ace.sid), &t[i].ace.sidlen) < 0)
			ret = mmc_fail(MMC_EXIT_FAIL, "bad SID %s", sid);
		else
			ret = target_apply(s, &t[i], remove, &changed);
	}
	if (ret == MMC_EXIT_OK) {
		delegate_report(group, sid, remove, changed, t, n);
		if (changed)
			mmc_audit(c, remove ? "domain delegate --remove" : "domain delegate", group,
				  "sid", sid, NULL);
	} else if (changed) {
		mmc_err("some permissions were already changed: run the command again");
	}
	return ret;
}

/* domain delegate [--remove] GROUP */
int
mmc_domain_delegate(struct mmc *m, int argc, char **argv)
{
	const char *group = NULL;
	bool remove = false;
	struct polstore s;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--remove"))
			remove = true;
		else if (group == NULL && argv[i][0] != '-')
			group = argv[i];
		else
			group = NULL, i = argc;
	}
	if (group == NULL || argc > 3)
		return mmc_fail(MMC_EXIT_USAGE, "usage: domain delegate [--remove] GROUP");
	if (!m->conf->domain_name[0])
		return mmc_fail(MMC_EXIT_FAIL, "this server is not joined to a domain");
	ret = polstore_open(&s, m->conf, true);
	if (ret < 0) {
		ret = polstore_exit(&s, ret);
		polstore_close(&s);
		return ret;
	}
	ret = delegate_run(&s, m->conf, group, remove);
	polstore_close(&s);
	return ret;
}

/* The groups with the delegation ACE on the Greenwich container, by name, one a line;
 * NULL when it cannot be read (no ticket, no DC, no right). */
char *
mmc_delegated_groups(const struct gw_conf *c)
{
	struct ad_sd sd = {NULL, 0};
	const unsigned char *acl, *p;
	size_t acl_len, pos, n;
	struct polstore s;
	char *out = NULL;
	size_t len = 0;
	int ret;

	if (!c->domain_name[0] || polstore_open(&s, c, true) < 0)
		goto done;
	ret = ad_session_sd_get(s.ses, s.container, &sd.p, &sd.len, NULL);
	if (ret == -AD_ERR_NOT_FOUND) {
		out = strdup("");
		goto done;
	}
	if (ret < 0 || ad_sd_acl(&sd, &acl, &acl_len) < 0 || (out = strdup("")) == NULL)
		goto done;
	n = acl ? (size_t)(acl[4] | acl[5] << 8) : 0;
	for (pos = 8, p = acl ? acl + 8 : NULL; n > 0 && p && pos + 8 <= acl_len; n--) {
		size_t sz = (size_t)(p[2] | p[3] << 8), sl = 0;
		const unsigned char *sid = ad_ace_sid(p, sz, &sl);
		char text[200], name[300];
		if (sz < 8 || pos + sz > acl_len)
			break;
		if (p[0] == AD_ACE_ALLOWED && !(p[1] & AD_ACE_INHERITED) &&
		    le32(p + 4) == MASK_CONTAINER && sid &&
		    ad_sid_to_str(sid, sl, text, sizeof(text)) == 0) {
			if (pol_ad_group_name(s.ld, s.base, text, name, sizeof(name), NULL) < 0)
				snprintf(name, sizeof(name), "%s", text);
			char *o = realloc(out, len + strlen(name) + 2);
			if (o) {
				out = o;
				len += (size_t)sprintf(out + len, "%s%s", len ? "\n" : "", name);
			}
		}
		pos += sz;
		p += sz;
	}
done:
	free(sd.p);
	if (c->domain_name[0])
		polstore_close(&s);
	return out;
}
