/*
 * test_log.c - log_value(): what an outsider sends cannot start a line or a field.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static void
plain_values_stay_bare(void **state)
{
	(void)state;
	assert_string_equal(log_value("alice@example.test"), "alice@example.test");
	assert_string_equal(log_value("sip:bob@127.0.0.1:5060;transport=tcp"),
			    "\"sip:bob@127.0.0.1:5060;transport=tcp\"");
	assert_string_equal(log_value("abc123@host"), "abc123@host");
	assert_string_equal(log_value(NULL), "-");
	assert_string_equal(log_value(""), "\"\"");
}

static void
forging_characters_escaped(void **state)
{
	(void)state;
	/* a new line with a refusal of its own, a field, a quote that would end ours */
	assert_string_equal(log_value("x\r\n2026-01-01T00:00:00Z greenwichd[notice] refuse: "
				      "event=auth-failed source=10.0.0.1"),
			    "\"x\\x0d\\x0a2026-01-01T00:00:00Z greenwichd[notice] refuse: "
			    "event=auth-failed source=10.0.0.1\"");
	assert_string_equal(log_value("a\" source=1.2.3.4 b=\"c"),
			    "\"a\\\" source=1.2.3.4 b=\\\"c\"");
	assert_string_equal(log_value("back\\slash"), "\"back\\\\slash\"");
	assert_string_equal(log_value("tab\there\x7f"), "\"tab\\x09here\\x7f\"");
	assert_string_equal(log_value("J\xc3\xbcrgen"), "\"J\\xc3\\xbcrgen\"");
}

static void
long_values_cut(void **state)
{
	char big[5000];

	(void)state;
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *v = log_value(big);
	assert_true(strlen(v) < 320);
	assert_int_equal(v[0], '"');
	assert_string_equal(v + strlen(v) - 4, "...\"");
	assert_null(strchr(v, '\n'));
	memset(big, 'a', sizeof(big) - 1);
	v = log_value(big);
	assert_true(strlen(v) < 320);
	assert_string_equal(v + strlen(v) - 4, "...\"");

	char small[16];
	assert_string_equal(log_value_buf(small, sizeof(small), "\"\"\"\"\"\"\"\""),
			    "\"\\\"\\\"\\\"...\"");
}

static void
ring_of_eight(void **state)
{
	const char *v[8];
	char want[8];

	(void)state;
	for (int i = 0; i < 8; i++) {
		snprintf(want, sizeof(want), "v%d", i);
		v[i] = log_value(want);
	}
	for (int i = 0; i < 8; i++) {
		snprintf(want, sizeof(want), "v%d", i);
		assert_string_equal(v[i], want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(plain_values_stay_bare),
	    cmocka_unit_test(forging_characters_escaped),
	    cmocka_unit_test(long_values_cut),
	    cmocka_unit_test(ring_of_eight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
