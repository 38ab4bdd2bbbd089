/*
 * delegate.c - `domain delegate [--remove] GROUP` and the delegated groups of `domain show`:
 * an AD group may manage Greenwich without being Domain Admins.  With the caller's own
 * ticket, ACEs for the group's SID are put into (or taken out of) the DACLs, read and
 * written through nTSecurityDescriptor with the SD_FLAGS control (DACL only):
 *   - CN=Greenwich,CN=Services,<configuration NC>: create, delete, list, read and write
 *     every property, inherited by the containers and rules below (policies, federation);
 *   - the domain's naming context: read and write proxyAddresses, inherited by user
 *     objects only (users set-uri / reset-uri);
 *   - [domain] enabled-group: write its member attribute (users enable / disable).
 * --remove takes out every explicit ACE of the group on those objects.
 */
#include "config.h"

#include <errno.h>
#include <ldap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_private.h"
#include "gwpolicy_ad.h"
#include "krb.h"
#include "mmc.h"
#include "polstore.h"

#define SD_FLAGS_OID "1.2.840.113556.1.4.801"
#define DACL_SECURITY_INFORMATION 4
#define SE_DACL_PRESENT 0x0004
#define SE_SELF_RELATIVE 0x8000
#define ACE_ALLOWED 0
#define ACE_ALLOWED_OBJECT 5
#define ACE_CI 0x02
#define ACE_IO 0x08
#define ACE_INHERITED 0x10
#define ACL_REVISION_DS 4
/* create child, delete child, list, self, read and write property, delete tree, list
 * object, delete, read control */
#define MASK_CONTAINER 0x000300FFu
#define MASK_RP_WP 0x00000030u
#define MASK_WP 0x00000020u

struct ace {
	uint8_t type, flags;
	uint32_t mask;
	const struct berval *object, *inherited; /* GUIDs (16 bytes), or NULL */
	unsigned char sid[68];
	size_t sidlen;
};

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

/* "S-1-5-21-..." to its binary form; 0 or -EINVAL. */
static int
sid_bin(const char *text, unsigned char *out, size_t *lenp)
{
	unsigned long long auth;
	unsigned long sub[15];
	int n = 0, used = 0;
	const char *p;

	if (sscanf(text, "S-1-%llu%n", &auth, &used) != 1)
		return -EINVAL;
	for (p = text + used; *p == '-' && n < 15; n++) {
		char *end;
		sub[n] = strtoul(p + 1, &end, 10);
		p = end;
	}
	if (*p != '\0' || n == 0)
		return -EINVAL;
	out[0] = 1;
	out[1] = (unsigned char)n;
	for (int i = 0; i < 6; i++)
		out[2 + i] = (unsigned char)(auth >> (8 * (5 - i)));
	for (int i = 0; i < n; i++)
		put32(out + 8 + 4 * i, (uint32_t)sub[i]);
	*lenp = 8 + 4 * (size_t)n;
	return 0;
}

static size_t
ace_size(const struct ace *a)
{
	if (a->type == ACE_ALLOWED)
		return 8 + a->sidlen;
	return 12 + (a->object ? 16 : 0) + (a->inherited ? 16 : 0) + a->sidlen;
}

static void
ace_write(const struct ace *a, unsigned char *p)
{
	size_t o = 8;

	p[0] = a->type;
	p[1] = a->flags;
	put16(p + 2, (unsigned)ace_size(a));
	put32(p + 4, a->mask);
	if (a->type == ACE_ALLOWED_OBJECT) {
		put32(p + 8, (a->object ? 1u : 0u) | (a->inherited ? 2u : 0u));
		o = 12;
		if (a->object) {
			memcpy(p + o, a->object->bv_val, 16);
			o += 16;
		}
		if (a->inherited) {
			memcpy(p + o, a->inherited->bv_val, 16);
			o += 16;
		}
	}
	memcpy(p + o, a->sid, a->sidlen);
}

/* The SID an ACE is for (NULL for types whose layout is not known here). */
static const unsigned char *
ace_sid(const unsigned char *p, size_t size, size_t *lenp)
{
	size_t o;

	if (p[0] == ACE_ALLOWED || p[0] == 1 /* denied */)
		o = 8;
	else if (p[0] == ACE_ALLOWED_OBJECT || p[0] == 6 /* denied object */)
		o = 12 + ((le32(p + 8) & 1) ? 16 : 0) + ((le32(p + 8) & 2) ? 16 : 0);
	else
		return NULL;
	if (o + 8 > size || o + 8 + 4 * (size_t)p[o + 1] > size)
		return NULL;
	*lenp = 8 + 4 * (size_t)p[o + 1];
	return p + o;
}

/* An SD from the server (DACL only), checked; *aclp points to its ACL. */
static int
sd_acl(const struct berval *sd, const unsigned char **aclp, size_t *acl_len)
{
	const unsigned char *p = (const unsigned char *)sd->bv_val;
	uint32_t off;

	if (sd->bv_len < 20 || p[0] != 1)
		return -EINVAL;
	off = le32(p + 16);
	if (off == 0) {
		*aclp = NULL;
		*acl_len = 0;
		return 0;
	}
	if (off + 8 > sd->bv_len || le32(p + 16) + (p[off + 2] | p[off + 3] << 8) > sd->bv_len)
		return -EINVAL;
	*aclp = p + off;
	*acl_len = (size_t)(p[off + 2] | p[off + 3] << 8);
	return 0;
}

/*
 * A new SD (self-relative, DACL only) from @old: without the explicit ACEs of @drop_sid
 * (when not NULL), with @add (when not NULL) before the first inherited ACE, unless the
 * same ACE is there already (*changed false then).
 */
static int
sd_edit(const struct berval *old, const struct ace *add, const unsigned char *drop_sid,
	size_t drop_len, struct berval *out, bool *changed)
{
	const unsigned char *acl, *p;
	size_t acl_len, pos, o = 28, count = 0, n;
	unsigned char *buf, newace[128];
	size_t addlen = 0;
	bool placed = false;
	int ret = sd_acl(old, &acl, &acl_len);

	*changed = false;
	if (ret < 0)
		return ret;
	if (add) {
		addlen = ace_size(add);
		ace_write(add, newace);
	}
	buf = calloc(1, 28 + acl_len + addlen);
	if (buf == NULL)
		return -ENOMEM;
	n = acl ? (size_t)(acl[4] | acl[5] << 8) : 0;
	for (pos = 8, p = acl ? acl + 8 : NULL; n > 0 && p && pos + 4 <= acl_len; n--) {
		size_t sz = (size_t)(p[2] | p[3] << 8), sl = 0;
		const unsigned char *sid;
		if (sz < 8 || pos + sz > acl_len) {
			free(buf);
			return -EINVAL;
		}
		if (add && !placed && (p[1] & ACE_INHERITED)) {
			memcpy(buf + o, newace, addlen);
			o += addlen;
			count++;
			placed = *changed = true;
		}
		if (add && sz == addlen && !memcmp(p, newace, addlen))
			placed = true; /* there already */
		sid = ace_sid(p, sz, &sl);
		if (drop_sid && !(p[1] & ACE_INHERITED) && sid && sl == drop_len &&
		    !memcmp(sid, drop_sid, sl)) {
			*changed = true;
		} else {
			memcpy(buf + o, p, sz);
			o += sz;
			count++;
		}
		pos += sz;
		p += sz;
	}
	if (add && !placed) {
		memcpy(buf + o, newace, addlen);
		o += addlen;
		count++;
		*changed = true;
	}
	buf[0] = 1;
	/* keep the DACL's inheritance bits: auto-inherited, protected */
	put16(buf + 2, SE_DACL_PRESENT | SE_SELF_RELATIVE |
			   (((unsigned char)old->bv_val[2] | (unsigned char)old->bv_val[3] << 8) &
			    0x1400));
	put32(buf + 16, 20);
	buf[20] = add && add->type == ACE_ALLOWED_OBJECT ? ACL_REVISION_DS
			 : acl                                ? acl[0]
							      : 2;
	if (acl && acl[0] > buf[20])
		buf[20] = acl[0];
	put16(buf + 22, (unsigned)(o - 20));
	put16(buf + 24, (unsigned)count);
	out->bv_val = (char *)buf;
	out->bv_len = o;
	return 0;
}

static struct berval sdflags_val = {5, (char *)"\x30\x03\x02\x01\x04"};

static int
sd_read(LDAP *ld, const char *dn, struct berval **sdp, int *lrcp)
{
	LDAPControl ctl = {SD_FLAGS_OID, sdflags_val, 1}, *ctls[] = {&ctl, NULL};
	char *attrs[] = {"nTSecurityDescriptor", NULL};
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;

	*sdp = NULL;
	*lrcp = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, ctls, NULL,
				  NULL, 1, &res);
	e = *lrcp == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
	v = e ? ldap_get_values_len(ld, e, "nTSecurityDescriptor") : NULL;
	if (v && v[0])
		*sdp = ber_bvdup(v[0]);
	ldap_value_free_len(v);
	ldap_msgfree(res);
	if (*lrcp == LDAP_SUCCESS && *sdp == NULL)
		*lrcp = LDAP_INSUFFICIENT_ACCESS; /* not readable: no READ_CONTROL */
	return *lrcp == LDAP_SUCCESS ? 0 : -EIO;
}

static int
sd_write(LDAP *ld, const char *dn, struct berval *sd)
{
	LDAPControl ctl = {SD_FLAGS_OID, sdflags_val, 1}, *ctls[] = {&ctl, NULL};
	struct berval *vals[] = {sd, NULL};
	LDAPMod m = {LDAP_MOD_REPLACE | LDAP_MOD_BVALUES, "nTSecurityDescriptor",
		     {.modv_bvals = vals}};
	LDAPMod *mods[] = {&m, NULL};

	return ldap_modify_ext_s(ld, dn, mods, ctls, NULL);
}

/* The schemaIDGUID of an attribute or class (lDAPDisplayName). */
static int
schema_guid(LDAP *ld, const char *name, struct berval **guidp)
{
	char schema[600], filter[200], *attrs[] = {"schemaIDGUID", NULL};
	char *rattrs[] = {"schemaNamingContext", NULL};
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	int rc;

	*guidp = NULL;
	rc = ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", rattrs, 0, NULL, NULL,
			       NULL, 1, &res);
	e = rc == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
	v = e ? ldap_get_values_len(ld, e, "schemaNamingContext") : NULL;
	snprintf(schema, sizeof(schema), "%.*s", v && v[0] ? (int)v[0]->bv_len : 0,
		 v && v[0] ? v[0]->bv_val : "");
	ldap_value_free_len(v);
	v = NULL;
	ldap_msgfree(res);
	res = NULL;
	if (schema[0] == '\0')
		return -EIO;
	snprintf(filter, sizeof(filter), "(lDAPDisplayName=%s)", name);
	rc = ldap_search_ext_s(ld, schema, LDAP_SCOPE_ONELEVEL, filter, attrs, 0, NULL, NULL, NULL,
			       1, &res);
	e = rc == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
	v = e ? ldap_get_values_len(ld, e, "schemaIDGUID") : NULL;
	if (v && v[0] && v[0]->bv_len == 16)
		*guidp = ber_bvdup(v[0]);
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return *guidp ? 0 : -EIO;
}

/* The DN of a group (name or SID) below base. */
static int
group_dn(LDAP *ld, const char *base, const char *sid, char *dn, size_t len)
{
	char filter[300], *attrs[] = {"1.1", NULL}, *d;
	LDAPMessage *res = NULL, *e;
	int rc;

	snprintf(filter, sizeof(filter), "(&(objectClass=group)(objectSid=%s))", sid);
	rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, NULL, 2,
			       &res);
	e = rc == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
	d = e ? ldap_get_dn(ld, e) : NULL;
	if (d)
		snprintf(dn, len, "%s", d);
	ldap_memfree(d);
	ldap_msgfree(res);
	return d ? 0 : -ENOENT;
}

struct target {
	char dn[1024];
	struct ace ace;
	const char *what;
};

/* Apply one change to one object's DACL; an exit code. */
static int
target_apply(struct polstore *s, struct target *t, bool remove, bool *changed)
{
	struct berval *old = NULL, neu = {0, NULL};
	int lrc, ret;
	bool ch = false;

	if (sd_read(s->ld, t->dn, &old, &lrc) < 0) {
		if (lrc == LDAP_INSUFFICIENT_ACCESS)
			return mmc_fail(MMC_EXIT_AUTH,
					"access denied: %s may not read the permissions of %s",
					s->who, t->dn);
		return mmc_fail(MMC_EXIT_FAIL, "reading the permissions of %s: %s", t->dn,
				ldap_err2string(lrc));
	}
	ret = sd_edit(old, remove ? NULL : &t->ace, remove ? t->ace.sid : NULL, t->ace.sidlen, &neu,
		      &ch);
	ber_bvfree(old);
	if (ret < 0)
		return mmc_fail(MMC_EXIT_FAIL, "the security descriptor of %s is malformed", t->dn);
	lrc = ch ? sd_write(s->ld, t->dn, &neu) : LDAP_SUCCESS;
	free(neu.bv_val);
	if (lrc == LDAP_INSUFFICIENT_ACCESS || lrc == LDAP_CONSTRAINT_VIOLATION)
		return mmc_fail(MMC_EXIT_AUTH,
				"access denied: %s may not change the permissions of %s", s->who,
				t->dn);
	if (lrc != LDAP_SUCCESS)
		return mmc_fail(MMC_EXIT_FAIL, "changing the permissions of %s: %s", t->dn,
				ldap_err2string(lrc));
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
		printf(changed ? "%s may no longer manage Greenwich (its permissions were removed)\n"
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
	struct berval *g_proxy = NULL, *g_user = NULL, *g_member = NULL;
	struct target t[3];
	char sid[200], reason[POL_AD_REASON_LEN] = "", esid[200];
	size_t n = 0;
	bool changed = false;
	int ret = MMC_EXIT_OK;

	memset(t, 0, sizeof(t));
	if (pol_ad_group_sid(s->ld, s->base, group, sid, sizeof(sid), reason) < 0)
		return mmc_fail(MMC_EXIT_NOTFOUND, "'%s' is not a group in %s", group,
				c->domain_name);
	if (!remove && (schema_guid(s->ld, "proxyAddresses", &g_proxy) < 0 ||
			schema_guid(s->ld, "user", &g_user) < 0 ||
			schema_guid(s->ld, "member", &g_member) < 0)) {
		ret = mmc_fail(MMC_EXIT_FAIL, "the schema of %s could not be read", c->domain_name);
		goto done;
	}
	if (!remove && (ret = pol_ad_prepare(s->ld, s->container, reason)) < 0) {
		ret = ret == -EACCES ? mmc_fail(MMC_EXIT_AUTH, "access denied: %s may not create %s",
						s->who, s->container)
				     : mmc_fail(MMC_EXIT_FAIL, "cannot create %s: %s", s->container,
						reason);
		goto done;
	}
	ret = MMC_EXIT_OK;
	snprintf(t[n].dn, sizeof(t[n].dn), "%s", s->container);
	t[n].what = "policies and federation";
	t[n++].ace = (struct ace){ACE_ALLOWED, ACE_CI, MASK_CONTAINER, NULL, NULL, {0}, 0};
	snprintf(t[n].dn, sizeof(t[n].dn), "%s", s->base);
	t[n].what = "users' SIP addresses (proxyAddresses)";
	t[n++].ace = (struct ace){ACE_ALLOWED_OBJECT, ACE_CI | ACE_IO, MASK_RP_WP, g_proxy, g_user,
				  {0}, 0};
	if (c->domain_enabled_group[0] &&
	    pol_ad_group_sid(s->ld, s->base, c->domain_enabled_group, esid, sizeof(esid),
			     reason) == 0 &&
	    group_dn(s->ld, s->base, esid, t[n].dn, sizeof(t[n].dn)) == 0) {
		t[n].what = "members of the enabled-group";
		t[n++].ace = (struct ace){ACE_ALLOWED_OBJECT, 0, MASK_WP, g_member, NULL, {0}, 0};
	} else if (!remove && !mmc_json) {
		printf("note: no [domain] enabled-group (or it is not found), so the group gets no "
		       "right to enable users; every user with a SIP URI is enabled\n");
	}
	for (size_t i = 0; i < n && ret == MMC_EXIT_OK; i++) {
		if (sid_bin(sid, t[i].ace.sid, &t[i].ace.sidlen) < 0)
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
done:
	ber_bvfree(g_proxy);
	ber_bvfree(g_user);
	ber_bvfree(g_member);
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
	struct berval *sd = NULL;
	const unsigned char *acl, *p;
	size_t acl_len, pos, n;
	struct polstore s;
	char *out = NULL;
	size_t len = 0;
	int lrc;

	if (!c->domain_name[0] || polstore_open(&s, c, true) < 0)
		goto done;
	if (sd_read(s.ld, s.container, &sd, &lrc) < 0 && lrc == LDAP_NO_SUCH_OBJECT) {
		out = strdup("");
		goto done;
	}
	if (sd == NULL || sd_acl(sd, &acl, &acl_len) < 0 || (out = strdup("")) == NULL)
		goto done;
	n = acl ? (size_t)(acl[4] | acl[5] << 8) : 0;
	for (pos = 8, p = acl ? acl + 8 : NULL; n > 0 && p && pos + 8 <= acl_len; n--) {
		size_t sz = (size_t)(p[2] | p[3] << 8), sl = 0;
		const unsigned char *sid = ace_sid(p, sz, &sl);
		char text[200], name[300];
		if (sz < 8 || pos + sz > acl_len)
			break;
		if (p[0] == ACE_ALLOWED && !(p[1] & ACE_INHERITED) && le32(p + 4) == MASK_CONTAINER &&
		    sid && ad_sid_to_str(sid, sl, text, sizeof(text)) == 0) {
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
	ber_bvfree(sd);
	if (c->domain_name[0])
		polstore_close(&s);
	return out;
}
