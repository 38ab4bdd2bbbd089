/*
 * sipae_ntlm.c - connectionless NTLMv2 messages and session security ([MS-NLMP]):
 * the CHALLENGE_MESSAGE we send, the AUTHENTICATE_MESSAGE we parse, the keys
 * derived from the session base key the DC returns, and message signatures.
 * Verification of the response itself is the DC's job (sipae_ntlm_check.c).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sipae_private.h"

#define NTLM_SIGNATURE "NTLMSSP" /* with its NUL: 8 bytes */
#define NTLM_CHALLENGE_FLAGS 0xE2998255u
#define NTLM_SIGN 0x00000010u
#define NTLM_UNICODE 0x00000001u
#define NTLM_KEY_EXCH 0x40000000u
#define NTLM_VERSION 0x02000000u
#define NTLM_CHAL_HDR 56    /* with the Version field */
#define NTLM_AUTH_HDR 64    /* up to NegotiateFlags; Version and MIC follow optionally */
#define NTLM_AUTH_MAX 16384 /* far beyond any real message (SIP headers are smaller) */
#define NTLM_NAME_MAX 512   /* bytes of UTF-16 per name: 256 characters */
#define NTLM_NT_MIN 48      /* NTProofStr + blob header (28) + at least MsvAvEOL */

enum ntlm_av {
	AV_EOL = 0,
	AV_NB_COMPUTER = 1,
	AV_NB_DOMAIN = 2,
	AV_DNS_COMPUTER = 3,
	AV_DNS_DOMAIN = 4,
	AV_FLAGS = 6,
	AV_TIMESTAMP = 7,
	AV_TARGET_NAME = 9,
	AV_CHANNEL_BINDINGS = 10,
};
#define NTLM_BLOB_AV 44 /* NTProofStr (16) + the blob's fixed part (28) */
#define NTLM_MIC_OFF 72 /* after the Version field */
#define NTLM_MIC_END 88
#define NTLM_AV_MIC 0x2u /* MsvAvFlags: the message carries a MIC */

/* Version field: 6.1 build 7601, NTLMSSP_REVISION_W2K3. */
static const uint8_t ntlm_version[8] = {6, 1, 0xB1, 0x1D, 0, 0, 0, 15};

/* ---- CHALLENGE_MESSAGE ---- */

/* Append one AV_PAIR with a UTF-8 name converted to UTF-16LE. */
static int
ntlm_av_name(uint8_t *ti, size_t *n, size_t max, uint16_t id, const char *name)
{
	uint8_t *u = NULL;
	size_t ulen = 0;
	int ret = sipae_utf8_to_utf16(name, &u, &ulen);

	if (ret < 0)
		goto done;
	ret = -EINVAL;
	if (ulen == 0 || ulen > NTLM_NAME_MAX || *n + 4 + ulen > max)
		goto done;
	sipae_put_le16(ti + *n, id);
	sipae_put_le16(ti + *n + 2, (uint16_t)ulen);
	memcpy(ti + *n + 4, u, ulen);
	*n += 4 + ulen;
	ret = 0;
done:
	free(u);
	return ret;
}

/* FILETIME now: 100 ns units since 1601-01-01. */
static uint64_t
ntlm_filetime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec + 11644473600ULL) * 10000000ULL + (uint64_t)ts.tv_nsec / 100;
}

/* TargetInfo: the four names, MsvAvTimestamp ft, MsvAvEOL. */
static int
ntlm_target_info(const struct sipae_ntlm_names *nm, uint64_t ft, uint8_t *ti, size_t max, size_t *n)
{
	int ret;

	*n = 0;
	ret = ntlm_av_name(ti, n, max, AV_NB_DOMAIN, nm->nb_domain);
	if (ret == 0)
		ret = ntlm_av_name(ti, n, max, AV_NB_COMPUTER, nm->nb_computer);
	if (ret == 0)
		ret = ntlm_av_name(ti, n, max, AV_DNS_DOMAIN, nm->dns_domain);
	if (ret == 0)
		ret = ntlm_av_name(ti, n, max, AV_DNS_COMPUTER, nm->dns_computer);
	if (ret < 0)
		return ret;
	if (*n + 12 + 4 > max)
		return -EINVAL;
	sipae_put_le16(ti + *n, AV_TIMESTAMP);
	sipae_put_le16(ti + *n + 2, 8);
	sipae_put_le32(ti + *n + 4, (uint32_t)ft);
	sipae_put_le32(ti + *n + 8, (uint32_t)(ft >> 32));
	memset(ti + *n + 12, 0, 4); /* MsvAvEOL */
	*n += 16;
	return 0;
}

static void
ntlm_put_field(uint8_t *p, size_t len, size_t off)
{
	sipae_put_le16(p, (uint16_t)len);
	sipae_put_le16(p + 2, (uint16_t)len);
	sipae_put_le32(p + 4, (uint32_t)off);
}

int
sipae_ntlm_challenge(const struct sipae_ntlm_names *names, uint8_t chal[8], uint8_t **msg,
		     size_t *len)
{
	int ret = sipae_random(chal, 8);

	if (ret < 0) {
		*msg = NULL;
		*len = 0;
		return ret;
	}
	return sipae_ntlm_challenge_make(names, chal, ntlm_filetime_now(), msg, len);
}

uint64_t
sipae_filetime(time_t t)
{
	return ((uint64_t)t + 11644473600ULL) * 10000000ULL;
}

int
sipae_ntlm_challenge_make(const struct sipae_ntlm_names *names, const uint8_t chal[8],
			  uint64_t filetime, uint8_t **msg, size_t *len)
{
	size_t timax = 4 * (NTLM_NAME_MAX + 4) + 16, tilen = 0, tnlen = 0;
	uint8_t *m = NULL, *tn = NULL;
	int ret = -EINVAL;

	*msg = NULL;
	*len = 0;
	if (names == NULL || names->nb_domain == NULL || names->nb_computer == NULL ||
	    names->dns_domain == NULL || names->dns_computer == NULL)
		goto done;
	ret = sipae_utf8_to_utf16(names->nb_domain, &tn, &tnlen);
	if (ret < 0)
		goto done;
	ret = -ENOMEM;
	m = calloc(1, NTLM_CHAL_HDR + NTLM_NAME_MAX + timax);
	if (m == NULL)
		goto done;
	ret = -EINVAL;
	if (tnlen > NTLM_NAME_MAX)
		goto done;
	ret = ntlm_target_info(names, filetime, m + NTLM_CHAL_HDR + tnlen, timax, &tilen);
	if (ret < 0)
		goto done;
	memcpy(m, NTLM_SIGNATURE, 8);
	sipae_put_le32(m + 8, 2);
	ntlm_put_field(m + 12, tnlen, NTLM_CHAL_HDR); /* TargetName: the NetBIOS domain */
	sipae_put_le32(m + 20, NTLM_CHALLENGE_FLAGS);
	memcpy(m + 24, chal, 8);
	ntlm_put_field(m + 40, tilen, NTLM_CHAL_HDR + tnlen);
	memcpy(m + 48, ntlm_version, 8);
	memcpy(m + NTLM_CHAL_HDR, tn, tnlen);
	*msg = m;
	*len = NTLM_CHAL_HDR + tnlen + tilen;
	m = NULL;
done:
	free(m);
	free(tn);
	return ret;
}

/* ---- AUTHENTICATE_MESSAGE ---- */

struct ntlm_span {
	size_t off, len;
};

static int ntlm_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
ntlm_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* Read the security buffer at hdr (Len, MaxLen, Offset) and bounds-check it:
 * inside the message, after the fixed header. */
static int
ntlm_field(const uint8_t *buf, size_t len, size_t hdr, size_t payload, size_t max,
	   struct ntlm_span *s)
{
	s->len = sipae_le16(buf + hdr);
	s->off = sipae_le32(buf + hdr + 4);
	if (s->len == 0)
		return 0;
	if (s->len > max || s->off < payload || s->off > len || s->len > len - s->off)
		return -EINVAL;
	return 0;
}

static bool
ntlm_overlap(const struct ntlm_span *a, const struct ntlm_span *b)
{
	if (a->len == 0 || b->len == 0)
		return false;
	return a->off < b->off + b->len && b->off < a->off + a->len;
}

static int
ntlm_auth_name(const uint8_t *buf, const struct ntlm_span *s, char **out)
{
	if (s->len == 0) {
		*out = strdup("");
		return *out == NULL ? -ENOMEM : 0;
	}
	return sipae_utf16_to_utf8(buf + s->off, s->len, out);
}

/* Fields: 0 LM, 1 NT, 2 domain, 3 user, 4 workstation, 5 session key. */
static const struct {
	size_t hdr, max;
	const char *what;
} ntlm_auth_fields[6] = {
    {12, 24, "LmChallengeResponse"},    {20, 4096, "NtChallengeResponse"},
    {28, NTLM_NAME_MAX, "DomainName"},  {36, NTLM_NAME_MAX, "UserName"},
    {44, NTLM_NAME_MAX, "Workstation"}, {52, 16, "EncryptedRandomSessionKey"},
};

static int
ntlm_auth_layout(const uint8_t *buf, size_t len, struct ntlm_span f[6], char *err, size_t errlen)
{
	size_t i, j, payload = NTLM_AUTH_HDR;

	if (len < NTLM_AUTH_HDR || len > NTLM_AUTH_MAX)
		return ntlm_fail(err, errlen, -EINVAL, "AUTHENTICATE of %zu bytes", len);
	if (memcmp(buf, NTLM_SIGNATURE, 8) != 0 || sipae_le32(buf + 8) != 3)
		return ntlm_fail(err, errlen, -EINVAL, "not an NTLM AUTHENTICATE_MESSAGE");
	if (sipae_le32(buf + 60) & NTLM_VERSION)
		payload += 8; /* the payload starts after the Version field */
	for (i = 0; i < 6; i++) {
		if (ntlm_field(buf, len, ntlm_auth_fields[i].hdr, payload, ntlm_auth_fields[i].max,
			       &f[i]) < 0)
			return ntlm_fail(err, errlen, -EINVAL, "%s out of bounds",
					 ntlm_auth_fields[i].what);
	}
	for (i = 0; i < 6; i++) {
		for (j = i + 1; j < 6; j++) {
			if (ntlm_overlap(&f[i], &f[j]))
				return ntlm_fail(err, errlen, -EINVAL, "%s overlaps %s",
						 ntlm_auth_fields[i].what,
						 ntlm_auth_fields[j].what);
		}
	}
	return 0;
}

/* The AV pairs of the NTLMv2 response's blob: MsvAvFlags, MsvAvTargetName and
 * MsvAvChannelBindings, each at most once, all inside the response, up to MsvAvEOL. */
static int
ntlm_auth_avpairs(struct sipae_ntlm_auth *a, const struct ntlm_span f[6], char *err, size_t errlen)
{
	const uint8_t *p = a->nt + NTLM_BLOB_AV, *end = a->nt + a->nt_len;
	bool flags = false;

	for (;;) {
		if (end - p < 4)
			return ntlm_fail(err, errlen, -EINVAL, "AV pairs without MsvAvEOL");
		uint16_t id = sipae_le16(p), n = sipae_le16(p + 2);
		p += 4;
		if (id == AV_EOL)
			break;
		if ((size_t)(end - p) < n)
			return ntlm_fail(err, errlen, -EINVAL, "AV pair %u out of bounds", id);
		if (id == AV_FLAGS) {
			if (n != 4 || flags)
				return ntlm_fail(err, errlen, -EINVAL, "bad MsvAvFlags");
			a->av_flags = sipae_le32(p);
			flags = true;
		} else if (id == AV_TARGET_NAME) {
			if (a->target != NULL || n % 2 != 0)
				return ntlm_fail(err, errlen, -EINVAL, "bad MsvAvTargetName");
			a->target = p;
			a->target_len = n;
		} else if (id == AV_CHANNEL_BINDINGS) {
			if (n != 16 || a->cb != NULL)
				return ntlm_fail(err, errlen, -EINVAL, "bad MsvAvChannelBindings");
			a->cb = p;
		}
		p += n;
	}
	if (a->av_flags & NTLM_AV_MIC) {
		/* the MIC sits between the Version field and the payload */
		if (a->msg_len < NTLM_MIC_END)
			return ntlm_fail(err, errlen, -EINVAL, "MIC flagged but no room for it");
		for (size_t i = 0; i < 6; i++)
			if (f[i].len && f[i].off < NTLM_MIC_END)
				return ntlm_fail(err, errlen, -EINVAL, "%s overlaps the MIC",
						 ntlm_auth_fields[i].what);
	}
	return 0;
}

int
sipae_ntlm_parse_auth(const uint8_t *buf, size_t len, struct sipae_ntlm_auth *a, char *err,
		      size_t errlen)
{
	struct ntlm_span f[6];
	int ret;

	memset(a, 0, sizeof(*a));
	ret = ntlm_auth_layout(buf, len, f, err, errlen);
	if (ret < 0)
		goto done;
	a->flags = sipae_le32(buf + 60);
	ret = -EPROTO;
	if (!(a->flags & NTLM_UNICODE) || !(a->flags & NTLM_KEY_EXCH) || !(a->flags & NTLM_SIGN)) {
		ntlm_fail(err, errlen, ret, "flags 0x%08X lack UNICODE, SIGN or KEY_EXCH",
			  a->flags);
		goto done;
	}
	if (f[1].len < NTLM_NT_MIN || buf[f[1].off + 16] != 1 || buf[f[1].off + 17] != 1) {
		ntlm_fail(err, errlen, ret, "not an NTLMv2 response");
		goto done;
	}
	ret = -EINVAL;
	if (f[5].len != 16) {
		ntlm_fail(err, errlen, ret, "EncryptedRandomSessionKey of %zu bytes", f[5].len);
		goto done;
	}
	a->lm = f[0].len ? buf + f[0].off : NULL;
	a->lm_len = f[0].len;
	a->nt = buf + f[1].off;
	a->nt_len = f[1].len;
	a->msg = buf;
	a->msg_len = len;
	/* the structure first (the AV pairs, and where the MIC they flag sits), then
	 * the names: a field laid over the MIC is refused as that, whatever it holds */
	ret = ntlm_auth_avpairs(a, f, err, errlen);
	if (ret < 0)
		goto done;
	ret = -EINVAL;
	if (ntlm_auth_name(buf, &f[2], &a->domain) < 0 ||
	    ntlm_auth_name(buf, &f[3], &a->user) < 0 ||
	    ntlm_auth_name(buf, &f[4], &a->workstation) < 0) {
		ntlm_fail(err, errlen, ret, "a name is not valid UTF-16");
		goto done;
	}
	if (a->user[0] == '\0') {
		ntlm_fail(err, errlen, ret, "anonymous AUTHENTICATE");
		goto done;
	}
	memcpy(a->enc_session_key, buf + f[5].off, 16);
	a->has_session_key = true;
	ret = 0;
done:
	if (ret < 0)
		sipae_ntlm_auth_free(a);
	return ret;
}

void
sipae_ntlm_auth_free(struct sipae_ntlm_auth *a)
{
	if (a == NULL)
		return;
	free(a->user);
	free(a->domain);
	free(a->workstation);
	explicit_bzero(a, sizeof(*a));
}

/* ---- keys and signatures ---- */

static const char ntlm_magic[4][64] = {
    "session key to client-to-server signing key magic constant",
    "session key to server-to-client signing key magic constant",
    "session key to client-to-server sealing key magic constant",
    "session key to server-to-client sealing key magic constant",
};

int
sipae_ntlm_derive(const uint8_t session_base_key[16], const uint8_t enc_session_key[16],
		  struct sipae_ntlm_keys *k)
{
	uint8_t *out[4] = {k->client_sign, k->server_sign, k->client_seal, k->server_seal};
	uint8_t esk[16];
	int i, ret;

	/* NTLMv2: KeyExchangeKey = SessionBaseKey; KEY_EXCH: the client's key, RC4'd. */
	ret = sipae_rc4(session_base_key, 16, enc_session_key, esk, 16);
	for (i = 0; i < 4 && ret == 0; i++)
		ret = sipae_md5(esk, 16, ntlm_magic[i], strlen(ntlm_magic[i]) + 1, out[i]);
	explicit_bzero(esk, sizeof(esk));
	if (ret < 0)
		explicit_bzero(k, sizeof(*k));
	return ret;
}

static int
ntlm_mac(const uint8_t sign[16], const uint8_t seal[16], uint32_t seq, const void *data, size_t len,
	 uint8_t sig[16])
{
	uint8_t seqb[4], hmac[16], rc4key[16];
	int ret;

	sipae_put_le32(seqb, seq);
	ret = sipae_hmac_md5(sign, 16, seqb, 4, data, len, hmac);
	if (ret == 0)
		ret = sipae_md5(seal, 16, seqb, 4, rc4key);
	if (ret == 0)
		ret = sipae_rc4(rc4key, 16, hmac, sig + 4, 8);
	sipae_put_le32(sig, 1);
	memcpy(sig + 12, seqb, 4);
	if (ret < 0)
		memset(sig + 4, 0, 8);
	explicit_bzero(rc4key, sizeof(rc4key));
	return ret;
}

int
sipae_ntlm_sign(const struct sipae_ntlm_keys *k, bool server, uint32_t seq, const void *data,
		size_t len, uint8_t sig[16])
{
	if (server)
		return ntlm_mac(k->server_sign, k->server_seal, seq, data, len, sig);
	return ntlm_mac(k->client_sign, k->client_seal, seq, data, len, sig);
}

int
sipae_ntlm_verify(const struct sipae_ntlm_keys *k, const void *data, size_t len,
		  const uint8_t sig[16])
{
	uint8_t want[16];
	int ret;

	ret = ntlm_mac(k->client_sign, k->client_seal, sipae_le32(sig + 12), data, len, want);
	if (ret == 0 && CRYPTO_memcmp(want, sig, 16) != 0)
		ret = -EBADMSG;
	return ret;
}
