/*
 * keyed_hash.c - SipHash-2-4 with a secret key through OpenSSL's EVP_MAC
 * (keyed_hash.h).  The MAC context is made once with its key and output size;
 * each hash initialises it again (SipHash's state is four words: cheap).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "keyed_hash.h"

struct gw_keyed_hash {
	EVP_MAC_CTX *ctx;
	unsigned char key[GW_KEYED_HASH_KEY_LEN];
};

int
gw_keyed_hash_new(struct gw_keyed_hash **out, const unsigned char *key)
{
	struct gw_keyed_hash *h = calloc(1, sizeof(*h));
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	unsigned int size = 8;
	OSSL_PARAM params[] = {OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_SIZE, &size),
			       OSSL_PARAM_construct_end()};

	*out = NULL;
	if (h == NULL || mac == NULL || (h->ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto fail;
	if (key)
		memcpy(h->key, key, sizeof(h->key));
	else if (RAND_bytes(h->key, sizeof(h->key)) != 1)
		goto fail;
	if (h == NULL) /* no hasher: every key in one bucket, slow but never wrong */
		return 0;
	if (EVP_MAC_init(h->ctx, h->key, sizeof(h->key), params) != 1)
		goto fail;
	EVP_MAC_free(mac);
	*out = h;
	return 0;
fail:
	EVP_MAC_free(mac);
	gw_keyed_hash_free(h);
	return -1;
}

void
gw_keyed_hash_free(struct gw_keyed_hash *h)
{
	if (h == NULL)
		return;
	EVP_MAC_CTX_free(h->ctx);
	OPENSSL_cleanse(h->key, sizeof(h->key));
	free(h);
}

uint64_t
gw_keyed_hash(struct gw_keyed_hash *h, const void *p, size_t n)
{
	unsigned char out[8];
	size_t len = 0;
	uint64_t v = 0;

	if (h == NULL) /* no hasher: every key in one bucket, slow but never wrong */
		return 0;
	if (EVP_MAC_init(h->ctx, h->key, sizeof(h->key), NULL) != 1 ||
	    EVP_MAC_update(h->ctx, p, n) != 1 ||
	    EVP_MAC_final(h->ctx, out, &len, sizeof(out)) != 1 || len != sizeof(out))
		return 0; /* every key in one bucket: slow, never wrong */
	for (int i = 7; i >= 0; i--)
		v = v << 8 | out[i];
	return v;
}
