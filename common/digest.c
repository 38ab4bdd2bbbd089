/*
 * digest.c - Digest hashes over OpenSSL's EVP interface.
 *
 * The two algorithms are fetched from OpenSSL's provider once for the
 * process: EVP_md5() and EVP_sha256() make every EVP_DigestInit_ex look
 * them up again (OpenSSL 3), which cost more than the hashing itself (a
 * Digest check hashes twice per request).
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/crypto.h>

#include "digest.h"

int
gw_digest_alg_parse(const char *name)
{
	if (name == NULL || strcasecmp(name, "MD5") == 0)
		return GW_DIGEST_MD5;
	if (strcasecmp(name, "SHA-256") == 0)
		return GW_DIGEST_SHA256;
	return -1;
}

const char *
gw_digest_alg_name(enum gw_digest_alg alg)
{
	return alg == GW_DIGEST_SHA256 ? "SHA-256" : "MD5";
}

size_t
gw_digest_hexlen(enum gw_digest_alg alg)
{
	return alg == GW_DIGEST_SHA256 ? 64 : 32;
}

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *fetched_md5, *fetched_sha256;

static void
fetch_algs(void)
{
	fetched_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	fetched_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The fetched algorithm, or OpenSSL's built-in handle when fetching failed. */
static const EVP_MD *
alg_md(enum gw_digest_alg alg)
{
	pthread_once(&fetch_once, fetch_algs);
	if (alg == GW_DIGEST_SHA256)
		return fetched_sha256 ? fetched_sha256 : EVP_sha256();
	return fetched_md5 ? fetched_md5 : EVP_md5();
}

int
gw_digest_hash(enum gw_digest_alg alg, char out[65], const char *const *parts)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int ret = -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL)
		return -1;
	if (!EVP_DigestInit_ex(ctx, alg_md(alg), NULL))
		goto done;
	for (size_t i = 0; parts[i] != NULL; i++) {
		if (i > 0 && !EVP_DigestUpdate(ctx, ":", 1))
			goto done;
		if (!EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])))
			goto done;
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen))
		goto done;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hexd[md[i] >> 4];
		out[2 * i + 1] = hexd[md[i] & 15];
	}
	out[2 * mdlen] = '\0';
	ret = 0;
done:
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(md, sizeof(md));
	return ret;
}

int
gw_digest_ha1(enum gw_digest_alg alg, char out[65], const char *user, const char *realm,
	      const char *password)
{
	const char *parts[] = {user, realm, password, NULL};

	return gw_digest_hash(alg, out, parts);
}

int
gw_digest_response(enum gw_digest_alg alg, char out[65], const char *ha1, const char *nonce,
		   const char *nc, const char *cnonce, const char *qop, const char *method,
		   const char *uri)
{
	char ha2[65];
	const char *p2[] = {method, uri, NULL};

	if (gw_digest_hash(alg, ha2, p2) < 0)
		return -1;
	if (qop != NULL) {
		const char *p[] = {ha1, nonce, nc, cnonce, qop, ha2, NULL};
		return gw_digest_hash(alg, out, p);
	}
	const char *p[] = {ha1, nonce, ha2, NULL};
	return gw_digest_hash(alg, out, p);
}

bool
gw_digest_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return false;
	return CRYPTO_memcmp(a, b, la) == 0;
}
