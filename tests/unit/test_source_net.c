/*
 * test_source_net.c - daemon/sofia/source_net.c: the internal networks as
 * written in [policy] internal-networks (what parses and what does not, IPv4
 * networks matching IPv4 addresses only and IPv6 ones IPv6 only), and a client
 * address's source (a remote IPv6 address with its /64) as bytes and as text.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "source_net.h"
#include "unit.h"

static struct sockaddr_storage
addr(const char *ip)
{
	struct sockaddr_storage ss;

	assert_true(unit_sockaddr(&ss, ip, 0));
	return ss;
}

#define SA(x) ((const struct sockaddr *)(const void *)&(x))

static bool
internal(const char *ip)
{
	struct sockaddr_storage ss = addr(ip);

	return source_net_internal(SA(ss));
}

static int
teardown(void **state)
{
	(void)state;
	source_net_clear();
	return 0;
}

/* what an admin may write, and what is refused with the bad one named */
static void
test_parse(void **state)
{
	const char *good[] = {"10.0.0.0/8",  "192.0.2.7", "fd00::/8",
			      "2001:db8::1", "::/0",      "::ffff:198.51.100.0/120"};
	const char *bad[][2] = {{"10.0.0.0/8", "10.0.0.0/33"},  {"fd00::/8", "fd00::/129"},
				{"10.0.0.0/8", "10.0.0.0/"},    {"10.0.0.0/8", "10.0.0.0/8x"},
				{"10.0.0.0/8", "corp.example"}, {"10.0.0.0/8", "10.0.0.0/-1"}};
	size_t at = 99;

	(void)state;
	assert_int_equal(source_net_set(good, 6, &at), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		at = 99;
		assert_int_equal(source_net_set(bad[i], 2, &at), -EINVAL);
		assert_int_equal(at, 1);
	}
	/* a refused list leaves the one before in force */
	assert_true(internal("10.1.2.3"));
	assert_true(internal("198.51.100.77"));
	assert_true(internal("::ffff:10.9.9.9"));
}

/* an IPv4 network matches IPv4 addresses (also written as IPv6), an IPv6 one
 * IPv6 addresses only: ::/0 is every IPv6 address, no IPv4 one */
static void
test_match(void **state)
{
	const char *nets[] = {"10.0.0.0/8", "192.0.2.7", "::/0"};

	(void)state;
	assert_int_equal(source_net_set(nets, 3, NULL), 0);
	assert_true(internal("10.200.0.1"));
	assert_true(internal("::ffff:10.200.0.1"));
	assert_false(internal("11.0.0.1"));
	assert_true(internal("192.0.2.7"));
	assert_false(internal("192.0.2.8"));
	assert_true(internal("2001:db8::1"));
	assert_false(internal("203.0.113.5"));
	const char *v6[] = {"2001:db8:1::/48"};
	assert_int_equal(source_net_set(v6, 1, NULL), 0);
	assert_true(internal("2001:db8:1:ffff::1"));
	assert_false(internal("2001:db8:2::1"));
	assert_false(internal("10.200.0.1"));
	source_net_clear();
	assert_false(internal("2001:db8:1::1"));
}

/* a source as bytes and as text: IPv4 as itself, a remote IPv6 address cut to
 * its /64, an internal one whole; text with or without brackets */
static void
test_source(void **state)
{
	const char *nets[] = {"fd00:1:2:3::/64"};
	unsigned char k1[16], k2[16];
	char text[80];

	(void)state;
	assert_int_equal(source_net_set(nets, 1, NULL), 0);
	struct sockaddr_storage a = addr("2001:db8:5:6:aaaa::1"), b = addr("2001:db8:5:6::2");
	assert_true(source_net_key(SA(a), k1));
	assert_true(source_net_key(SA(b), k2));
	assert_memory_equal(k1, k2, 16);
	assert_true(source_net_key_text("[2001:db8:5:6::77]", k2));
	assert_memory_equal(k1, k2, 16);
	assert_true(source_net_key_text("2001:db8:5:7::1", k2));
	assert_memory_not_equal(k1, k2, 16);
	assert_true(source_net_key_text("fd00:1:2:3::1", k1));
	assert_true(source_net_key_text("fd00:1:2:3::2", k2));
	assert_memory_not_equal(k1, k2, 16);
	assert_true(source_net_key_text("192.0.2.1", k1));
	assert_true(source_net_key_text("::ffff:192.0.2.1", k2));
	assert_memory_equal(k1, k2, 16);
	assert_false(source_net_key_text("host.example", k1));
	assert_false(source_net_key_text("[192.0.2.1", k1));

	source_net_text(SA(a), text, sizeof(text));
	assert_string_equal(text, "2001:db8:5:6::/64");
	source_net_text_of("[fd00:1:2:3::9]", text, sizeof(text));
	assert_string_equal(text, "fd00:1:2:3::9");
	source_net_text_of("::ffff:192.0.2.1", text, sizeof(text));
	assert_string_equal(text, "192.0.2.1");
	source_net_text_of("not an address", text, sizeof(text));
	assert_string_equal(text, "not an address");
	struct sockaddr_storage none;
	memset(&none, 0, sizeof(none));
	assert_false(source_net_key(SA(none), k1));
	source_net_text(SA(none), text, sizeof(text));
	assert_string_equal(text, "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_parse, teardown),
	    cmocka_unit_test_teardown(test_match, teardown),
	    cmocka_unit_test_teardown(test_source, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
