/*
 * sipae_crypto.c - the digests and ciphers NTLM needs (MD4, MD5, HMAC-MD5, RC4),
 * from OpenSSL 3 in a library context of our own: RC4 and MD4 live in the
 * "legacy" provider, which is loaded there only, so the process-wide defaults
 * (what TLS and everything else in the process use) stay as they are.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "sipae_private.h"

#if OPENSSL_VERSION_MAJOR < 3
#error "libgwsipae needs OpenSSL 3 (providers)"
#endif

/* Fetched once, read-only afterwards, so shared by all threads.  They stay
 * reachable until the process ends. */
static struct {
	OSSL_LIB_CTX *libctx;
	EVP_MD *md4, *md5;
	EVP_MAC *hmac;
	EVP_CIPHER *rc4;
	int err;
} sipae_cr;
static pthread_once_t sipae_cr_once = PTHREAD_ONCE_INIT;

static void
sipae_crypto_load(void)
{
	OSSL_LIB_CTX *lc = OSSL_LIB_CTX_new();

	sipae_cr.err = -ENOTSUP;
	if (lc == NULL)
		return;
	if (OSSL_PROVIDER_load(lc, "default") == NULL || OSSL_PROVIDER_load(lc, "legacy") == NULL)
		return;
	sipae_cr.libctx = lc;
	sipae_cr.md4 = EVP_MD_fetch(lc, "MD4", NULL);
	sipae_cr.md5 = EVP_MD_fetch(lc, "MD5", NULL);
	sipae_cr.hmac = EVP_MAC_fetch(lc, "HMAC", NULL);
	sipae_cr.rc4 = EVP_CIPHER_fetch(lc, "RC4", NULL);
	if (sipae_cr.md4 && sipae_cr.md5 && sipae_cr.hmac && sipae_cr.rc4)
		sipae_cr.err = 0;
}

int
sipae_init(void)
{
	pthread_once(&sipae_cr_once, sipae_crypto_load);
	return sipae_cr.err;
}

static int
sipae_digest2(EVP_MD *md, const void *a, size_t alen, const void *b, size_t blen, uint8_t out[16])
{
	EVP_MD_CTX *c = NULL;
	unsigned int n = 0;
	int ret = sipae_init();

	if (ret < 0)
		goto done;
	ret = -ENOMEM;
	c = EVP_MD_CTX_new();
	if (c == NULL)
		goto done;
	ret = -EIO;
	if (!EVP_DigestInit_ex2(c, md, NULL) || !EVP_DigestUpdate(c, a, alen))
		goto done;
	if (blen > 0 && !EVP_DigestUpdate(c, b, blen))
		goto done;
	if (!EVP_DigestFinal_ex(c, out, &n) || n != 16)
		goto done;
	ret = 0;
done:
	EVP_MD_CTX_free(c);
	return ret;
}

int
sipae_md5(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[16])
{
	int ret = sipae_init();

	if (ret == 0)
		ret = sipae_digest2(sipae_cr.md5, a, alen, b, blen, out);
	return ret;
}

int
sipae_md4(const void *data, size_t len, uint8_t out[16])
{
	int ret = sipae_init();

	if (ret == 0)
		ret = sipae_digest2(sipae_cr.md4, data, len, NULL, 0, out);
	return ret;
}

int
sipae_hmac_md5(const uint8_t *key, size_t keylen, const void *a, size_t alen, const void *b,
	       size_t blen, uint8_t out[16])
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *c = NULL;
	char digest[] = "MD5";
	size_t n = 0;
	int ret = sipae_init();

	if (ret < 0)
		goto done;
	ret = -ENOMEM;
	c = EVP_MAC_CTX_new(sipae_cr.hmac);
	if (c == NULL)
		goto done;
	params[0] = OSSL_PARAM_construct_utf8_string("digest", digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	ret = -EIO;
	if (!EVP_MAC_init(c, key, keylen, params) || !EVP_MAC_update(c, a, alen))
		goto done;
	if (blen > 0 && !EVP_MAC_update(c, b, blen))
		goto done;
	if (!EVP_MAC_final(c, out, &n, 16) || n != 16)
		goto done;
	ret = 0;
done:
	EVP_MAC_CTX_free(c);
	return ret;
}

int
sipae_rc4(const uint8_t *key, size_t keylen, const uint8_t *in, uint8_t *out, size_t len)
{
	OSSL_PARAM params[2];
	EVP_CIPHER_CTX *c = NULL;
	size_t klen = keylen;
	int n = 0, ret = sipae_init();

	if (ret < 0)
		goto done;
	ret = -EINVAL;
	if (len > (size_t)INT32_MAX || keylen == 0)
		goto done;
	ret = -ENOMEM;
	c = EVP_CIPHER_CTX_new();
	if (c == NULL)
		goto done;
	params[0] = OSSL_PARAM_construct_size_t("keylen", &klen);
	params[1] = OSSL_PARAM_construct_end();
	ret = -EIO;
	if (!EVP_CipherInit_ex2(c, sipae_cr.rc4, NULL, NULL, 1, params) ||
	    !EVP_CipherInit_ex2(c, NULL, key, NULL, 1, NULL))
		goto done;
	if (len > 0 && (!EVP_CipherUpdate(c, out, &n, in, (int)len) || (size_t)n != len))
		goto done;
	ret = 0;
done:
	EVP_CIPHER_CTX_free(c);
	return ret;
}

int
sipae_random(void *buf, size_t len)
{
	int ret = sipae_init();

	if (ret == 0 && RAND_bytes_ex(sipae_cr.libctx, buf, len, 0) != 1)
		ret = -EIO;
	return ret;
}
