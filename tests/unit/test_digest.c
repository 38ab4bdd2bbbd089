/*
 * test_digest.c - Digest HA1 and response against the worked examples of
 * RFC 2617 (section 3.5, MD5) and RFC 7616 (section 3.9.1, SHA-256 and MD5),
 * and against hashes computed here in one shot over the joined string.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "digest.h"

/* The values the RFCs print for their examples. */
#define RFC2617_RESPONSE "6629fae49393a05397450978507c4ef1"
#define RFC7616_SHA256_RESPONSE "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
#define RFC7616_MD5_RESPONSE "8ca523f5e9506fed4657c9700eebdbec"

struct vector {
	enum gw_digest_alg alg;
	const char *user, *realm, *password, *method, *uri, *nonce, *nc, *cnonce;
	const char *response; /* as printed in the RFC */
};

static const struct vector vectors[] = {
    {GW_DIGEST_MD5, "Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
     "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", RFC2617_RESPONSE},
    {GW_DIGEST_SHA256, "Mufasa", "http-auth@example.org", "Circle of Life", "GET",
     "/dir/index.html", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
     "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", RFC7616_SHA256_RESPONSE},
    {GW_DIGEST_MD5, "Mufasa", "http-auth@example.org", "Circle of Life", "GET", "/dir/index.html",
     "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
     "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", RFC7616_MD5_RESPONSE},
};

/* hex(H(s)) computed in one call, independently of gw_digest_hash. */
static void
ref_hash(enum gw_digest_alg alg, const char *s, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(s, strlen(s), md, &len,
				    alg == GW_DIGEST_SHA256 ? EVP_sha256() : EVP_md5(), NULL),
			 1);
	for (unsigned int i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
ref_response(const struct vector *v, bool qop, char out[65])
{
	char a1[256], a2[256], ha1[65], ha2[65], all[512];

	snprintf(a1, sizeof(a1), "%s:%s:%s", v->user, v->realm, v->password);
	snprintf(a2, sizeof(a2), "%s:%s", v->method, v->uri);
	ref_hash(v->alg, a1, ha1);
	ref_hash(v->alg, a2, ha2);
	if (qop)
		snprintf(all, sizeof(all), "%s:%s:%s:%s:auth:%s", ha1, v->nonce, v->nc, v->cnonce,
			 ha2);
	else
		snprintf(all, sizeof(all), "%s:%s:%s", ha1, v->nonce, ha2);
	ref_hash(v->alg, all, out);
}

static void
test_rfc_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		char ha1[65], resp[65], ref[65], a1[256];

		assert_int_equal(gw_digest_ha1(v->alg, ha1, v->user, v->realm, v->password), 0);
		assert_int_equal(strlen(ha1), gw_digest_hexlen(v->alg));
		snprintf(a1, sizeof(a1), "%s:%s:%s", v->user, v->realm, v->password);
		ref_hash(v->alg, a1, ref);
		assert_string_equal(ha1, ref);

		assert_int_equal(gw_digest_response(v->alg, resp, ha1, v->nonce, v->nc, v->cnonce,
						    "auth", v->method, v->uri),
				 0);
		assert_string_equal(resp, v->response);
		ref_response(v, true, ref);
		assert_string_equal(resp, ref);
	}
}

/* Without qop (RFC 2069 compatibility) the response is H(HA1:nonce:HA2). */
static void
test_response_without_qop(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		char ha1[65], resp[65], ref[65], with_qop[65];

		assert_int_equal(gw_digest_ha1(v->alg, ha1, v->user, v->realm, v->password), 0);
		assert_int_equal(gw_digest_response(v->alg, resp, ha1, v->nonce, v->nc, v->cnonce,
						    NULL, v->method, v->uri),
				 0);
		ref_response(v, false, ref);
		assert_string_equal(resp, ref);
		assert_int_equal(gw_digest_response(v->alg, with_qop, ha1, v->nonce, v->nc,
						    v->cnonce, "auth", v->method, v->uri),
				 0);
		assert_string_not_equal(resp, with_qop);
	}
}

/* Every part counts: changing any one input changes the response. */
static void
test_response_depends_on_every_part(void **state)
{
	const struct vector *v = &vectors[1];
	char ha1[65], base[65], other[65];
	const char *in[7] = {ha1, v->nonce, v->nc, v->cnonce, "auth", v->method, v->uri};

	(void)state;
	assert_int_equal(gw_digest_ha1(v->alg, ha1, v->user, v->realm, v->password), 0);
	assert_int_equal(
	    gw_digest_response(v->alg, base, in[0], in[1], in[2], in[3], in[4], in[5], in[6]), 0);
	for (int k = 0; k < 7; k++) {
		const char *m[7];
		memcpy(m, in, sizeof(m));
		m[k] = "x";
		assert_int_equal(
		    gw_digest_response(v->alg, other, m[0], m[1], m[2], m[3], m[4], m[5], m[6]), 0);
		assert_string_not_equal(base, other);
	}
}

static void
test_hash_parts(void **state)
{
	const char *none[] = {NULL};
	const char *one[] = {"abc", NULL};
	const char *three[] = {"a", "", "c", NULL};
	char out[65], ref[65];

	(void)state;
	assert_int_equal(gw_digest_hash(GW_DIGEST_SHA256, out, none), 0);
	ref_hash(GW_DIGEST_SHA256, "", ref);
	assert_string_equal(out, ref);
	assert_int_equal(gw_digest_hash(GW_DIGEST_MD5, out, one), 0);
	ref_hash(GW_DIGEST_MD5, "abc", ref);
	assert_string_equal(out, ref);
	assert_int_equal(gw_digest_hash(GW_DIGEST_SHA256, out, three), 0);
	ref_hash(GW_DIGEST_SHA256, "a::c", ref);
	assert_string_equal(out, ref);
	assert_int_equal(strlen(out), 64);
}

static void
test_equal(void **state)
{
	(void)state;
	assert_true(gw_digest_equal("", ""));
	assert_true(gw_digest_equal(RFC2617_RESPONSE, RFC2617_RESPONSE));
	assert_false(gw_digest_equal(RFC2617_RESPONSE, "6629fae49393a05397450978507c4ef2"));
	assert_false(gw_digest_equal(RFC2617_RESPONSE, "7629fae49393a05397450978507c4ef1"));
	/* a prefix is not equal, nor the same hex in upper case */
	assert_false(gw_digest_equal(RFC2617_RESPONSE, "6629fae49393a05397450978507c4ef"));
	assert_false(gw_digest_equal("6629fae4", RFC2617_RESPONSE));
	assert_false(gw_digest_equal(RFC2617_RESPONSE, "6629FAE49393A05397450978507C4EF1"));
	assert_false(gw_digest_equal("", "a"));
}

static void
test_alg_names(void **state)
{
	(void)state;
	assert_int_equal(gw_digest_alg_parse("MD5"), GW_DIGEST_MD5);
	assert_int_equal(gw_digest_alg_parse("md5"), GW_DIGEST_MD5);
	assert_int_equal(gw_digest_alg_parse("SHA-256"), GW_DIGEST_SHA256);
	assert_int_equal(gw_digest_alg_parse("sha-256"), GW_DIGEST_SHA256);
	/* no algorithm parameter means MD5 (RFC 7616 section 3.3) */
	assert_int_equal(gw_digest_alg_parse(NULL), GW_DIGEST_MD5);
	assert_int_equal(gw_digest_alg_parse("SHA256"), -1);
	assert_int_equal(gw_digest_alg_parse("MD5-sess"), -1);
	assert_int_equal(gw_digest_alg_parse("SHA-512-256"), -1);
	assert_int_equal(gw_digest_alg_parse(""), -1);
	assert_string_equal(gw_digest_alg_name(GW_DIGEST_MD5), "MD5");
	assert_string_equal(gw_digest_alg_name(GW_DIGEST_SHA256), "SHA-256");
	assert_int_equal(gw_digest_alg_parse(gw_digest_alg_name(GW_DIGEST_SHA256)),
			 GW_DIGEST_SHA256);
	assert_int_equal(gw_digest_hexlen(GW_DIGEST_MD5), 32);
	assert_int_equal(gw_digest_hexlen(GW_DIGEST_SHA256), 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_vectors),
	    cmocka_unit_test(test_response_without_qop),
	    cmocka_unit_test(test_response_depends_on_every_part),
	    cmocka_unit_test(test_hash_parts),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_alg_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
