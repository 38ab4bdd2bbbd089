/*
 * ad_sd.c - editing security descriptors (self-relative, DACL only, as
 * ad_session_sd_get() reads them): an ACE added before the first inherited one, or a
 * SID's explicit ACEs taken out.  No I/O: `domain delegate` and the sip/ account's
 * password-reset grant at `domain join` share it.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwad.h"

#define SE_DACL_PRESENT 0x0004
#define SE_SELF_RELATIVE 0x8000
#define ACL_REVISION_DS 4

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

static size_t
ace_size(const struct ad_ace *a)
{
	if (a->type == AD_ACE_ALLOWED)
		return 8 + a->sidlen;
	return 12 + (a->object ? 16 : 0) + (a->inherited ? 16 : 0) + a->sidlen;
}

static void
ace_write(const struct ad_ace *a, unsigned char *p)
{
	size_t o = 8;

	p[0] = a->type;
	p[1] = a->flags;
	put16(p + 2, (unsigned)ace_size(a));
	put32(p + 4, a->mask);
	if (a->type == AD_ACE_ALLOWED_OBJECT) {
		put32(p + 8, (a->object ? 1u : 0u) | (a->inherited ? 2u : 0u));
		o = 12;
		if (a->object) {
			memcpy(p + o, a->object, 16);
			o += 16;
		}
		if (a->inherited) {
			memcpy(p + o, a->inherited, 16);
			o += 16;
		}
	}
	memcpy(p + o, a->sid, a->sidlen);
}

/* The SID an ACE is for (NULL for types whose layout is not known here). */
const unsigned char *
ad_ace_sid(const unsigned char *p, size_t size, size_t *lenp)
{
	size_t o;

	if (p[0] == AD_ACE_ALLOWED || p[0] == 1 /* denied */)
		o = 8;
	else if (p[0] == AD_ACE_ALLOWED_OBJECT || p[0] == 6 /* denied object */)
		o = 12 + ((le32(p + 8) & 1) ? 16 : 0) + ((le32(p + 8) & 2) ? 16 : 0);
	else
		return NULL;
	if (o + 8 > size || o + 8 + 4 * (size_t)p[o + 1] > size)
		return NULL;
	*lenp = 8 + 4 * (size_t)p[o + 1];
	return p + o;
}

/* An SD from the server (DACL only), checked; *aclp points to its ACL. */
int
ad_sd_acl(const struct ad_sd *sd, const unsigned char **aclp, size_t *acl_len)
{
	const unsigned char *p = sd->p;
	uint32_t off;

	if (sd->len < 20 || p[0] != 1)
		return -EINVAL;
	off = le32(p + 16);
	if (off == 0) {
		*aclp = NULL;
		*acl_len = 0;
		return 0;
	}
	if (off + 8 > sd->len || le32(p + 16) + (p[off + 2] | p[off + 3] << 8) > sd->len)
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
int
ad_sd_edit(const struct ad_sd *old, const struct ad_ace *add, const unsigned char *drop_sid,
	   size_t drop_len, struct ad_sd *out, bool *changed)
{
	const unsigned char *acl, *p;
	size_t acl_len, pos, o = 28, count = 0, n;
	unsigned char *buf, newace[128];
	size_t addlen = 0;
	bool placed = false;
	int ret = ad_sd_acl(old, &acl, &acl_len);

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
		if (add && !placed && (p[1] & AD_ACE_INHERITED)) {
			memcpy(buf + o, newace, addlen);
			o += addlen;
			count++;
			placed = *changed = true;
		}
		if (add && sz == addlen && !memcmp(p, newace, addlen))
			placed = true; /* there already */
		sid = ad_ace_sid(p, sz, &sl);
		if (drop_sid && !(p[1] & AD_ACE_INHERITED) && sid && sl == drop_len &&
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
	put16(buf + 2,
	      SE_DACL_PRESENT | SE_SELF_RELATIVE | ((old->p[2] | old->p[3] << 8) & 0x1400));
	put32(buf + 16, 20);
	buf[20] = add && add->type == AD_ACE_ALLOWED_OBJECT ? ACL_REVISION_DS : acl ? acl[0] : 2;
	if (acl && acl[0] > buf[20])
		buf[20] = acl[0];
	put16(buf + 22, (unsigned)(o - 20));
	put16(buf + 24, (unsigned)count);
	out->p = buf;
	out->len = o;
	return 0;
}
