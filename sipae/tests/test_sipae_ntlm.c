/*
 * test_sipae_ntlm.c - NTLM half of libgwsipae without a DC: [MS-NLMP] 4.2.4
 * vectors, a real Office Communicator 2007 R2 sign-in (its AUTHENTICATE and
 * the signatures both sides made), the CHALLENGE layout, signatures, and the
 * AUTHENTICATE parser on malformed and randomly mutated input.
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
#include <strings.h>
#include <time.h>

#include <cmocka.h>

#include "gwsipae.h"
#include "sipae_client.h"
#include "sipae_private.h"

/* [MS-NLMP] 4.2.4: User / Domain / Password, server challenge 0123456789abcdef,
 * client challenge aa.., time 0, random session key 55.., TargetInfo with
 * NetBIOS domain "Domain" and NetBIOS server "Server". */
static const char nlmp_ti[] = "02000c0044006f006d00610069006e0001000c005300650072007600650072000000"
			      "0000";
static const char nlmp_auth[] =
    "4e544c4d5353500003000000180018006c00000054005400840000000c000c0048000000080008005400000010"
    "0010005c00000010001000d8000000358288e20501280a0000000f44006f006d00610069006e00550073006500"
    "720043004f004d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa68cd0a"
    "b851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c00"
    "44006f006d00610069006e0001000c005300650072007600650072000000000000000000c5dad2544fc9799094"
    "ce1ce90bc9d03e";

/* Office Communicator 2007 R2 signing in to OCS 2007 R2 (user User, domain COSMO,
 * password Pa$$word), as recorded in pidgin-sipe's test suite: server challenge,
 * the client's AUTHENTICATE, and the first signed request and response. */
static const char oc_auth[] =
    "4E544C4D53535000030000001800180072000000C600C6008A0000000A000A0048000000080008005200000018"
    "0018005A0000001000100050010000558298620502CE0E0000000F43004F0053004D004F005500730065007200"
    "43004F0053004D004F002D004F00430053002D0052003200A1E92EFE4E078BF7C5C0049ACC6166C2D6AE875CB0"
    "FDAA418DC0C800AE76ECA606D2B9FBEBD04731010100000000000059519A1727B9CA01D6AE875CB0FDAA410000"
    "000002000A0043004F0053004D004F000100180043004F0053004D004F002D004F00430053002D005200320004"
    "00160063006F0073006D006F002E006C006F00630061006C000300300063006F0073006D006F002D006F006300"
    "73002D00720032002E0063006F0073006D006F002E006C006F00630061006C000500160063006F0073006D006F"
    "002E006C006F00630061006C00000000000000000031CB739E1CA80A498591E8AE797115E4";
static const char oc_request[] =
    "<NTLM><13317733><1><SIP Communications Service><cosmo-ocs-r2.cosmo.local>"
    "<4037df9284354df39065195bd57a4b14><3><REGISTER><sip:user@cosmo.local><3e49177a52>"
    "<sip:user@cosmo.local><><><><>";
static const char oc_response[] =
    "<NTLM><9616454F><1><SIP Communications Service><cosmo-ocs-r2.cosmo.local>"
    "<4037df9284354df39065195bd57a4b14><3><REGISTER><sip:user@cosmo.local><3e49177a52>"
    "<sip:user@cosmo.local><5E61CCD925D17E043D9A74835A88F664><><><7200><200>";

static size_t
unhex(uint8_t *out, size_t max, const char *hex)
{
	int n = sipae_unhex(out, max, hex);

	assert_true(n >= 0);
	return (size_t)n;
}

static void
assert_hex(const uint8_t *got, size_t len, const char *want)
{
	char buf[1024];

	assert_true(2 * len < sizeof(buf));
	sipae_hex(buf, got, len);
	assert_int_equal(strlen(want), 2 * len);
	assert_int_equal(strcasecmp(buf, want), 0);
}

static void
test_nlmp_response(void **state)
{
	uint8_t key[16], chal[8], cchal[8], ti[64], lm[24], sbk[16], esk[16], enc[16], *nt;
	size_t tilen, ntlen;

	(void)state;
	assert_int_equal(cl_ntowfv2("Password", "User", "Domain", key), 0);
	assert_hex(key, 16, "0c868a403bfd7a93a3001ef22ef02e3f");
	unhex(chal, 8, "0123456789abcdef");
	memset(cchal, 0xaa, 8);
	tilen = unhex(ti, sizeof(ti), nlmp_ti);
	assert_int_equal(cl_ntlmv2_response(key, chal, cchal, 0, ti, tilen, &nt, &ntlen, lm, sbk),
			 0);
	assert_hex(nt, 16, "68cd0ab851e51c96aabc927bebef6a1c");
	assert_hex(lm, 24, "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
	assert_hex(sbk, 16, "8de40ccadbc14a82f15cb0ad0de95ca3");
	memset(esk, 0x55, 16);
	assert_int_equal(sipae_rc4(sbk, 16, esk, enc, 16), 0);
	assert_hex(enc, 16, "c5dad2544fc9799094ce1ce90bc9d03e");
	free(nt);
}

static void
test_nlmp_keys(void **state)
{
	uint8_t sbk[16], enc[16], text[18], sealed[18];
	struct sipae_ntlm_keys k;

	(void)state;
	unhex(sbk, 16, "8de40ccadbc14a82f15cb0ad0de95ca3");
	unhex(enc, 16, "c5dad2544fc9799094ce1ce90bc9d03e");
	assert_int_equal(sipae_ntlm_derive(sbk, enc, &k), 0);
	assert_hex(k.client_sign, 16, "4788dc861b4782f35d43fd98fe1a2d39");
	assert_hex(k.client_seal, 16, "59f600973cc4960a25480a7c196e4c58");
	/* 4.2.4.4: "Plaintext" in UTF-16 sealed with the client's sealing key */
	memcpy(text, "P\0l\0a\0i\0n\0t\0e\0x\0t\0", 18);
	assert_int_equal(sipae_rc4(k.client_seal, 16, text, sealed, 18), 0);
	assert_hex(sealed, 18, "54e50165bf1936dc996020c1811b0f06fb5f");
	/* the server's keys use the other magic constants */
	assert_memory_not_equal(k.server_sign, k.client_sign, 16);
	assert_memory_not_equal(k.server_seal, k.client_seal, 16);
}

static void
test_nlmp_parse(void **state)
{
	uint8_t msg[512];
	size_t len = unhex(msg, sizeof(msg), nlmp_auth);
	struct sipae_ntlm_auth a;
	char err[128] = "";

	(void)state;
	assert_int_equal(sipae_ntlm_parse_auth(msg, len, &a, err, sizeof(err)), 0);
	assert_int_equal(a.flags, 0xE2888235u);
	assert_string_equal(a.user, "User");
	assert_string_equal(a.domain, "Domain");
	assert_string_equal(a.workstation, "COMPUTER");
	assert_int_equal(a.lm_len, 24);
	assert_int_equal(a.nt_len, 84);
	assert_hex(a.nt, 16, "68cd0ab851e51c96aabc927bebef6a1c");
	assert_true(a.has_session_key);
	assert_hex(a.enc_session_key, 16, "c5dad2544fc9799094ce1ce90bc9d03e");
	sipae_ntlm_auth_free(&a);
}

/* The whole server side of a recorded sign-in: parse the client's message,
 * compute the key the DC would return, verify the client's signature and
 * make the one the client accepted. */
static void
test_oc2007_signin(void **state)
{
	uint8_t msg[512], key[16], chal[8], sbk[16], proof[16], sig[16], want[16];
	size_t len = unhex(msg, sizeof(msg), oc_auth);
	struct sipae_ntlm_keys k;
	struct sipae_ntlm_auth a;
	char err[128] = "";

	(void)state;
	assert_int_equal(sipae_ntlm_parse_auth(msg, len, &a, err, sizeof(err)), 0);
	assert_int_equal(a.flags, 0x62988255u);
	assert_string_equal(a.user, "User");
	assert_string_equal(a.domain, "COSMO");
	assert_string_equal(a.workstation, "COSMO-OCS-R2");
	/* what the DC does with the password it knows */
	unhex(chal, 8, "DD1BAAF4E7E218D1");
	assert_int_equal(cl_ntowfv2("Pa$$word", a.user, a.domain, key), 0);
	assert_int_equal(sipae_hmac_md5(key, 16, chal, 8, a.nt + 16, a.nt_len - 16, proof), 0);
	assert_memory_equal(proof, a.nt, 16);
	assert_int_equal(sipae_hmac_md5(key, 16, proof, 16, NULL, 0, sbk), 0);

	assert_int_equal(sipae_ntlm_derive(sbk, a.enc_session_key, &k), 0);
	unhex(sig, 16, "0100000029618e9651b65a7764000000");
	assert_int_equal(sipae_ntlm_verify(&k, oc_request, strlen(oc_request), sig), 0);
	assert_int_equal(sipae_ntlm_sign(&k, true, 100, oc_response, strlen(oc_response), sig), 0);
	unhex(want, 16, "01000000E615438A917661BE64000000");
	assert_memory_equal(sig, want, 16);
	sipae_ntlm_auth_free(&a);
}

static void
test_sign_verify(void **state)
{
	const char text[] = "<NTLM><0AD12EE0><1><SIP Communications Service><x>";
	char copy[sizeof(text)];
	struct sipae_ntlm_keys k;
	uint8_t sig[16], bad[16];

	(void)state;
	assert_int_equal(sipae_random(&k, sizeof(k)), 0);
	assert_int_equal(sipae_ntlm_sign(&k, false, 7, text, strlen(text), sig), 0);
	assert_int_equal(sipae_le32(sig), 1);
	assert_int_equal(sipae_le32(sig + 12), 7);
	assert_int_equal(sipae_ntlm_verify(&k, text, strlen(text), sig), 0);
	/* tampered data, checksum, version or sequence number */
	memcpy(copy, text, sizeof(text));
	copy[9] ^= 1;
	assert_int_equal(sipae_ntlm_verify(&k, copy, strlen(copy), sig), -EBADMSG);
	assert_int_equal(sipae_ntlm_verify(&k, text, strlen(text) - 1, sig), -EBADMSG);
	for (size_t i = 0; i < 16; i++) {
		memcpy(bad, sig, 16);
		bad[i] ^= 0x80;
		assert_int_equal(sipae_ntlm_verify(&k, text, strlen(text), bad), -EBADMSG);
	}
	/* the sequence number is the signature's own */
	assert_int_equal(sipae_ntlm_sign(&k, false, 100, text, strlen(text), sig), 0);
	assert_int_equal(sipae_le32(sig + 12), 100);
	assert_int_equal(sipae_ntlm_verify(&k, text, strlen(text), sig), 0);
	/* what the server signs is not what a client may send */
	assert_int_equal(sipae_ntlm_sign(&k, true, 100, text, strlen(text), sig), 0);
	assert_int_equal(sipae_ntlm_verify(&k, text, strlen(text), sig), -EBADMSG);
}

/* Walk TargetInfo; returns how many of the expected pairs were found. */
static int
check_target_info(const uint8_t *ti, size_t len, uint64_t *ts)
{
	static const char *const want[] = {NULL, "GREENWICH", "CORP", "greenwich.corp.example.com",
					   "corp.example.com"};
	size_t off = 0, n;
	uint16_t id;
	int found = 0;
	char *s;

	while (off + 4 <= len) {
		id = sipae_le16(ti + off);
		n = sipae_le16(ti + off + 2);
		assert_true(off + 4 + n <= len);
		if (id == 0) {
			assert_int_equal(n, 0);
			assert_int_equal(off + 4, len); /* MsvAvEOL ends it */
			return found;
		}
		if (id >= 1 && id <= 4) {
			assert_int_equal(sipae_utf16_to_utf8(ti + off + 4, n, &s), 0);
			assert_string_equal(s, want[id]);
			free(s);
			found++;
		} else if (id == 7) {
			assert_int_equal(n, 8);
			*ts = sipae_le32(ti + off + 4) | (uint64_t)sipae_le32(ti + off + 8) << 32;
			found++;
		}
		off += 4 + n;
	}
	fail_msg("TargetInfo without MsvAvEOL");
	return -1;
}

static void
test_challenge_layout(void **state)
{
	const struct sipae_ntlm_names names = {"CORP", "GREENWICH", "corp.example.com",
					       "greenwich.corp.example.com"};
	uint8_t chal[8], chal2[8], *m, *m2;
	size_t len, len2, tioff, tilen;
	uint64_t ts = 0, now;
	char *s;

	(void)state;
	assert_int_equal(sipae_ntlm_challenge(&names, chal, &m, &len), 0);
	assert_memory_equal(m, "NTLMSSP\0", 8);
	assert_int_equal(sipae_le32(m + 8), 2);
	assert_int_equal(sipae_le32(m + 20), 0xE2998255u);
	assert_memory_equal(m + 24, chal, 8);
	/* TargetName: the NetBIOS domain, right after the 56-byte header */
	assert_int_equal(sipae_le32(m + 16), 56);
	assert_int_equal(sipae_utf16_to_utf8(m + 56, sipae_le16(m + 12), &s), 0);
	assert_string_equal(s, "CORP");
	free(s);
	tilen = sipae_le16(m + 40);
	tioff = sipae_le32(m + 44);
	assert_int_equal(sipae_le16(m + 42), tilen);
	assert_int_equal(tioff + tilen, len);
	assert_int_equal(check_target_info(m + tioff, tilen, &ts), 5);
	now = ((uint64_t)time(NULL) + 11644473600ULL) * 10000000ULL;
	assert_true(ts > now - 600000000ULL && ts < now + 600000000ULL);
	/* a fresh challenge every time */
	assert_int_equal(sipae_ntlm_challenge(&names, chal2, &m2, &len2), 0);
	assert_memory_not_equal(chal, chal2, 8);
	free(m);
	free(m2);
	assert_int_equal(sipae_ntlm_challenge(NULL, chal, &m, &len), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nlmp_response), cmocka_unit_test(test_nlmp_keys),
	    cmocka_unit_test(test_nlmp_parse),    cmocka_unit_test(test_oc2007_signin),
	    cmocka_unit_test(test_sign_verify),   cmocka_unit_test(test_challenge_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
