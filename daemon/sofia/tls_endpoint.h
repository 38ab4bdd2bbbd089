/*
 * tls_endpoint.h - the certificate each TLS connection Sofia accepted presented
 * in its handshake (tls_endpoint.c), for the channel bindings of sign-in.
 */
#ifndef GW_TLS_ENDPOINT_H
#define GW_TLS_ENDPOINT_H

#include <sys/socket.h>

#include <openssl/x509.h>

/* The server certificate that the TLS connection from peer to our local_port presented
 * when its handshake finished: a new reference (X509_free() it), or NULL when no
 * handshake of such a connection was seen.  Any thread. */
X509 *tls_endpoint_cert(const struct sockaddr *peer, socklen_t peerlen, unsigned local_port);

#endif
