/*
 * digest.h - HTTP Digest (RFC 7616 / RFC 8760) hashing for SIP sign-in.
 *
 * Only HA1 = H(user:realm:password) is ever stored; the password is not.
 */
#ifndef GW_DIGEST_H
#define GW_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

enum gw_digest_alg { GW_DIGEST_MD5, GW_DIGEST_SHA256 };

/* "MD5" / "SHA-256" (case-insensitive) -> alg; -1 when unknown. */
int gw_digest_alg_parse(const char *name);
const char *gw_digest_alg_name(enum gw_digest_alg alg);
/* Hex length of one hash: 32 or 64. */
size_t gw_digest_hexlen(enum gw_digest_alg alg);

/* hex(H(a ":" b ":" c ...)); parts is NULL-terminated.  out holds 65 bytes. */
int gw_digest_hash(enum gw_digest_alg alg, char out[65], const char *const *parts);
int gw_digest_ha1(enum gw_digest_alg alg, char out[65], const char *user, const char *realm,
		  const char *password);
/* The expected `response` for qop=auth (or no qop when qop is NULL). */
int gw_digest_response(enum gw_digest_alg alg, char out[65], const char *ha1, const char *nonce,
		       const char *nc, const char *cnonce, const char *qop, const char *method,
		       const char *uri);
/* Constant-time comparison of two hex strings. */
bool gw_digest_equal(const char *a, const char *b);

#endif
