/*
 * test_srv.c - parsing of DNS answers to _ldap._tcp.dc._msdcs SRV queries.
 */
#include "config.h"

#include <arpa/nameser.h>
#include <resolv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ad_private.h"

#define QNAME "_ldap._tcp.dc._msdcs.corp.example.com"

/* A response as Samba's DNS sends it: one SRV record, names not compressed. */
/* clang-format off */
static const unsigned char one_srv[] = {
	0x12, 0x34, 0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
	/* question */
	5, '_', 'l', 'd', 'a', 'p', 4, '_', 't', 'c', 'p', 2, 'd', 'c', 6, '_', 'm', 's', 'd',
	'c', 's', 4, 'c', 'o', 'r', 'p', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm',
	0, 0, 33, 0, 1,
	/* answer: pointer to the question name, SRV IN, TTL 900 */
	0xc0, 12, 0, 33, 0, 1, 0, 0, 0x03, 0x84, 0, 28,
	0, 0, 0, 100, 0x01, 0x85, /* priority 0, weight 100, port 389 */
	3, 'd', 'c', '1', 4, 'c', 'o', 'r', 'p', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c',
	'o', 'm', 0,
};
/* clang-format on */

struct pkt {
	unsigned char buf[2048];
	unsigned char *p;
	unsigned char *dnptrs[20];
	int an;
};

static void
pkt_start(struct pkt *k)
{
	memset(k, 0, sizeof(*k));
	k->buf[2] = 0x85;
	k->buf[3] = 0x80;
	k->buf[5] = 1; /* one question */
	k->p = k->buf + 12;
	k->dnptrs[0] = k->buf;
	k->p += dn_comp(QNAME, k->p, 256, k->dnptrs, k->dnptrs + 20);
	NS_PUT16(ns_t_srv, k->p);
	NS_PUT16(ns_c_in, k->p);
}

/* An answer record; type SRV with the fields given, or another type with empty data. */
static void
pkt_rr(struct pkt *k, int type, unsigned prio, unsigned weight, unsigned port, const char *target)
{
	unsigned char *rdlen;

	k->p += dn_comp(QNAME, k->p, 256, k->dnptrs, k->dnptrs + 20);
	NS_PUT16(type, k->p);
	NS_PUT16(ns_c_in, k->p);
	NS_PUT32(600, k->p);
	rdlen = k->p;
	k->p += 2;
	if (type == ns_t_srv) {
		NS_PUT16(prio, k->p);
		NS_PUT16(weight, k->p);
		NS_PUT16(port, k->p);
		k->p += dn_comp(target, k->p, 256, k->dnptrs, k->dnptrs + 20);
	} else {
		memcpy(k->p, "\x7f\0\0\x02", 4);
		k->p += 4;
	}
	NS_PUT16((unsigned)(k->p - rdlen - 2), rdlen);
	k->an++;
	k->buf[6] = (unsigned char)(k->an >> 8);
	k->buf[7] = (unsigned char)k->an;
}

static size_t
pkt_len(const struct pkt *k)
{
	return (size_t)(k->p - k->buf);
}

static void
test_canned_one(void **state)
{
	struct ad_srv *srv = NULL;
	size_t n = 0;

	assert_int_equal(ad_srv_parse(one_srv, sizeof(one_srv), &srv, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(srv[0].priority, 0);
	assert_int_equal(srv[0].weight, 100);
	assert_int_equal(srv[0].port, 389);
	assert_string_equal(srv[0].target, "dc1.corp.example.com");
	free(srv);
}

static void
test_sorted(void **state)
{
	struct ad_srv *srv = NULL;
	struct pkt k;
	size_t n = 0;

	pkt_start(&k);
	pkt_rr(&k, ns_t_srv, 10, 5, 389, "dc3.corp.example.com");
	pkt_rr(&k, ns_t_a, 0, 0, 0, NULL);
	pkt_rr(&k, ns_t_srv, 0, 10, 389, "dc2.corp.example.com");
	pkt_rr(&k, ns_t_srv, 0, 50, 3890, "dc1.corp.example.com");
	assert_int_equal(ad_srv_parse(k.buf, pkt_len(&k), &srv, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(srv[0].target, "dc1.corp.example.com");
	assert_int_equal(srv[0].port, 3890);
	assert_string_equal(srv[1].target, "dc2.corp.example.com");
	assert_string_equal(srv[2].target, "dc3.corp.example.com");
	assert_int_equal(srv[2].priority, 10);
	free(srv);
}

static void
test_no_service(void **state)
{
	struct ad_srv *srv = NULL;
	struct pkt k;
	size_t n = 0;

	/* no answers at all, then only "." (RFC 2782: service not available) */
	pkt_start(&k);
	assert_int_equal(ad_srv_parse(k.buf, pkt_len(&k), &srv, &n), -AD_ERR_DNS);
	pkt_rr(&k, ns_t_srv, 0, 0, 0, ".");
	assert_int_equal(ad_srv_parse(k.buf, pkt_len(&k), &srv, &n), -AD_ERR_DNS);
	assert_null(srv);
}

static void
test_malformed(void **state)
{
	static const unsigned char garbage[] = {1, 2, 3};
	unsigned char bad[sizeof(one_srv)];
	struct ad_srv *srv = NULL;
	size_t n = 0;

	assert_int_equal(ad_srv_parse(garbage, sizeof(garbage), &srv, &n), -AD_ERR_PARSE);
	/* cut inside the answer's target name */
	assert_int_equal(ad_srv_parse(one_srv, sizeof(one_srv) - 5, &srv, &n), -AD_ERR_PARSE);
	/* record data too short for an SRV record */
	memcpy(bad, one_srv, sizeof(bad));
	bad[sizeof(bad) - 30] = 0;
	bad[sizeof(bad) - 29] = 4;
	assert_int_equal(ad_srv_parse(bad, sizeof(bad) - 24, &srv, &n), -AD_ERR_PARSE);
	/* a name pointer pointing forward out of the packet */
	memcpy(bad, one_srv, sizeof(bad));
	bad[sizeof(bad) - 22] = 0xc0;
	bad[sizeof(bad) - 21] = 0xff;
	assert_int_equal(ad_srv_parse(bad, sizeof(bad), &srv, &n), -AD_ERR_PARSE);
	assert_null(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canned_one),
	    cmocka_unit_test(test_sorted),
	    cmocka_unit_test(test_no_service),
	    cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
