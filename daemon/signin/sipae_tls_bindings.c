/*
 * sipae_tls_bindings.c - the channel bindings of one TLS connection (RFC 5929
 * tls-server-end-point), from the certificate that connection presented in its
 * handshake (sofia/tls_endpoint.c), not from the certificate file: so they are
 * what the client saw, whichever certificate that was (the first one of the key
 * file, when an admin's combined key file carries one; the one of the running
 * process, whatever the file holds now).
 */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <sofia-sip/su.h>
#include <sofia-sip/tport.h>

#include "gwsipae.h"
#include "log.h"
#include "sipae.h"
#include "tls_endpoint.h"

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
	if (x && (n = i2d_X509(x, &der)) > 0 && sipae_tls_cb_md5(der, (size_t)n, cb->md5) == 0 &&
	    sipae_tls_cb_data(der, (size_t)n, cb->data, &cb->len) == 0) {
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
