/*
 * tlspolicy.c - TLS 1.2 or newer for every TLS context in greenwichd, idle
 * connections without buffers, and client certificates asked for but not
 * required.
 *
 * Sofia's TLS transport makes its own SSL_CTX and offers no way to set the
 * lowest protocol version, so the system's OpenSSL defaults would decide.
 * greenwichd provides SSL_CTX_new: it calls OpenSSL's and raises the minimum
 * version to TLS 1.2 before anyone uses the context.  It also sets
 * SSL_MODE_RELEASE_BUFFERS: a connection's read and write buffers (about
 * 34 kB together) are given back whenever they are empty, which is most of the
 * life of a signed-in client's connection (keep-alives every few minutes), and
 * taken again from the allocator when a record comes or goes.
 *
 * Sofia either requires a client certificate from every TLS client or asks for
 * none, and its verify callback calls an unverifiable certificate verified when
 * it does not require one.  Users' devices have no certificate, partner servers
 * do: greenwichd also provides SSL_CTX_set_verify, and for Sofia's contexts (when
 * [tls] ca-file and verify-peer say so) asks clients for a certificate, lets the
 * handshake finish without one or with a bad one, and leaves OpenSSL's verdict
 * in place, where tport_is_verified() reads it.  As a client (a connection we
 * open), a certificate that does not verify ends the handshake.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <openssl/ssl.h>

#include "sofia_code.h"
#include "tlspolicy.h"

static bool request_client_cert;

void
tlspolicy_request_client_cert(bool on)
{
	request_client_cert = on;
}

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
	if (ctx != NULL)
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

/* Servers accept whatever the client shows (the verdict stays recorded); clients do not. */
static int
verify_cb(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());

	return ssl != NULL && SSL_is_server(ssl) ? 1 : ok;
}

/* True when cb is code of Sofia's library (its TLS transport setting its context up). */
static bool
from_sofia(SSL_verify_cb cb)
{
	void *fn;

	memcpy(&fn, &cb, sizeof(fn));
	return fn != NULL && sofia_code_contains(fn);
}

void
SSL_CTX_set_verify(SSL_CTX *ctx, int mode, SSL_verify_cb cb)
{
	static void (*real)(SSL_CTX *, int, SSL_verify_cb);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "SSL_CTX_set_verify");
	if (real == NULL)
		return;
	if (request_client_cert && !(mode & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) && from_sofia(cb)) {
		mode = SSL_VERIFY_PEER;
		cb = verify_cb;
	}
	real(ctx, mode, cb);
}
