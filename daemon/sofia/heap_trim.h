/*
 * heap_trim.h - memory freed by closed connections goes back to the kernel
 * (heap_trim.c).  glibc's free() keeps what lies below the top of a heap, so
 * the memory of thousands of TLS connections that closed would stay in the
 * process; once many have closed, malloc_trim() gives its free pages back.
 */
#ifndef GW_HEAP_TRIM_H
#define GW_HEAP_TRIM_H

#include <stdbool.h>
#include <time.h>

/* Trim once this many TCP/TLS connections fewer than the most since the last
 * trim are open, at most every HEAP_TRIM_EVERY seconds. */
#define HEAP_TRIM_DROP 256
#define HEAP_TRIM_EVERY 10

struct heap_trim {
	unsigned long peak; /* the most connections open since the last trim */
	time_t last;        /* when the last trim was (0: never) */
};

/* Whether to trim now, with `conns` connections open at `now` (and if so, the
 * trim counted as done). */
bool heap_trim_due(struct heap_trim *t, unsigned long conns, time_t now);

/* Called about once a second by one thread (greenwichd's main thread): trims
 * when heap_trim_due() says so, with the count of accept_guard.c. */
void heap_trim_tick(struct heap_trim *t, time_t now);

#endif
