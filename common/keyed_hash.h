/*
 * keyed_hash.h - a hash with a secret key (SipHash-2-4, 64-bit, from OpenSSL's
 * provider) for hash tables whose keys an outsider chooses (a Call-ID, say):
 * without the key nobody can pick keys that all fall into one bucket and
 * turn each lookup into a walk over the whole table.  The quick unkeyed hash
 * for everything else is hash.h.  One hasher is not thread safe: its owner
 * uses it under its own lock.
 */
#ifndef GW_KEYED_HASH_H
#define GW_KEYED_HASH_H

#include <stddef.h>
#include <stdint.h>

#define GW_KEYED_HASH_KEY_LEN 16

struct gw_keyed_hash;

/* A hasher with key (GW_KEYED_HASH_KEY_LEN bytes), or a random one when key is
 * NULL; 0, or -1 when OpenSSL has no SipHash or no random bytes to give. */
int gw_keyed_hash_new(struct gw_keyed_hash **out, const unsigned char *key);
void gw_keyed_hash_free(struct gw_keyed_hash *h);
/* SipHash-2-4 of the n bytes at p, as a little-endian 64-bit number (0 when h is
 * NULL or OpenSSL fails: one bucket for all, slow but never wrong). */
uint64_t gw_keyed_hash(struct gw_keyed_hash *h, const void *p, size_t n);

#endif
