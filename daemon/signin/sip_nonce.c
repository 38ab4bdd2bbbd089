/*
 * sip_nonce.c - the nonce counts seen with each Digest nonce (RFC 7616 3.4.5).
 *
 * A nonce is good for nonce-lifetime seconds; within that time each use must
 * carry a higher nc than the last, or be a retransmission of the very request
 * that used the last one (same Call-ID, CSeq and branch).  Anything else is a
 * captured credential played again.
 *
 * Every nonce carries an id (nonce_id_next: one counter for the process,
 * counting up from the start time shifted left by 24 bits, so that a run's ids
 * are above any id a previous run handed out), covered by the nonce's MAC.
 * The counts live in a fixed table of slots, slot = id modulo its size: a
 * slot keeps the newest id used in it, so memory is bounded whatever the rate
 * of sign-ins, and nothing is ever forgotten while it could still be replayed:
 * a nonce whose slot has since been taken by a newer id, or one from before
 * this start, is answered stale (the client just takes a fresh nonce).  With
 * NONCE_SLOTS slots a nonce lasts its whole lifetime as long as fewer than
 * NONCE_SLOTS challenges are issued within nonce-lifetime (131,072: 4,369
 * per second for the default 30 s).  Shared by every worker under one mutex.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip_nonce.h"

#define NONCE_SLOTS (1u << 17)

struct nonce_slot {
	uint64_t id;    /* the newest nonce used in this slot; 0: none */
	uint64_t ident; /* hash of the request that used its last count */
	unsigned long nc;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct nonce_slot slots[NONCE_SLOTS];
static _Atomic uint64_t next_id;
static uint64_t first_id; /* ids below it are a previous run's */

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void
nonce_ids_start(time_t now)
{
	first_id = (uint64_t)now << 24;
	atomic_store(&next_id, first_id);
}

uint64_t
nonce_id_next(void)
{
	return atomic_fetch_add(&next_id, 1);
}

int
nonce_use(uint64_t id, const char *nc_hex, const char *ident)
{
	char *end = NULL;
	unsigned long nc = nc_hex ? strtoul(nc_hex, &end, 16) : 1;
	uint64_t h = hash(ident);
	int ret = 0;

	if ((nc_hex && (end == nc_hex || *end != '\0')) || nc == 0)
		return -EINVAL;
	if (id < first_id || id >= atomic_load(&next_id))
		return -ENOSPC; /* not handed out by this run: a fresh nonce */
	struct nonce_slot *s = &slots[id % NONCE_SLOTS];
	pthread_mutex_lock(&lock);
	if (s->id > id) {
		ret = -ENOSPC; /* its slot went to a newer nonce */
	} else if (s->id < id) {
		s->id = id; /* first use */
		s->nc = nc;
		s->ident = h;
	} else if (nc < s->nc || (nc == s->nc && h != s->ident)) {
		ret = -EALREADY;
	} else if (nc == s->nc) {
		ret = 1; /* the same request again */
	} else {
		s->nc = nc;
		s->ident = h;
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

void
nonce_table_clear(void)
{
	pthread_mutex_lock(&lock);
	memset(slots, 0, sizeof(slots));
	pthread_mutex_unlock(&lock);
}
