/*
 * test_reuseport.c - daemon/sofia/reuseport.c on real loopback sockets: two
 * sockets bound to one UDP port through greenwichd's bind(2) (as two workers
 * bind it), one client sending from one address.  Its REGISTERs reach both
 * sockets; everything else it sends (other requests, answers, a keep-alive,
 * a method that only starts like REGISTER) reaches one socket, the same for
 * all, as the kernel's hash of the sender's address decides.  With reuseport
 * off, a second bind of the port fails.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "reuseport.h"

#define SENT 200

struct group {
	int s[2];
	int client;
	struct sockaddr_in addr;
};

static int
udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	return fd;
}

/* Two "workers" bound to one free loopback port, and a client. */
static void
group_open(struct group *g)
{
	socklen_t len = sizeof(g->addr);

	memset(g, 0, sizeof(*g));
	g->addr.sin_family = AF_INET;
	g->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	reuseport_set(2);
	g->s[0] = udp_socket();
	assert_int_equal(bind(g->s[0], (struct sockaddr *)&g->addr, sizeof(g->addr)), 0);
	assert_int_equal(getsockname(g->s[0], (struct sockaddr *)&g->addr, &len), 0);
	g->s[1] = udp_socket();
	assert_int_equal(bind(g->s[1], (struct sockaddr *)&g->addr, sizeof(g->addr)), 0);
	g->client = udp_socket();
	reuseport_set(0);
}

static void
group_close(struct group *g)
{
	close(g->s[0]);
	close(g->s[1]);
	close(g->client);
}

/* Send text SENT times from the client; count what each socket receives. */
static void
send_count(struct group *g, const char *text, unsigned got[2])
{
	char buf[2048];
	unsigned total = 0;

	got[0] = got[1] = 0;
	for (int i = 0; i < SENT; i++)
		assert_int_equal(sendto(g->client, text, strlen(text), 0,
					(struct sockaddr *)&g->addr, sizeof(g->addr)),
				 (ssize_t)strlen(text));
	while (total < SENT) {
		struct pollfd p[2] = {{.fd = g->s[0], .events = POLLIN},
				      {.fd = g->s[1], .events = POLLIN}};
		assert_true(poll(p, 2, 2000) > 0); /* nothing lost on loopback */
		for (int k = 0; k < 2; k++)
			while (recv(g->s[k], buf, sizeof(buf), 0) > 0) {
				got[k]++;
				total++;
			}
	}
	assert_int_equal(got[0] + got[1], SENT);
}

static void
test_register_spread(void **state)
{
	struct group g;
	unsigned got[2];

	(void)state;
	group_open(&g);
	send_count(&g,
		   "REGISTER sip:example.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;"
		   "branch=z9hG4bKx\r\nCall-ID: a\r\nCSeq: 1 REGISTER\r\n\r\n",
		   got);
	/* at random: all SENT on one side has a chance of 2^-199 */
	assert_true(got[0] > 0);
	assert_true(got[1] > 0);
	group_close(&g);
}

static void
test_others_by_address(void **state)
{
	static const char *const others[] = {
	    "INVITE sip:bob@example.test SIP/2.0\r\nCall-ID: b\r\n\r\n",
	    "ACK sip:bob@example.test SIP/2.0\r\nCall-ID: b\r\n\r\n",
	    "SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\n\r\n",
	    "REGISTERX sip:example.test SIP/2.0\r\n\r\n",
	    "REGISTER",
	    "\r\n\r\n",
	};
	struct group g;
	unsigned got[2];
	int side = -1;

	(void)state;
	group_open(&g);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		send_count(&g, others[i], got);
		/* all on one socket, and the same one for every kind */
		assert_true(got[0] == 0 || got[1] == 0);
		if (side < 0)
			side = got[0] ? 0 : 1;
		assert_int_equal(got[side], SENT);
	}
	group_close(&g);
}

static void
test_off(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int s0 = udp_socket(), s1 = udp_socket();

	(void)state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	reuseport_set(1);
	assert_int_equal(bind(s0, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s0, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(bind(s1, (struct sockaddr *)&a, sizeof(a)), -1);
	assert_int_equal(errno, EADDRINUSE);
	close(s0);
	close(s1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register_spread),
	    cmocka_unit_test(test_others_by_address),
	    cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
