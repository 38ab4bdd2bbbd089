/*
 * tlsleak.c - Sofia's tls_free() made safe: it frees the OpenSSL connection
 * object Sofia forgets, and it never writes to a descriptor that is no longer
 * the connection's.
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
 *
 * Sofia calls tls_free() when it destroys the connection object, which is
 * later than tport_close() (that one shuts the socket down and closes the
 * descriptor at once, while a transaction or our flow table may still hold a
 * reference to the object).  By then the descriptor number the socket BIO
 * holds may belong to another connection, accepted or opened since: the
 * close_notify SSL_shutdown() writes would go into a stranger's stream (a new
 * TLS client gets a record it cannot decrypt and drops its connection).  So
 * greenwichd also provides SSL_set_bio(): for Sofia's connections it notes
 * which socket (device and inode) the descriptor is; Sofia's SSL_shutdown()
 * is made quiet (no I/O at all) unless the descriptor is still that socket.
 * The peer of a closed connection loses nothing: its socket was shut down
 * before, so no close_notify could reach it anyway.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "sofia_code.h"

/* the connection Sofia's tls_free() is taking apart on this thread */
static __thread SSL *closing;

/* SSL ex_data slot: the inode of the socket the connection was made on, + 1 */
static int sock_idx = -1;
static pthread_once_t sock_idx_once = PTHREAD_ONCE_INIT;

static void
sock_idx_init(void)
{
	sock_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* The identity of what descriptor fd is now (0: nothing, or not a socket). */
static uintptr_t
sock_ident(int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	return (uintptr_t)(st.st_ino ^ ((uint64_t)st.st_dev << 48)) | 1;
}

void
SSL_set_bio(SSL *s, BIO *rbio, BIO *wbio)
{
	static void (*real)(SSL *, BIO *, BIO *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "SSL_set_bio");
	if (real == NULL)
		return;
	real(s, rbio, wbio);
	if (s != NULL && rbio != NULL && sofia_code_contains(__builtin_return_address(0))) {
		pthread_once(&sock_idx_once, sock_idx_init);
		if (sock_idx >= 0)
			SSL_set_ex_data(s, sock_idx, (void *)sock_ident(SSL_get_fd(s)));
	}
}

/* True when the connection's descriptor is no longer the socket it was made on. */
static bool
descriptor_gone(SSL *s)
{
	if (sock_idx < 0)
		return false;
	uintptr_t was = (uintptr_t)SSL_get_ex_data(s, sock_idx);
	return was != 0 && sock_ident(SSL_get_fd(s)) != was;
}

int
SSL_shutdown(SSL *s)
{
	static int (*real)(SSL *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "SSL_shutdown");
	if (real == NULL)
		return -1;
	if (s != NULL && sofia_code_contains(__builtin_return_address(0))) {
		closing = s;
		if (descriptor_gone(s))
			SSL_set_quiet_shutdown(s, 1);
	}
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
