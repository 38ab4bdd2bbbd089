/*
 * test_pool_replay.c - daemon/core/pool_replay.c: a hop's MAC is taken once;
 * the same MAC again is a replay for as long as its time could still pass the
 * window check (two windows after it arrived), and is forgotten after; many
 * MACs are remembered (the table grows).
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "pool_replay.h"

#define T0 1800000000
#define W 30

static void
mac_of(unsigned n, char out[65])
{
	/* a MAC-like value whose first 64 bits differ for every n */
	snprintf(out, 65, "%016llx%048x", (unsigned long long)n * 0x9e3779b97f4a7c15ULL, 0);
}

static void
test_once(void **state)
{
	struct hop_seen *hs = hop_seen_new(W);
	char m1[65], m2[65];

	(void)state;
	assert_non_null(hs);
	mac_of(1, m1);
	mac_of(2, m2);
	assert_int_equal(hop_seen_take(hs, m1, T0), 0);
	assert_int_equal(hop_seen_take(hs, m1, T0), -EALREADY);
	assert_int_equal(hop_seen_take(hs, m2, T0 + 1), 0);
	/* still a replay at the last second its time could pass the check */
	assert_int_equal(hop_seen_take(hs, m1, T0 + 2 * W), -EALREADY);
	assert_int_equal(hop_seen_take(hs, m2, T0 + 2 * W + 1), -EALREADY);
	assert_int_equal(hop_seen_take(hs, "zz", T0), -EINVAL);
	assert_int_equal(hop_seen_take(hs, "not-hex-at-all-here", T0), -EINVAL);
	hop_seen_free(hs);
}

static void
test_forgotten(void **state)
{
	struct hop_seen *hs = hop_seen_new(W);
	char m1[65];

	(void)state;
	mac_of(7, m1);
	assert_int_equal(hop_seen_take(hs, m1, T0), 0);
	/* long after (its time fails the window check anyway): memory is freed */
	assert_int_equal(hop_seen_take(hs, m1, T0 + 10 * W), 0);
	assert_int_equal(hop_seen_take(hs, m1, T0 + 10 * W + 5), -EALREADY);
	hop_seen_free(hs);
}

static void
test_many(void **state)
{
	struct hop_seen *hs = hop_seen_new(W);
	char m[65];

	(void)state;
	for (unsigned i = 1; i <= 50000; i++) {
		mac_of(i, m);
		assert_int_equal(hop_seen_take(hs, m, T0 + i / 2000), 0);
	}
	for (unsigned i = 1; i <= 50000; i += 997) {
		mac_of(i, m);
		assert_int_equal(hop_seen_take(hs, m, T0 + 25), -EALREADY);
	}
	hop_seen_free(hs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_once),
	    cmocka_unit_test(test_forgotten),
	    cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
