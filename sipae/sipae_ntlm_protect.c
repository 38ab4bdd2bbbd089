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

#include "sipae_private.h"

#define NTLM_MIC_OFF 72
#define NTLM_AV_MIC 0x2u

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
