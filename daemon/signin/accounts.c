/*
 * accounts.c - the local Digest accounts in memory (see accounts.h): one
 * table, sorted by AOR, replaced whole by a reader thread and read under a
 * read lock by every SIP worker.
 *
 * An account takes about 70 bytes plus its AOR: the HA1 values are kept as
 * bytes when they are lower-case hex of the right length (as gwstore writes
 * them; anything else is kept as the text it is), the realm once for the
 * accounts that share it, every string in one block.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "accounts.h"
#include "gwd.h"
#include "gwstore.h"
#include "log.h"

/* A full read at least this often, whatever the notifications said. */
#define ACCOUNTS_REFRESH 60
/* SQLite: how often the reader looks at the file's account version. */
#define ACCOUNTS_POLL_MS 100

#define NO_TEXT UINT32_MAX /* the HA1 is in bytes */

struct acct {
	uint32_t aor;   /* offsets in the table's strings */
	uint32_t realm; /* shared by the accounts with the same realm */
	uint32_t md5;   /* the HA1 as text, or NO_TEXT: in md5_bin */
	uint32_t sha256;
	unsigned char md5_bin[16];
	unsigned char sha256_bin[32];
};

struct table {
	struct acct *v;
	size_t n, cap;
	char *s; /* every string, NUL-terminated */
	size_t slen, scap;
	uint32_t realm; /* the last realm added, or NO_TEXT */
	bool failed;
};

struct accounts {
	pthread_rwlock_t lock;
	struct table *t;
	pthread_t thread;
	atomic_bool stop;
	bool local;                      /* SQLite: polled, workers may read the file */
	struct gwstore *st;              /* the reader thread's handle */
	struct gwstore_listener *listen; /* gw_accounts; NULL until it could connect */
	const struct gw_conf *conf;
	bool again;      /* a notification came: read anew */
	int64_t version; /* SQLite: the file's account version the table was read at */
	pthread_mutex_t poke_lock;
	pthread_cond_t poke;
	bool poked; /* a worker found the file ahead of the table */
};

static void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	if (t->v)
		OPENSSL_cleanse(t->v, t->n * sizeof(*t->v));
	if (t->s)
		OPENSSL_cleanse(t->s, t->slen);
	free(t->v);
	free(t->s);
	free(t);
}

static uint32_t
str_add(struct table *t, const char *s)
{
	size_t n = strlen(s) + 1;

	if (t->slen + n > t->scap) {
		size_t cap = t->scap ? t->scap * 2 : 4096;
		while (cap < t->slen + n)
			cap *= 2;
		if (cap > UINT32_MAX) {
			t->failed = true;
			return 0;
		}
		char *p = malloc(cap);
		if (p == NULL) {
			t->failed = true;
			return 0;
		}
		if (t->slen) {
			memcpy(p, t->s, t->slen);
			OPENSSL_cleanse(t->s, t->slen);
		}
		free(t->s);
		t->s = p;
		t->scap = cap;
	}
	memcpy(t->s + t->slen, s, n);
	t->slen += n;
	return (uint32_t)(t->slen - n);
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Lower-case hex of exactly len bytes into bin: true; else false. */
static bool
hex_to_bin(unsigned char *bin, size_t len, const char *hex)
{
	if (strlen(hex) != 2 * len)
		return false;
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		bin[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

static void
bin_to_hex(char *out, const unsigned char *bin, size_t len)
{
	static const char hexd[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hexd[bin[i] >> 4];
		out[2 * i + 1] = hexd[bin[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
table_add(const struct gwstore_account *a, void *arg)
{
	struct table *t = arg;
	struct acct *e;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct acct *v = calloc(cap, sizeof(*v));
		if (v == NULL) {
			t->failed = true;
			return -ENOMEM;
		}
		if (t->n) {
			memcpy(v, t->v, t->n * sizeof(*v));
			OPENSSL_cleanse(t->v, t->n * sizeof(*v));
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	e = &t->v[t->n];
	memset(e, 0, sizeof(*e));
	e->aor = str_add(t, a->aor);
	if (t->realm != NO_TEXT && strcmp(t->s + t->realm, a->realm) == 0)
		e->realm = t->realm;
	else
		e->realm = t->realm = str_add(t, a->realm);
	e->md5 = hex_to_bin(e->md5_bin, sizeof(e->md5_bin), a->ha1_md5) ? NO_TEXT
									: str_add(t, a->ha1_md5);
	e->sha256 = hex_to_bin(e->sha256_bin, sizeof(e->sha256_bin), a->ha1_sha256)
			? NO_TEXT
			: str_add(t, a->ha1_sha256);
	if (t->failed)
		return -ENOMEM;
	t->n++;
	return 0;
}

static int
acct_cmp(const void *a, const void *b, void *arg)
{
	const char *s = arg;

	return strcasecmp(s + ((const struct acct *)a)->aor, s + ((const struct acct *)b)->aor);
}

/* The entry of aor (no regard to case), or NULL. */
static const struct acct *
table_find(const struct table *t, const char *aor)
{
	size_t lo = 0, hi = t ? t->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcasecmp(aor, t->s + t->v[mid].aor);
		if (c == 0)
			return &t->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void
acct_out(const struct table *t, const struct acct *e, struct gwstore_account *out)
{
	snprintf(out->aor, sizeof(out->aor), "%s", t->s + e->aor);
	snprintf(out->realm, sizeof(out->realm), "%s", t->s + e->realm);
	if (e->md5 == NO_TEXT)
		bin_to_hex(out->ha1_md5, e->md5_bin, sizeof(e->md5_bin));
	else
		snprintf(out->ha1_md5, sizeof(out->ha1_md5), "%s", t->s + e->md5);
	if (e->sha256 == NO_TEXT)
		bin_to_hex(out->ha1_sha256, e->sha256_bin, sizeof(e->sha256_bin));
	else
		snprintf(out->ha1_sha256, sizeof(out->ha1_sha256), "%s", t->s + e->sha256);
}

/* Read every account and put them in place: 0 or -EIO (the old ones stay). */
static int
accounts_read(struct accounts *ac)
{
	struct table *t = calloc(1, sizeof(*t)), *old;
	int64_t version = 0;

	if (t == NULL)
		return -EIO;
	t->realm = NO_TEXT;
	/* the version first: a change made while the table is read shows next time */
	if ((ac->local && gwstore_accounts_version(ac->st, &version) < 0) ||
	    gwstore_account_each(ac->st, table_add, t) < 0 || t->failed) {
		log_warnx("event=accounts-read-failed reason=\"%s\"",
			  t->failed ? "out of memory" : gwstore_error(ac->st));
		table_free(t);
		return -EIO;
	}
	if (t->n > 1) /* none at all (a domain's users only): t->v is NULL */
		qsort_r(t->v, t->n, sizeof(*t->v), acct_cmp, t->s);
	pthread_rwlock_wrlock(&ac->lock);
	old = ac->t;
	ac->t = t;
	pthread_rwlock_unlock(&ac->lock);
	ac->version = version;
	table_free(old);
	log_debug("event=accounts-read accounts=%zu", t->n);
	return 0;
}

static void
notified(const char *chan, const char *payload, void *arg)
{
	(void)chan; /* NULL: reconnected, what was announced meanwhile is lost */
	(void)payload;
	((struct accounts *)arg)->again = true;
}

/* PostgreSQL: the gw_accounts channel says when to read again. */
static void
reader_listen(struct accounts *ac, time_t *last)
{
	static const char *const chans[] = {GWSTORE_CHANNEL_ACCOUNTS};
	char err[256];

	if (ac->listen == NULL) {
		if (gwstore_listener_open(&ac->listen, ac->conf, chans, 1, err, sizeof(err)) < 0) {
			struct timespec ts = {1, 0};
			nanosleep(&ts, NULL);
			return;
		}
		ac->again = true; /* changes may have come before it listened */
	}
	gwstore_listener_wait(ac->listen, 1000, notified, ac);
	if (ac->again || time(NULL) - *last >= ACCOUNTS_REFRESH) {
		if (accounts_read(ac) == 0)
			ac->again = false;
		*last = time(NULL);
	}
}

/* SQLite: the file's account version says when (greenwich-mmc counts it up
 * with every change), or a worker that read a newer account than the table's. */
static void
reader_poll(struct accounts *ac, time_t *last)
{
	struct timespec until;
	int64_t version = ac->version;
	bool poked;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += ACCOUNTS_POLL_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ac->poke_lock);
	while (!ac->poked && !atomic_load(&ac->stop))
		if (pthread_cond_timedwait(&ac->poke, &ac->poke_lock, &until) != 0)
			break;
	poked = ac->poked;
	ac->poked = false;
	pthread_mutex_unlock(&ac->poke_lock);
	if (atomic_load(&ac->stop))
		return;
	if (gwstore_accounts_version(ac->st, &version) < 0)
		version = ac->version + 1; /* cannot tell: read them */
	if (poked || version != ac->version || time(NULL) - *last >= ACCOUNTS_REFRESH) {
		accounts_read(ac);
		*last = time(NULL);
	}
}

static void *
reader_main(void *arg)
{
	struct accounts *ac = arg;
	time_t last = time(NULL);

	while (!atomic_load(&ac->stop)) {
		if (ac->local)
			reader_poll(ac, &last);
		else
			reader_listen(ac, &last);
	}
	return NULL;
}

/* Everything but the thread (joined, or never started). */
static void
accounts_free(struct accounts *ac)
{
	gwstore_listener_close(ac->listen);
	gwstore_close(ac->st);
	table_free(ac->t);
	pthread_cond_destroy(&ac->poke);
	pthread_mutex_destroy(&ac->poke_lock);
	pthread_rwlock_destroy(&ac->lock);
	free(ac);
}

int
accounts_start(struct gwd *g, char *err, size_t errlen)
{
	struct accounts *ac;

	g->accounts = NULL;
	ac = calloc(1, sizeof(*ac));
	if (ac == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_rwlock_init(&ac->lock, NULL);
	pthread_mutex_init(&ac->poke_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* no wall-clock step stops the polling */
	pthread_cond_init(&ac->poke, &ca);
	pthread_condattr_destroy(&ca);
	ac->conf = g->conf;
	ac->local = gwstore_is_local(g->store);
	if (gwstore_open_conf(&ac->st, g->conf, GWSTORE_STATE, err, errlen) < 0 ||
	    accounts_read(ac) < 0) {
		if (ac->st)
			snprintf(err, errlen, "cannot read the local accounts: %s",
				 gwstore_error(ac->st));
		goto fail;
	}
	if (pthread_create(&ac->thread, NULL, reader_main, ac) != 0) {
		snprintf(err, errlen, "cannot start the accounts thread");
		goto fail;
	}
	g->accounts = ac;
	log_info("event=accounts-cached accounts=%zu", ac->t->n);
	return 0;
fail:
	accounts_free(ac);
	return -1;
}

void
accounts_stop(struct gwd *g)
{
	struct accounts *ac = g->accounts;

	if (ac == NULL)
		return;
	pthread_mutex_lock(&ac->poke_lock);
	atomic_store(&ac->stop, true);
	pthread_cond_signal(&ac->poke);
	pthread_mutex_unlock(&ac->poke_lock);
	pthread_join(ac->thread, NULL);
	accounts_free(ac);
	g->accounts = NULL;
}

static int
table_get(struct accounts *ac, const char *aor, struct gwstore_account *out)
{
	const struct acct *e;
	int ret = -ENOENT;

	pthread_rwlock_rdlock(&ac->lock);
	e = table_find(ac->t, aor);
	if (e) {
		acct_out(ac->t, e, out);
		ret = 0;
	}
	pthread_rwlock_unlock(&ac->lock);
	return ret;
}

static bool
acct_same(const struct gwstore_account *a, const struct gwstore_account *b)
{
	return strcmp(a->aor, b->aor) == 0 && strcmp(a->realm, b->realm) == 0 &&
	       strcmp(a->ha1_md5, b->ha1_md5) == 0 && strcmp(a->ha1_sha256, b->ha1_sha256) == 0;
}

static void
poke(struct accounts *ac)
{
	pthread_mutex_lock(&ac->poke_lock);
	ac->poked = true;
	pthread_cond_signal(&ac->poke);
	pthread_mutex_unlock(&ac->poke_lock);
}

int
accounts_get(struct worker *w, const char *aor, struct gwstore_account *out)
{
	struct accounts *ac = w->w_gwd->accounts;

	if (ac == NULL)
		return gwstore_account_get(w->w_store, aor, out);
	if (table_get(ac, aor, out) == 0)
		return 0;
	if (!ac->local)
		return -ENOENT;
	/* SQLite: an account added a moment ago is in the file before the table */
	return accounts_get_fresh(w, aor, out);
}

int
accounts_get_fresh(struct worker *w, const char *aor, struct gwstore_account *out)
{
	struct accounts *ac = w->w_gwd->accounts;
	struct gwstore_account mem;
	int ret, had;

	if (ac == NULL || !ac->local)
		return accounts_get(w, aor, out);
	ret = gwstore_account_get(w->w_store, aor, out);
	if (ret != 0 && ret != -ENOENT)
		return ret;
	had = table_get(ac, aor, &mem);
	if ((ret == 0) != (had == 0) || (ret == 0 && !acct_same(&mem, out)))
		poke(ac); /* the table is behind the file: read it now */
	OPENSSL_cleanse(&mem, sizeof(mem));
	return ret;
}

bool
accounts_has(struct worker *w, const char *aor)
{
	struct gwstore_account a;
	bool found = accounts_get(w, aor, &a) == 0;

	OPENSSL_cleanse(&a, sizeof(a));
	return found;
}
