/*
 * test_keyed_hash.c - common/keyed_hash.c is SipHash-2-4 with 64-bit output
 * (the vectors of the SipHash paper: key 00..0f, messages 00.., 00..0e), the
 * same hasher gives the same answer again after other input, and two random
 * keys place the same strings differently.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "keyed_hash.h"

static void
test_vectors(void **state)
{
	unsigned char key[GW_KEYED_HASH_KEY_LEN], msg[15];
	struct gw_keyed_hash *h;

	(void)state;
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	assert_int_equal(gw_keyed_hash_new(&h, key), 0);
	assert_true(gw_keyed_hash(h, msg, 0) == UINT64_C(0x726fdb47dd0e0e31));
	assert_true(gw_keyed_hash(h, msg, 1) == UINT64_C(0x74f839c593dc67fd));
	assert_true(gw_keyed_hash(h, msg, 15) == UINT64_C(0xa129ca6149be45e5));
	/* the state is new for each hash */
	assert_true(gw_keyed_hash(h, msg, 0) == UINT64_C(0x726fdb47dd0e0e31));
	gw_keyed_hash_free(h);
}

static void
test_random_keys(void **state)
{
	struct gw_keyed_hash *a, *b;
	unsigned same = 0;
	char s[32];

	(void)state;
	assert_int_equal(gw_keyed_hash_new(&a, NULL), 0);
	assert_int_equal(gw_keyed_hash_new(&b, NULL), 0);
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(s, sizeof(s), "call-%u@example.test", i);
		uint64_t x = gw_keyed_hash(a, s, strlen(s));
		assert_true(x == gw_keyed_hash(a, s, strlen(s)));
		if (x % 16384 == gw_keyed_hash(b, s, strlen(s)) % 16384)
			same++;
	}
	assert_true(same < 10); /* about 1000/16384 by chance */
	gw_keyed_hash_free(a);
	gw_keyed_hash_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_random_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
