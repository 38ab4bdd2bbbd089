/*
 * test_overload_signs.c - daemon/core/overload_signs.c: when a worker's
 * retransmissions count as overload (busy: only beyond 2 % and a floor;
 * not busy while the wait for a core is known: never; CPU time alone known:
 * beyond 10 %), and the thread's schedstat read from this kernel (its run
 * time grows while the thread computes).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "overload_signs.h"

static void
test_busy(void **state)
{
	(void)state;
	/* running or waiting 80 % or more: beyond 2 % of the requests */
	assert_true(overload_retries_over(1000, 21, 90, 10));
	assert_false(overload_retries_over(1000, 20, 90, 10));
	assert_true(overload_retries_over(1000, 100, OVERLOAD_BUSY_PCT, 0));
	/* the wait for a core counts as busy: the 2 % rule on a descheduled worker */
	assert_true(overload_retries_over(2000, 200, 95, 70));
	/* never below the floor of retransmissions in an interval */
	assert_false(overload_retries_over(100, 20, 100, 0));
	assert_true(overload_retries_over(100, 21, 100, 0));
}

static void
test_not_busy(void **state)
{
	(void)state;
	/* a worker with time to spare: its clients' repeats are not its load */
	assert_false(overload_retries_over(321, 34, 10, 0));
	assert_false(overload_retries_over(600, 500, OVERLOAD_BUSY_PCT - 1, 30));
	assert_false(overload_retries_over(0, 1000, 0, 0));
}

static void
test_cpu_only(void **state)
{
	(void)state;
	/* no schedstat: busy as far as the CPU time tells, or beyond 10 % */
	assert_true(overload_retries_over(1000, 21, 90, -1));
	assert_true(overload_retries_over(600, 61, 20, -1));
	assert_false(overload_retries_over(600, 60, 20, -1));
	assert_false(overload_retries_over(100, 20, 0, -1));
}

static void
test_sched(void **state)
{
	long long run0, wait0, run1, wait1;
	volatile unsigned long x = 0;
	int fd = overload_sched_open();

	(void)state;
	assert_false(overload_sched_times(-1, &run0, &wait0));
	assert_true(fd >= 0); /* Linux with schedstat, as greenwichd's packages need */
	assert_true(overload_sched_times(fd, &run0, &wait0));
	for (unsigned long i = 0; i < 20000000; i++)
		x += i;
	/* read again from the start of the same descriptor: newer figures */
	assert_true(overload_sched_times(fd, &run1, &wait1));
	assert_true(run1 > run0);
	assert_true(wait1 >= wait0);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_busy),
	    cmocka_unit_test(test_not_busy),
	    cmocka_unit_test(test_cpu_only),
	    cmocka_unit_test(test_sched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
