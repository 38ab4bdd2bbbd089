/*
 * hash.h - the one string and byte hash of the hash tables (32-bit FNV-1a):
 * quick, and good enough to spread keys over buckets.  Not for anything an
 * attacker must not predict: tables that outsiders fill are bounded and
 * evict, and a table whose keys they choose freely (the dialogs' Call-IDs)
 * uses the keyed hash of keyed_hash.h.
 */
#ifndef GW_HASH_H
#define GW_HASH_H

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>

#define GW_FNV_BASIS 2166136261u
#define GW_FNV_PRIME 16777619u

static inline uint32_t
gw_hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t h = GW_FNV_BASIS;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * GW_FNV_PRIME;
	return h;
}

static inline uint32_t
gw_hash_str(const char *s)
{
	uint32_t h = GW_FNV_BASIS;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * GW_FNV_PRIME;
	return h;
}

/* The same for a string compared without regard to ASCII case. */
static inline uint32_t
gw_hash_str_ci(const char *s)
{
	uint32_t h = GW_FNV_BASIS;

	for (; *s; s++)
		h = (h ^ (uint32_t)tolower((unsigned char)*s)) * GW_FNV_PRIME;
	return h;
}

#endif
