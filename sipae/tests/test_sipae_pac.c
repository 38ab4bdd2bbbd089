/*
 * test_sipae_pac.c - the PAC logon-info reader on a KERB_VALIDATION_INFO that
 * Samba's KDC issued to carol (t-sipae.sh's test domain; member of Support,
 * and of Staff through it), then truncated and randomly mutated input.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sipae_private.h"

static const char carol_logon_info[] =
    "01100800CCCCCCCCD80100000000000000000200FEB118F4407DDD01FFFFFFFFFFFFFF7FFFFFFFFFFFFFFF7F"
    "4C0C82F1407DDD014CCCEB1B0A7EDD01FFFFFFFFFFFFFF7F0A000A0004000200220022000800020000000000"
    "0C00020000000000100002000000000014000200000000001800020001000000510400000102000004000000"
    "1C0002002000000000000000000000000000000000000000060008002000020008000A002400020028000200"
    "0000000000000000100000000000000000000000000000000000000000000000000000000000000001000000"
    "2C0002000000000000000000000000000500000000000000050000006300610072006F006C00000011000000"
    "00000000110000006300610072006F006C002000280074006500730074002000750073006500720029000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000004000000010200000700000055040000070000005604000007000000570400000700000004000000"
    "0000000003000000440043003100000005000000000000000400000043004F00520050000400000001040000"
    "000000051500000038A783EBB8F52F55DFB7F199010000003000020007000000010000000101000000000012"
    "01000000";

/* user, Domain Users (primary group), Greenwich Users, Support, Staff,
 * "authentication authority asserted identity" (an extra SID) */
static const char *const carol_sids[] = {
    "S-1-5-21-3951273784-1429206456-2582755295-1105",
    "S-1-5-21-3951273784-1429206456-2582755295-513",
    "S-1-5-21-3951273784-1429206456-2582755295-1109",
    "S-1-5-21-3951273784-1429206456-2582755295-1110",
    "S-1-5-21-3951273784-1429206456-2582755295-1111",
    "S-1-18-1",
};

static uint8_t pac[1024];
static size_t pac_len;

static int
setup(void **state)
{
	int n = sipae_unhex(pac, sizeof(pac), carol_logon_info);

	(void)state;
	if (n < 0)
		return -1;
	pac_len = (size_t)n;
	return 0;
}

static void
test_carol(void **state)
{
	char **sids = NULL;
	size_t n = 0, i;

	(void)state;
	assert_int_equal(sipae_pac_logon_sids(pac, pac_len, &sids, &n), 0);
	assert_int_equal(n, sizeof(carol_sids) / sizeof(carol_sids[0]));
	for (i = 0; i < n; i++)
		assert_string_equal(sids[i], carol_sids[i]);
	assert_null(sids[n]);
	sipae_strv_free(sids);
}

static void
test_truncated(void **state)
{
	char **sids = (char **)1;
	size_t n = 1, len;

	(void)state;
	for (len = 0; len < pac_len; len++) {
		uint8_t *b = malloc(len ? len : 1);

		assert_non_null(b);
		memcpy(b, pac, len);
		/* the object length in the header says more than there is */
		assert_int_equal(sipae_pac_logon_sids(b, len, &sids, &n), -EINVAL);
		assert_null(sids);
		assert_int_equal(n, 0);
		/* the header agrees with the truncation: the NDR reader must stop */
		if (len >= 20 && len + 8 < pac_len) {
			sipae_put_le32(b + 8, (uint32_t)(len - 16));
			assert_int_equal(sipae_pac_logon_sids(b, len, &sids, &n), -EINVAL);
		}
		free(b);
	}
}

static void
test_bad_header(void **state)
{
	uint8_t b[sizeof(pac)];
	char **sids;
	size_t n;

	(void)state;
	memcpy(b, pac, pac_len);
	b[1] = 0x00; /* big-endian serialisation */
	assert_int_equal(sipae_pac_logon_sids(b, pac_len, &sids, &n), -EINVAL);
	memcpy(b, pac, pac_len);
	sipae_put_le32(b + 8, 0xFFFFFFF0u); /* object longer than the buffer */
	assert_int_equal(sipae_pac_logon_sids(b, pac_len, &sids, &n), -EINVAL);
	memcpy(b, pac, pac_len);
	sipae_put_le32(b + 16, 0); /* NULL top-level pointer */
	assert_int_equal(sipae_pac_logon_sids(b, pac_len, &sids, &n), -EINVAL);
}

static void
test_fuzz(void **state)
{
	unsigned int seed = 4242;
	int i, j, ok = 0;

	(void)state;
	for (i = 0; i < 30000; i++) {
		uint8_t *b = malloc(pac_len);
		size_t len = pac_len, n = 0;
		char **sids = NULL;

		assert_non_null(b);
		memcpy(b, pac, pac_len);
		for (j = 0; j < 1 + rand_r(&seed) % 3; j++) {
			size_t at = 16 + (size_t)rand_r(&seed) % (pac_len - 16);

			if (rand_r(&seed) % 4 == 0 && at + 4 <= pac_len)
				sipae_put_le32(b + at, (uint32_t)rand_r(&seed) % 64);
			else
				b[at] = (uint8_t)rand_r(&seed);
		}
		if (sipae_pac_logon_sids(b, len, &sids, &n) == 0) {
			assert_true(n > 0 && sids[n] == NULL);
			for (size_t k = 0; k < n; k++)
				assert_true(strncmp(sids[k], "S-", 2) == 0);
			ok++;
		}
		sipae_strv_free(sids);
		free(b);
	}
	assert_true(ok > 0); /* e.g. changes inside names or times */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_carol),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_bad_header),
	    cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
