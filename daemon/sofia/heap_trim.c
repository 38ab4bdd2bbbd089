/*
 * heap_trim.c - see heap_trim.h.  Measured (bench/README.md, "TLS at enterprise
 * scale"): after 10,000 TLS clients closed, greenwichd's anonymous memory stayed
 * at 212 MB against 16 MB before they came; malloc_trim(0) brought it to 76 MB.
 * The trim runs on the main thread, which otherwise only waits for signals, so
 * no worker's event loop waits for it (a worker's malloc() waits only while its
 * own arena is being walked).
 */
#include "config.h"

#include <malloc.h>
#include <time.h>

#include "accept_guard.h"
#include "heap_trim.h"
#include "log.h"

bool
heap_trim_due(struct heap_trim *t, unsigned long conns, time_t now)
{
	if (conns > t->peak)
		t->peak = conns;
	if (t->peak - conns < HEAP_TRIM_DROP || (t->last != 0 && now - t->last < HEAP_TRIM_EVERY))
		return false;
	t->peak = conns;
	t->last = now;
	return true;
}

void
heap_trim_tick(struct heap_trim *t, time_t now)
{
	struct accept_guard_counts c;
	struct timespec a, b;
	unsigned long peak = t->peak;

	accept_guard_counts(&c);
	if (!heap_trim_due(t, c.connections, now))
		return;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int given = malloc_trim(0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	log_info("event=heap-trim connections=%lu was=%lu released=%s ms=%ld", c.connections, peak,
		 given ? "yes" : "no",
		 (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000));
}
