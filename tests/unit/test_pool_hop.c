/*
 * test_pool_hop.c - daemon/core/pool_hop.c: the X-Greenwich-Pool header's
 * fields as a front end writes them, names in any case, a missing or
 * over-long field refused; a hop's time taken within the window either way
 * and nothing else, whatever number comes (the lowest and highest 64-bit
 * values, text).
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pool_hop.h"

#define T0 1800000000
#define W 30
#define MAC "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_parse(void **state)
{
	struct pool_hop h;
	char user[64];

	(void)state;
	assert_int_equal(pool_hop_parse("fe=fe1;ts=1800000000;user=alice@example.test;mac=" MAC, &h,
					user, sizeof(user)),
			 0);
	assert_string_equal(h.fe, "fe1");
	assert_string_equal(h.ts, "1800000000");
	assert_string_equal(user, "alice@example.test");
	assert_string_equal(h.mac, MAC);
	/* names in any case, spaces before them, another order, an unknown field */
	assert_int_equal(
	    pool_hop_parse("MAC=" MAC "; x=1; User=bob@b;TS=5; Fe=fe2", &h, user, sizeof(user)), 0);
	assert_string_equal(h.fe, "fe2");
	assert_string_equal(h.ts, "5");
	assert_string_equal(user, "bob@b");
	/* the first of a field given twice */
	assert_int_equal(pool_hop_parse("fe=a;fe=b;ts=1;user=u;mac=m", &h, user, sizeof(user)), 0);
	assert_string_equal(h.fe, "a");
}

static void
test_refused(void **state)
{
	struct pool_hop h;
	char user[8];

	(void)state;
	assert_int_equal(pool_hop_parse("fe=fe1;ts=1;user=u", &h, user, sizeof(user)), -EINVAL);
	assert_int_equal(pool_hop_parse("", &h, user, sizeof(user)), -EINVAL);
	assert_int_equal(pool_hop_parse(NULL, &h, user, sizeof(user)), -EINVAL);
	/* "fex=" is not "fe=" */
	assert_int_equal(pool_hop_parse("fex=1;ts=1;user=u;mac=m", &h, user, sizeof(user)),
			 -EINVAL);
	/* longer than its room: refused, not cut */
	assert_int_equal(pool_hop_parse("fe=1;ts=1;user=12345678;mac=m", &h, user, sizeof(user)),
			 -EINVAL);
	assert_int_equal(pool_hop_parse("fe=1;ts=1234567890123456789012345;user=u;mac=m", &h, user,
					sizeof(user)),
			 -EINVAL);
}

static void
test_fresh(void **state)
{
	(void)state;
	assert_true(pool_hop_fresh("1800000000", T0, W));
	assert_true(pool_hop_fresh("1800000030", T0, W));
	assert_true(pool_hop_fresh("1799999970", T0, W));
	assert_false(pool_hop_fresh("1800000031", T0, W));
	assert_false(pool_hop_fresh("1799999969", T0, W));
	assert_false(pool_hop_fresh("-9223372036854775808", T0, W));
	assert_false(pool_hop_fresh("9223372036854775807", T0, W));
	assert_false(pool_hop_fresh("99999999999999999999999", T0, W));
	assert_false(pool_hop_fresh("soon", T0, W));
	assert_false(pool_hop_fresh("", T0, W));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_fresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
