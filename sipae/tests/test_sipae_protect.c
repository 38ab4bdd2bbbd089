/*
 * test_sipae_protect.c - NTLM extended protection in libgwsipae without a DC: the
 * AUTHENTICATE's MsvAvTargetName and MsvAvChannelBindings against what the server
 * expects, the MIC over CHALLENGE and AUTHENTICATE, the channel bindings of a TLS
 * certificate, and the CHALLENGE rebuilt byte for byte from the same inputs.  The
 * messages are made by the tests' own NTLM client (sipae_client.c) as a client with
 * extended protection makes them.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gwsipae.h"
#include "sipae_client.h"
#include "sipae_private.h"

static const struct sipae_ntlm_names names = {"CORP", "GREENWICH", "corp.example.com",
					      "greenwich.corp.example.com"};
static const char target[] = "sip/greenwich.corp.example.com";

struct signin {
	uint8_t *chal_msg, *auth_msg;
	size_t chal_len, auth_len;
	uint8_t sbk[16], esk[16];
	struct sipae_ntlm_auth a;
};

/* A CHALLENGE and the AUTHENTICATE a client with protection p answers it with, parsed. */
static void
signin(struct signin *s, const struct cl_protect *p)
{
	uint8_t chal[8];
	char err[200] = "";

	memset(s, 0, sizeof(*s));
	assert_int_equal(sipae_ntlm_challenge(&names, chal, &s->chal_msg, &s->chal_len), 0);
	assert_int_equal(cl_authenticate_ex(s->chal_msg, s->chal_len, "alice", "CORP",
					    "Apple-Pie-11", p, &s->auth_msg, &s->auth_len, s->sbk,
					    s->esk),
			 0);
	assert_int_equal(sipae_ntlm_parse_auth(s->auth_msg, s->auth_len, &s->a, err, sizeof(err)),
			 0);
}

static void
signin_free(struct signin *s)
{
	sipae_ntlm_auth_free(&s->a);
	free(s->chal_msg);
	free(s->auth_msg);
}

static int
binding(const struct sipae_ntlm_auth *a, const uint8_t *cb)
{
	const struct sipae_ntlm_binding b = {target, cb};
	char err[300] = "";
	int rc = sipae_ntlm_check_binding(a, &b, err, sizeof(err));

	if (rc < 0)
		assert_true(err[0] != '\0'); /* every refusal says why */
	return rc;
}

static void
test_target_name(void **state)
{
	const struct cl_protect right = {target, NULL, 0},
				upper = {"SIP/Greenwich.CORP.example.com", NULL, 0},
				http = {"HTTP/greenwich.corp.example.com", NULL, 0},
				bare = {"greenwich.corp.example.com", NULL, 0};
	struct signin s;

	(void)state;
	signin(&s, NULL); /* pidgin-sipe: no target name at all */
	assert_null(s.a.target);
	assert_int_equal(binding(&s.a, NULL), 0);
	signin_free(&s);
	signin(&s, &right);
	assert_non_null(s.a.target);
	assert_int_equal(binding(&s.a, NULL), 0);
	signin_free(&s);
	signin(&s, &upper);
	assert_int_equal(binding(&s.a, NULL), 0);
	signin_free(&s);
	/* made for another service of the same host: relayed */
	signin(&s, &http);
	assert_int_equal(binding(&s.a, NULL), -EACCES);
	signin_free(&s);
	signin(&s, &bare);
	assert_int_equal(binding(&s.a, NULL), -EACCES);
	signin_free(&s);
}

static void
test_channel_bindings(void **state)
{
	uint8_t ours[16], other[16], zero[16] = {0};
	const struct cl_protect with_ours = {NULL, ours, 0}, with_other = {NULL, other, 0},
				with_zero = {NULL, zero, 0};
	struct signin s;

	(void)state;
	memset(ours, 0x11, sizeof(ours));
	memset(other, 0x22, sizeof(other));
	signin(&s, &with_ours);
	assert_int_equal(binding(&s.a, ours), 0);
	assert_int_equal(binding(&s.a, other), -EACCES); /* another TLS connection */
	assert_int_equal(binding(&s.a, NULL), -EACCES);  /* bound to TLS, here without */
	signin_free(&s);
	signin(&s, &with_other);
	assert_int_equal(binding(&s.a, ours), -EACCES);
	signin_free(&s);
	/* all zero: the client has none to give */
	signin(&s, &with_zero);
	assert_int_equal(binding(&s.a, ours), 0);
	assert_int_equal(binding(&s.a, NULL), 0);
	signin_free(&s);
	signin(&s, NULL);
	assert_int_equal(binding(&s.a, ours), 0);
	signin_free(&s);
}

static void
test_mic(void **state)
{
	const struct cl_protect mic = {target, NULL, 1};
	uint8_t chal[8], *other = NULL, sbk_wrong[16];
	size_t other_len;
	struct signin s;
	char err[200];

	(void)state;
	signin(&s, &mic);
	assert_true(s.a.av_flags & 0x2);
	assert_int_equal(sipae_ntlm_check_mic(&s.a, s.sbk, s.chal_msg, s.chal_len), 0);
	/* another CHALLENGE than the one answered (a relay between two servers) */
	assert_int_equal(sipae_ntlm_challenge(&names, chal, &other, &other_len), 0);
	assert_int_equal(sipae_ntlm_check_mic(&s.a, s.sbk, other, other_len), -EBADMSG);
	free(other);
	/* a key the DC did not return */
	memcpy(sbk_wrong, s.sbk, 16);
	sbk_wrong[0] ^= 1;
	assert_int_equal(sipae_ntlm_check_mic(&s.a, sbk_wrong, s.chal_msg, s.chal_len), -EBADMSG);
	/* the AUTHENTICATE changed on the way: its flags (outside the NTLMv2 proof) */
	sipae_ntlm_auth_free(&s.a);
	s.auth_msg[60] ^= 0x20; /* NTLMSSP_NEGOTIATE_SEAL */
	assert_int_equal(sipae_ntlm_parse_auth(s.auth_msg, s.auth_len, &s.a, err, sizeof(err)), 0);
	assert_int_equal(sipae_ntlm_check_mic(&s.a, s.sbk, s.chal_msg, s.chal_len), -EBADMSG);
	signin_free(&s);
	/* no MIC flagged: nothing to check */
	signin(&s, NULL);
	assert_int_equal(sipae_ntlm_check_mic(&s.a, s.sbk, s.chal_msg, s.chal_len), 0);
	signin_free(&s);
}

static void
test_mic_layout(void **state)
{
	const struct cl_protect mic = {NULL, NULL, 1};
	struct sipae_ntlm_auth a;
	struct signin s;
	char err[200] = "";

	(void)state;
	signin(&s, &mic);
	/* a payload field moved into the MIC's bytes: malformed.  8 bytes long, so that
	 * at 80..88 it overlaps nothing but the MIC (the payload starts at 88) */
	sipae_put_le16(s.auth_msg + 28, 8);  /* DomainName's length... */
	sipae_put_le16(s.auth_msg + 30, 8);  /* ...and its maximum length */
	sipae_put_le32(s.auth_msg + 32, 80); /* DomainName's offset */
	assert_int_equal(sipae_ntlm_parse_auth(s.auth_msg, s.auth_len, &a, err, sizeof(err)),
			 -EINVAL);
	if (strstr(err, "MIC") == NULL)
		fail_msg("refused, but not for the MIC: %s", err);
	signin_free(&s);
}

/* A self-signed certificate (EC P-256, signed with hash md), DER, malloc'ed. */
static size_t
make_cert(const EVP_MD *md, uint8_t **der)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	int n;

	assert_non_null(k);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"greenwich.corp.example.com", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, md) > 0);
	*der = NULL;
	n = i2d_X509(x, der);
	assert_true(n > 0);
	X509_free(x);
	EVP_PKEY_free(k);
	return (size_t)n;
}

/* The bindings as RFC 5929 and [MS-NLMP] describe them, computed here from scratch. */
static void
expect_cb(const EVP_MD *hash, const uint8_t *der, size_t len, uint8_t out[16])
{
	uint8_t buf[200] = {0}, h[64];
	unsigned int hl = 0;
	const char prefix[] = "tls-server-end-point:";

	assert_int_equal(EVP_Digest(der, len, h, &hl, hash, NULL), 1);
	memcpy(buf + 20, prefix, sizeof(prefix) - 1);
	memcpy(buf + 20 + sizeof(prefix) - 1, h, hl);
	sipae_put_le32(buf + 16, (uint32_t)(sizeof(prefix) - 1 + hl));
	assert_int_equal(EVP_Digest(buf, 20 + sizeof(prefix) - 1 + hl, out, NULL, EVP_md5(), NULL),
			 1);
}

static void
test_tls_cb(void **state)
{
	uint8_t *der, got[16], want[16];
	size_t len;

	(void)state;
	len = make_cert(EVP_sha256(), &der);
	assert_int_equal(sipae_tls_cb_md5(der, len, got), 0);
	expect_cb(EVP_sha256(), der, len, want);
	assert_memory_equal(got, want, 16);
	OPENSSL_free(der);
	/* signed with SHA-384: hashed with SHA-384 */
	len = make_cert(EVP_sha384(), &der);
	assert_int_equal(sipae_tls_cb_md5(der, len, got), 0);
	expect_cb(EVP_sha384(), der, len, want);
	assert_memory_equal(got, want, 16);
	OPENSSL_free(der);
	assert_int_equal(sipae_tls_cb_md5((const uint8_t *)"not a certificate", 17, got), -EINVAL);
}

/* The application data a Kerberos acceptor is given: the prefix and the certificate's hash. */
static void
test_tls_cb_data(void **state)
{
	uint8_t *der, got[SIPAE_TLS_CB_MAX], h[64];
	unsigned int hl = 0;
	size_t len, n = 1;

	(void)state;
	len = make_cert(EVP_sha384(), &der);
	assert_int_equal(sipae_tls_cb_data(der, len, got, &n), 0);
	assert_int_equal(EVP_Digest(der, len, h, &hl, EVP_sha384(), NULL), 1);
	assert_int_equal(n, 21 + hl);
	assert_memory_equal(got, "tls-server-end-point:", 21);
	assert_memory_equal(got + 21, h, hl);
	OPENSSL_free(der);
	assert_int_equal(sipae_tls_cb_data((const uint8_t *)"not a certificate", 17, got, &n),
			 -EINVAL);
	assert_int_equal(n, 0);
}

static void
test_challenge_rebuilt(void **state)
{
	const uint8_t chal[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint64_t ft = sipae_filetime(1700000000);
	uint8_t *m1, *m2, got[8];
	const uint8_t *ti;
	size_t l1, l2, tilen;

	(void)state;
	assert_int_equal(sipae_ntlm_challenge_make(&names, chal, ft, &m1, &l1), 0);
	assert_int_equal(sipae_ntlm_challenge_make(&names, chal, ft, &m2, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(m1, m2, l1);
	assert_int_equal(cl_parse_challenge(m1, l1, &ti, &tilen, got), 0);
	assert_memory_equal(got, chal, 8);
	/* MsvAvTimestamp (id 7) carries ft */
	size_t pos = 0;
	bool seen = false;
	while (pos + 4 <= tilen && sipae_le16(ti + pos) != 0) {
		if (sipae_le16(ti + pos) == 7) {
			uint64_t t = sipae_le32(ti + pos + 4) | (uint64_t)sipae_le32(ti + pos + 8)
								    << 32;
			assert_true(t == ft);
			seen = true;
		}
		pos += 4 + sipae_le16(ti + pos + 2);
	}
	assert_true(seen);
	free(m2);
	/* another time slot: another message */
	assert_int_equal(sipae_ntlm_challenge_make(&names, chal, ft + 1, &m2, &l2), 0);
	assert_memory_not_equal(m1, m2, l1);
	free(m1);
	free(m2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_target_name),
	    cmocka_unit_test(test_channel_bindings),
	    cmocka_unit_test(test_mic),
	    cmocka_unit_test(test_mic_layout),
	    cmocka_unit_test(test_tls_cb),
	    cmocka_unit_test(test_tls_cb_data),
	    cmocka_unit_test(test_challenge_rebuilt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
