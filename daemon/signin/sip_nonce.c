/*
 * sip_nonce.c - the nonce counts seen with each Digest nonce (RFC 7616 3.4.5).
 *
 * A nonce is good for nonce-lifetime seconds; within that time each use must
 * carry a higher nc than the last, or be a retransmission of the very request
 * that used the last one (same Call-ID, CSeq and branch).  Anything else is a
 * captured credential played again.  Only uses whose response was verified are
 * recorded, so only a user of ours can add entries; the table is bounded and
 * forgets nonces once they are too old to be accepted anyway.  Shared by every
 * worker under one mutex.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_nonce.h"

#define NONCE_BUCKETS 4096
#define NONCE_MAX 65536

struct nonce_use {
	struct nonce_use *next;
	char nonce[96];
	unsigned long nc;
	unsigned long ident; /* hash of Call-ID, CSeq and branch of the last use */
	time_t forget;	     /* the nonce is stale from then on */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct nonce_use *buckets[NONCE_BUCKETS];
static size_t count;

static unsigned long
hash(const char *s)
{
	unsigned long h = 1469598103934665603UL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211UL;
	return h;
}

static void
expire_locked(struct nonce_use **pp, time_t now)
{
	while (*pp) {
		struct nonce_use *u = *pp;
		if (u->forget <= now) {
			*pp = u->next;
			free(u);
			count--;
		} else {
			pp = &u->next;
		}
	}
}

int
nonce_use(const char *nonce, const char *nc_hex, const char *ident, time_t forget, time_t now)
{
	char *end = NULL;
	unsigned long nc = nc_hex ? strtoul(nc_hex, &end, 16) : 1;
	unsigned long id = hash(ident);
	int ret = 0;

	if ((nc_hex && (end == nc_hex || *end != '\0')) || nc == 0 ||
	    strlen(nonce) >= sizeof(((struct nonce_use *)0)->nonce))
		return -EINVAL;
	struct nonce_use **head = &buckets[hash(nonce) % NONCE_BUCKETS];
	pthread_mutex_lock(&lock);
	expire_locked(head, now);
	struct nonce_use *u = *head;
	while (u && strcmp(u->nonce, nonce) != 0)
		u = u->next;
	if (u == NULL) {
		if (count >= NONCE_MAX || (u = calloc(1, sizeof(*u))) == NULL) {
			ret = -ENOSPC; /* the client is asked for a fresh nonce */
			goto done;
		}
		snprintf(u->nonce, sizeof(u->nonce), "%s", nonce);
		u->forget = forget;
		u->next = *head;
		*head = u;
		count++;
	} else if (nc < u->nc || (nc == u->nc && id != u->ident)) {
		ret = -EALREADY;
		goto done;
	} else if (nc == u->nc) {
		ret = 1; /* the same request again */
		goto done;
	}
	u->nc = nc;
	u->ident = id;
done:
	pthread_mutex_unlock(&lock);
	return ret;
}

void
nonce_table_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t b = 0; b < NONCE_BUCKETS; b++)
		while (buckets[b]) {
			struct nonce_use *u = buckets[b];
			buckets[b] = u->next;
			free(u);
		}
	count = 0;
	pthread_mutex_unlock(&lock);
}
