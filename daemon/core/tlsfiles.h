/*
 * tlsfiles.h - the TLS certificate and key in the layout Sofia reads.
 */
#ifndef GW_TLSFILES_H
#define GW_TLSFILES_H

#include <stddef.h>

struct gwd;

/* When TLS is configured, write <state>/tls/agent.pem (key + chain, mode
 * 0600) and, with [tls] ca-file, cafile.pem, and set g->tls_dir; checks the
 * files first.  Also tells tlspolicy.c whether to ask clients for certificates. */
int tlsfiles_prepare(struct gwd *g, char *err, size_t errlen);

#endif
