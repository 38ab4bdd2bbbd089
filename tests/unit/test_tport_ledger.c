/*
 * test_tport_ledger.c - the transport reference ledger (daemon/sofia/tport_ledger.c)
 * sees what it is for, on a real nta agent with the installed Sofia: a connection
 * born and freed once, a listener's count off its baseline and back, a release of a
 * listener nobody referenced (refused by tport_refs.c), a count changed behind its
 * back, and -- in a child, since Sofia then frees a connection still in use -- one
 * release too many on a connection.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <setjmp.h>
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
#include "tport_ledger.h"

static const char options[] = "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
			      "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-ledger-%d\r\n"
			      "Max-Forwards: 70\r\n"
			      "From: <sip:a@example.test>;tag=1\r\n"
			      "To: <sip:x@127.0.0.1>\r\n"
			      "Call-ID: ledger-%d\r\n"
			      "CSeq: 1 OPTIONS\r\n"
			      "Content-Length: 0\r\n\r\n";

static char path[64];
static tport_t *held; /* the connection of the last request, referenced */

static int
on_request(nta_agent_magic_t *magic, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	(void)magic, (void)sip;
	held = nta_incoming_transport(agent, NULL, msg);
	msg_destroy(msg);
	return 0;
}

static void
run(struct nta_fixture *f, int ms)
{
	for (int i = 0; i < ms / 10; i++)
		su_root_step(f->root, 10);
}

/* A TCP client sends one OPTIONS; the agent's callback keeps its connection (held). */
static int
client(struct nta_fixture *f, int n)
{
	char req[sizeof(options) + 32];
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int len = snprintf(req, sizeof(req), options, n, n);

	assert_true(s >= 0);
	assert_int_equal(connect(s, (struct sockaddr *)&f->addr, sizeof(f->addr)), 0);
	assert_int_equal(send(s, req, (size_t)len, 0), len);
	held = NULL;
	for (int i = 0; i < 50 && held == NULL; i++)
		su_root_step(f->root, 10);
	assert_non_null(held);
	return s;
}

/* KEY's value in the dump's summary line (a fresh dump). */
static long
field(const char *key)
{
	char line[1024], pat[64];
	FILE *fp;

	tport_ledger_dump("test");
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	snprintf(pat, sizeof(pat), " %s=", key);
	const char *p = strstr(line, pat);
	assert_non_null(p);
	return atol(p + strlen(pat));
}

static void
connection_born_and_freed_once(void **state)
{
	struct nta_fixture f;
	(void)state;
	nta_fixture_up(&f, "tcp", on_request);
	long born = field("born"), clean = field("freed-clean"), holder = field("freed-by-holder");
	int s = client(&f, 1);
	assert_int_equal(field("born"), born + 1);
	assert_int_equal(field("live-connections"), 1);
	tport_t *tp = held;
	tport_unref(tp); /* the callback's reference, released */
	close(s);        /* the client goes: Sofia closes and zaps the connection */
	for (int i = 0; i < 30 && field("live-connections") != 0; i++)
		run(&f, 100);
	assert_int_equal(field("live-connections"), 0);
	assert_int_equal(field("freed-clean") + field("freed-by-holder"), clean + holder + 1);
	assert_int_equal(field("negative"), 0);
	assert_int_equal(field("unknown"), 0);
	nta_fixture_down(&f);
}

static void
listener_off_baseline_and_back(void **state)
{
	struct nta_fixture f;
	(void)state;
	nta_fixture_up(&f, "tcp", on_request);
	tport_ref(f.listener);
	assert_int_equal(field("listeners-off-baseline"), 1);
	tport_unref(f.listener);
	assert_int_equal(field("listeners-off-baseline"), 0);
	nta_fixture_down(&f);
}

static void
listener_release_refused_and_flagged(void **state)
{
	struct nta_fixture f;
	(void)state;
	nta_fixture_up(&f, "tcp", on_request);
	tport_ref(f.listener); /* seen first at its baseline */
	tport_unref(f.listener);
	long negative = field("negative"), refused = field("refused");
	tport_unref(f.listener); /* nobody took this one */
	assert_int_equal(field("refused"), refused + 1);
	assert_int_equal(field("negative"), negative + 1);
	assert_int_equal(su_home_refcount((su_home_t *)f.listener), 1);
	nta_fixture_down(&f);
}

static void
count_changed_behind_its_back(void **state)
{
	struct nta_fixture f;
	(void)state;
	nta_fixture_up(&f, "tcp", on_request);
	tport_unref(tport_ref(f.listener));
	long untracked = field("untracked");
	su_home_ref((su_home_t *)f.listener); /* not through tport_ref() */
	tport_unref(tport_ref(f.listener));
	assert_int_equal(field("untracked"), untracked + 1);
	su_home_unref((su_home_t *)f.listener);
	nta_fixture_down(&f);
}

static void
connection_released_once_too_often(void **state)
{
	(void)state;
	long negative = field("negative"), in_tree = field("freed-in-tree");
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct nta_fixture f;
		nta_fixture_up(&f, "tcp", on_request);
		(void)client(&f, 2);
		tport_t *tp = held;
		tport_unref(tp); /* balanced */
		tport_unref(tp); /* the tree's reference: Sofia frees it in the tree */
		tport_ledger_dump("child");
		_exit(0); /* before anything touches the freed connection */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* read the child's dump, not a new one */
	char line[1024], want[64];
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	snprintf(want, sizeof(want), " negative=%ld ", negative + 1);
	assert_non_null(strstr(line, want));
	snprintf(want, sizeof(want), " freed-in-tree=%ld ", in_tree + 1);
	assert_non_null(strstr(line, want));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(connection_born_and_freed_once),
	    cmocka_unit_test(listener_off_baseline_and_back),
	    cmocka_unit_test(listener_release_refused_and_flagged),
	    cmocka_unit_test(count_changed_behind_its_back),
	    cmocka_unit_test(connection_released_once_too_often),
	};
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_tport_ledger.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	setenv("GREENWICH_TPORT_LEDGER", path, 1);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
