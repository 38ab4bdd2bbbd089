/*
 * accounts.c - the local Digest accounts in memory for a remote store (see
 * accounts.h): a sorted array replaced whole by the reader thread, read under
 * a read lock by every SIP worker.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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

struct accounts {
	pthread_rwlock_t lock;
	struct gwstore_account *v; /* sorted by AOR, no regard to case */
	size_t n;
	pthread_t thread;
	atomic_bool stop;
	struct gwstore *st;              /* the reader thread's handle */
	struct gwstore_listener *listen; /* gw_accounts; NULL until it could connect */
	const struct gw_conf *conf;
	bool again; /* a notification came: read anew */
};

struct table {
	struct gwstore_account *v;
	size_t n, cap;
};

static int
table_add(const struct gwstore_account *a, void *arg)
{
	struct table *t = arg;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct gwstore_account *v = calloc(cap, sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		if (t->n) {
			memcpy(v, t->v, t->n * sizeof(*v));
			OPENSSL_cleanse(t->v, t->n * sizeof(*v));
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = *a;
	return 0;
}

static void
table_free(struct gwstore_account *v, size_t n)
{
	if (v)
		OPENSSL_cleanse(v, n * sizeof(*v));
	free(v);
}

static int
acct_cmp(const void *a, const void *b)
{
	return strcasecmp(((const struct gwstore_account *)a)->aor,
			  ((const struct gwstore_account *)b)->aor);
}

/* Read every account and put them in place: 0 or -EIO (the old ones stay). */
static int
accounts_read(struct accounts *ac)
{
	struct table t = {0};
	struct gwstore_account *old;
	size_t nold;

	if (gwstore_account_each(ac->st, table_add, &t) < 0 || (t.n && t.v == NULL)) {
		log_warnx("event=accounts-read-failed reason=\"%s\"", gwstore_error(ac->st));
		table_free(t.v, t.n);
		return -EIO;
	}
	if (t.n > 1) /* none at all (a domain's users only): t.v is NULL */
		qsort(t.v, t.n, sizeof(*t.v), acct_cmp);
	pthread_rwlock_wrlock(&ac->lock);
	old = ac->v;
	nold = ac->n;
	ac->v = t.v;
	ac->n = t.n;
	pthread_rwlock_unlock(&ac->lock);
	table_free(old, nold);
	log_debug("event=accounts-read accounts=%zu", t.n);
	return 0;
}

static void
notified(const char *chan, const char *payload, void *arg)
{
	(void)chan; /* NULL: reconnected, what was announced meanwhile is lost */
	(void)payload;
	((struct accounts *)arg)->again = true;
}

static void *
reader_main(void *arg)
{
	struct accounts *ac = arg;
	static const char *const chans[] = {GWSTORE_CHANNEL_ACCOUNTS};
	time_t last = time(NULL);
	char err[256];

	while (!atomic_load(&ac->stop)) {
		if (ac->listen == NULL) {
			if (gwstore_listener_open(&ac->listen, ac->conf, chans, 1, err,
						  sizeof(err)) < 0) {
				struct timespec ts = {1, 0};
				nanosleep(&ts, NULL);
				continue;
			}
			ac->again = true; /* changes may have come before it listened */
		}
		gwstore_listener_wait(ac->listen, 1000, notified, ac);
		if (ac->again || time(NULL) - last >= ACCOUNTS_REFRESH) {
			if (accounts_read(ac) == 0)
				ac->again = false;
			last = time(NULL);
		}
	}
	return NULL;
}

int
accounts_start(struct gwd *g, char *err, size_t errlen)
{
	struct accounts *ac;

	g->accounts = NULL;
	if (gwstore_is_local(g->store))
		return 0; /* each worker reads its own handle: a file, no network */
	ac = calloc(1, sizeof(*ac));
	if (ac == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_rwlock_init(&ac->lock, NULL);
	ac->conf = g->conf;
	if (gwstore_open_conf(&ac->st, g->conf, GWSTORE_STATE, err, errlen) < 0 ||
	    accounts_read(ac) < 0) {
		if (ac->st)
			snprintf(err, errlen, "cannot read the local accounts: %s",
				 gwstore_error(ac->st));
		gwstore_close(ac->st);
		free(ac);
		return -1;
	}
	if (pthread_create(&ac->thread, NULL, reader_main, ac) != 0) {
		snprintf(err, errlen, "cannot start the accounts thread");
		gwstore_close(ac->st);
		table_free(ac->v, ac->n);
		free(ac);
		return -1;
	}
	g->accounts = ac;
	log_info("event=accounts-cached accounts=%zu", ac->n);
	return 0;
}

void
accounts_stop(struct gwd *g)
{
	struct accounts *ac = g->accounts;

	if (ac == NULL)
		return;
	atomic_store(&ac->stop, true);
	pthread_join(ac->thread, NULL);
	gwstore_listener_close(ac->listen);
	gwstore_close(ac->st);
	table_free(ac->v, ac->n);
	pthread_rwlock_destroy(&ac->lock);
	free(ac);
	g->accounts = NULL;
}

int
accounts_get(struct worker *w, const char *aor, struct gwstore_account *out)
{
	struct accounts *ac = w->w_gwd->accounts;
	struct gwstore_account key;
	const struct gwstore_account *hit;
	int ret = -ENOENT;

	if (ac == NULL)
		return gwstore_account_get(w->w_store, aor, out);
	if (strlen(aor) >= sizeof(key.aor))
		return -ENOENT;
	snprintf(key.aor, sizeof(key.aor), "%s", aor);
	pthread_rwlock_rdlock(&ac->lock);
	hit = ac->n ? bsearch(&key, ac->v, ac->n, sizeof(*ac->v), acct_cmp) : NULL;
	if (hit) {
		*out = *hit;
		ret = 0;
	}
	pthread_rwlock_unlock(&ac->lock);
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
