/*
 * test_tport_refs.c - issue 18's abort, and the guard on a listener's last
 * reference (daemon/sofia/tport_refs.c), with the installed Sofia.
 *
 * A real nta agent on a loopback UDP listener.  Released once more than it was
 * referenced, through Sofia's own tport_unref(), the listener is freed while its
 * socket is still registered; once its memory is reused, the next datagram runs
 * tport_wakeup_pri() on it and greenwichd's abort of issue 18 happens
 * ("tport_wakeup_pri: Assertion 'w->fd == self->tp_socket' failed"; under ASan a
 * use-after-free report).  Through greenwichd's tport_unref() the same release is
 * refused and the listener goes on receiving requests.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>

#include "nta_fixture.h"

static const char options[] = "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-refs-%d\r\n"
			      "Max-Forwards: 70\r\n"
			      "From: <sip:a@example.test>;tag=1\r\n"
			      "To: <sip:x@127.0.0.1>\r\n"
			      "Call-ID: refs-%d\r\n"
			      "CSeq: 1 OPTIONS\r\n"
			      "Content-Length: 0\r\n\r\n";

static int received;

static int
on_request(nta_agent_magic_t *magic, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	(void)magic, (void)agent, (void)sip;
	received++;
	msg_destroy(msg);
	return 0;
}

#define fixture nta_fixture

static void
fixture_up(struct fixture *f)
{
	nta_fixture_up(f, "udp", on_request);
	/* the master's reference only: one release more than taken frees it */
	assert_int_equal(su_home_refcount((su_home_t *)f->listener), 1);
}

#define fixture_down nta_fixture_down

/* Send one OPTIONS to the listener and run the loop a little. */
static void
poke(struct fixture *f, int n)
{
	char req[sizeof(options) + 32];
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int len = snprintf(req, sizeof(req), options, n, n);

	assert_true(s >= 0);
	assert_int_equal(
	    sendto(s, req, (size_t)len, 0, (struct sockaddr *)&f->addr, sizeof(f->addr)), len);
	close(s);
	for (int i = 0; i < 5; i++)
		su_root_step(f->root, 20);
}

static void
unbalanced_release_aborts(void **state)
{
	(void)state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fixture f;
		void (*sofia_unref)(tport_t *);
		fixture_up(&f);
		*(void **)&sofia_unref = dlsym(RTLD_NEXT, "tport_unref");
		if (sofia_unref == NULL)
			_exit(3);
		sofia_unref(f.listener); /* Sofia's own, unguarded */
		static void *others[4000];
		for (int i = 0; i < 4000; i++) {
			/* the freed listener's memory goes to others */
			size_t n = 64 + (size_t)(i % 256) * 16;
			if ((others[i] = malloc(n)) != NULL)
				memset(others[i], 0x41, n);
		}
		poke(&f, 1);
		_exit(0); /* survived: then the release did not free it */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* the assertion (SIGABRT), or the sanitizer's use-after-free report */
	assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	if (WIFSIGNALED(status))
		assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void
guarded_release_refused(void **state)
{
	struct fixture f;

	(void)state;
	fixture_up(&f);
	received = 0;
	poke(&f, 2);
	assert_int_equal(received, 1);
	tport_unref(f.listener); /* greenwichd's: refused */
	assert_int_equal(su_home_refcount((su_home_t *)f.listener), 1);
	for (int i = 0; i < 4000; i++) {
		size_t n = 64 + (size_t)(i % 256) * 16;
		void *p = malloc(n);
		memset(p, 0x41, n);
		free(p);
	}
	poke(&f, 3);
	assert_int_equal(received, 2); /* the listener still takes requests */
	/* a balanced pair still goes through to Sofia */
	tport_unref(tport_ref(f.listener));
	assert_int_equal(su_home_refcount((su_home_t *)f.listener), 1);
	fixture_down(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(unbalanced_release_aborts),
	    cmocka_unit_test(guarded_release_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
