/*
 * tls_readbuf.c - an idle TLS connection keeps no read buffer in memory.
 *
 * Sofia 1.12 gives every TLS connection a 16 kB buffer of its own at
 * tls_init_secondary() (su_alloc() from the connection's home), which its
 * SSL_read() decrypts into; tport_tls_recv() then copies what came into the
 * message being parsed.  The buffer lives as long as the connection, and its
 * pages stay resident: most of a signed-in client's life is idle (a
 * keep-alive every few minutes), so at 10,000 clients that is 160 MB holding
 * nothing.  Sofia has no setting for it.
 *
 * greenwichd provides four of Sofia's functions, for Sofia's own calls only:
 *
 *  - su_alloc(): the 16 kB asked for by tls_init_secondary() come from
 *    posix_memalign() instead, page-aligned, so the buffer is four whole pages
 *    and nothing else lives in them; a table notes them by connection (the
 *    tls_t, whose su_home is its first member: su_home_new() objects start
 *    with their home);
 *  - tls_free(): after Sofia's, the connection's buffer is freed (the home no
 *    longer owns it);
 *  - tls_read_buffer(): Sofia calls it in tport_tls_recv() to take the bytes
 *    SSL_read() left in the buffer, right before copying them out; the buffer
 *    is noted for this thread;
 *  - tls_pending(): Sofia calls it in the same function right after the copy
 *    (its only caller): the noted buffer holds nothing any more, and its pages
 *    are given back to the kernel (madvise MADV_DONTNEED).  The next SSL_read()
 *    into it finds zero pages, faulted in as it writes: one page for a
 *    keep-alive or a usual request.
 *
 * The buffer's address never changes, so Sofia sees nothing of this.  Should
 * the su_alloc() interposition not apply (another caller, another size), the
 * buffer is Sofia's as before and the release touches only the whole pages
 * inside its 16 kB, which belong to the buffer alone.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sofia-sip/su_alloc.h>

#include "sofia_code.h"
#include "tls_readbuf.h"

/* Sofia's TLS read buffer (tport_tls.c, tls_buffer_size) */
enum { TLS_READBUF = 16384 };

/* Sofia's own, not in its public headers */
typedef struct tls_s tls_t;
void *tls_read_buffer(tls_t *tls, size_t n);
int tls_pending(tls_t const *tls);
void tls_free(tls_t *tls);

/* the buffers handed out, by connection */
struct held {
	const void *tls;
	void *buf;
	struct held *next;
};
enum { NBUCKETS = 1 << 14 };
static struct held *buckets[NBUCKETS];
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;

/* the buffer tport_tls_recv() is copying out of on this thread */
static __thread void *consumed;

static uintptr_t
page_size(void)
{
	static uintptr_t size;

	if (size == 0) {
		long s = sysconf(_SC_PAGESIZE);
		size = s > 0 ? (uintptr_t)s : 4096;
	}
	return size;
}

/* True when the caller at ret is Sofia's tls_init_secondary(). */
static int
from_tls_init_secondary(const void *ret)
{
	static void *fn;
	Dl_info info;

	if (!sofia_code_contains(ret))
		return 0;
	if (fn == NULL)
		fn = dlsym(RTLD_NEXT, "tls_init_secondary");
	return fn != NULL && dladdr(ret, &info) != 0 && info.dli_saddr == fn;
}

static struct held **
bucket_of(const void *tls)
{
	uint64_t h = (uintptr_t)tls;

	h ^= h >> 21;
	h *= 0x9e3779b97f4a7c15ull;
	return &buckets[(h >> 40) % NBUCKETS];
}

/* A page-aligned buffer of 16 kB for the connection tls, noted; NULL when
 * there is no memory. */
static void *
buffer_new(const void *tls)
{
	struct held *h = malloc(sizeof(*h));
	void *buf = NULL;

	if (h == NULL || posix_memalign(&buf, page_size(), TLS_READBUF) != 0) {
		free(h);
		return NULL;
	}
	h->tls = tls;
	h->buf = buf;
	pthread_mutex_lock(&held_lock);
	struct held **b = bucket_of(tls);
	h->next = *b;
	*b = h;
	pthread_mutex_unlock(&held_lock);
	return buf;
}

/* The buffer noted for the connection tls, taken out of the table; NULL when
 * there is none. */
static struct held *
buffer_take(const void *tls)
{
	struct held *h = NULL;

	pthread_mutex_lock(&held_lock);
	for (struct held **p = bucket_of(tls); *p != NULL; p = &(*p)->next)
		if ((*p)->tls == tls) {
			h = *p;
			*p = h->next;
			break;
		}
	pthread_mutex_unlock(&held_lock);
	return h;
}

void *
su_alloc(su_home_t *home, isize_t size)
{
	static void *(*real)(su_home_t *, isize_t);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "su_alloc");
	if (real == NULL)
		return NULL;
	if (size == TLS_READBUF && from_tls_init_secondary(__builtin_return_address(0))) {
		void *buf = buffer_new(home);
		if (buf != NULL)
			return buf;
	}
	return real(home, size);
}

void
tls_free(tls_t *tls)
{
	static void (*real)(tls_t *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "tls_free");
	/* out of the table first: once the object is gone, another thread may get
	 * its address for a connection of its own */
	struct held *h = tls != NULL ? buffer_take(tls) : NULL;
	if (real != NULL)
		real(tls);
	if (h != NULL) {
		free(h->buf);
		free(h);
	}
}

void *
tls_read_buffer(tls_t *tls, size_t n)
{
	static void *(*real)(tls_t *, size_t);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "tls_read_buffer");
	if (real == NULL)
		return NULL;
	void *buf = real(tls, n);
	if (sofia_code_contains(__builtin_return_address(0)))
		consumed = buf;
	return buf;
}

/* Give back the whole pages of the 16 kB buffer at buf. */
static void
release(void *buf)
{
	uintptr_t page = page_size();
	uintptr_t start = ((uintptr_t)buf + page - 1) & ~(page - 1);
	uintptr_t end = ((uintptr_t)buf + TLS_READBUF) & ~(page - 1);

	if (end > start)
		(void)madvise((void *)start, end - start, MADV_DONTNEED);
}

int
tls_pending(tls_t const *tls)
{
	static int (*real)(tls_t const *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "tls_pending");
	if (real == NULL)
		return 0;
	if (consumed != NULL) {
		void *buf = consumed;
		consumed = NULL;
		release(buf);
	}
	return real(tls);
}

void
tls_readbuf_stats(size_t *buffers, size_t *resident)
{
	uintptr_t page = page_size();
	unsigned char vec[TLS_READBUF / 512]; /* one per page, at pages of 512 or more */
	size_t n = 0, bytes = 0;

	pthread_mutex_lock(&held_lock);
	for (size_t i = 0; i < NBUCKETS; i++)
		for (const struct held *h = buckets[i]; h != NULL; h = h->next) {
			n++;
			if (mincore(h->buf, TLS_READBUF, vec) != 0)
				continue;
			for (size_t k = 0; k < (TLS_READBUF + page - 1) / page; k++)
				if (vec[k] & 1)
					bytes += page;
		}
	pthread_mutex_unlock(&held_lock);
	*buffers = n;
	*resident = bytes;
}
