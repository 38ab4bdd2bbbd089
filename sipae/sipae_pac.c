/*
 * sipae_pac.c - the SIDs of a PAC's logon information: a small reader of the
 * NDR-serialised KERB_VALIDATION_INFO ([MS-PAC] 2.5, [MS-RPCE] 2.2.6 type
 * serialisation v1, little-endian).  Every read is bounds-checked.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipae_private.h"

#define PAC_MAX_SIDS 4096

struct ndr {
	const uint8_t *b;
	size_t len, off;
	bool bad;
};

static void
ndr_skip(struct ndr *n, size_t count)
{
	if (n->bad || count > n->len - n->off)
		n->bad = true;
	else
		n->off += count;
}

static uint32_t
ndr_u32(struct ndr *n)
{
	uint32_t v = 0;

	n->off = (n->off + 3) & ~(size_t)3;
	if (n->off > n->len)
		n->bad = true;
	if (!n->bad && n->len - n->off >= 4)
		v = sipae_le32(n->b + n->off);
	ndr_skip(n, 4);
	return v;
}

/* A conformant varying string's body (after its RPC_UNICODE_STRING header). */
static void
ndr_string(struct ndr *n, uint32_t ptr)
{
	uint32_t actual;

	if (ptr == 0)
		return;
	ndr_u32(n); /* maximum count */
	ndr_u32(n); /* offset */
	actual = ndr_u32(n);
	if (actual > n->len)
		n->bad = true;
	else
		ndr_skip(n, (size_t)actual * 2);
}

struct pac_sid {
	uint8_t rev, count;
	uint64_t auth;
	uint32_t sub[15];
};

/* An RPC_SID referent: conformance, revision, count, authority, sub-authorities. */
static void
ndr_sid(struct ndr *n, struct pac_sid *s)
{
	uint32_t max = ndr_u32(n), i;

	memset(s, 0, sizeof(*s));
	if (n->bad || max > 15 || n->len - n->off < 8) {
		n->bad = true;
		return;
	}
	s->rev = n->b[n->off];
	s->count = n->b[n->off + 1];
	for (i = 0; i < 6; i++)
		s->auth = s->auth << 8 | n->b[n->off + 2 + i];
	ndr_skip(n, 8);
	if (s->count != max || s->rev != 1) {
		n->bad = true;
		return;
	}
	for (i = 0; i < s->count; i++)
		s->sub[i] = ndr_u32(n);
}

struct pac_out {
	char **v;
	size_t n;
	int err;
};

/* Append the SID (with rid appended when with_rid), skipping duplicates. */
static void
pac_add(struct pac_out *o, const struct pac_sid *s, bool with_rid, uint32_t rid)
{
	char buf[16 * 11 + 32], **nv;
	size_t i, k;
	int w;

	if (o->err != 0)
		return;
	w = snprintf(buf, sizeof(buf), "S-%u-%" PRIu64, s->rev, s->auth);
	for (i = 0; i < s->count; i++)
		w += snprintf(buf + w, sizeof(buf) - (size_t)w, "-%" PRIu32, s->sub[i]);
	if (with_rid)
		snprintf(buf + w, sizeof(buf) - (size_t)w, "-%" PRIu32, rid);
	for (k = 0; k < o->n; k++) {
		if (strcmp(o->v[k], buf) == 0)
			return;
	}
	o->err = -ENOMEM;
	nv = realloc(o->v, (o->n + 2) * sizeof(char *));
	if (nv == NULL)
		return;
	o->v = nv;
	o->v[o->n] = strdup(buf);
	if (o->v[o->n] == NULL)
		return;
	o->v[++o->n] = NULL;
	o->err = 0;
}

/* GROUP_MEMBERSHIP array: conformance, then (RelativeId, Attributes) pairs. */
static void
pac_rids(struct ndr *n, uint32_t count, const struct pac_sid *dom, struct pac_out *o)
{
	uint32_t i, rid;

	if (ndr_u32(n) != count || count > PAC_MAX_SIDS) {
		n->bad = true;
		return;
	}
	for (i = 0; i < count && !n->bad; i++) {
		rid = ndr_u32(n);
		ndr_u32(n);
		if (!n->bad)
			pac_add(o, dom, true, rid);
	}
}

static void
pac_extra_sids(struct ndr *n, uint32_t count, struct pac_out *o)
{
	uint32_t *ptrs, i;
	struct pac_sid s;

	if (ndr_u32(n) != count || count > PAC_MAX_SIDS) {
		n->bad = true;
		return;
	}
	ptrs = calloc(count + 1, sizeof(*ptrs));
	if (ptrs == NULL) {
		o->err = -ENOMEM;
		return;
	}
	for (i = 0; i < count; i++) {
		ptrs[i] = ndr_u32(n);
		ndr_u32(n); /* attributes */
	}
	for (i = 0; i < count && !n->bad; i++) {
		if (ptrs[i] == 0)
			continue;
		ndr_sid(n, &s);
		if (!n->bad)
			pac_add(o, &s, false, 0);
	}
	free(ptrs);
}

/* The fixed part of KERB_VALIDATION_INFO: what the deferred part needs. */
struct kvi {
	uint32_t str_ptr[8]; /* six names, then LogonServer, LogonDomainName */
	uint32_t user_id, group_count, group_ptr, dom_ptr;
	uint32_t sid_count, extra_ptr, res_dom_ptr, res_count, res_ptr;
};

static void
pac_fixed(struct ndr *n, struct kvi *k)
{
	int i;

	ndr_skip(n, 6 * 8); /* six FILETIMEs */
	for (i = 0; i < 6; i++) {
		ndr_u32(n); /* Length, MaximumLength */
		k->str_ptr[i] = ndr_u32(n);
	}
	ndr_u32(n); /* LogonCount, BadPasswordCount */
	k->user_id = ndr_u32(n);
	ndr_u32(n); /* PrimaryGroupId (also among the groups) */
	k->group_count = ndr_u32(n);
	k->group_ptr = ndr_u32(n);
	ndr_u32(n);      /* UserFlags */
	ndr_skip(n, 16); /* UserSessionKey */
	for (i = 6; i < 8; i++) {
		ndr_u32(n);
		k->str_ptr[i] = ndr_u32(n);
	}
	k->dom_ptr = ndr_u32(n);
	ndr_skip(n, 8 + 4 + 4 + 8 + 8 + 4 + 4); /* Reserved1 .. Reserved3 */
	k->sid_count = ndr_u32(n);
	k->extra_ptr = ndr_u32(n);
	k->res_dom_ptr = ndr_u32(n);
	k->res_count = ndr_u32(n);
	k->res_ptr = ndr_u32(n);
}

static void
pac_deferred(struct ndr *n, const struct kvi *k, struct pac_out *o)
{
	struct ndr groups;
	struct pac_sid dom, res;
	int i;

	for (i = 0; i < 6; i++)
		ndr_string(n, k->str_ptr[i]);
	/* GroupIds come before the domain SID they are relative to: remember
	 * where they are, skip them, and read them once the SID is known. */
	groups = *n;
	if (k->group_ptr != 0) {
		if (ndr_u32(n) != k->group_count || k->group_count > PAC_MAX_SIDS)
			n->bad = true;
		ndr_skip(n, (size_t)k->group_count * 8);
	}
	for (i = 6; i < 8; i++)
		ndr_string(n, k->str_ptr[i]);
	if (k->dom_ptr == 0)
		n->bad = true;
	ndr_sid(n, &dom);
	if (n->bad)
		return;
	pac_add(o, &dom, true, k->user_id);
	if (k->group_ptr != 0)
		pac_rids(&groups, k->group_count, &dom, o);
	if (k->extra_ptr != 0)
		pac_extra_sids(n, k->sid_count, o);
	if (k->res_dom_ptr != 0) {
		ndr_sid(n, &res);
		if (k->res_ptr != 0 && !n->bad)
			pac_rids(n, k->res_count, &res, o);
	}
	n->bad = n->bad || groups.bad;
}

int
sipae_pac_logon_sids(const uint8_t *buf, size_t len, char ***sids, size_t *nsids)
{
	struct ndr n = {buf, len, 0, false};
	struct pac_out o = {0};
	struct kvi k = {0};
	int ret = -EINVAL;

	*sids = NULL;
	*nsids = 0;
	/* common type header (version 1, little-endian, 8 bytes), private header */
	if (len < 20 || buf[0] != 1 || buf[1] != 0x10 || sipae_le16(buf + 2) != 8)
		goto done;
	if (sipae_le32(buf + 8) > len - 16)
		goto done;
	n.len = 16 + sipae_le32(buf + 8);
	n.off = 16;
	if (ndr_u32(&n) == 0) /* referent of the top-level pointer */
		goto done;
	pac_fixed(&n, &k);
	if (!n.bad)
		pac_deferred(&n, &k, &o);
	ret = o.err;
	if (ret == 0 && (n.bad || o.n == 0))
		ret = -EINVAL;
	if (ret < 0)
		goto done;
	*sids = o.v;
	*nsids = o.n;
	o.v = NULL;
done:
	sipae_strv_free(o.v);
	return ret;
}
