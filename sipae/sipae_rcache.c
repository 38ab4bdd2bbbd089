/*
 * sipae_rcache.c - the replay cache of Kerberos authenticators: a tag of each accepted
 * authenticator (SHA-256 of its ciphertext) kept in memory for its life (twice the
 * allowed clock skew: an authenticator is good while its time is within the skew of
 * the clock, so a copy cannot be accepted later than that), and appended to a journal
 * in the state directory so that a restart forgets nothing.  The journal has two
 * generations, "NAME" and "NAME.old", swapped every life: what is older than that has
 * expired.  Records are written as MIT's file replay cache writes them (no fsync).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sipae_private.h"

#define RC_BUCKETS0 1024
#define RC_RECORD (SIPAE_RCACHE_TAG + 8) /* tag, then expiry (64-bit little-endian) */

struct rc_entry {
	struct rc_entry *hnext; /* hash chain */
	struct rc_entry *qnext; /* insertion order: the oldest expire first */
	int64_t expires;
	uint8_t tag[SIPAE_RCACHE_TAG];
};

struct sipae_rcache {
	pthread_mutex_t lock;
	struct rc_entry **b;
	size_t nb, n;
	struct rc_entry *qhead, **qtail;
	int64_t life;
	/* the journal: NULL path when kept in memory only */
	char *path, *old;
	int fd;
	int64_t gen_start;
};

static size_t
rc_hash(const struct sipae_rcache *rc, const uint8_t *tag)
{
	uint64_t h;

	memcpy(&h, tag, sizeof(h)); /* a digest: its bytes are spread already */
	return (size_t)(h & (rc->nb - 1));
}

static bool
rc_has(const struct sipae_rcache *rc, const uint8_t *tag)
{
	for (const struct rc_entry *e = rc->b[rc_hash(rc, tag)]; e; e = e->hnext)
		if (memcmp(e->tag, tag, SIPAE_RCACHE_TAG) == 0)
			return true;
	return false;
}

/* Entries past their life go, oldest first (they stay until then, however the clock
 * moved). */
static void
rc_expire(struct sipae_rcache *rc, int64_t now)
{
	while (rc->qhead && rc->qhead->expires <= now) {
		struct rc_entry *e = rc->qhead;
		for (struct rc_entry **pp = &rc->b[rc_hash(rc, e->tag)]; *pp; pp = &(*pp)->hnext)
			if (*pp == e) {
				*pp = e->hnext;
				break;
			}
		rc->qhead = e->qnext;
		if (rc->qhead == NULL)
			rc->qtail = &rc->qhead;
		rc->n--;
		free(e);
	}
}

static void
rc_grow(struct sipae_rcache *rc)
{
	size_t nb = rc->nb * 2;
	struct rc_entry **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return; /* longer chains, still correct */
	struct rc_entry **old = rc->b;
	size_t onb = rc->nb;
	rc->b = b;
	rc->nb = nb;
	for (size_t i = 0; i < onb; i++)
		for (struct rc_entry *e = old[i], *next; e; e = next) {
			next = e->hnext;
			size_t h = rc_hash(rc, e->tag);
			e->hnext = b[h];
			b[h] = e;
		}
	free(old);
}

static int
rc_insert(struct sipae_rcache *rc, const uint8_t *tag, int64_t expires)
{
	struct rc_entry *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return -ENOMEM;
	memcpy(e->tag, tag, SIPAE_RCACHE_TAG);
	e->expires = expires;
	if (rc->n >= rc->nb * 2)
		rc_grow(rc);
	size_t h = rc_hash(rc, tag);
	e->hnext = rc->b[h];
	rc->b[h] = e;
	*rc->qtail = e;
	rc->qtail = &e->qnext;
	rc->n++;
	return 0;
}

/* The unexpired records of one journal file into memory. */
static int
rc_load(struct sipae_rcache *rc, const char *path, int64_t now)
{
	uint8_t rec[RC_RECORD];
	FILE *f = fopen(path, "rbe");
	int ret = 0;

	if (f == NULL)
		return errno == ENOENT ? 0 : -errno;
	while (ret == 0 && fread(rec, 1, sizeof(rec), f) == sizeof(rec)) {
		uint64_t ex = 0;
		for (int i = 7; i >= 0; i--)
			ex = ex << 8 | rec[SIPAE_RCACHE_TAG + i];
		if ((int64_t)ex > now && !rc_has(rc, rec))
			ret = rc_insert(rc, rec, (int64_t)ex);
	}
	fclose(f);
	return ret;
}

static int
rc_open_gen(struct sipae_rcache *rc, bool truncate)
{
	int fd = open(rc->path,
		      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600);

	if (fd < 0)
		return -errno;
	if (rc->fd >= 0)
		close(rc->fd);
	rc->fd = fd;
	return 0;
}

/* A new generation every life: the current file becomes the old one (whose records
 * have all expired by now) and a new one starts. */
static int
rc_rotate(struct sipae_rcache *rc, int64_t now)
{
	if (rc->path == NULL || now < rc->gen_start + rc->life)
		return 0;
	if (rename(rc->path, rc->old) < 0 && errno != ENOENT)
		return -errno;
	rc->gen_start = now;
	return rc_open_gen(rc, true);
}

int
sipae_rcache_open(struct sipae_rcache **out, const char *path, int64_t life, int64_t now)
{
	struct sipae_rcache *rc = calloc(1, sizeof(*rc));
	int ret = -ENOMEM;

	*out = NULL;
	if (rc == NULL)
		return -ENOMEM;
	pthread_mutex_init(&rc->lock, NULL);
	rc->fd = -1;
	rc->nb = RC_BUCKETS0;
	rc->qtail = &rc->qhead;
	rc->life = life > 0 ? life : 600;
	rc->b = calloc(rc->nb, sizeof(*rc->b));
	if (rc->b == NULL)
		goto fail;
	if (path != NULL) {
		if ((rc->path = strdup(path)) == NULL || asprintf(&rc->old, "%s.old", path) < 0) {
			rc->old = NULL;
			goto fail;
		}
		if ((ret = rc_load(rc, rc->old, now)) < 0 || (ret = rc_load(rc, rc->path, now)) < 0)
			goto fail;
		rc->gen_start = now;
		if ((ret = rc_open_gen(rc, false)) < 0)
			goto fail;
	}
	*out = rc;
	return 0;
fail:
	sipae_rcache_close(rc);
	return ret;
}

int
sipae_rcache_add(struct sipae_rcache *rc, const uint8_t tag[SIPAE_RCACHE_TAG], int64_t now)
{
	int ret;

	pthread_mutex_lock(&rc->lock);
	rc_expire(rc, now);
	if (rc_has(rc, tag)) {
		ret = -EALREADY;
		goto done;
	}
	ret = rc_rotate(rc, now);
	if (ret == 0 && rc->fd >= 0) {
		uint8_t rec[RC_RECORD];
		uint64_t ex = (uint64_t)(now + rc->life);
		memcpy(rec, tag, SIPAE_RCACHE_TAG);
		for (int i = 0; i < 8; i++)
			rec[SIPAE_RCACHE_TAG + i] = (uint8_t)(ex >> (8 * i));
		/* O_APPEND: a record is written whole or the sign-in is refused */
		ssize_t w = write(rc->fd, rec, sizeof(rec));
		ret = w == (ssize_t)sizeof(rec) ? 0 : w < 0 ? -errno : -EIO;
	}
	if (ret == 0)
		ret = rc_insert(rc, tag, now + rc->life);
done:
	pthread_mutex_unlock(&rc->lock);
	return ret;
}

size_t
sipae_rcache_size(struct sipae_rcache *rc)
{
	size_t n;

	pthread_mutex_lock(&rc->lock);
	n = rc->n;
	pthread_mutex_unlock(&rc->lock);
	return n;
}

void
sipae_rcache_close(struct sipae_rcache *rc)
{
	if (rc == NULL)
		return;
	for (struct rc_entry *e = rc->qhead, *next; e; e = next) {
		next = e->qnext;
		free(e);
	}
	if (rc->fd >= 0)
		close(rc->fd);
	free(rc->b);
	free(rc->path);
	free(rc->old);
	pthread_mutex_destroy(&rc->lock);
	free(rc);
}

/* SHA-256 fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up (a lock and a
 * hash table) on every digest, 2 % of a Kerberos sign-in's CPU in bench/signin's profile. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int
sipae_rcache_tag(const void *cipher, size_t len, uint8_t tag[SIPAE_RCACHE_TAG])
{
	uint8_t md[32];
	unsigned int n = 0;

	pthread_once(&sha256_once, sha256_fetch);
	if (EVP_Digest(cipher, len, md, &n, sha256_md ? sha256_md : EVP_sha256(), NULL) != 1 ||
	    n != sizeof(md))
		return -EIO;
	memcpy(tag, md, SIPAE_RCACHE_TAG);
	return 0;
}
