/*
 * test_sipae_parse.c - the AUTHENTICATE parser on hostile input (truncated,
 * overlapping, oversized, wrong protocol, random mutations) and the text
 * helpers (hex, base64, UTF-16).  Run under ASan by the sanitizer build.
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

#include "gwsipae.h"
#include "sipae_client.h"
#include "sipae_private.h"

struct fixture {
	uint8_t *msg;
	size_t len;
};

/* A well-formed message built with the test client against a real challenge. */
static int
setup(void **state)
{
	const struct sipae_ntlm_names names = {"CORP", "GREENWICH", "corp.example.com",
					       "greenwich.corp.example.com"};
	struct fixture *f = calloc(1, sizeof(*f));
	uint8_t chal[8], sbk[16], esk[16], *cm = NULL;
	size_t clen;

	if (f == NULL || sipae_ntlm_challenge(&names, chal, &cm, &clen) < 0 ||
	    cl_authenticate(cm, clen, "alice", "CORP", "Apple-Pie-11", &f->msg, &f->len, sbk, esk) <
		0)
		return -1;
	free(cm);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->msg);
	free(f);
	return 0;
}

static int
parse(const uint8_t *m, size_t len)
{
	struct sipae_ntlm_auth a;
	char err[128];
	int ret = sipae_ntlm_parse_auth(m, len, &a, err, sizeof(err));

	if (ret == 0) {
		/* everything it points at lies inside the message */
		assert_true(a.nt >= m && a.nt + a.nt_len <= m + len);
		assert_true(a.lm == NULL || (a.lm >= m && a.lm + a.lm_len <= m + len));
		assert_non_null(a.user);
		sipae_ntlm_auth_free(&a);
	} else {
		assert_true(err[0] != '\0');
	}
	return ret;
}

static uint8_t *
dup_msg(const struct fixture *f, size_t extra)
{
	uint8_t *m = calloc(1, f->len + extra);

	assert_non_null(m);
	memcpy(m, f->msg, f->len);
	return m;
}

static void
test_valid(void **state)
{
	struct fixture *f = *state;
	struct sipae_ntlm_auth a;
	char err[64];

	assert_int_equal(sipae_ntlm_parse_auth(f->msg, f->len, &a, err, sizeof(err)), 0);
	assert_string_equal(a.user, "alice");
	assert_string_equal(a.domain, "CORP");
	assert_string_equal(a.workstation, "TESTHOST");
	assert_int_equal(a.lm_len, 24);
	assert_true(a.nt_len > 48);
	sipae_ntlm_auth_free(&a);
}

static void
test_truncated(void **state)
{
	struct fixture *f = *state;
	size_t n;

	for (n = 0; n < f->len; n++) {
		uint8_t *m = malloc(n ? n : 1); /* exact size, so ASan sees any overread */

		assert_non_null(m);
		memcpy(m, f->msg, n);
		assert_int_equal(parse(m, n), -EINVAL);
		free(m);
	}
}

static void
test_bad_fields(void **state)
{
	struct fixture *f = *state;
	uint8_t *m = dup_msg(f, 0);
	size_t user_off = sipae_le32(f->msg + 40);

	/* user name overlapping the domain */
	sipae_put_le32(m + 40, sipae_le32(f->msg + 32));
	assert_int_equal(parse(m, f->len), -EINVAL);
	/* a field inside the fixed header (Version is at 64..71) */
	sipae_put_le32(m + 40, 66);
	assert_int_equal(parse(m, f->len), -EINVAL);
	/* past the end, and wrapping around */
	sipae_put_le32(m + 40, (uint32_t)f->len);
	assert_int_equal(parse(m, f->len), -EINVAL);
	sipae_put_le32(m + 40, 0xFFFFFFF0u);
	assert_int_equal(parse(m, f->len), -EINVAL);
	sipae_put_le32(m + 40, (uint32_t)user_off);
	assert_int_equal(parse(m, f->len), 0);
	/* oversized LM response, session key of the wrong size */
	memcpy(m, f->msg, f->len);
	sipae_put_le16(m + 12, 25);
	assert_int_equal(parse(m, f->len), -EINVAL);
	memcpy(m, f->msg, f->len);
	sipae_put_le16(m + 52, 8);
	assert_int_equal(parse(m, f->len), -EINVAL);
	/* an odd-length (not UTF-16) user name, an unpaired surrogate */
	memcpy(m, f->msg, f->len);
	sipae_put_le16(m + 36, 3);
	assert_int_equal(parse(m, f->len), -EINVAL);
	memcpy(m, f->msg, f->len);
	sipae_put_le16(m + user_off, 0xD800);
	assert_int_equal(parse(m, f->len), -EINVAL);
	/* wrong signature or message type */
	memcpy(m, f->msg, f->len);
	m[0] = 'M';
	assert_int_equal(parse(m, f->len), -EINVAL);
	memcpy(m, f->msg, f->len);
	m[8] = 2;
	assert_int_equal(parse(m, f->len), -EINVAL);
	free(m);
}

static void
test_oversized(void **state)
{
	struct fixture *f = *state;
	size_t big = 20000;
	uint8_t *m = dup_msg(f, big);

	assert_int_equal(parse(m, f->len + big), -EINVAL); /* whole message too long */
	/* an NT response of 5000 bytes */
	sipae_put_le16(m + 20, 5000);
	sipae_put_le32(m + 24, (uint32_t)f->len);
	assert_int_equal(parse(m, f->len + 6000), -EINVAL);
	free(m);
}

static void
test_protocol(void **state)
{
	struct fixture *f = *state;
	uint8_t *m = dup_msg(f, 0);
	uint32_t flags = sipae_le32(f->msg + 60);

	sipae_put_le32(m + 60, flags & ~0x40000000u); /* no KEY_EXCH */
	assert_int_equal(parse(m, f->len), -EPROTO);
	sipae_put_le32(m + 60, flags & ~0x10u); /* no SIGN */
	assert_int_equal(parse(m, f->len), -EPROTO);
	sipae_put_le32(m + 60, flags & ~0x1u); /* OEM strings */
	assert_int_equal(parse(m, f->len), -EPROTO);
	memcpy(m, f->msg, f->len);
	sipae_put_le16(m + 20, 24); /* an NTLMv1 response */
	assert_int_equal(parse(m, f->len), -EPROTO);
	memcpy(m, f->msg, f->len);
	m[sipae_le32(f->msg + 24) + 16] = 2; /* unknown blob version */
	assert_int_equal(parse(m, f->len), -EPROTO);
	free(m);
}

/* Random mutations: single bytes, length and offset fields, truncation. */
static void
test_fuzz(void **state)
{
	struct fixture *f = *state;
	unsigned int seed = 12345;
	int i, j, ok = 0;

	for (i = 0; i < 50000; i++) {
		size_t len = f->len;
		uint8_t *m = dup_msg(f, 0);
		int muts = 1 + rand_r(&seed) % 4;

		for (j = 0; j < muts; j++) {
			int what = rand_r(&seed) % 3;

			if (what == 0 && len > 0) {
				m[rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
			} else if (what == 1 && len >= 64) {
				size_t fld = 12 + 8 * (size_t)(rand_r(&seed) % 6);

				sipae_put_le16(m + fld, (uint16_t)rand_r(&seed));
				if (rand_r(&seed) % 2)
					sipae_put_le32(m + fld + 4,
						       (uint32_t)(rand_r(&seed) % 600));
			} else if (what == 2) {
				len = (size_t)rand_r(&seed) % (len + 1);
			}
		}
		ok += parse(m, len) == 0;
		free(m);
	}
	/* some mutations (e.g. of the client challenge) leave a valid message */
	assert_true(ok > 0);
}

static void
test_text(void **state)
{
	const uint8_t bin[] = {0x00, 0x01, 0xAB, 0xFF, 0x7F};
	uint8_t out[8], *d = NULL, *u = NULL;
	size_t dl = 0, ul = 0;
	char hex[11], *b = NULL, *s = NULL;

	(void)state;
	sipae_hex(hex, bin, sizeof(bin));
	assert_string_equal(hex, "0001ABFF7F");
	assert_int_equal(sipae_unhex(out, sizeof(out), "0001abFF7f"), 5);
	assert_memory_equal(out, bin, 5);
	assert_int_equal(sipae_unhex(out, sizeof(out), "0g"), -EINVAL);
	assert_int_equal(sipae_unhex(out, sizeof(out), "123"), -EINVAL);
	assert_int_equal(sipae_unhex(out, 2, "010203"), -EINVAL);
	for (size_t n = 0; n <= sizeof(bin); n++) {
		assert_int_equal(sipae_b64_encode(bin, n, &b), 0);
		assert_int_equal(sipae_b64_decode(b, &d, &dl), 0);
		assert_int_equal(dl, n);
		assert_memory_equal(d, bin, n);
		free(b);
		free(d);
	}
	assert_int_equal(sipae_b64_encode((const uint8_t *)"NTLM", 4, &b), 0);
	assert_string_equal(b, "TlRMTQ==");
	free(b);
	assert_int_equal(sipae_b64_decode("TlRMT", &d, &dl), -EINVAL);
	assert_int_equal(sipae_b64_decode("Tl*MTQ==", &d, &dl), -EINVAL);
	/* UTF-8 <-> UTF-16LE, with a character outside the BMP */
	assert_int_equal(sipae_utf8_to_utf16("J\xc3\xa9r\xf0\x9f\x98\x80", &u, &ul), 0);
	assert_int_equal(ul, 10);
	assert_memory_equal(u, "J\0\xe9\0r\0\x3d\xd8\x00\xde", 10);
	assert_int_equal(sipae_utf16_to_utf8(u, ul, &s), 0);
	assert_string_equal(s, "J\xc3\xa9r\xf0\x9f\x98\x80");
	free(u);
	free(s);
	assert_int_equal(sipae_utf8_to_utf16("\xc3", &u, &ul), -EINVAL);
	assert_int_equal(sipae_utf8_to_utf16("\xed\xa0\x80", &u, &ul), -EINVAL);
	assert_int_equal(sipae_utf16_to_utf8((const uint8_t *)"\0\0", 2, &s), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),      cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_bad_fields), cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_protocol),   cmocka_unit_test(test_fuzz),
	    cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
