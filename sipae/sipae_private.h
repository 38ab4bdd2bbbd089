/*
 * sipae_private.h - helpers shared by the files of libgwsipae (and its tests),
 * not part of the interface greenwichd uses (gwsipae.h).
 */
#ifndef GW_SIPAE_PRIVATE_H
#define GW_SIPAE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gwsipae.h"

/* ---- crypto (sipae_crypto.c): OpenSSL 3 in a private library context ---- */

/* MD5 over the concatenation of two buffers (b may be NULL with blen 0). */
int sipae_md5(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[16]);
/* MD4 (only for the client side of the tests: NTOWF). */
int sipae_md4(const void *data, size_t len, uint8_t out[16]);
/* HMAC-MD5 over the concatenation of two buffers. */
int sipae_hmac_md5(const uint8_t *key, size_t keylen, const void *a, size_t alen, const void *b,
		   size_t blen, uint8_t out[16]);
/* RC4 with a fresh key schedule: out = RC4(key, in); in and out may be the same. */
int sipae_rc4(const uint8_t *key, size_t keylen, const uint8_t *in, uint8_t *out, size_t len);
/* Cryptographically strong random bytes. */
int sipae_random(void *buf, size_t len);

/* ---- text (sipae_util.c) ---- */

/* UTF-16LE (len bytes, even) to a malloc'ed NUL-terminated UTF-8 string.
 * -EINVAL on odd length, unpaired surrogates or embedded NUL. */
int sipae_utf16_to_utf8(const uint8_t *in, size_t len, char **out);
/* UTF-8 to malloc'ed UTF-16LE (no terminator); *len in bytes. -EINVAL if not UTF-8. */
int sipae_utf8_to_utf16(const char *in, uint8_t **out, size_t *len);
/* Little-endian loads and stores. */
uint16_t sipae_le16(const uint8_t *p);
uint32_t sipae_le32(const uint8_t *p);
void sipae_put_le16(uint8_t *p, uint16_t v);
void sipae_put_le32(uint8_t *p, uint32_t v);
/* Free a NULL-ended array of strings. */
void sipae_strv_free(char **v);

/* ---- replay cache of Kerberos authenticators (sipae_rcache.c) ---- */

#define SIPAE_RCACHE_TAG 16 /* bytes of SHA-256 kept per authenticator */

struct sipae_rcache;
/* A replay cache whose entries live life seconds; path: its journal (the file and
 * "path.old"), whose unexpired records are loaded now; NULL: memory only. */
int sipae_rcache_open(struct sipae_rcache **out, const char *path, int64_t life, int64_t now);
/* Records tag: 0, -EALREADY when it is there already (a replay), -errno when the
 * journal cannot be written (nothing recorded: the caller refuses). Thread-safe. */
int sipae_rcache_add(struct sipae_rcache *rc, const uint8_t tag[SIPAE_RCACHE_TAG], int64_t now);
/* Entries held (expired ones go on the next add). */
size_t sipae_rcache_size(struct sipae_rcache *rc);
void sipae_rcache_close(struct sipae_rcache *rc);
/* The tag of an authenticator: SHA-256 of its ciphertext, shortened. */
int sipae_rcache_tag(const void *cipher, size_t len, uint8_t tag[SIPAE_RCACHE_TAG]);

#endif
