/*
 * tlspolicy.c - TLS 1.2 or newer for every TLS context in greenwichd.
 *
 * Sofia's TLS transport makes its own SSL_CTX and offers no way to set the
 * lowest protocol version, so the system's OpenSSL defaults would decide.
 * greenwichd provides SSL_CTX_new: it calls OpenSSL's and raises the minimum
 * version to TLS 1.2 before anyone uses the context.
 */
#include "config.h"

#include <dlfcn.h>
#include <stddef.h>

#include <openssl/ssl.h>

SSL_CTX *
SSL_CTX_new(const SSL_METHOD *method)
{
	static SSL_CTX *(*real)(const SSL_METHOD *);
	SSL_CTX *ctx;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "SSL_CTX_new");
	if (real == NULL)
		return NULL;
	ctx = real(method);
	if (ctx != NULL && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
