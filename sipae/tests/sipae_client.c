/*
 * sipae_client.c - the client side of NTLMv2 for the tests ([MS-NLMP] 3.3.2).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipae_client.h"
#include "sipae_private.h"

int
cl_ntowfv2(const char *password, const char *user, const char *domain, uint8_t out[16])
{
	uint8_t *pw = NULL, *who = NULL, nt[16];
	size_t pwlen, wholen, i;
	char *ud = malloc(strlen(user) + strlen(domain) + 1);
	int ret = -ENOMEM;

	if (ud == NULL)
		goto done;
	for (i = 0; user[i] != '\0'; i++)
		ud[i] = (char)toupper((unsigned char)user[i]);
	strcpy(ud + i, domain);
	ret = sipae_utf8_to_utf16(password, &pw, &pwlen);
	if (ret == 0)
		ret = sipae_utf8_to_utf16(ud, &who, &wholen);
	if (ret == 0)
		ret = sipae_md4(pw, pwlen, nt);
	if (ret == 0)
		ret = sipae_hmac_md5(nt, 16, who, wholen, NULL, 0, out);
done:
	free(ud);
	free(pw);
	free(who);
	return ret;
}

int
cl_ntlmv2_response(const uint8_t key[16], const uint8_t chal[8], const uint8_t cchal[8],
		   uint64_t ts, const uint8_t *ti, size_t tilen, uint8_t **nt, size_t *ntlen,
		   uint8_t lm[24], uint8_t sbk[16])
{
	size_t blen = 28 + tilen + 4;
	uint8_t *r = calloc(1, 16 + blen), *b;
	int ret = -ENOMEM;

	*nt = NULL;
	if (r == NULL)
		goto done;
	b = r + 16;
	b[0] = 1;
	b[1] = 1;
	sipae_put_le32(b + 8, (uint32_t)ts);
	sipae_put_le32(b + 12, (uint32_t)(ts >> 32));
	memcpy(b + 16, cchal, 8);
	memcpy(b + 28, ti, tilen);
	ret = sipae_hmac_md5(key, 16, chal, 8, b, blen, r);
	if (ret == 0)
		ret = sipae_hmac_md5(key, 16, r, 16, NULL, 0, sbk);
	if (ret == 0)
		ret = sipae_hmac_md5(key, 16, chal, 8, cchal, 8, lm);
	if (ret < 0)
		goto done;
	memcpy(lm + 16, cchal, 8);
	*nt = r;
	*ntlen = 16 + blen;
	r = NULL;
done:
	free(r);
	return ret;
}

/* Append a name as UTF-16 and fill its security buffer. */
static int
cl_put(uint8_t *m, size_t *off, size_t hdr, const void *data, size_t len)
{
	sipae_put_le16(m + hdr, (uint16_t)len);
	sipae_put_le16(m + hdr + 2, (uint16_t)len);
	sipae_put_le32(m + hdr + 4, (uint32_t)*off);
	if (len > 0)
		memcpy(m + *off, data, len);
	*off += len;
	return 0;
}

int
cl_build_auth(const struct cl_auth *a, uint8_t **msg, size_t *len)
{
	uint8_t *d = NULL, *u = NULL, *w = NULL, *m = NULL;
	size_t dl = 0, ul = 0, wl = 0, off = a->mic_room ? 88 : 72;
	int ret;

	ret = sipae_utf8_to_utf16(a->domain, &d, &dl);
	if (ret == 0)
		ret = sipae_utf8_to_utf16(a->user, &u, &ul);
	if (ret == 0)
		ret = sipae_utf8_to_utf16(a->workstation, &w, &wl);
	if (ret < 0)
		goto done;
	ret = -ENOMEM;
	m = calloc(1, off + dl + ul + wl + a->lm_len + a->nt_len + 16);
	if (m == NULL)
		goto done;
	memcpy(m, "NTLMSSP", 8);
	sipae_put_le32(m + 8, 3);
	cl_put(m, &off, 28, d, dl);
	cl_put(m, &off, 36, u, ul);
	cl_put(m, &off, 44, w, wl);
	cl_put(m, &off, 12, a->lm, a->lm_len);
	cl_put(m, &off, 20, a->nt, a->nt_len);
	cl_put(m, &off, 52, a->enc_key, a->enc_key ? 16 : 0);
	sipae_put_le32(m + 60, a->flags);
	memcpy(m + 64, "\x05\x01\x28\x0a\0\0\0\x0f", 8);
	*msg = m;
	*len = off;
	m = NULL;
	ret = 0;
done:
	free(d);
	free(u);
	free(w);
	free(m);
	return ret;
}

int
cl_parse_challenge(const uint8_t *msg, size_t len, const uint8_t **ti, size_t *tilen,
		   uint8_t chal[8])
{
	size_t off, n;

	if (len < 56 || memcmp(msg, "NTLMSSP", 8) != 0 || sipae_le32(msg + 8) != 2)
		return -EINVAL;
	n = sipae_le16(msg + 40);
	off = sipae_le32(msg + 44);
	if (off > len || n > len - off)
		return -EINVAL;
	*ti = msg + off;
	*tilen = n;
	memcpy(chal, msg + 24, 8);
	return 0;
}

int
cl_authenticate(const uint8_t *chal_msg, size_t chal_len, const char *user, const char *domain,
		const char *password, uint8_t **msg, size_t *len, uint8_t sbk[16], uint8_t esk[16])
{
	return cl_authenticate_ex(chal_msg, chal_len, user, domain, password, NULL, msg, len, sbk,
				  esk);
}

/* TargetInfo without its MsvAvEOL, then p's pairs, then MsvAvEOL; malloc'ed. */
static int
cl_protect_ti(const uint8_t *ti, size_t tilen, const struct cl_protect *p, uint8_t **out,
	      size_t *outlen)
{
	uint8_t *t = NULL, *u = NULL, *o;
	size_t ulen = 0, n = 0, pos = 0;

	while (pos + 4 <= tilen && sipae_le16(ti + pos) != 0)
		pos += 4 + sipae_le16(ti + pos + 2);
	if (pos > tilen)
		return -EINVAL;
	if (p->target && sipae_utf8_to_utf16(p->target, &u, &ulen) < 0)
		return -EINVAL;
	t = malloc(pos + 12 + 4 + ulen + 20 + 4);
	if (t == NULL) {
		free(u);
		return -ENOMEM;
	}
	memcpy(t, ti, pos);
	o = t + pos;
	if (p->mic) {
		sipae_put_le16(o, 6);
		sipae_put_le16(o + 2, 4);
		sipae_put_le32(o + 4, 2);
		o += 8;
	}
	if (p->target) {
		sipae_put_le16(o, 9);
		sipae_put_le16(o + 2, (uint16_t)ulen);
		memcpy(o + 4, u, ulen);
		o += 4 + ulen;
	}
	if (p->cb) {
		sipae_put_le16(o, 10);
		sipae_put_le16(o + 2, 16);
		memcpy(o + 4, p->cb, 16);
		o += 20;
	}
	memset(o, 0, 4);
	n = (size_t)(o + 4 - t);
	free(u);
	*out = t;
	*outlen = n;
	return 0;
}

int
cl_authenticate_ex(const uint8_t *chal_msg, size_t chal_len, const char *user, const char *domain,
		   const char *password, const struct cl_protect *p, uint8_t **msg, size_t *len,
		   uint8_t sbk[16], uint8_t esk[16])
{
	uint8_t key[16], chal[8], cchal[8], lm[24], enc[16], *nt = NULL, *pti = NULL;
	const uint8_t *ti;
	size_t tilen, ntlen = 0;
	uint64_t ts = ((uint64_t)time(NULL) + 11644473600ULL) * 10000000ULL;
	struct cl_auth a = {
	    .flags = 0x62988255u, .user = user, .domain = domain, .workstation = "TESTHOST"};
	int ret;

	ret = cl_parse_challenge(chal_msg, chal_len, &ti, &tilen, chal);
	if (ret == 0 && p != NULL) {
		ret = cl_protect_ti(ti, tilen, p, &pti, &tilen);
		ti = pti;
	}
	if (ret == 0)
		ret = cl_ntowfv2(password, user, domain, key);
	if (ret == 0)
		ret = sipae_random(cchal, 8);
	if (ret == 0)
		ret = sipae_random(esk, 16);
	if (ret == 0)
		ret = cl_ntlmv2_response(key, chal, cchal, ts, ti, tilen, &nt, &ntlen, lm, sbk);
	if (ret == 0)
		ret = sipae_rc4(sbk, 16, esk, enc, 16);
	if (ret < 0)
		goto done;
	a.lm = lm;
	a.lm_len = 24;
	a.nt = nt;
	a.nt_len = ntlen;
	a.enc_key = enc;
	a.mic_room = p != NULL && p->mic;
	ret = cl_build_auth(&a, msg, len);
	if (ret == 0 && a.mic_room) {
		/* connectionless: MIC = HMAC_MD5(ExportedSessionKey, CHALLENGE | AUTHENTICATE) */
		uint8_t mic[16];
		ret = sipae_hmac_md5(esk, 16, chal_msg, chal_len, *msg, *len, mic);
		memcpy(*msg + 72, mic, 16);
	}
done:
	free(nt);
	free(pti);
	return ret;
}
