/*
 * tls_endpoint.c - which certificate a TLS connection presented.
 *
 * The channel bindings of a sign-in over TLS (RFC 5929 tls-server-end-point)
 * are a hash of the server certificate the client saw in this connection's
 * handshake.  Sofia 1.12 keeps the connection's SSL object to itself, so
 * greenwichd provides SSL_accept(): when OpenSSL's finishes a server handshake,
 * the connection's certificate (SSL_get_certificate()) is noted with the
 * connection's addresses (its socket's peer and local port), which is how the
 * sign-in code finds it again from Sofia's tport (tport_get_address()).  A
 * connection's entry lives in the slot of its descriptor, replaced by the next
 * handshake on that descriptor; of several entries with the same addresses
 * (a closed connection's and its successor's) the newest wins.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "tls_endpoint.h"

struct endpoint {
	struct sockaddr_storage peer;
	unsigned local_port;
	uint64_t seq; /* 0: empty */
	X509 *cert;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct endpoint *slots; /* by descriptor */
static size_t nslots;
static uint64_t seq;

static unsigned
port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

static bool
same_peer(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family || port_of(a) != port_of(b))
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	return false;
}

static void
note(SSL *s)
{
	int fd = SSL_get_fd(s);
	struct sockaddr_storage peer, local;
	socklen_t plen = sizeof(peer), llen = sizeof(local);
	X509 *cert = SSL_get_certificate(s);

	if (fd < 0 || cert == NULL || getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) < 0)
		return;
	pthread_mutex_lock(&mu);
	if ((size_t)fd >= nslots) {
		size_t n = (size_t)fd + 64;
		struct endpoint *v = realloc(slots, n * sizeof(*v));
		if (v == NULL) {
			pthread_mutex_unlock(&mu);
			return;
		}
		memset(v + nslots, 0, (n - nslots) * sizeof(*v));
		slots = v;
		nslots = n;
	}
	struct endpoint *e = &slots[fd];
	X509_free(e->cert);
	X509_up_ref(cert);
	e->cert = cert;
	e->peer = peer;
	e->local_port = port_of((struct sockaddr *)&local);
	e->seq = ++seq;
	pthread_mutex_unlock(&mu);
}

int
SSL_accept(SSL *s)
{
	static int (*real)(SSL *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "SSL_accept");
	if (real == NULL)
		return -1;
	int ret = real(s);
	if (ret == 1)
		note(s);
	return ret;
}

X509 *
tls_endpoint_cert(const struct sockaddr *peer, socklen_t peerlen, unsigned local_port)
{
	const struct endpoint *best = NULL;
	X509 *x = NULL;

	if (peer == NULL || peerlen < sizeof(struct sockaddr_in))
		return NULL;
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nslots; i++) {
		const struct endpoint *e = &slots[i];
		if (e->seq && e->local_port == local_port &&
		    same_peer((const struct sockaddr *)&e->peer, peer) &&
		    (best == NULL || e->seq > best->seq))
			best = e;
	}
	if (best && X509_up_ref(best->cert) == 1)
		x = best->cert;
	pthread_mutex_unlock(&mu);
	return x;
}
