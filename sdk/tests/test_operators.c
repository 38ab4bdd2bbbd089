/* Unit tests of helpdesk-router's target selection: least loaded first,
 * ties to the operator idle longest, busy and unreachable ones skipped. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hdconf.h"
#include "operators.h"

#define NOW ((time_t)1000000)

static struct hd_table table;

static int
setup(void **state)
{
	hd_table_init(&table, 2);
	assert_int_equal(hd_op_add(&table, "alice", NULL), 0);
	assert_int_equal(hd_op_add(&table, "bob", "sip:bob@127.0.0.1:5312"), 0);
	assert_int_equal(hd_op_add(&table, "carol", "sip:carol@127.0.0.1:5313"), 0);
	return 0;
}

static int
teardown(void **state)
{
	hd_table_free(&table);
	return 0;
}

static size_t
pick(const char **names, size_t max)
{
	struct hd_operator *out[8];
	size_t n = hd_select(&table, NOW, out, max), i;

	for (i = 0; i < n; i++)
		names[i] = out[i]->name;
	return n;
}

static void
test_unregistered_skipped(void **state)
{
	const char *n[8];

	assert_int_equal(pick(n, 8), 2);
	assert_string_equal(n[0], "bob");
	assert_string_equal(n[1], "carol");
	assert_int_equal(hd_op_add(&table, "bob", NULL), -1); /* duplicate */
}

static void
test_registration(void **state)
{
	const char *n[8];

	assert_int_equal(hd_op_register(&table, "alice", "sip:alice@127.0.0.1:5311", 60, NOW), 0);
	assert_int_equal(pick(n, 8), 3);
	assert_string_equal(n[0], "alice"); /* configured first: idle longest */
	/* expired */
	table.ops[0].expires = NOW;
	assert_int_equal(pick(n, 8), 2);
	/* re-register, then unregister */
	assert_int_equal(hd_op_register(&table, "alice", "sip:alice@127.0.0.1:5311", 60, NOW), 0);
	assert_int_equal(hd_op_register(&table, "alice", NULL, 0, NOW), 0);
	assert_int_equal(pick(n, 8), 2);
	/* an unknown name registering becomes an operator */
	assert_int_equal(hd_op_register(&table, "dave", "sip:dave@127.0.0.1:5314", 60, NOW), 0);
	assert_non_null(hd_op_find(&table, "dave"));
	assert_int_equal(pick(n, 8), 3);
	assert_int_equal(hd_op_register(&table, "erin", NULL, 0, NOW), 0);
	assert_null(hd_op_find(&table, "erin"));
}

static void
test_password(void **state)
{
	assert_int_equal(hd_op_set_password(&table, "alice", "pw1"), 0);
	assert_string_equal(hd_op_find(&table, "alice")->password, "pw1");
	assert_int_equal(hd_op_set_password(&table, "alice", "pw2"), 0);
	assert_string_equal(hd_op_find(&table, "alice")->password, "pw2");
	assert_int_equal(hd_op_set_password(&table, "zed", "pw"), -1);
	assert_int_equal(hd_op_set_password(&table, "bob", ""), -1);
	assert_null(hd_op_find(&table, "bob")->password);
}

static void
test_least_loaded_then_idle_longest(void **state)
{
	const char *n[8];

	hd_load_up(&table, "sip:bob@127.0.0.1:5312");
	assert_int_equal(pick(n, 8), 2);
	assert_string_equal(n[0], "carol"); /* load 0 beats load 1 */
	hd_load_up(&table, "sip:carol@127.0.0.1:5313");
	assert_int_equal(pick(n, 8), 2);
	assert_string_equal(n[0], "bob"); /* tie at 1: bob has been idle longer */
	hd_load_down(&table, "sip:bob@127.0.0.1:5312");
	hd_load_up(&table, "sip:bob@127.0.0.1:5312");
	assert_int_equal(pick(n, 8), 2);
	assert_string_equal(n[0], "carol"); /* bob's call just ended: carol waited longer */
	/* truncation keeps the best */
	assert_int_equal(pick(n, 1), 1);
	assert_string_equal(n[0], "carol");
	hd_load_down(&table, "sip:nobody@127.0.0.1");
	hd_load_down(&table, NULL);
}

static void
test_busy_skipped(void **state)
{
	const char *n[8];

	hd_load_up(&table, "sip:bob@127.0.0.1:5312");
	hd_load_up(&table, "sip:bob@127.0.0.1:5312"); /* max_calls 2 */
	assert_int_equal(pick(n, 8), 1);
	assert_string_equal(n[0], "carol");
	hd_load_up(&table, "sip:carol@127.0.0.1:5313");
	hd_load_up(&table, "sip:carol@127.0.0.1:5313");
	assert_int_equal(pick(n, 8), 0); /* everyone busy: the caller gets 486 */
	hd_load_down(&table, "sip:carol@127.0.0.1:5313");
	assert_int_equal(pick(n, 8), 1);
	assert_int_equal(hd_op_find(&table, "carol")->load, 1);
}

static void
test_config_file(void **state)
{
	char path[] = "/tmp/gwp-hdconf-XXXXXX", err[256];
	struct hd_table t;
	struct hd_conf c;
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	fputs("# comment\ndomain hd.test\nlisten udp 127.0.0.1 5300\nlisten tcp 127.0.0.1 5300\n"
	      "timeout 3\nmax_calls 4\noperator x sip:x@127.0.0.1:1\noperator y\n"
	      "password y y-secret\n",
	      f);
	fclose(f);
	hd_table_init(&t, 1);
	assert_int_equal(hd_conf_load(&c, &t, path, err, sizeof(err)), 0);
	assert_string_equal(c.domain, "hd.test");
	assert_string_equal(c.service, "helpdesk");
	assert_int_equal(c.n_listen, 2);
	assert_int_equal(c.listen[1].transport, 1);
	assert_int_equal(c.timeout_s, 3);
	assert_int_equal(t.max_calls, 4);
	assert_int_equal(t.n, 2);
	assert_true(t.ops[0].is_static);
	assert_false(t.ops[1].is_static);
	assert_null(t.ops[0].password);
	assert_string_equal(t.ops[1].password, "y-secret");
	assert_string_equal(c.realm, "hd.test"); /* default: the domain */
	hd_table_free(&t);

	/* a password for an operator not declared (before) is an error */
	f = fopen(path, "a");
	fputs("password z z-secret\n", f);
	fclose(f);
	hd_table_init(&t, 1);
	assert_int_equal(hd_conf_load(&c, &t, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":10:"));
	hd_table_free(&t);
	f = fopen(path, "w");
	fputs("domain hd.test\nrealm operators\nlisten udp 127.0.0.1 5300\noperator z\n"
	      "password z z-secret\npassword z\n",
	      f);
	fclose(f);
	hd_table_init(&t, 1);
	assert_int_equal(hd_conf_load(&c, &t, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":6:"));
	assert_string_equal(c.realm, "operators");
	assert_string_equal(t.ops[0].password, "z-secret");
	hd_table_free(&t);
	f = fopen(path, "w");
	fputs(
	    "domain hd.test\nlisten udp 127.0.0.1 5300\noperator x sip:x@127.0.0.1:1\noperator y\n"
	    "timeout 3\nmax_calls 4\n",
	    f);
	fclose(f);

	f = fopen(path, "a");
	fputs("listen sctp 127.0.0.1 5300\n", f);
	fclose(f);
	hd_table_init(&t, 1);
	assert_int_equal(hd_conf_load(&c, &t, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":7:"));
	hd_table_free(&t);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_unregistered_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_registration, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_password, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_least_loaded_then_idle_longest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy_skipped, setup, teardown),
	    cmocka_unit_test(test_config_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
