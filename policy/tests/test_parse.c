/*
 * test_parse.c - the rule parser: valid text, and every malformed form with its position.
 */
#include "config.h"

#include <unistd.h>

#include "pol_test.h"

#define SUPPORT "S-1-5-21-1-2-3-1105"

struct good_case {
	const char *text;
	const char *name;
	unsigned priority;
};

/* clang-format off */
static const struct good_case good_cases[] = {
	{"rule a priority 0 { action allow; }", "a", 0},
	{"rule \"internet-im-to-support\" priority 100 {\n"
	 "\tclass im; from zone external; to group " SUPPORT " \"Support\"; action allow;\n}\n",
	 "internet-im-to-support", 100},
	{"# leading comment\nrule x.y_z-1 priority 999999 { # trailing comment\n"
	 "  class im, presence, call; from network internal, remote;\n"
	 "  from zone internal, federated, external;\n"
	 "  from group S-1-5-32-544, user sip:alice@corp.example.com, domain partner.example;\n"
	 "  to any;\n  action deny; }",
	 "x.y_z-1", 999999},
	{"rule d priority 7 { class any; action deny 486 \"Busy \\\"here\\\" \\\\ now\"; }", "d",
	 7},
	{"rule e priority 8 { except to group \"" SUPPORT "\" \"Sup\\\"port\";"
	 " except { class call; from network remote; } action deny 603; }",
	 "e", 8},
	{"rule f priority 9{from user sips:Bob@Corp.Example.COM;action allow;}", "f", 9},
	{"rule g priority 10 { from group S-1-0-0 \"Everyone\"; action deny 699 \"x\"; }", "g", 10},
};
/* clang-format on */
static void
test_good(void **state)
{
	for (size_t i = 0; i < N_ELEMS(good_cases); i++) {
		const struct good_case *c = &good_cases[i];
		struct pol_rule *r = test_rule(c->text);

		assert_string_equal(pol_rule_name(r), c->name);
		assert_int_equal(pol_rule_priority(r), c->priority);
		pol_rule_free(r);
	}
}

struct bad_case {
	const char *text;
	unsigned line, column;
	const char *msg; /* a part of the expected message */
};

/* clang-format off */
static const struct bad_case bad_rules[] = {
	{"", 1, 1, "expected 'rule', found end of input"},
	{"rul x", 1, 1, "expected 'rule', found 'rul'"},
	{"rule \"a b\" priority 1 { action allow; }", 1, 6, "expected a rule name"},
	{"rule a2345678901234567890123456789012345678901234567890123456789012345 priority 1 {}",
	 1, 6, "expected a rule name"},
	{"rule a priority x { action allow; }", 1, 17, "expected a priority, found 'x'"},
	{"rule a priority 1000000 { action allow; }", 1, 17, "a priority must be 0 to 999999"},
	{"rule a priority 01 { action allow; }", 1, 17, "a priority must be 0 to 999999"},
	{"rule a prio 1 { action allow; }", 1, 8, "expected 'priority', found 'prio'"},
	{"rule a priority 1 action allow; }", 1, 19, "expected '{', found 'action'"},
	{"rule a priority 1 { clas im; action allow; }", 1, 21,
	 "expected class, from, to, except, action or '}', found 'clas'"},
	{"rule a priority 1 { class chat; action allow; }", 1, 27,
	 "expected im, presence, call or any, found 'chat'"},
	{"rule a priority 1 { class im action allow; }", 1, 30, "expected ';', found 'action'"},
	{"rule a priority 1 { class im; class call; action allow; }", 1, 31,
	 "'class' given twice"},
	{"rule a priority 1 { class im, im; action allow; }", 1, 31, "value repeated"},
	{"rule a priority 1 { class im, any; action allow; }", 1, 31, "combined with 'any'"},
	{"rule a priority 1 { from zone inside; action allow; }", 1, 31,
	 "expected internal, federated or external, found 'inside'"},
	{"rule a priority 1 { from zone external; from zone internal; action allow; }", 1, 46,
	 "'from zone' given twice"},
	{"rule a priority 1 { from network lan; action allow; }", 1, 34,
	 "expected internal or remote"},
	{"rule a priority 1 { to zone external; action allow; }", 1, 24,
	 "expected any, group, user or domain, found 'zone'"},
	{"rule a priority 1 { from group S-1-5-21-x; action allow; }", 1, 32,
	 "expected a SID like S-1-5-21-1-2-3-1105, found 'S-1-5-21-x'"},
	{"rule a priority 1 { from group S-1-5; action allow; }", 1, 32, "expected a SID"},
	{"rule a priority 1 { from group S-1-5-21-4294967296; action allow; }", 1, 32,
	 "expected a SID"},
	{"rule a priority 1 { from group S-1-5-021; action allow; }", 1, 32, "expected a SID"},
	{"rule a priority 1 { from group s-1-5-21-1; action allow; }", 1, 32, "expected a SID"},
	{"rule a priority 1 { from group S-1-5-32-544 \"\"; action allow; }", 1, 45,
	 "display name must be 1 to 256 bytes"},
	{"rule a priority 1 { from group S-1-5-32-544, group S-1-5-32-544; action allow; }", 1,
	 52, "value repeated"},
	{"rule a priority 1 { from user bob@example.com; action allow; }", 1, 31,
	 "expected a SIP URI like sip:user@example.com"},
	{"rule a priority 1 { from user sip:@example.com; action allow; }", 1, 31,
	 "expected a SIP URI"},
	{"rule a priority 1 { from user sip:a@b@c; action allow; }", 1, 31, "expected a SIP URI"},
	{"rule a priority 1 { from user sip:a@x, user SIP:A@X; action allow; }", 1, 45,
	 "value repeated"},
	{"rule a priority 1 { from domain ex_ample.com; action allow; }", 1, 33,
	 "expected a domain like example.com"},
	{"rule a priority 1 { from domain a..b; action allow; }", 1, 33, "expected a domain"},
	{"rule a priority 1 { from any, group S-1-5-32-544; action allow; }", 1, 31,
	 "'any' cannot be combined"},
	{"rule a priority 1 { to domain x.org, any; action allow; }", 1, 38,
	 "'any' cannot be combined"},
	{"rule a priority 1 { from; action allow; }", 1, 25,
	 "expected any, group, user or domain, found ';'"},
	{"rule a priority 1 { except { } action allow; }", 1, 30,
	 "expected a condition in the exception, found '}'"},
	{"rule a priority 1 { except { except class im; } action allow; }", 1, 30,
	 "exceptions cannot be nested"},
	{"rule a priority 1 { except { action allow; } }", 1, 30,
	 "expected class, from, to or '}', found 'action'"},
	{"rule a priority 1 { except action allow; }", 1, 28,
	 "expected class, from, to or '{' after 'except', found 'action'"},
	{"rule a priority 1 { except { class im; class call; } action allow; }", 1, 40,
	 "'class' given twice"},
	{"rule a priority 1 { class im; }", 1, 31, "rule 'a' has no action"},
	{"rule a priority 1 { action allow; action deny; }", 1, 35, "'action' given twice"},
	{"rule a priority 1 { action permit; }", 1, 28, "expected allow or deny, found 'permit'"},
	{"rule a priority 1 { action allow 403; }", 1, 34, "expected ';', found '403'"},
	{"rule a priority 1 { action deny 200; }", 1, 33, "a SIP code must be 400 to 699"},
	{"rule a priority 1 { action deny 700; }", 1, 33, "a SIP code must be 400 to 699"},
	{"rule a priority 1 { action deny 403x; }", 1, 33, "a SIP code must be 400 to 699"},
	{"rule a priority 1 { action deny 403 \"\"; }", 1, 37, "reason phrase must be 1 to 128"},
	{"rule a priority 1 { action deny 403 \"bad\\q\"; }", 1, 42,
	 "expected '\"' or '\\' after '\\'"},
	{"rule \"abc priority 1 { action allow; }", 1, 6, "unterminated string"},
	{"rule \"abc\npriority 1 { action allow; }", 1, 6, "unterminated string"},
	{"rule \"a\tb\" priority 1 {}", 1, 8, "control character in a string"},
	{"rule a priority 1 { class im & call; action allow; }", 1, 30,
	 "unexpected character '&'"},
	{"rule a priority 1 { class im; action allow;", 1, 44,
	 "expected class, from, to, except, action or '}', found end of input"},
	{"rule a priority 1 { action allow; }\nrule b priority 2 { action allow; }", 2, 1,
	 "expected end of input after the rule, found 'rule'"},
	{"rule a priority 1 {\n\tclass im;\n\tfrom zone externa;\n\taction allow;\n}\n", 3, 12,
	 "expected internal, federated or external, found 'externa'"},
	{"# a comment { ; \"\nrule a priority 1 {\n  # another\n  action alow;\n}", 4, 10,
	 "expected allow or deny, found 'alow'"},
	{"rule a priority 1 { action allow; } }", 1, 37, "expected end of input after the rule"},
	{"rule a priority 1 { action allow; } }", 1, 37, NULL}, /* NULL: text has a NUL */
};
/* clang-format on */
static void
check_bad(const char *text, size_t len, const struct bad_case *c)
{
	struct pol_rule *r = NULL;
	struct pol_error err;
	int ret;

	memset(&err, 0, sizeof(err));
	ret = pol_rule_parse(text, len, &r, &err);
	if (ret != -EINVAL || err.line != c->line || err.column != c->column ||
	    strstr(err.msg, c->msg) == NULL)
		fail_msg("%s\n  got %d %u:%u: %s\n  want %u:%u: %s", text, ret, err.line,
			 err.column, err.msg, c->line, c->column, c->msg);
	assert_null(r);
}

static void
test_bad(void **state)
{
	for (size_t i = 0; i < N_ELEMS(bad_rules); i++) {
		const struct bad_case *c = &bad_rules[i];

		if (c->msg != NULL) {
			check_bad(c->text, strlen(c->text), c);
		} else {
			/* "rule a priority 1 { action allow; }\0..." with the NUL at 1:37 */
			const struct bad_case nul = {c->text, 1, 37, "unexpected byte 0x00"};
			char buf[64];
			size_t len = strlen(c->text);

			memcpy(buf, c->text, len);
			buf[36] = '\0';
			check_bad(buf, len, &nul);
		}
	}
}

/* clang-format off */
static const struct bad_case bad_sets[] = {
	{"rule a priority 1 { action allow; }\nrule b priority 2 { action allow; }\n"
	 "rule a priority 3 { action allow; }",
	 3, 6, "rule name 'a' used twice (first at line 1)"},
	{"rule a priority 5 { action allow; }\nrule b priority 2 { action allow; }\n"
	 "rule c priority 5 { action allow; }",
	 3, 17, "priority 5 used twice (first by rule 'a')"},
	{"rule a priority 1 { action allow; }\nrule b priority 2 { action allow }", 2, 34,
	 "expected ';', found '}'"},
	{"rule a priority 1 { action allow; } }", 1, 37, "expected 'rule', found '}'"},
};
/* clang-format on */
static void
test_bad_sets(void **state)
{
	for (size_t i = 0; i < N_ELEMS(bad_sets); i++) {
		const struct bad_case *c = &bad_sets[i];
		struct pol_set *set = NULL;
		struct pol_error err;
		int ret;

		memset(&err, 0, sizeof(err));
		ret = pol_set_parse(c->text, strlen(c->text), &set, &err);
		if (ret != -EINVAL || err.line != c->line || err.column != c->column ||
		    strstr(err.msg, c->msg) == NULL)
			fail_msg("%s\n  got %d %u:%u: %s\n  want %u:%u: %s", c->text, ret, err.line,
				 err.column, err.msg, c->line, c->column, c->msg);
		assert_null(set);
	}
}

static void
test_empty_set(void **state)
{
	struct pol_set *set = test_set("# nothing but a comment\n\n");

	assert_int_equal(pol_set_count(set), 0);
	assert_null(pol_set_at(set, 0));
	pol_set_free(set);
}

/* Inputs over the size limits are refused whole, before parsing. */
static void
test_limits(void **state)
{
	size_t big = POL_TEXT_MAX + 1;
	char *text = malloc(big);
	struct pol_set *set = NULL;
	struct pol_rule *r = NULL;
	struct pol_error err;

	assert_non_null(text);
	memset(text, ' ', big);
	assert_int_equal(pol_set_parse(text, big, &set, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "larger than"));
	assert_int_equal(pol_rule_parse(text, big, &r, &err), -E2BIG);
	/* one word longer than the token limit */
	memcpy(text, "rule ", 5);
	memset(text + 5, 'a', 600);
	assert_int_equal(pol_rule_parse(text, 605, &r, &err), -EINVAL);
	assert_int_equal(err.column, 6);
	assert_non_null(strstr(err.msg, "word longer than 512 bytes"));
	free(text);
	assert_null(set);
	assert_null(r);
}

/* Appends printf output to a growing string; the tests below build long rules with it. */
static char *
append(char *s, const char *fmt, ...)
{
	size_t len = s != NULL ? strlen(s) : 0;
	char add[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(add, sizeof(add), fmt, ap);
	va_end(ap);
	s = realloc(s, len + strlen(add) + 1);
	assert_non_null(s);
	strcpy(s + len, add);
	return s;
}

static void
test_too_many(void **state)
{
	char *text = append(NULL, "rule a priority 1 {\n");
	struct pol_rule *r = NULL;
	struct pol_set *set = NULL;
	struct pol_error err;

	for (int i = 0; i <= POL_EXCEPT_MAX; i++)
		text = append(text, "except class im;\n");
	assert_int_equal(pol_rule_parse(text, strlen(text), &r, &err), -EINVAL);
	assert_int_equal(err.line, 2 + POL_EXCEPT_MAX);
	assert_non_null(strstr(err.msg, "too many exceptions"));
	free(text);

	text = append(NULL, "rule a priority 1 { from group S-1-5-21-0");
	for (int i = 1; i <= POL_LIST_MAX; i++)
		text = append(text, ", group S-1-5-21-%d", i);
	text = append(text, "; action allow; }");
	assert_int_equal(pol_rule_parse(text, strlen(text), &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "too many values"));
	free(text);

	/* more distinct SIDs than a set may hold, spread over rules of 256 */
	text = NULL;
	for (int i = 0; i <= POL_SIDS_MAX; i++) {
		if (i % POL_LIST_MAX == 0)
			text = append(text, "%srule r%d priority %d { from group S-1-5-21-%d",
				      i ? "; action allow; }\n" : "", i, i, i);
		else
			text = append(text, ", group S-1-5-21-%d", i);
	}
	text = append(text, "; action allow; }\n");
	assert_int_equal(pol_set_parse(text, strlen(text), &set, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "distinct group SIDs"));
	assert_null(set);
	free(text);
	assert_null(r);
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/gwpolicy-test-XXXXXX";
	const char *text = "rule a priority 1 { action allow; }\nrule b priority 2 { clas im; }\n";
	struct pol_set *set = NULL;
	struct pol_error err;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, 35), 35);
	assert_int_equal(pol_set_load_file(path, &set, &err), 0);
	assert_int_equal(pol_set_count(set), 1);
	pol_set_free(set);
	set = NULL;
	assert_int_equal(write(fd, text + 35, strlen(text) - 35), (ssize_t)(strlen(text) - 35));
	close(fd);
	assert_int_equal(pol_set_load_file(path, &set, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 21);
	unlink(path);
	assert_int_equal(pol_set_load_file(path, &set, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot open"));
	assert_null(set);
	assert_string_equal(pol_strerror(-ENOENT), "no such rule");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),      cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_bad_sets),  cmocka_unit_test(test_empty_set),
	    cmocka_unit_test(test_limits),    cmocka_unit_test(test_too_many),
	    cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
