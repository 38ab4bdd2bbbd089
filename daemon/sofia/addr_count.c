/*
 * addr_count.c - counts per client address (see addr_count.h): a hash of the
 * addresses holding something, each freed when it holds nothing any more.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "addr_count.h"

#define BUCKETS 1024

struct addr_entry {
	unsigned char key[16]; /* IPv4 mapped into IPv6 */
	unsigned n;
	struct addr_entry *next;
};

struct addr_count {
	pthread_mutex_t lock;
	struct addr_entry *b[BUCKETS];
	unsigned long held, addresses;
};

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool
key_of(const struct sockaddr *sa, unsigned char key[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(key, v4mapped, 12);
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static unsigned
bucket_of(const unsigned char key[16])
{
	return gw_hash_bytes(key, 16) % BUCKETS;
}

struct addr_count *
addr_count_alloc(void)
{
	struct addr_count *ac = calloc(1, sizeof(*ac));

	if (ac)
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
	pthread_mutex_destroy(&ac->lock);
	free(ac);
}

struct addr_entry *
addr_count_take(struct addr_count *ac, const struct sockaddr *sa, unsigned limit, bool *over)
{
	unsigned char key[16];
	struct addr_entry *e;

	*over = false;
	if (ac == NULL || sa == NULL || !key_of(sa, key))
		return NULL;
	unsigned b = bucket_of(key);
	pthread_mutex_lock(&ac->lock);
	for (e = ac->b[b]; e; e = e->next)
		if (memcmp(e->key, key, 16) == 0)
			break;
	if (e && limit > 0 && e->n >= limit) {
		*over = true;
		e = NULL;
	} else if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
		memcpy(e->key, key, 16);
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
		for (struct addr_entry **pp = &ac->b[bucket_of(e->key)]; *pp; pp = &(*pp)->next)
			if (*pp == e) {
				*pp = e->next;
				break;
			}
		ac->addresses--;
		free(e);
	}
	pthread_mutex_unlock(&ac->lock);
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
	const void *a = NULL;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (a == NULL || inet_ntop(sa->sa_family, a, out, (socklen_t)len) == NULL)
		snprintf(out, len, "?");
}
