/*
 * sip_nonce.h - Digest nonce ids and counts: each nonce's uses must count up.
 * Private to daemon/.
 */
#ifndef GW_SIP_NONCE_H
#define GW_SIP_NONCE_H

#include <stdint.h>
#include <time.h>

/* At start, before any nonce is made: ids count up from now << 24. */
void nonce_ids_start(time_t now);
/* The id of a new nonce (unique in this run, above every earlier run's). */
uint64_t nonce_id_next(void);
/* Record a verified use of the nonce with this id, with nc_hex (NULL: no qop,
 * counted as 1), by the request ident (Call-ID, CSeq, branch, ...).  0: a new
 * count; 1: a retransmission of the last use; -EALREADY: a count already used
 * by another request (a replay); -ENOSPC: the nonce can no longer be counted
 * (a newer nonce took its slot, or it is not this run's): ask for a fresh one;
 * -EINVAL: a malformed nc. */
int nonce_use(uint64_t id, const char *nc_hex, const char *ident);
/* Forget every count (at shutdown, and between unit tests). */
void nonce_table_clear(void);

#endif
