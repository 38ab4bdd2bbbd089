/*
 * test_guard.c - the password-guessing guard of daemon/signin/auth_guard.c:
 * an account and an address are held back past their limits, an address the
 * account signed in from keeps its way in (however it is spelt: IPv6 with or
 * without brackets), a remote IPv6 address counted with its /64 (an internal
 * one alone), the window ends the hold, and every account that signs
 * in is remembered (100,000 of them, each still known afterwards).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "auth_guard.h"
#include "source_net.h"

#define T0 1800000000

static int
setup(void **state)
{
	(void)state;
	guard_clear();
	guard_configure(3, 100, 600);
	return 0;
}

static void
test_account_held(void **state)
{
	int retry = 0;

	(void)state;
	guard_succeeded("alice", "192.0.2.1", T0);
	for (int i = 0; i < 3; i++) {
		assert_true(guard_allows("alice@example.com", "198.51.100.7", T0, &retry));
		guard_failed("alice@example.com", "198.51.100.7", T0);
	}
	/* the guesser is held back, for the rest of the window */
	assert_false(guard_allows("alice", "198.51.100.7", T0 + 10, &retry));
	assert_int_equal(retry, 590);
	/* so is any other new address (DOMAIN\user spelling too) */
	assert_false(guard_allows("EXAMPLE\\alice", "203.0.113.9", T0 + 10, &retry));
	/* her own device is not */
	assert_true(guard_allows("alice", "192.0.2.1", T0 + 10, &retry));
	/* the window over, everyone may try again */
	assert_true(guard_allows("alice", "198.51.100.7", T0 + 600, &retry));
	/* another account is untouched */
	assert_true(guard_allows("bob", "198.51.100.7", T0 + 10, &retry));
}

static void
test_ipv6_spellings(void **state)
{
	int retry = 0;

	(void)state;
	guard_succeeded("carol", "[2001:db8::1]", T0);
	for (int i = 0; i < 3; i++)
		guard_failed("carol", "2001:db8::66", T0);
	assert_false(guard_allows("carol", "[2001:db8::66]", T0, &retry));
	assert_true(guard_allows("carol", "2001:db8:0:0::1", T0, &retry));
	assert_true(guard_allows("carol", "[2001:db8::1]", T0, &retry));
	/* an address she never signed in from stays held */
	assert_false(guard_allows("carol", "[::ffff:192.0.2.2]", T0, &retry));
}

static void
test_source_held(void **state)
{
	int retry = 0;
	char user[32];

	(void)state;
	guard_configure(0, 5, 60);
	for (int i = 0; i < 5; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		guard_failed(user, "198.51.100.8", T0);
	}
	assert_false(guard_allows("somebody", "198.51.100.8", T0 + 1, &retry));
	assert_int_equal(retry, 59);
	assert_true(guard_allows("somebody", "198.51.100.9", T0 + 1, &retry));
}

/* a remote IPv6 address guesses with its whole /64: spreading the guesses over its
 * addresses gains nothing; inside the internal networks each address is its own */
static void
test_source_ipv6(void **state)
{
	const char *internal[] = {"2001:db8:1:2::/64"};
	const char *from[] = {"2001:db8:1:1::a", "[2001:db8:1:1::b]", "2001:db8:1:1:ffff::c",
			      "2001:db8:1:1::d", "2001:db8:1:1:1:2:3:4"};
	int retry = 0;
	char user[32];

	(void)state;
	source_net_clear();
	guard_configure(0, 5, 60);
	for (int i = 0; i < 5; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		guard_failed(user, from[i], T0);
	}
	assert_false(guard_allows("somebody", "[2001:db8:1:1::99]", T0 + 1, &retry));
	assert_int_equal(retry, 59);
	char held[72];
	guard_held_source("[2001:db8:1:1::99]", T0 + 1, held, sizeof(held));
	assert_string_equal(held, "2001:db8:1:1::/64");
	guard_held_source("2001:db8:1:0::99", T0 + 1, held, sizeof(held));
	assert_string_equal(held, "");
	assert_true(guard_allows("somebody", "2001:db8:1:0::99", T0 + 1, &retry));
	assert_int_equal(source_net_set(internal, 1, NULL), 0);
	for (int i = 0; i < 5; i++) {
		char a[64];
		snprintf(a, sizeof(a), "2001:db8:1:2::%x", i + 1);
		snprintf(user, sizeof(user), "user%d", i);
		guard_failed(user, a, T0);
	}
	assert_true(guard_allows("somebody", "2001:db8:1:2::99", T0 + 1, &retry));
	assert_true(guard_allows("somebody", "2001:db8:1:2::1", T0 + 1, &retry));
	source_net_clear();
}

static void
test_many_accounts(void **state)
{
	char user[32];
	int retry = 0;

	(void)state;
	for (int i = 0; i < 60000; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		guard_succeeded(user, "192.0.2.50", T0);
	}
	/* each one's device is still known when it is attacked */
	for (int i = 0; i < 60000; i += 997) {
		snprintf(user, sizeof(user), "user%d", i);
		for (int k = 0; k < 3; k++)
			guard_failed(user, "198.51.100.7", T0 + 1);
		assert_false(guard_allows(user, "198.51.100.7", T0 + 1, &retry));
		assert_true(guard_allows(user, "192.0.2.50", T0 + 1, &retry));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_account_held, setup),
	    cmocka_unit_test_setup(test_ipv6_spellings, setup),
	    cmocka_unit_test_setup(test_source_held, setup),
	    cmocka_unit_test_setup(test_source_ipv6, setup),
	    cmocka_unit_test_setup(test_many_accounts, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
