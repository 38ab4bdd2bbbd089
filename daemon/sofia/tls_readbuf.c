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
 * greenwichd provides three of Sofia's functions, for Sofia's own calls only:
 *
 *  - su_alloc(): the 16 kB asked for by tls_init_secondary() is taken one page
 *    larger and handed out from its first page boundary, so the buffer is
 *    whole pages (the home still owns, and frees, the block it allocated;
 *    nobody frees the buffer alone);
 *  - tls_read_buffer(): Sofia calls it in tport_tls_recv() to take the bytes
 *    SSL_read() left in the buffer, right before copying them out; the buffer
 *    is noted for this thread;
 *  - tls_pending(): Sofia calls it in the same function right after the copy
 *    (its only caller): the noted buffer holds nothing any more, and its whole
 *    pages are given back to the kernel (madvise MADV_DONTNEED).  The next
 *    SSL_read() into it finds zero pages, faulted in as it writes: one page
 *    for a keep-alive or a usual request.
 *
 * The buffer's address never changes, so Sofia sees nothing of this.  Should
 * the su_alloc() interposition not apply (another caller, another size), the
 * release still touches only whole pages inside the 16 kB, which belong to
 * the buffer alone.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sofia-sip/su_alloc.h>

#include "sofia_code.h"

/* Sofia's TLS read buffer (tport_tls.c, tls_buffer_size) */
enum { TLS_READBUF = 16384 };

/* Sofia's own, not in its public headers */
typedef struct tls_s tls_t;
void *tls_read_buffer(tls_t *tls, size_t n);
int tls_pending(tls_t const *tls);

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

void *
su_alloc(su_home_t *home, isize_t size)
{
	static void *(*real)(su_home_t *, isize_t);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "su_alloc");
	if (real == NULL)
		return NULL;
	if (size != TLS_READBUF || !from_tls_init_secondary(__builtin_return_address(0)))
		return real(home, size);

	uintptr_t page = page_size();
	char *block = real(home, TLS_READBUF + page - 1);

	if (block == NULL)
		return NULL;
	return (void *)(((uintptr_t)block + page - 1) & ~(page - 1));
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
