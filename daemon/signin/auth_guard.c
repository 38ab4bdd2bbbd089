/*
 * auth_guard.c - failed sign-ins per account and per client address, in
 * fixed windows; known-good addresses per account.  One mutex, two bounded
 * hash tables.  Failures are counted per source (source_net.h: a remote IPv6
 * address with its /64); an account's known addresses are exact.
 *
 * Every account that signs in gets an entry (its known addresses), so an
 * entry is kept small: the key sized to itself, an address as its 16 bytes
 * (IPv4 mapped into IPv6), times as 32 bits: about 120 bytes an account,
 * where fixed 128-byte keys and 48-byte address strings took 384.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "auth_guard.h"
#include "source_net.h"

#define GUARD_BUCKETS 16384
#define GUARD_MAX 65536
#define GUARD_KNOWN 4 /* good addresses remembered per account */
#define GUARD_KEY 128 /* longest key kept, with its NUL */

struct guard_entry {
	struct guard_entry *next;
	time_t start; /* of the current window */
	unsigned failures;
	uint32_t known_at[GUARD_KNOWN];       /* accounts: when; 0 for none */
	unsigned char known[GUARD_KNOWN][16]; /* accounts: addresses it signed in from */
	char key[];                           /* the account's user part, or the address */
};

struct guard_table {
	struct guard_entry *b[GUARD_BUCKETS];
	size_t n;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct guard_table accounts, sources;
static int account_limit = 5, source_limit = 20, window = 1800;

void
guard_configure(int alimit, int slimit, int win)
{
	pthread_mutex_lock(&lock);
	account_limit = alimit;
	source_limit = slimit;
	window = win > 0 ? win : 1;
	pthread_mutex_unlock(&lock);
}

/* The user part of any spelling, lower case: DOMAIN\alice, alice@realm -> alice. */
static void
account_key(char *out, size_t len, const char *account)
{
	const char *bs = strrchr(account, '\\');
	const char *p = bs ? bs + 1 : account;
	size_t i = 0;

	for (; *p && *p != '@' && i + 1 < len; p++)
		out[i++] = (char)tolower((unsigned char)*p);
	out[i] = '\0';
}

static unsigned
hash(const char *s)
{
	return gw_hash_str(s) % GUARD_BUCKETS;
}

/* The entry of key, created when create is set (NULL when the table is full). */
static struct guard_entry *
entry(struct guard_table *t, const char *key, time_t now, bool create)
{
	struct guard_entry **pp = &t->b[hash(key)];

	while (*pp) {
		struct guard_entry *e = *pp;
		time_t last_good = 0;
		for (int i = 0; i < GUARD_KNOWN; i++)
			if (e->known_at[i] > last_good)
				last_good = e->known_at[i];
		if (strcmp(e->key, key) == 0)
			return e;
		/* an entry with nothing left to remember goes */
		if (now - e->start >= window && last_good + 86400 < now) {
			*pp = e->next;
			free(e);
			t->n--;
			continue;
		}
		pp = &e->next;
	}
	if (!create || t->n >= GUARD_MAX)
		return NULL;
	size_t len = strnlen(key, GUARD_KEY - 1);
	struct guard_entry *e = calloc(1, sizeof(*e) + len + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->key, key, len);
	e->start = now;
	e->next = t->b[hash(key)];
	t->b[hash(key)] = e;
	t->n++;
	return e;
}

static void
window_roll(struct guard_entry *e, time_t now)
{
	if (now - e->start >= window) {
		e->start = now;
		e->failures = 0;
	}
}

/* Is e held back at now: limit failures or more within its current window? */
static bool
held_back(const struct guard_entry *e, int limit, time_t now)
{
	return now - e->start < window && e->failures >= (unsigned)limit;
}

/* src (an address, IPv6 in brackets or not) as 16 bytes; what does not
 * parse as an address (never seen: the callers pass the peer's) is kept as
 * its hash under a prefix no source address has (ff..: multicast). */
static void
addr_bin(unsigned char out[16], const char *src)
{
	if (source_net_addr_text(src, out))
		return;
	uint32_t h = gw_hash_str(src);
	memset(out, 0xff, 12);
	memcpy(out + 12, &h, 4);
}

static bool
known(const struct guard_entry *e, const unsigned char src[16], time_t now)
{
	for (int i = 0; i < GUARD_KNOWN; i++)
		if ((time_t)e->known_at[i] + 86400 >= now && memcmp(e->known[i], src, 16) == 0)
			return true;
	return false;
}

bool
guard_allows(const char *account, const char *src, time_t now, int *retry)
{
	char key[GUARD_KEY], from[GUARD_KEY]; /* from: src's source (source_net.h) */
	unsigned char bin[16];
	bool ok = true;

	account_key(key, sizeof(key), account);
	addr_bin(bin, src);
	source_net_text_of(src, from, sizeof(from));
	pthread_mutex_lock(&lock);
	struct guard_entry *s = source_limit > 0 ? entry(&sources, from, now, false) : NULL;
	struct guard_entry *a = account_limit > 0 ? entry(&accounts, key, now, false) : NULL;
	if (s) {
		window_roll(s, now);
		if (s->failures >= (unsigned)source_limit) {
			ok = false;
			*retry = (int)(s->start + window - now);
		}
	}
	if (ok && a) {
		window_roll(a, now);
		if (a->failures >= (unsigned)account_limit && !known(a, bin, now)) {
			ok = false;
			*retry = (int)(a->start + window - now);
		}
	}
	pthread_mutex_unlock(&lock);
	if (!ok && *retry < 1)
		*retry = 1;
	return ok;
}

void
guard_held_source(const char *src, time_t now, char *out, size_t len)
{
	char from[GUARD_KEY];

	source_net_text_of(src, from, sizeof(from));
	pthread_mutex_lock(&lock);
	struct guard_entry *s = source_limit > 0 ? entry(&sources, from, now, false) : NULL;
	bool held = s && held_back(s, source_limit, now);
	pthread_mutex_unlock(&lock);
	snprintf(out, len, "%s", held ? from : "");
}

void
guard_failed(const char *account, const char *src, time_t now)
{
	char key[GUARD_KEY], from[GUARD_KEY]; /* from: src's source (source_net.h) */
	unsigned char bin[16];

	account_key(key, sizeof(key), account);
	addr_bin(bin, src);
	source_net_text_of(src, from, sizeof(from));
	pthread_mutex_lock(&lock);
	struct guard_entry *s = source_limit > 0 ? entry(&sources, from, now, true) : NULL;
	struct guard_entry *a = account_limit > 0 ? entry(&accounts, key, now, true) : NULL;
	if (s) {
		window_roll(s, now);
		s->failures++;
	}
	if (a && !known(a, bin, now)) {
		window_roll(a, now);
		a->failures++;
	}
	pthread_mutex_unlock(&lock);
}

void
guard_succeeded(const char *account, const char *src, time_t now)
{
	char key[GUARD_KEY];
	unsigned char bin[16];

	if (account_limit <= 0)
		return;
	account_key(key, sizeof(key), account);
	addr_bin(bin, src);
	pthread_mutex_lock(&lock);
	struct guard_entry *a = entry(&accounts, key, now, true);
	if (a && !known(a, bin, now)) {
		int oldest = 0;
		for (int i = 1; i < GUARD_KNOWN; i++)
			if (a->known_at[i] < a->known_at[oldest])
				oldest = i;
		memcpy(a->known[oldest], bin, 16);
		a->known_at[oldest] = (uint32_t)now;
	}
	pthread_mutex_unlock(&lock);
}

static unsigned
held(const struct guard_table *t, int limit, time_t now)
{
	unsigned n = 0;

	for (size_t b = 0; limit > 0 && b < GUARD_BUCKETS; b++)
		for (const struct guard_entry *e = t->b[b]; e; e = e->next)
			n += held_back(e, limit, now);
	return n;
}

void
guard_counts(time_t now, unsigned *acc, unsigned *src)
{
	pthread_mutex_lock(&lock);
	*acc = held(&accounts, account_limit, now);
	*src = held(&sources, source_limit, now);
	pthread_mutex_unlock(&lock);
}

static void
table_clear(struct guard_table *t)
{
	for (size_t b = 0; b < GUARD_BUCKETS; b++)
		while (t->b[b]) {
			struct guard_entry *e = t->b[b];
			t->b[b] = e->next;
			free(e);
		}
	t->n = 0;
}

void
guard_clear(void)
{
	pthread_mutex_lock(&lock);
	table_clear(&accounts);
	table_clear(&sources);
	pthread_mutex_unlock(&lock);
}
