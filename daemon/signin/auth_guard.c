/*
 * auth_guard.c - failed sign-ins per account and per client address, in
 * fixed windows; known-good addresses per account.  One mutex, two bounded
 * hash tables.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "auth_guard.h"

#define GUARD_BUCKETS 4096
#define GUARD_MAX 65536
#define GUARD_KNOWN 4 /* good addresses remembered per account */

struct guard_entry {
	struct guard_entry *next;
	char key[128];
	unsigned failures;
	time_t start;                /* of the current window */
	char known[GUARD_KNOWN][48]; /* accounts: addresses it signed in from */
	time_t known_at[GUARD_KNOWN];
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
	struct guard_entry *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	snprintf(e->key, sizeof(e->key), "%s", key);
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

static bool
known(const struct guard_entry *e, const char *src, time_t now)
{
	for (int i = 0; i < GUARD_KNOWN; i++)
		if (e->known_at[i] + 86400 >= now && strcmp(e->known[i], src) == 0)
			return true;
	return false;
}

bool
guard_allows(const char *account, const char *src, time_t now, int *retry)
{
	char key[128];
	bool ok = true;

	account_key(key, sizeof(key), account);
	pthread_mutex_lock(&lock);
	struct guard_entry *s = source_limit > 0 ? entry(&sources, src, now, false) : NULL;
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
		if (a->failures >= (unsigned)account_limit && !known(a, src, now)) {
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
guard_failed(const char *account, const char *src, time_t now)
{
	char key[128];

	account_key(key, sizeof(key), account);
	pthread_mutex_lock(&lock);
	struct guard_entry *s = source_limit > 0 ? entry(&sources, src, now, true) : NULL;
	struct guard_entry *a = account_limit > 0 ? entry(&accounts, key, now, true) : NULL;
	if (s) {
		window_roll(s, now);
		s->failures++;
	}
	if (a && !known(a, src, now)) {
		window_roll(a, now);
		a->failures++;
	}
	pthread_mutex_unlock(&lock);
}

void
guard_succeeded(const char *account, const char *src, time_t now)
{
	char key[128];

	if (account_limit <= 0)
		return;
	account_key(key, sizeof(key), account);
	pthread_mutex_lock(&lock);
	struct guard_entry *a = entry(&accounts, key, now, true);
	if (a && !known(a, src, now)) {
		int oldest = 0;
		for (int i = 1; i < GUARD_KNOWN; i++)
			if (a->known_at[i] < a->known_at[oldest])
				oldest = i;
		snprintf(a->known[oldest], sizeof(a->known[oldest]), "%s", src);
		a->known_at[oldest] = now;
	}
	pthread_mutex_unlock(&lock);
}

static unsigned
held(const struct guard_table *t, int limit, time_t now)
{
	unsigned n = 0;

	for (size_t b = 0; limit > 0 && b < GUARD_BUCKETS; b++)
		for (const struct guard_entry *e = t->b[b]; e; e = e->next)
			n += now - e->start < window && e->failures >= (unsigned)limit;
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
