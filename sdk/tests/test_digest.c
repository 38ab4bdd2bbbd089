/* Unit tests of the Digest checks of libgreenwich-proxy: nonces (HMAC,
 * expiry, forgotten slots, nonce-count strictly increasing) and responses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "gwp_internal.h"

#define NOW ((time_t)1700000000)

static void
test_nonce_count(void **state)
{
	struct gwp_nonces n;
	char a[GWP_NONCE_LEN + 1], b[GWP_NONCE_LEN + 1];

	assert_int_equal(gwp_nonces_init(&n, 16, 300), 0);
	gwp_nonce_make(&n, NOW, a);
	gwp_nonce_make(&n, NOW, b);
	assert_int_equal(strlen(a), GWP_NONCE_LEN);
	assert_string_not_equal(a, b);
	assert_int_equal(gwp_nonce_check(&n, a, 1, NOW + 1), GWP_NONCE_OK);
	assert_int_equal(gwp_nonce_check(&n, a, 1, NOW + 1), GWP_NONCE_REPLAY);
	assert_int_equal(gwp_nonce_check(&n, a, 0, NOW + 1), GWP_NONCE_REPLAY);
	assert_int_equal(gwp_nonce_check(&n, a, 2, NOW + 1), GWP_NONCE_OK);
	assert_int_equal(gwp_nonce_check(&n, a, 2, NOW + 1), GWP_NONCE_REPLAY);
	assert_int_equal(gwp_nonce_check(&n, a, 7, NOW + 1), GWP_NONCE_OK);
	assert_int_equal(gwp_nonce_check(&n, a, 5, NOW + 1), GWP_NONCE_REPLAY);
	/* counts are per nonce */
	assert_int_equal(gwp_nonce_check(&n, b, 1, NOW + 1), GWP_NONCE_OK);
	gwp_nonces_fini(&n);
}

static void
test_nonce_forged(void **state)
{
	struct gwp_nonces n, other;
	char a[GWP_NONCE_LEN + 1], x[GWP_NONCE_LEN + 1];
	size_t i;

	assert_int_equal(gwp_nonces_init(&n, 16, 300), 0);
	assert_int_equal(gwp_nonces_init(&other, 16, 300), 0);
	gwp_nonce_make(&n, NOW, a);
	/* any changed digit, in the data or in the MAC, is refused */
	for (i = 0; i < GWP_NONCE_LEN; i += 7) {
		memcpy(x, a, sizeof(x));
		x[i] = x[i] == '0' ? '1' : '0';
		assert_int_equal(gwp_nonce_check(&n, x, 1, NOW), GWP_NONCE_BAD);
	}
	assert_int_equal(gwp_nonce_check(&n, NULL, 1, NOW), GWP_NONCE_BAD);
	assert_int_equal(gwp_nonce_check(&n, "", 1, NOW), GWP_NONCE_BAD);
	memcpy(x, a, sizeof(x));
	x[3] = 'G';
	assert_int_equal(gwp_nonce_check(&n, x, 1, NOW), GWP_NONCE_BAD);
	memcpy(x, a, sizeof(x));
	x[GWP_NONCE_LEN - 1] = '\0';
	assert_int_equal(gwp_nonce_check(&n, x, 1, NOW), GWP_NONCE_BAD);
	/* a nonce of another proxy (another key) */
	gwp_nonce_make(&other, NOW, x);
	assert_int_equal(gwp_nonce_check(&n, x, 1, NOW), GWP_NONCE_BAD);
	/* the real one still works: failed checks do not consume it */
	assert_int_equal(gwp_nonce_check(&n, a, 1, NOW), GWP_NONCE_OK);
	gwp_nonces_fini(&n);
	gwp_nonces_fini(&other);
}

static void
test_nonce_expiry(void **state)
{
	struct gwp_nonces n;
	char a[GWP_NONCE_LEN + 1], b[GWP_NONCE_LEN + 1], c[GWP_NONCE_LEN + 1];

	assert_int_equal(gwp_nonces_init(&n, 2, 300), 0);
	gwp_nonce_make(&n, NOW, a);
	assert_int_equal(gwp_nonce_check(&n, a, 1, NOW + 299), GWP_NONCE_OK);
	assert_int_equal(gwp_nonce_check(&n, a, 2, NOW + 300), GWP_NONCE_STALE);
	assert_int_equal(gwp_nonce_check(&n, a, 3, NOW - 1), GWP_NONCE_STALE);
	/* two slots: the third nonce takes the first one's slot */
	gwp_nonce_make(&n, NOW, a);
	gwp_nonce_make(&n, NOW, b);
	gwp_nonce_make(&n, NOW, c);
	assert_int_equal(gwp_nonce_check(&n, b, 1, NOW), GWP_NONCE_OK);
	assert_int_equal(gwp_nonce_check(&n, c, 1, NOW), GWP_NONCE_OK);
	assert_int_equal(gwp_nonce_check(&n, a, 1, NOW), GWP_NONCE_STALE);
	gwp_nonces_fini(&n);
	assert_int_equal(gwp_nonces_init(&n, 0, 300), GWP_ERR_INVAL);
	assert_int_equal(gwp_nonces_init(&n, 4, 0), GWP_ERR_INVAL);
}

/* RFC 2617 section 3.5 (with SIP it is the same computation). */
static void
test_response(void **state)
{
	char ha1[33], nonce[] = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
	struct gwp_credentials c = {
	    .username = "Mufasa",
	    .realm = "testrealm@host.com",
	    .method = "GET",
	    .uri = "/dir/index.html",
	    .nonce = nonce,
	    .nc = "00000001",
	    .cnonce = "0a4f113b",
	    .qop = "auth",
	    .response = "6629fae49393a05397450978507c4ef1",
	};

	assert_int_equal(gwp_digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", ha1), 0);
	assert_string_equal(ha1, "939e7578ed9e3c518a452acee763bce9");
	assert_true(gwp_digest_response_ok(&c, ha1));
	assert_int_equal(gwp_digest_ha1("Mufasa", "testrealm@host.com", "circle of life", ha1), 0);
	assert_false(gwp_digest_response_ok(&c, ha1));
	assert_int_equal(gwp_digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", ha1), 0);
	c.uri = "/dir/other.html";
	assert_false(gwp_digest_response_ok(&c, ha1));
	c.uri = "/dir/index.html";
	c.nc = "00000002";
	assert_false(gwp_digest_response_ok(&c, ha1));
	c.nc = "00000001";
	c.method = "POST";
	assert_false(gwp_digest_response_ok(&c, ha1));
	c.method = "GET";
	assert_false(gwp_digest_response_ok(&c, "939e7578ed9e3c518a452acee763bce"));
	assert_false(gwp_digest_response_ok(&c, NULL));
	c.response = "6629fae49393a05397450978507c4ef";
	assert_false(gwp_digest_response_ok(&c, ha1));
	assert_int_equal(gwp_digest_ha1(NULL, "r", "p", ha1), GWP_ERR_INVAL);
}

static int
ha1_of(void *arg, const char *user, const char *realm, char *ha1, size_t size)
{
	return -1;
}

static void
test_config(void **state)
{
	gwp_config *cfg = NULL;

	assert_int_equal(gwp_config_new(&cfg), 0);
	assert_int_equal(gwp_config_set_auth(cfg, "hd.test", GWP_AUTH_REGISTER, NULL, NULL),
			 GWP_ERR_INVAL);
	assert_int_equal(gwp_config_set_auth(cfg, "", GWP_AUTH_REGISTER, ha1_of, NULL),
			 GWP_ERR_INVAL);
	assert_int_equal(gwp_config_set_auth(cfg, "a\"b", GWP_AUTH_REGISTER, ha1_of, NULL),
			 GWP_ERR_INVAL);
	assert_int_equal(gwp_config_set_auth(cfg, "hd.test", 1u << 7, ha1_of, NULL), GWP_ERR_INVAL);
	assert_int_equal(
	    gwp_config_set_auth(cfg, "hd.test", GWP_AUTH_REGISTER | GWP_AUTH_INVITE, ha1_of, NULL),
	    0);
	assert_string_equal(cfg->auth_realm, "hd.test");
	assert_int_equal(gwp_config_set_dialog_limits(cfg, 0, 10), GWP_ERR_INVAL);
	assert_int_equal(gwp_config_set_dialog_limits(cfg, 10, 0), GWP_ERR_INVAL);
	assert_int_equal(gwp_config_set_dialog_limits(cfg, 10, 60), 0);
	gwp_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nonce_count),  cmocka_unit_test(test_nonce_forged),
	    cmocka_unit_test(test_nonce_expiry), cmocka_unit_test(test_response),
	    cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
