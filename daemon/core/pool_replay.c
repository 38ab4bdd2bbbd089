/*
 * pool_replay.c - the MACs of the hops taken, by generations (see
 * pool_replay.h).
 *
 * Three generations of window seconds each: the current one takes new MACs,
 * the two before it are still searched, and the oldest is dropped whole when
 * a new one starts.  A MAC is thus remembered for at least two windows after
 * it arrived, longer than its time can pass the window check (at most one
 * window ahead of the receiver's clock at arrival, plus one window).  A key
 * is the MAC's first 64 bits: an HMAC-SHA256 an attacker cannot choose, so
 * keys spread evenly and serve as their own hash.  Each generation is an
 * open-addressing table that doubles when half full, up to HOP_SEEN_MAX.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pool_replay.h"

#define HOP_GENS 3
#define HOP_SEEN_MIN 1024
#define HOP_SEEN_MAX (1u << 22) /* slots per generation: 32 MiB */

struct gen {
	uint64_t *slot; /* 0: empty */
	size_t cap, n;
};

struct hop_seen {
	pthread_mutex_t mu;
	int window;
	time_t start;             /* of the current generation */
	struct gen gen[HOP_GENS]; /* [0] current */
};

struct hop_seen *
hop_seen_new(int window)
{
	struct hop_seen *hs = calloc(1, sizeof(*hs));

	if (hs == NULL)
		return NULL;
	pthread_mutex_init(&hs->mu, NULL);
	hs->window = window > 0 ? window : 1;
	return hs;
}

void
hop_seen_free(struct hop_seen *hs)
{
	if (hs == NULL)
		return;
	for (int i = 0; i < HOP_GENS; i++)
		free(hs->gen[i].slot);
	pthread_mutex_destroy(&hs->mu);
	free(hs);
}

static int
key_of(const char *mac, uint64_t *key)
{
	uint64_t k = 0;

	for (int i = 0; i < 16; i++) {
		char c = mac[i];
		int v = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (v < 0)
			return -EINVAL;
		k = k << 4 | (uint64_t)v;
	}
	*key = k ? k : 1;
	return 0;
}

static bool
gen_has(const struct gen *g, uint64_t key)
{
	if (g->cap == 0)
		return false;
	for (size_t i = key & (g->cap - 1);; i = (i + 1) & (g->cap - 1)) {
		if (g->slot[i] == key)
			return true;
		if (g->slot[i] == 0)
			return false;
	}
}

static void
gen_put(struct gen *g, uint64_t key)
{
	size_t i = key & (g->cap - 1);

	while (g->slot[i] != 0)
		i = (i + 1) & (g->cap - 1);
	g->slot[i] = key;
	g->n++;
}

static int
gen_grow(struct gen *g)
{
	size_t cap = g->cap ? g->cap * 2 : HOP_SEEN_MIN;
	struct gen ng = {.cap = cap};

	if (cap > HOP_SEEN_MAX || (ng.slot = calloc(cap, sizeof(*ng.slot))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < g->cap; i++)
		if (g->slot[i])
			gen_put(&ng, g->slot[i]);
	free(g->slot);
	*g = ng;
	return 0;
}

/* Start new generations for the time that passed. */
static void
rotate(struct hop_seen *hs, time_t now)
{
	while (hs->start == 0 || now - hs->start >= hs->window) {
		if (hs->start == 0 || now - hs->start >= (time_t)HOP_GENS * hs->window) {
			for (int i = 0; i < HOP_GENS; i++) {
				free(hs->gen[i].slot);
				memset(&hs->gen[i], 0, sizeof(hs->gen[i]));
			}
			hs->start = now;
			return;
		}
		free(hs->gen[HOP_GENS - 1].slot);
		memmove(&hs->gen[1], &hs->gen[0], sizeof(hs->gen[0]) * (HOP_GENS - 1));
		memset(&hs->gen[0], 0, sizeof(hs->gen[0]));
		hs->start += hs->window;
	}
}

int
hop_seen_take(struct hop_seen *hs, const char *mac, time_t now)
{
	uint64_t key;
	int rc = 0;

	if (strlen(mac) < 16 || key_of(mac, &key) < 0)
		return -EINVAL;
	pthread_mutex_lock(&hs->mu);
	rotate(hs, now);
	for (int i = 0; i < HOP_GENS && rc == 0; i++)
		if (gen_has(&hs->gen[i], key))
			rc = -EALREADY;
	if (rc == 0 && 2 * (hs->gen[0].n + 1) > hs->gen[0].cap)
		rc = gen_grow(&hs->gen[0]);
	if (rc == 0)
		gen_put(&hs->gen[0], key);
	pthread_mutex_unlock(&hs->mu);
	return rc;
}
