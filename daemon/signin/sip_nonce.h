/*
 * sip_nonce.h - Digest nonce counts: each nonce's uses must count up.
 * Private to daemon/.
 */
#ifndef GW_SIP_NONCE_H
#define GW_SIP_NONCE_H

#include <time.h>

/* Record a verified use of nonce with nc_hex (NULL: no qop, counted as 1) by the
 * request ident (Call-ID, CSeq, branch).  0: a new count; 1: a retransmission of
 * the last use; -EALREADY: a count already used by another request (a replay);
 * -ENOSPC: no room (ask for a fresh nonce); -EINVAL: a malformed nc. */
int nonce_use(const char *nonce, const char *nc_hex, const char *ident, time_t forget,
	      time_t now);
/* Forget every nonce (at shutdown). */
void nonce_table_clear(void);

#endif
