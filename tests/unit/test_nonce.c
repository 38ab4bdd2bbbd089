/*
 * test_nonce.c - the Digest nonce counts of daemon/signin/sip_nonce.c: counts
 * must go up, a retransmission is told from a replay, memory stays bounded
 * whatever the number of sign-ins (none is refused for want of room), and a
 * nonce whose slot a newer one took is never counted afresh.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sip_nonce.h"

#define T0 1800000000

static int
setup(void **state)
{
	(void)state;
	nonce_table_clear();
	nonce_ids_start(T0);
	return 0;
}

static void
test_counts(void **state)
{
	uint64_t id = nonce_id_next();

	(void)state;
	assert_int_equal(nonce_use(id, "00000001", "call-a|1|br1"), 0);
	/* the same request again (a retransmission) */
	assert_int_equal(nonce_use(id, "00000001", "call-a|1|br1"), 1);
	/* the same count from another request: a replay */
	assert_int_equal(nonce_use(id, "00000001", "call-b|1|br9"), -EALREADY);
	assert_int_equal(nonce_use(id, "00000002", "call-a|2|br2"), 0);
	assert_int_equal(nonce_use(id, "00000001", "call-a|3|br3"), -EALREADY);
	assert_int_equal(nonce_use(id, "zz", "call-a|4|br4"), -EINVAL);
	assert_int_equal(nonce_use(id, "0", "call-a|4|br4"), -EINVAL);
	/* without qop a nonce counts as 1 */
	uint64_t id2 = nonce_id_next();
	assert_int_equal(nonce_use(id2, NULL, "call-c|1|br"), 0);
	assert_int_equal(nonce_use(id2, NULL, "call-d|1|br"), -EALREADY);
}

/* Ids this run did not hand out are never counted. */
static void
test_foreign_ids(void **state)
{
	uint64_t id = nonce_id_next();

	(void)state;
	assert_int_equal(nonce_use(id + 1, "00000001", "x"), -ENOSPC);
	assert_int_equal(nonce_use(((uint64_t)T0 << 24) - 1, "00000001", "x"), -ENOSPC);
	assert_int_equal(nonce_use(id, "00000001", "x"), 0);
}

/* Far more sign-ins than any table of used nonces held before (65,536 within
 * the nonce lifetime): every one of them is counted. */
static void
test_many(void **state)
{
	uint64_t first = 0;
	char ident[64];

	(void)state;
	for (int i = 0; i < 1000000; i++) {
		uint64_t id = nonce_id_next();
		if (i == 0)
			first = id;
		snprintf(ident, sizeof(ident), "call-%d|1|br", i);
		assert_int_equal(nonce_use(id, "00000001", ident), 0);
	}
	/* the first nonce's slot went to a newer one: a replay of it, or a next
	 * count, is never taken as a first use */
	assert_int_equal(nonce_use(first, "00000001", "call-0|9|other"), -ENOSPC);
	assert_int_equal(nonce_use(first, "00000002", "call-0|2|br"), -ENOSPC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_counts, setup),
	    cmocka_unit_test_setup(test_foreign_ids, setup),
	    cmocka_unit_test_setup(test_many, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
