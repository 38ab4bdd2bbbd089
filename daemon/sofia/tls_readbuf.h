/*
 * tls_readbuf.h - the TLS connections' read buffers, given back while idle
 * (see tls_readbuf.c).
 */
#ifndef GW_TLS_READBUF_H
#define GW_TLS_READBUF_H

#include <stddef.h>

/* How many TLS read buffers greenwichd holds now (one per TLS connection Sofia
 * made), and how many bytes of them are resident in memory. */
void tls_readbuf_stats(size_t *buffers, size_t *resident);

#endif
