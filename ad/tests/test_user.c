/*
 * test_user.c - libgwad's attribute decoding: SIDs, proxyAddresses, account flags,
 * filter escaping, error texts, user checks and copies.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ad_entry.h"
#include "ad_private.h"

/* S-1-5-21-1004336348-1177238915-682003330-512 */
static const unsigned char sid_admins[] = {
    1,    5,    0,    0,    0,    0,    0,    5,    21,   0,    0,    0,    0xdc, 0xf4,
    0xdc, 0x3b, 0x83, 0x3d, 0x2b, 0x46, 0x82, 0x8b, 0xa6, 0x28, 0x00, 0x02, 0x00, 0x00,
};

static void
test_sid_to_str(void **state)
{
	char buf[200];

	assert_int_equal(ad_sid_to_str(sid_admins, sizeof(sid_admins), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "S-1-5-21-1004336348-1177238915-682003330-512");
}

static void
test_sid_well_known(void **state)
{
	/* S-1-1-0 (Everyone) and S-1-5-32-544 (BUILTIN\Administrators) */
	static const unsigned char everyone[] = {1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	static const unsigned char admins[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0};
	char buf[64];

	assert_int_equal(ad_sid_to_str(everyone, sizeof(everyone), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "S-1-1-0");
	assert_int_equal(ad_sid_to_str(admins, sizeof(admins), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "S-1-5-32-544");
}

static void
test_sid_malformed(void **state)
{
	unsigned char bad[sizeof(sid_admins)];
	char buf[200];

	/* one byte short, one too many, no header, wrong revision, too many sub-authorities */
	assert_int_equal(ad_sid_to_str(sid_admins, sizeof(sid_admins) - 1, buf, sizeof(buf)),
			 -AD_ERR_PARSE);
	assert_int_equal(ad_sid_to_str(sid_admins, 4, buf, sizeof(buf)), -AD_ERR_PARSE);
	memcpy(bad, sid_admins, sizeof(bad));
	bad[0] = 2;
	assert_int_equal(ad_sid_to_str(bad, sizeof(bad), buf, sizeof(buf)), -AD_ERR_PARSE);
	bad[0] = 1;
	bad[1] = 16;
	assert_int_equal(ad_sid_to_str(bad, sizeof(bad), buf, sizeof(buf)), -AD_ERR_PARSE);
	assert_int_equal(ad_sid_to_str(sid_admins, sizeof(sid_admins), buf, 12), -ENOSPC);
}

static void
check_proxy(const char *const *proxies, size_t n, const char *mail, const char *primary,
	    const char *const *aliases, size_t nalias)
{
	char *p = (char *)"unset", **a = NULL;
	size_t i, count = 99;

	assert_int_equal(ad_proxy_select(proxies, n, mail, &p, &a, &count), 0);
	if (primary == NULL)
		assert_null(p);
	else
		assert_string_equal(p, primary);
	assert_int_equal(count, nalias);
	for (i = 0; i < nalias; i++)
		assert_string_equal(a[i], aliases[i]);
	assert_null(a[nalias]);
	free(p);
	ad_strv_free(a, count);
}

static void
test_sid_from_str(void **state)
{
	static const unsigned char everyone[] = {1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	unsigned char bin[AD_SID_MAX];
	char buf[200];
	size_t len = 0;

	assert_int_equal(
	    ad_sid_from_str("S-1-5-21-1004336348-1177238915-682003330-512", bin, sizeof(bin), &len),
	    0);
	assert_int_equal(len, sizeof(sid_admins));
	assert_memory_equal(bin, sid_admins, len);
	assert_int_equal(ad_sid_from_str("S-1-1-0", bin, sizeof(bin), &len), 0);
	assert_int_equal(len, sizeof(everyone));
	assert_memory_equal(bin, everyone, len);
	/* every sub-authority up to 2^32-1 and 15 of them round-trip */
	const char *big = "S-1-5-4294967295-1-2-3-4-5-6-7-8-9-10-11-12-13-14";
	assert_int_equal(ad_sid_from_str(big, bin, sizeof(bin), &len), 0);
	assert_int_equal(len, AD_SID_MAX);
	assert_int_equal(ad_sid_to_str(bin, len, buf, sizeof(buf)), 0);
	assert_string_equal(buf, big);
}

static void
test_sid_from_str_malformed(void **state)
{
	static const char *const bad[] = {"",
					  "S-1",
					  "S-1-",
					  "S-1-5",
					  "S-1-5-",
					  "S-1-5--1",
					  "S-2-5-21",
					  "s-1-5-21",
					  "S-1-x-21",
					  "S-1-5-21x",
					  "S-1-5-4294967296",
					  "S-1-281474976710656-1",
					  " S-1-5-21",
					  "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"};
	unsigned char bin[AD_SID_MAX];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ad_sid_from_str(bad[i], bin, sizeof(bin), &len), -AD_ERR_PARSE);
	assert_int_equal(ad_sid_from_str("S-1-5-21-1-2", bin, 15, &len), -ENOSPC);
}

static void
test_query_filter(void **state)
{
	struct ad_query any_name = {AD_QUERY_ANY, "bob"};
	struct ad_query any_addr = {AD_QUERY_ANY, "sip:Bob*@corp.example.com"};
	struct ad_query uri = {AD_QUERY_SIP_URI, "sip:bob(x)@corp.example.com"};
	char f[1600];

	assert_int_equal(ad_query_filter(&any_name, f, sizeof(f)), 0);
	assert_string_equal(f, "(&(objectCategory=person)(objectClass=user)(sAMAccountName=bob))");
	/* with an '@': UPN, mail or a sip: value, "sip:" left out, the value escaped */
	assert_int_equal(ad_query_filter(&any_addr, f, sizeof(f)), 0);
	assert_string_equal(f, "(&(objectCategory=person)(objectClass=user)"
			       "(|(userPrincipalName=Bob\\2a@corp.example.com)"
			       "(mail=Bob\\2a@corp.example.com)"
			       "(proxyAddresses=sip:Bob\\2a@corp.example.com)))");
	assert_int_equal(ad_query_filter(&uri, f, sizeof(f)), 0);
	assert_string_equal(f, "(&(objectCategory=person)(objectClass=user)"
			       "(|(proxyAddresses=sip:bob\\28x\\29@corp.example.com)"
			       "(mail=bob\\28x\\29@corp.example.com)))");
}

static void
test_proxy_primary_and_alias(void **state)
{
	/* bob: the capital SIP: is primary even when listed after the alias */
	const char *const px[] = {"smtp:bob@corp.example.com", "sip:bobby@corp.example.com",
				  "SIP:robert@corp.example.com", "X400:c=US"};
	const char *const al[] = {"sip:bobby@corp.example.com"};

	check_proxy(px, 4, "bob@corp.example.com", "sip:robert@corp.example.com", al, 1);
}

static void
test_proxy_mail_only(void **state)
{
	const char *const px[] = {"SMTP:alice@corp.example.com"};

	check_proxy(NULL, 0, "alice@corp.example.com", "sip:alice@corp.example.com", NULL, 0);
	check_proxy(px, 1, "alice@corp.example.com", "sip:alice@corp.example.com", NULL, 0);
}

static void
test_proxy_none(void **state)
{
	const char *const px[] = {"SMTP:x@corp.example.com", "sip:"};

	check_proxy(NULL, 0, NULL, NULL, NULL, 0);
	check_proxy(NULL, 0, "", NULL, NULL, 0);
	check_proxy(px, 2, NULL, NULL, NULL, 0);
}

static void
test_proxy_lowercase_only(void **state)
{
	/* no capital SIP: value: the first sip: one is primary, mail is not used */
	const char *const px[] = {"sip:one@x.test", "Sip:two@x.test"};
	const char *const al[] = {"sip:two@x.test"};

	check_proxy(px, 2, "mail@x.test", "sip:one@x.test", al, 1);
}

static void
test_proxy_two_capitals(void **state)
{
	const char *const px[] = {"SIP:first@x.test", "SIP:second@x.test"};
	const char *const al[] = {"sip:second@x.test"};

	check_proxy(px, 2, NULL, "sip:first@x.test", al, 1);
}

/* 2020-01-01T00:00:00Z as a FILETIME, and as Unix time */
#define FT_2020 132223104000000000LL
#define UNIX_2020 1577836800LL

static void
test_filetime(void **state)
{
	assert_int_equal(ad_filetime_to_unix(FT_2020), UNIX_2020);
	assert_int_equal(ad_filetime_to_unix(0), 0);
	assert_int_equal(ad_filetime_to_unix(INT64_MAX), 0);
	assert_int_equal(ad_filetime_to_unix(116444736000000000LL), 0); /* 1970 itself */
}

static void
test_account_flags(void **state)
{
	time_t now = (time_t)UNIX_2020 + 86400;

	assert_int_equal(ad_account_flags(512, -1, 0, 0, now), 0);
	assert_int_equal(ad_account_flags(514, -1, 0, 0, now), AD_USER_DISABLED);
	assert_int_equal(ad_account_flags(512, -1, 0, FT_2020, now), AD_USER_EXPIRED);
	assert_int_equal(ad_account_flags(512, -1, 0, FT_2020, (time_t)UNIX_2020 - 1), 0);
	assert_int_equal(ad_account_flags(512, -1, 0, INT64_MAX, now), 0);
	/* lockoutTime counts only when the computed UAC is not known */
	assert_int_equal(ad_account_flags(512, -1, FT_2020, 0, now), AD_USER_LOCKED_OUT);
	assert_int_equal(ad_account_flags(512, 0, FT_2020, 0, now), 0);
	assert_int_equal(ad_account_flags(512, 0x10, 0, 0, now), AD_USER_LOCKED_OUT);
	assert_int_equal(ad_account_flags(514, 0x10, 0, FT_2020, now),
			 AD_USER_DISABLED | AD_USER_LOCKED_OUT | AD_USER_EXPIRED);
}

static void
test_filter_escape(void **state)
{
	char out[64];

	assert_int_equal(ad_filter_escape("a*b(c)d\\e", out, sizeof(out)), 0);
	assert_string_equal(out, "a\\2ab\\28c\\29d\\5ce");
	assert_int_equal(ad_filter_escape("alice@corp.example.com", out, sizeof(out)), 0);
	assert_string_equal(out, "alice@corp.example.com");
	/* control characters too (a name typed into the console may carry one) */
	assert_int_equal(ad_filter_escape("a\tb\x01", out, sizeof(out)), 0);
	assert_string_equal(out, "a\\09b\\01");
	assert_int_equal(ad_filter_escape("abcdef", out, 6), -ENOSPC);
	assert_int_equal(ad_filter_escape("abc*", out, 6), -ENOSPC);
}

static void
test_domain_dn(void **state)
{
	char out[64];

	assert_int_equal(ad_domain_to_dn("corp.example.com", out, sizeof(out)), 0);
	assert_string_equal(out, "DC=corp,DC=example,DC=com");
	assert_int_equal(ad_domain_to_dn("single", out, sizeof(out)), 0);
	assert_string_equal(out, "DC=single");
	assert_int_equal(ad_domain_to_dn("corp.example.com", out, 10), -ENOSPC);
}

static void
test_strerror(void **state)
{
	assert_string_equal(ad_strerror(0), "success");
	assert_string_equal(ad_strerror(-AD_ERR_UNAVAILABLE), "no domain controller available");
	assert_string_equal(ad_strerror(AD_ERR_NOT_FOUND), "no such user");
	assert_string_equal(ad_strerror(-ENOMEM), strerror(ENOMEM));
	assert_string_equal(ad_strerror(-AD_ERR_LAST), "unknown libgwad error");
	for (int e = AD_ERR_BASE; e < AD_ERR_LAST; e++)
		assert_non_null(ad_strerror(-e));
}

static struct ad_user *
user_make(void)
{
	struct ad_user *u = calloc(1, sizeof(*u));
	const char *const px[] = {"SIP:Robert@Corp.Example.com", "sip:bobby@corp.example.com"};

	u->sam = strdup("bob");
	u->sid = strdup("S-1-5-21-1-2-3-1104");
	assert_int_equal(ad_proxy_select(px, 2, NULL, &u->sip_uri, &u->aliases, &u->alias_count),
			 0);
	u->group_sids = calloc(3, sizeof(char *));
	u->group_sids[0] = strdup("S-1-5-21-1-2-3-513");
	u->group_sids[1] = strdup("S-1-5-21-1-2-3-1110");
	u->group_count = 2;
	u->flags = AD_USER_SIP_ENABLED;
	return u;
}

static void
test_user_uri_sid(void **state)
{
	struct ad_user *u = user_make(), *c;

	assert_true(ad_user_has_uri(u, "sip:robert@corp.example.com"));
	assert_true(ad_user_has_uri(u, "ROBERT@corp.example.COM"));
	assert_true(ad_user_has_uri(u, "SIP:BOBBY@corp.example.com"));
	assert_false(ad_user_has_uri(u, "sip:bob@corp.example.com"));
	assert_true(ad_user_has_sid(u, "S-1-5-21-1-2-3-1110"));
	assert_true(ad_user_has_sid(u, "S-1-5-21-1-2-3-1104"));
	assert_false(ad_user_has_sid(u, "S-1-5-21-1-2-3-111"));
	c = ad_user_dup(u);
	ad_user_free(u);
	assert_string_equal(c->sam, "bob");
	assert_string_equal(c->aliases[0], "sip:bobby@corp.example.com");
	assert_string_equal(c->group_sids[1], "S-1-5-21-1-2-3-1110");
	assert_null(c->upn);
	ad_user_free(c);
}

static void
test_user_check(void **state)
{
	struct ad_user *u = user_make();

	assert_int_equal(ad_user_check(u), 0);
	u->flags = 0;
	assert_int_equal(ad_user_check(u), -AD_ERR_NOT_ENABLED);
	u->flags = AD_USER_SIP_ENABLED | AD_USER_EXPIRED;
	assert_int_equal(ad_user_check(u), -AD_ERR_EXPIRED);
	u->flags |= AD_USER_LOCKED_OUT;
	assert_int_equal(ad_user_check(u), -AD_ERR_LOCKED_OUT);
	u->flags |= AD_USER_DISABLED;
	assert_int_equal(ad_user_check(u), -AD_ERR_DISABLED);
	ad_user_free(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sid_to_str),
	    cmocka_unit_test(test_sid_well_known),
	    cmocka_unit_test(test_sid_malformed),
	    cmocka_unit_test(test_sid_from_str),
	    cmocka_unit_test(test_sid_from_str_malformed),
	    cmocka_unit_test(test_query_filter),
	    cmocka_unit_test(test_proxy_primary_and_alias),
	    cmocka_unit_test(test_proxy_mail_only),
	    cmocka_unit_test(test_proxy_none),
	    cmocka_unit_test(test_proxy_lowercase_only),
	    cmocka_unit_test(test_proxy_two_capitals),
	    cmocka_unit_test(test_filetime),
	    cmocka_unit_test(test_account_flags),
	    cmocka_unit_test(test_filter_escape),
	    cmocka_unit_test(test_domain_dn),
	    cmocka_unit_test(test_strerror),
	    cmocka_unit_test(test_user_uri_sid),
	    cmocka_unit_test(test_user_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
