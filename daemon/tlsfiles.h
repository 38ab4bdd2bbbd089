/*
 * tlsfiles.h - the TLS certificate and key in the layout Sofia reads.
 */
#ifndef GW_TLSFILES_H
#define GW_TLSFILES_H

#include <stddef.h>

struct gwd;

/* When TLS is configured, write <state>/tls/agent.pem (key + chain, mode
 * 0600) and set g->tls_dir; checks both files first. */
int tlsfiles_prepare(struct gwd *g, char *err, size_t errlen);

#endif
