/*
 * pol_table.h - lookups in interned-string tables, inline because pol_eval() runs them for
 * every SID of every request (private to libgwpolicy).
 */
#ifndef GW_POL_TABLE_H
#define GW_POL_TABLE_H

#include <string.h>
#include <strings.h>

#include "pol_private.h"

static inline uint64_t
hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static inline uint64_t
load64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Case-sensitive keys are mostly SIDs of one domain, which differ in their last digits, so the
 * hash reads only the last 16 bytes and the length: cheap, and a collision only costs a
 * comparison.
 */
static inline uint64_t
hash_exact(const char *s, size_t len)
{
	uint64_t a = 0, b = 0, h;

	if (len >= 8) {
		a = load64(s + len - 8);
		b = load64(s + (len >= 16 ? len - 16 : 0));
	} else {
		memcpy(&a, s, len);
	}
	h = (a ^ ((b << 23) | (b >> 41)) ^ len) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	return h ^ (h >> 32);
}

static inline uint64_t
hash_fold(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h = (h ^ c) * 0x100000001b3ULL;
	}
	return hash_mix(h);
}

/* The slot holding key, or the empty slot where it belongs.  The slot's tag (high half of the
 * hash) rules out most other keys without touching them. */
static inline size_t
table_probe(const struct pol_table *t, const char *key, size_t len, uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32);
	size_t i = (size_t)h & t->mask;

	for (;; i = (i + 1) & t->mask) {
		const struct pol_slot *sl = &t->slots[i];
		uint32_t v = sl->id1;

		if (v == 0)
			return i;
		v--;
		if (sl->tag != tag || t->lens[v] != len)
			continue;
		if (t->fold ? strncasecmp(t->keys[v], key, len) == 0
			    : memcmp(t->keys[v], key, len) == 0)
			return i;
	}
}

static inline uint64_t
table_hash(const struct pol_table *t, const char *key, size_t len)
{
	return t->fold ? hash_fold(key, len) : hash_exact(key, len);
}

static inline uint32_t
pol_table_find(const struct pol_table *t, const char *key, size_t len)
{
	uint32_t v;

	if (t->slots == NULL)
		return POL_NO_ID;
	v = t->slots[table_probe(t, key, len, table_hash(t, key, len))].id1;
	return v == 0 ? POL_NO_ID : v - 1;
}

#endif
