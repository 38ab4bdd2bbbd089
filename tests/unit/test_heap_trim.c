/*
 * test_heap_trim.c - daemon/sofia/heap_trim.c: a trim is due once enough
 * connections have closed since the most that were open, not more often than
 * every HEAP_TRIM_EVERY seconds, and the trim gives the pages of freed memory
 * back (the process's resident memory falls; glibc's free() alone keeps them).
 * accept_guard_counts() is this test's: it reports the count the test sets.
 * Under ASan the memory is not compared (its allocator is not glibc's).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "accept_guard.h"
#include "heap_trim.h"

#define T0 1800000000

static unsigned long open_now;

void
accept_guard_counts(struct accept_guard_counts *out)
{
	memset(out, 0, sizeof(*out));
	out->connections = open_now;
}

static void
test_due(void **state)
{
	struct heap_trim t = {0};

	(void)state;
	assert_false(heap_trim_due(&t, 0, T0));
	assert_false(heap_trim_due(&t, 10000, T0 + 1));
	/* fewer, but not HEAP_TRIM_DROP fewer */
	assert_false(heap_trim_due(&t, 10000 - HEAP_TRIM_DROP + 1, T0 + 2));
	assert_true(heap_trim_due(&t, 10000 - HEAP_TRIM_DROP, T0 + 3));
	/* counted from the count at that trim: another drop, but too soon */
	assert_false(heap_trim_due(&t, 10000 - 3 * HEAP_TRIM_DROP, T0 + 4));
	assert_true(heap_trim_due(&t, 10000 - 3 * HEAP_TRIM_DROP, T0 + 3 + HEAP_TRIM_EVERY));
	/* steady, or growing: never */
	for (int i = 0; i < 100; i++)
		assert_false(heap_trim_due(&t, 10000 + (unsigned long)i * 100, T0 + 100 + i * 20));
	/* all gone */
	assert_true(heap_trim_due(&t, 0, T0 + 10000));
	assert_false(heap_trim_due(&t, 0, T0 + 20000));
}

static long
resident_kb(void)
{
	long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* What a crowd of connections leaves: 16 kB blocks (Sofia's read buffers) and
 * small ones between them, all freed but one small block at the end. */
static void
test_tick_gives_back(void **state)
{
	enum { N = 4000 };
	static void *big[N], *small[N];
	struct heap_trim t = {0};

	(void)state;
	for (int i = 0; i < N; i++) {
		big[i] = malloc(16384);
		small[i] = malloc(200);
		assert_non_null(big[i]);
		assert_non_null(small[i]);
		memset(big[i], 0x5a, 16384);
	}
	open_now = N;
	heap_trim_tick(&t, T0);
	for (int i = 0; i < N; i++) {
		free(big[i]);
		if (i < N - 1)
			free(small[i]);
	}
	long before = resident_kb();
	open_now = 0;
	heap_trim_tick(&t, T0 + 1);
	long after = resident_kb();
	print_message("resident %ld kB -> %ld kB\n", before, after);
	assert_true(before > 0 && after > 0);
#ifdef __SANITIZE_ADDRESS__
	/* malloc() is ASan's, which keeps freed memory in its quarantine, and
	 * malloc_trim() is glibc's: nothing of glibc's to give back here */
	print_message("sanitizer build: the memory given back is not compared\n");
#else
	/* 4,000 x 16 kB freed: most of its 64 MB back */
	assert_true(before - after > 40000);
#endif
	free(small[N - 1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_due),
	    cmocka_unit_test(test_tick_gives_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
