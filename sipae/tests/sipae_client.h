/*
 * sipae_client.h - the client side of NTLMv2, only for the tests of libgwsipae:
 * what pidgin-sipe computes from a password, so the server side can be checked.
 */
#ifndef GW_SIPAE_CLIENT_H
#define GW_SIPAE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* NTOWFv2 = HMAC_MD5(MD4(UTF-16(password)), UTF-16(UPPER(user) | domain)). */
int cl_ntowfv2(const char *password, const char *user, const char *domain, uint8_t out[16]);

/* The NTLMv2 response to chal: nt (malloc'ed) = NTProofStr | blob(ts, cchal, ti),
 * lm = LMv2, sbk = SessionBaseKey. */
int cl_ntlmv2_response(const uint8_t key[16], const uint8_t chal[8], const uint8_t cchal[8],
		       uint64_t ts, const uint8_t *ti, size_t tilen, uint8_t **nt, size_t *ntlen,
		       uint8_t lm[24], uint8_t sbk[16]);

struct cl_auth {
	uint32_t flags;
	const char *user, *domain, *workstation;
	const uint8_t *lm;
	size_t lm_len;
	const uint8_t *nt;
	size_t nt_len;
	const uint8_t *enc_key; /* 16 bytes, or NULL */
	int mic_room;           /* leave 16 zero bytes for a MIC at 72 (payload at 88) */
};
/* An AUTHENTICATE_MESSAGE with Version (payload at 72, or 88 with mic_room: domain,
 * user, workstation, lm, nt, key), malloc'ed. */
int cl_build_auth(const struct cl_auth *a, uint8_t **msg, size_t *len);

/* TargetInfo and ServerChallenge of a CHALLENGE_MESSAGE (pointers into msg). */
int cl_parse_challenge(const uint8_t *msg, size_t len, const uint8_t **ti, size_t *tilen,
		       uint8_t chal[8]);

/* Everything a client does: from the CHALLENGE and a password to the
 * AUTHENTICATE (KEY_EXCH with random esk) and the SessionBaseKey. */
int cl_authenticate(const uint8_t *chal_msg, size_t chal_len, const char *user, const char *domain,
		    const char *password, uint8_t **msg, size_t *len, uint8_t sbk[16],
		    uint8_t esk[16]);

/* Extended protection a client adds to its AV pairs ([MS-NLMP] 3.1.5.1.2). */
struct cl_protect {
	const char *target; /* MsvAvTargetName, or NULL */
	const uint8_t *cb;  /* MsvAvChannelBindings (16 bytes), or NULL */
	int mic;            /* MsvAvFlags 0x2 and the MIC over CHALLENGE + AUTHENTICATE */
};
/* cl_authenticate with the AV pairs of p added to the server's TargetInfo. */
int cl_authenticate_ex(const uint8_t *chal_msg, size_t chal_len, const char *user,
		       const char *domain, const char *password, const struct cl_protect *p,
		       uint8_t **msg, size_t *len, uint8_t sbk[16], uint8_t esk[16]);

#endif
