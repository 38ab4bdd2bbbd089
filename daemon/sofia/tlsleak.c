/*
 * tlsleak.c - free the OpenSSL connection object Sofia forgets.
 *
 * When a TLS connection goes, Sofia 1.12's tls_free() calls SSL_shutdown()
 * on it, SSL_CTX_free() on the shared context (also for a connection, whose
 * context it does not own) and BIO_free() on the socket BIO, but never
 * SSL_free(): every TLS connection leaks its SSL object (tens of kilobytes),
 * and that leaked object is what keeps the extra SSL_CTX_free() harmless.
 *
 * greenwichd provides SSL_shutdown() and BIO_free() itself.  Only for calls
 * made by Sofia: after SSL_shutdown(ssl), the BIO_free() of that connection's
 * BIO frees the whole SSL object instead (which owns the BIO), after taking a
 * reference on the context for the one the SSL object gave back through the
 * extra SSL_CTX_free().  Everyone else's calls go straight to OpenSSL.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "sofia_code.h"

/* the connection Sofia's tls_free() is taking apart on this thread */
static __thread SSL *closing;

int
SSL_shutdown(SSL *s)
{
	static int (*real)(SSL *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "SSL_shutdown");
	if (real == NULL)
		return -1;
	if (s != NULL && sofia_code_contains(__builtin_return_address(0)))
		closing = s;
	return real(s);
}

int
BIO_free(BIO *b)
{
	static int (*real)(BIO *);
	SSL *s = closing;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "BIO_free");
	if (real == NULL)
		return 0;
	if (s != NULL && b != NULL && SSL_get_rbio(s) == b &&
	    sofia_code_contains(__builtin_return_address(0))) {
		closing = NULL;
		SSL_CTX_up_ref(SSL_get_SSL_CTX(s));
		SSL_free(s); /* frees b too: the SSL object owns it */
		return 1;
	}
	return real(b);
}
