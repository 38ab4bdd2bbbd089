/*
 * sipae_tls_bindings.c - the channel bindings of one TLS connection (RFC 5929
 * tls-server-end-point), from the certificate that connection presented in its
 * handshake (sofia/tls_endpoint.c), not from the certificate file: so they are
 * what the client saw, whichever certificate that was (the first one of the key
 * file, when an admin's combined key file carries one; the one of the running
 * process, whatever the file holds now).
 *
 * Computing them decodes the certificate again (OpenSSL 3's key decoders): that
 * was 21 % of greenwichd's CPU per NTLM sign-in (bench/README.md).  So the
 * bindings of the last few certificates are kept, each under its whole DER
 * encoding: a certificate replaced on reload is a new entry, never a stale hit.
 */
#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <sofia-sip/su.h>
#include <sofia-sip/tport.h>

#include "gwsipae.h"
#include "log.h"
#include "sipae.h"
#include "tls_endpoint.h"

#define CB_KEPT 4 /* certificates: one per listener, a few listeners */

static struct cb_kept {
	unsigned char *der;
	int len;
	struct sipae_tls_cb cb;
} kept[CB_KEPT];
static unsigned kept_next;
static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;

static bool
kept_find(const unsigned char *der, int len, struct sipae_tls_cb *cb)
{
	bool hit = false;

	pthread_mutex_lock(&kept_mu);
	for (unsigned i = 0; i < CB_KEPT && !hit; i++)
		if (kept[i].der && kept[i].len == len &&
		    memcmp(kept[i].der, der, (size_t)len) == 0) {
			*cb = kept[i].cb;
			hit = true;
		}
	pthread_mutex_unlock(&kept_mu);
	return hit;
}

static void
kept_add(const unsigned char *der, int len, const struct sipae_tls_cb *cb)
{
	unsigned char *copy = malloc((size_t)len);

	if (copy == NULL)
		return; /* computed again next time */
	memcpy(copy, der, (size_t)len);
	pthread_mutex_lock(&kept_mu);
	struct cb_kept *k = &kept[kept_next++ % CB_KEPT];
	free(k->der);
	k->der = copy;
	k->len = len;
	k->cb = *cb;
	pthread_mutex_unlock(&kept_mu);
}

/* The bindings of the certificate der: kept, else computed and kept. */
static bool
cert_bindings(const unsigned char *der, int len, struct sipae_tls_cb *cb)
{
	if (kept_find(der, len, cb))
		return true;
	if (sipae_tls_cb_md5(der, (size_t)len, cb->md5) != 0 ||
	    sipae_tls_cb_data(der, (size_t)len, cb->data, &cb->len) != 0) {
		cb->len = 0;
		return false;
	}
	kept_add(der, len, cb);
	return true;
}

static unsigned
port_of(const su_addrinfo_t *ai)
{
	if (ai == NULL || ai->ai_addr == NULL)
		return 0;
	return ntohs(((const su_sockaddr_t *)ai->ai_addr)->su_port);
}

bool
sipae_tls_bindings(tport_t *tp, struct sipae_tls_cb *cb)
{
	const su_addrinfo_t *peer = tport_get_address(tp);
	tport_t *primary = tp ? tport_parent(tp) : NULL;
	unsigned char *der = NULL;
	X509 *x = NULL;
	int n = 0;
	char addr[80] = "";

	cb->len = 0;
	if (tp == NULL || !tport_has_tls(tp) || peer == NULL || primary == NULL)
		return false;
	x = tls_endpoint_cert(peer->ai_addr, (socklen_t)peer->ai_addrlen,
			      port_of(tport_get_address(primary)));
	if (x && (n = i2d_X509(x, &der)) > 0 && cert_bindings(der, n, cb)) {
		OPENSSL_free(der);
		X509_free(x);
		return true;
	}
	cb->len = 0;
	OPENSSL_free(der);
	X509_free(x);
	tport_hostport(addr, sizeof(addr), (su_sockaddr_t *)peer->ai_addr, 1);
	log_warnx("event=sipae-no-channel-bindings source=%s reason=\"the certificate this TLS "
		  "connection presented is not known: channel bindings it sends are refused\"",
		  addr);
	return false;
}
