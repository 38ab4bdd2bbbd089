/*
 * test_sipae_rcache.c - the replay cache of Kerberos authenticators: a tag is refused
 * the second time within its life and taken again after it; the journal brings back
 * what was recorded before a restart (and not what expired); generations rotate; a
 * journal that cannot be written refuses rather than forgets; many tags (the table grows).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipae_private.h"

static void
tag_of(unsigned n, uint8_t tag[SIPAE_RCACHE_TAG])
{
	char s[32];

	snprintf(s, sizeof(s), "authenticator %u", n);
	assert_int_equal(sipae_rcache_tag(s, strlen(s), tag), 0);
}

static void
test_memory(void **state)
{
	struct sipae_rcache *rc = NULL;
	uint8_t a[SIPAE_RCACHE_TAG], b[SIPAE_RCACHE_TAG];

	(void)state;
	tag_of(1, a);
	tag_of(2, b);
	assert_memory_not_equal(a, b, SIPAE_RCACHE_TAG);
	assert_int_equal(sipae_rcache_open(&rc, NULL, 600, 1000), 0);
	assert_int_equal(sipae_rcache_add(rc, a, 1000), 0);
	assert_int_equal(sipae_rcache_add(rc, a, 1000), -EALREADY);
	assert_int_equal(sipae_rcache_add(rc, b, 1001), 0);
	assert_int_equal(sipae_rcache_add(rc, a, 1599), -EALREADY); /* last second of its life */
	assert_int_equal(sipae_rcache_size(rc), 2);
	assert_int_equal(sipae_rcache_add(rc, a, 1600), 0); /* expired: an old tag may come back */
	assert_int_equal(sipae_rcache_size(rc), 2);         /* a went and came back, b stays */
	assert_int_equal(sipae_rcache_add(rc, b, 1600), -EALREADY);
	sipae_rcache_close(rc);
	sipae_rcache_close(NULL);
}

static void
test_many(void **state)
{
	struct sipae_rcache *rc = NULL;
	uint8_t t[SIPAE_RCACHE_TAG];

	(void)state;
	assert_int_equal(sipae_rcache_open(&rc, NULL, 600, 0), 0);
	for (unsigned i = 0; i < 20000; i++) {
		tag_of(i, t);
		assert_int_equal(sipae_rcache_add(rc, t, 10), 0);
	}
	for (unsigned i = 0; i < 20000; i += 997) {
		tag_of(i, t);
		assert_int_equal(sipae_rcache_add(rc, t, 20), -EALREADY);
	}
	assert_int_equal(sipae_rcache_size(rc), 20000);
	tag_of(20000, t);
	assert_int_equal(sipae_rcache_add(rc, t, 610), 0); /* all the others expired */
	assert_int_equal(sipae_rcache_size(rc), 1);
	sipae_rcache_close(rc);
}

static char dir[32];
static char path[128], old[140];

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-rcache.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/kerberos-replay", dir);
	snprintf(old, sizeof(old), "%s.old", path);
	return 0;
}

static int
teardown_dir(void **state)
{
	(void)state;
	unlink(path);
	unlink(old);
	return rmdir(dir);
}

static off_t
file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

static void
test_journal(void **state)
{
	struct sipae_rcache *rc = NULL;
	uint8_t a[SIPAE_RCACHE_TAG], b[SIPAE_RCACHE_TAG], c[SIPAE_RCACHE_TAG];

	(void)state;
	tag_of(1, a);
	tag_of(2, b);
	tag_of(3, c);
	assert_int_equal(sipae_rcache_open(&rc, path, 600, 1000), 0);
	assert_int_equal(sipae_rcache_add(rc, a, 1000), 0);
	assert_int_equal(sipae_rcache_add(rc, b, 1300), 0);
	assert_int_equal(file_size(path), 2 * (SIPAE_RCACHE_TAG + 8));
	sipae_rcache_close(rc);

	/* a restart: both come back while they live; a only until 1600 */
	assert_int_equal(sipae_rcache_open(&rc, path, 600, 1500), 0);
	assert_int_equal(sipae_rcache_size(rc), 2);
	assert_int_equal(sipae_rcache_add(rc, a, 1500), -EALREADY);
	assert_int_equal(sipae_rcache_add(rc, b, 1500), -EALREADY);
	sipae_rcache_close(rc);
	assert_int_equal(sipae_rcache_open(&rc, path, 600, 1700), 0);
	assert_int_equal(sipae_rcache_size(rc), 1); /* a expired at 1600 */
	assert_int_equal(sipae_rcache_add(rc, b, 1700), -EALREADY);

	/* a life after this generation started (1700), the next one starts: the file
	 * becomes .old, and what it held is still refused after another restart */
	assert_int_equal(sipae_rcache_add(rc, c, 2300), 0);
	assert_int_equal(file_size(path), SIPAE_RCACHE_TAG + 8);
	assert_true(file_size(old) > 0);
	sipae_rcache_close(rc);
	assert_int_equal(sipae_rcache_open(&rc, path, 600, 2400), 0);
	assert_int_equal(sipae_rcache_add(rc, c, 2400), -EALREADY);
	sipae_rcache_close(rc);
}

static void
test_journal_unwritable(void **state)
{
	struct sipae_rcache *rc = NULL;
	uint8_t a[SIPAE_RCACHE_TAG];

	(void)state;
	tag_of(7, a);
	/* a journal that cannot be opened: no cache (the caller keeps MIT's) */
	assert_int_not_equal(sipae_rcache_open(&rc, "/nonexistent/dir/kerberos-replay", 600, 0), 0);
	assert_null(rc);
	/* one that cannot be written any more (the file size limit after one record):
	 * refused, and nothing recorded */
	struct rlimit was, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
	lim = was;
	lim.rlim_cur = SIPAE_RCACHE_TAG + 8;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(sipae_rcache_open(&rc, path, 600, 0), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(sipae_rcache_add(rc, a, 10), 0);
	tag_of(8, a);
	assert_int_equal(sipae_rcache_add(rc, a, 10), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
	assert_int_equal(sipae_rcache_size(rc), 1);
	assert_int_equal(sipae_rcache_add(rc, a, 11), 0); /* not recorded: not a replay */
	sipae_rcache_close(rc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_memory),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test_setup_teardown(test_journal, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_journal_unwritable, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
