/*
 * addr_count.c - counts per client address (see addr_count.h): a hash of the
 * addresses holding something, each freed when it holds nothing any more.  The
 * addresses are the clients' (an IPv6 client picks among many): the hash is
 * keyed (keyed_hash.h), so that nobody can choose addresses that share a bucket.
 * An address is counted as its source (source_net.h): a remote IPv6 address
 * with its whole /64.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr_count.h"
#include "keyed_hash.h"
#include "source_net.h"

#define BUCKETS 1024

struct addr_entry {
	unsigned char key[16]; /* source_net_key() */
	unsigned n;
	unsigned bucket;
	time_t noted; /* addr_count_due() */
	struct addr_entry *next;
};

struct addr_count {
	pthread_mutex_t lock;
	struct gw_keyed_hash *hash; /* used under lock */
	struct addr_entry *b[BUCKETS];
	unsigned long held, addresses;
};

static unsigned
bucket_of(struct addr_count *ac, const unsigned char key[16])
{
	return (unsigned)(gw_keyed_hash(ac->hash, key, 16) % BUCKETS);
}

/* Under ac->lock: sa's entry, or NULL (*b: its bucket, when sa is an IP address). */
static struct addr_entry *
find(struct addr_count *ac, const struct sockaddr *sa, unsigned char key[16], unsigned *b)
{
	if (sa == NULL || !source_net_key(sa, key))
		return NULL;
	*b = bucket_of(ac, key);
	for (struct addr_entry *e = ac->b[*b]; e; e = e->next)
		if (memcmp(e->key, key, 16) == 0)
			return e;
	return NULL;
}

struct addr_count *
addr_count_alloc(void)
{
	struct addr_count *ac = calloc(1, sizeof(*ac));

	if (ac == NULL)
		return NULL;
	/* without a hasher (no SipHash in OpenSSL) one bucket: slow, never wrong */
	(void)gw_keyed_hash_new(&ac->hash, NULL);
	pthread_mutex_init(&ac->lock, NULL);
	return ac;
}

void
addr_count_free(struct addr_count *ac)
{
	if (ac == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		while (ac->b[i]) {
			struct addr_entry *e = ac->b[i];
			ac->b[i] = e->next;
			free(e);
		}
	gw_keyed_hash_free(ac->hash);
	pthread_mutex_destroy(&ac->lock);
	free(ac);
}

struct addr_entry *
addr_count_take(struct addr_count *ac, const struct sockaddr *sa, unsigned limit, bool *over)
{
	unsigned char key[16];
	unsigned b = BUCKETS;
	struct addr_entry *e;

	*over = false;
	if (ac == NULL)
		return NULL;
	pthread_mutex_lock(&ac->lock);
	e = find(ac, sa, key, &b);
	if (b == BUCKETS) { /* not an IP address */
		pthread_mutex_unlock(&ac->lock);
		return NULL;
	}
	if (e && limit > 0 && e->n >= limit) {
		*over = true;
		e = NULL;
	} else if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
		memcpy(e->key, key, 16);
		e->bucket = b;
		e->next = ac->b[b];
		ac->b[b] = e;
		ac->addresses++;
	}
	if (e) {
		e->n++;
		ac->held++;
	}
	pthread_mutex_unlock(&ac->lock);
	return e;
}

void
addr_count_put(struct addr_count *ac, struct addr_entry *e)
{
	if (ac == NULL || e == NULL)
		return;
	pthread_mutex_lock(&ac->lock);
	ac->held--;
	if (--e->n == 0) {
		for (struct addr_entry **pp = &ac->b[e->bucket]; *pp; pp = &(*pp)->next)
			if (*pp == e) {
				*pp = e->next;
				break;
			}
		ac->addresses--;
		free(e);
	}
	pthread_mutex_unlock(&ac->lock);
}

bool
addr_count_due(struct addr_count *ac, const struct sockaddr *sa, time_t now, time_t every)
{
	unsigned char key[16];
	unsigned b = BUCKETS;
	bool due = false;

	if (ac == NULL)
		return false;
	pthread_mutex_lock(&ac->lock);
	struct addr_entry *e = find(ac, sa, key, &b);
	if (e && (e->noted == 0 || now - e->noted >= every)) {
		e->noted = now;
		due = true;
	}
	pthread_mutex_unlock(&ac->lock);
	return due;
}

void
addr_count_totals(struct addr_count *ac, unsigned long *held, unsigned long *addresses)
{
	*held = *addresses = 0;
	if (ac == NULL)
		return;
	pthread_mutex_lock(&ac->lock);
	*held = ac->held;
	*addresses = ac->addresses;
	pthread_mutex_unlock(&ac->lock);
}

void
addr_count_text(const struct sockaddr *sa, char *out, size_t len)
{
	source_net_text(sa, out, len);
}
