/*
 * test_addr_count.c - daemon/sofia/addr_count.c, the counts per client address
 * that hold one address to its share (TCP/TLS connections, requests waiting for
 * worker 0, a worker's calls in progress): counting and giving back, the limit,
 * the entry gone at zero, many addresses, IPv6 (a remote address with its /64, an
 * internal one alone; IPv4 written as IPv6), what is
 * not an IP address, and the once-a-while note for logging refusals.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "addr_count.h"
#include "source_net.h"
#include "unit.h"

/* ip ("192.0.2.1", "2001:db8::1") and port as a socket address */
static struct sockaddr_storage
addr(const char *ip, unsigned short port)
{
	struct sockaddr_storage ss;

	assert_true(unit_sockaddr(&ss, ip, port));
	return ss;
}

#define SA(x) ((const struct sockaddr *)(const void *)&(x))

static void
totals(struct addr_count *ac, unsigned long held, unsigned long addresses)
{
	unsigned long h, a;

	addr_count_totals(ac, &h, &a);
	assert_int_equal(h, held);
	assert_int_equal(a, addresses);
}

/* the same address from two ports is one entry; given back, it is gone */
static void
test_take_put(void **state)
{
	struct addr_count *ac = addr_count_alloc();
	struct sockaddr_storage a = addr("192.0.2.1", 5060), b = addr("192.0.2.1", 5062),
				c = addr("192.0.2.2", 5060);
	bool over = true;

	(void)state;
	assert_non_null(ac);
	struct addr_entry *e1 = addr_count_take(ac, SA(a), 0, &over);
	assert_non_null(e1);
	assert_false(over);
	struct addr_entry *e2 = addr_count_take(ac, SA(b), 0, &over);
	assert_ptr_equal(e1, e2);
	struct addr_entry *e3 = addr_count_take(ac, SA(c), 0, &over);
	assert_ptr_not_equal(e1, e3);
	totals(ac, 3, 2);
	addr_count_put(ac, e1);
	totals(ac, 2, 2);
	addr_count_put(ac, e2);
	totals(ac, 1, 1); /* at zero the entry went */
	addr_count_put(ac, e3);
	totals(ac, 0, 0);
	addr_count_put(ac, NULL); /* nothing counted: nothing to give back */
	totals(ac, 0, 0);
	addr_count_free(ac);
}

/* `limit` per address, the others untouched; room again when one is given back */
static void
test_limit(void **state)
{
	struct addr_count *ac = addr_count_alloc();
	struct sockaddr_storage a = addr("198.51.100.7", 1000), other = addr("198.51.100.8", 1000);
	struct addr_entry *held[5];
	bool over;

	(void)state;
	for (int i = 0; i < 5; i++) {
		held[i] = addr_count_take(ac, SA(a), 5, &over);
		assert_non_null(held[i]);
		assert_false(over);
	}
	assert_null(addr_count_take(ac, SA(a), 5, &over));
	assert_true(over);
	totals(ac, 5, 1); /* a refusal counts nothing */
	struct addr_entry *o = addr_count_take(ac, SA(other), 5, &over);
	assert_non_null(o);
	assert_false(over);
	addr_count_put(ac, held[0]);
	held[0] = addr_count_take(ac, SA(a), 5, &over);
	assert_non_null(held[0]);
	assert_false(over);
	/* a lower limit (a reload) refuses the address until it is under it */
	assert_null(addr_count_take(ac, SA(a), 3, &over));
	assert_true(over);
	for (int i = 0; i < 5; i++)
		addr_count_put(ac, held[i]);
	addr_count_put(ac, o);
	totals(ac, 0, 0);
	/* gone at zero: counted from one again */
	held[0] = addr_count_take(ac, SA(a), 1, &over);
	assert_non_null(held[0]);
	assert_null(addr_count_take(ac, SA(a), 1, &over));
	assert_true(over);
	addr_count_put(ac, held[0]);
	addr_count_free(ac);
}

/* the i-th of many addresses: 10.0.0.0 and up */
static struct sockaddr_storage
nth(unsigned i)
{
	char ip[32];

	snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
	return addr(ip, 5060);
}

/* many more addresses than buckets, each its own entry, all gone at the end */
static void
test_many(void **state)
{
	enum { N = 20000 };
	struct addr_count *ac = addr_count_alloc();
	struct addr_entry **e = calloc(N, sizeof(*e));
	bool over;

	(void)state;
	assert_non_null(e);
	for (unsigned i = 0; i < N; i++) {
		struct sockaddr_storage a = nth(i);
		e[i] = addr_count_take(ac, SA(a), 1, &over);
		assert_non_null(e[i]);
		assert_false(over);
	}
	totals(ac, N, N);
	for (unsigned i = 0; i < N; i += 2)
		addr_count_put(ac, e[i]);
	totals(ac, N / 2, N / 2);
	for (unsigned i = 1; i < N; i += 2) {
		struct sockaddr_storage a = nth(i);
		assert_null(addr_count_take(ac, SA(a), 1, &over)); /* still held */
		assert_true(over);
		addr_count_put(ac, e[i]);
	}
	totals(ac, 0, 0);
	free(e);
	addr_count_free(ac); /* and one still holding: freed with the table */
	ac = addr_count_alloc();
	struct sockaddr_storage a = addr("10.0.0.1", 1);
	assert_non_null(addr_count_take(ac, SA(a), 0, &over));
	addr_count_free(ac);
}

/* IPv6: a remote address counts with its whole /64 (the port does not count); an
 * IPv4 address written as IPv6 (::ffff:a.b.c.d, a dual-stack socket) is that IPv4
 * address */
static void
test_ipv6(void **state)
{
	struct addr_count *ac = addr_count_alloc();
	struct sockaddr_storage a = addr("2001:db8::1", 5060), a2 = addr("2001:db8::1", 6000),
				same64 = addr("2001:db8::ffff:2", 5060),
				b = addr("2001:db8:0:1::1", 5060),
				mapped = addr("::ffff:192.0.2.9", 5060);
	struct sockaddr_storage four = addr("192.0.2.9", 7000);
	struct addr_entry *e[4];
	bool over;
	char text[64];

	(void)state;
	source_net_clear();
	e[0] = addr_count_take(ac, SA(a), 2, &over);
	e[1] = addr_count_take(ac, SA(a2), 2, &over);
	assert_non_null(e[0]);
	assert_ptr_equal(e[0], e[1]);
	assert_null(addr_count_take(ac, SA(a), 2, &over));
	assert_true(over);
	/* another address of the same /64: the same source, over its share too */
	over = false;
	assert_null(addr_count_take(ac, SA(same64), 2, &over));
	assert_true(over);
	e[2] = addr_count_take(ac, SA(b), 2, &over); /* the next /64 */
	assert_non_null(e[2]);
	assert_ptr_not_equal(e[0], e[2]);
	e[3] = addr_count_take(ac, SA(mapped), 1, &over);
	assert_non_null(e[3]);
	assert_null(addr_count_take(ac, SA(four), 1, &over));
	assert_true(over);
	totals(ac, 4, 3);
	for (int i = 0; i < 4; i++)
		addr_count_put(ac, e[i]);
	totals(ac, 0, 0);
	addr_count_text(SA(a), text, sizeof(text));
	assert_string_equal(text, "2001:db8::/64");
	addr_count_text(SA(b), text, sizeof(text));
	assert_string_equal(text, "2001:db8:0:1::/64");
	addr_count_text(SA(four), text, sizeof(text));
	assert_string_equal(text, "192.0.2.9");
	addr_count_free(ac);
}

/* an internal IPv6 address ([policy] internal-networks) is its own source: one LAN
 * is one /64 with every desk in it */
static void
test_ipv6_internal(void **state)
{
	const char *nets[] = {"2001:db8::/64", "10.0.0.0/8"};
	struct addr_count *ac = addr_count_alloc();
	struct sockaddr_storage a = addr("2001:db8::1", 5060), same64 = addr("2001:db8::2", 5060),
				remote = addr("2001:db8:0:1::1", 5060),
				remote2 = addr("2001:db8:0:1::2", 5060);
	struct addr_entry *e[3];
	bool over;
	char text[64];

	(void)state;
	assert_int_equal(source_net_set(nets, 2, NULL), 0);
	e[0] = addr_count_take(ac, SA(a), 1, &over);
	e[1] = addr_count_take(ac, SA(same64), 1, &over);
	assert_non_null(e[0]);
	assert_non_null(e[1]);
	assert_ptr_not_equal(e[0], e[1]);
	e[2] = addr_count_take(ac, SA(remote), 1, &over);
	assert_non_null(e[2]);
	assert_null(addr_count_take(ac, SA(remote2), 1, &over)); /* outside: its /64 */
	assert_true(over);
	addr_count_text(SA(same64), text, sizeof(text));
	assert_string_equal(text, "2001:db8::2");
	addr_count_text(SA(remote2), text, sizeof(text));
	assert_string_equal(text, "2001:db8:0:1::/64");
	for (int i = 0; i < 3; i++)
		addr_count_put(ac, e[i]);
	totals(ac, 0, 0);
	addr_count_free(ac);
	source_net_clear();
}

/* what is not an IP address is not counted and not refused */
static void
test_not_ip(void **state)
{
	struct addr_count *ac = addr_count_alloc();
	struct sockaddr_un un;
	bool over = true;

	(void)state;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	assert_null(addr_count_take(ac, SA(un), 1, &over));
	assert_false(over);
	assert_null(addr_count_take(ac, NULL, 1, &over));
	assert_false(over);
	assert_null(addr_count_take(NULL, SA(un), 1, &over));
	totals(ac, 0, 0);
	assert_false(addr_count_due(ac, SA(un), 100, 60));
	addr_count_free(ac);
}

/* a refusal is noted at most once every `every` seconds for each address */
static void
test_due(void **state)
{
	struct addr_count *ac = addr_count_alloc();
	struct sockaddr_storage a = addr("203.0.113.1", 1), b = addr("203.0.113.2", 1);
	bool over;

	(void)state;
	assert_false(addr_count_due(ac, SA(a), 1000, 60)); /* holds nothing */
	struct addr_entry *ea = addr_count_take(ac, SA(a), 1, &over);
	struct addr_entry *eb = addr_count_take(ac, SA(b), 1, &over);
	assert_true(addr_count_due(ac, SA(a), 1000, 60));
	assert_false(addr_count_due(ac, SA(a), 1030, 60));
	assert_true(addr_count_due(ac, SA(b), 1030, 60)); /* each address its own */
	assert_false(addr_count_due(ac, SA(a), 1059, 60));
	assert_true(addr_count_due(ac, SA(a), 1060, 60));
	addr_count_put(ac, ea);
	addr_count_put(ac, eb);
	addr_count_free(ac);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_take_put),      cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_many),          cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_ipv6_internal), cmocka_unit_test(test_not_ip),
	    cmocka_unit_test(test_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
