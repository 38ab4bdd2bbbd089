/*
 * sipae_ntlm_protect.c - NTLM extended protection on the server side ([MS-NLMP]
 * 3.2.5.1.2, RFC 5929): the target name and channel bindings a client put in its
 * NTLMv2 response, and the MIC over CHALLENGE and AUTHENTICATE.  They stop an
 * AUTHENTICATE made for another server, or on another TLS connection, from signing
 * in here (NTLM relay), and a message changed on the way.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "sipae_private.h"

#define NTLM_MIC_OFF 72
#define NTLM_AV_MIC 0x2u
#define CB_PREFIX "tls-server-end-point:"

int
sipae_ntlm_check_binding(const struct sipae_ntlm_auth *a, const struct sipae_ntlm_binding *b,
			 char *err, size_t errlen)
{
	static const uint8_t zero[16];

	if (a->target != NULL && b->target != NULL) {
		char *name = NULL;
		int rc = sipae_utf16_to_utf8(a->target, a->target_len, &name);
		bool same = rc == 0 && strcasecmp(name, b->target) == 0;
		if (!same)
			snprintf(err, errlen, "NTLM target name %.200s, not %s",
				 rc == 0 ? name : "(not UTF-16)", b->target);
		free(name);
		if (!same)
			return -EACCES;
	}
	/* all zero: a client that knows channel bindings but has none to give */
	if (a->cb != NULL && CRYPTO_memcmp(a->cb, zero, 16) != 0 &&
	    (b->cb_md5 == NULL || CRYPTO_memcmp(a->cb, b->cb_md5, 16) != 0)) {
		snprintf(err, errlen, "NTLM channel bindings are not this %s",
			 b->cb_md5 ? "TLS connection's" : "connection's (not TLS)");
		return -EACCES;
	}
	return 0;
}

int
sipae_ntlm_check_mic(const struct sipae_ntlm_auth *a, const uint8_t session_base_key[16],
		     const uint8_t *chal_msg, size_t chal_len)
{
	uint8_t esk[16], mic[16], *copy = NULL;
	int ret;

	if (!(a->av_flags & NTLM_AV_MIC))
		return 0;
	if (a->msg == NULL || a->msg_len < NTLM_MIC_OFF + 16 || chal_msg == NULL)
		return -EBADMSG;
	copy = malloc(a->msg_len);
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, a->msg, a->msg_len);
	memset(copy + NTLM_MIC_OFF, 0, 16);
	/* KEY_EXCH (required by the parser): ExportedSessionKey = RC4(KeyExchangeKey, ERSK) */
	ret = sipae_rc4(session_base_key, 16, a->enc_session_key, esk, 16);
	if (ret == 0)
		ret = sipae_hmac_md5(esk, 16, chal_msg, chal_len, copy, a->msg_len, mic);
	if (ret == 0 && CRYPTO_memcmp(mic, a->msg + NTLM_MIC_OFF, 16) != 0)
		ret = -EBADMSG;
	explicit_bzero(esk, sizeof(esk));
	free(copy);
	return ret;
}

int
sipae_tls_cb_md5(const uint8_t *cert_der, size_t len, uint8_t out[16])
{
	const unsigned char *p = cert_der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	uint8_t cb[20 + sizeof(CB_PREFIX) - 1 + EVP_MAX_MD_SIZE] = {0};
	unsigned int hlen = 0;
	int mdnid = NID_undef, ret = -EINVAL;
	const EVP_MD *md;

	if (x == NULL)
		return -EINVAL;
	/* RFC 5929 4.1: the certificate's signature hash; MD5 and SHA-1 become SHA-256 */
	if (!X509_get_signature_info(x, &mdnid, NULL, NULL, NULL) || mdnid == NID_undef ||
	    mdnid == NID_md5 || mdnid == NID_sha1)
		mdnid = NID_sha256;
	md = EVP_get_digestbynid(mdnid);
	/* gss_channel_bindings_struct as [MS-NLMP] hashes it: initiator and acceptor
	 * address types and lengths all zero (16 bytes), then the application data */
	memcpy(cb + 20, CB_PREFIX, sizeof(CB_PREFIX) - 1);
	if (md != NULL &&
	    X509_digest(x, md, cb + 20 + sizeof(CB_PREFIX) - 1, &hlen) == 1) {
		size_t applen = sizeof(CB_PREFIX) - 1 + hlen;
		sipae_put_le32(cb + 16, (uint32_t)applen);
		ret = sipae_md5(cb, 20 + applen, NULL, 0, out);
	}
	X509_free(x);
	return ret;
}
