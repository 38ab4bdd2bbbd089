/*
 * pol_test.h - helpers shared by the libgwpolicy unit tests.
 */
#ifndef GW_POL_TEST_H
#define GW_POL_TEST_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gwpolicy.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Parse a set that must be valid; fails the test with the parser's message otherwise. */
static inline struct pol_set *
test_set(const char *text)
{
	struct pol_set *set = NULL;
	struct pol_error err;
	int ret = pol_set_parse(text, strlen(text), &set, &err);

	if (ret != 0)
		fail_msg("rules do not parse: %u:%u: %s", err.line, err.column, err.msg);
	return set;
}

/* Parse one rule that must be valid. */
static inline struct pol_rule *
test_rule(const char *text)
{
	struct pol_rule *rule = NULL;
	struct pol_error err;
	int ret = pol_rule_parse(text, strlen(text), &rule, &err);

	if (ret != 0)
		fail_msg("rule does not parse: %u:%u: %s", err.line, err.column, err.msg);
	return rule;
}

#endif
