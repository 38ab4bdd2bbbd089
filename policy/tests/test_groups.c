/*
 * test_groups.c - group names in rule text, the groups of a set, federation settings.
 */
#include "pol_test.h"

/* A pretend directory: Support and "Help Desk" exist. */
static int
lookup(const char *name, char *sid, size_t len, void *arg)
{
	(void)arg;
	if (strcmp(name, "Support") == 0)
		snprintf(sid, len, "S-1-5-21-1-2-3-1105");
	else if (strcmp(name, "Help Desk") == 0)
		snprintf(sid, len, "S-1-5-21-1-2-3-1200");
	else if (strcmp(name, "down") == 0)
		return -ENOTCONN;
	else
		return -ENOENT;
	return 0;
}

static void
test_resolve_table(void **state)
{
	static const struct {
		const char *in;
		int ret;
		const char *want;   /* in the output (or the error message) */
		unsigned line, col; /* error position */
	} cases[] = {
	    {"rule a priority 1 { to group Support; action allow; }", 0,
	     "group S-1-5-21-1-2-3-1105 \"Support\"", 0, 0},
	    {"rule a priority 1 { to group \"Help Desk\", group Support; action allow; }", 0,
	     "S-1-5-21-1-2-3-1200 \"Help Desk\" , group S-1-5-21-1-2-3-1105", 0, 0},
	    {"rule a priority 1 { to group S-1-5-21-9 \"x\"; action allow; }", 0,
	     "rule a priority 1 { to group S-1-5-21-9 \"x\"; action allow; }", 0, 0},
	    {"rule a priority 1 {\n  to group Nobody; action allow; }", -ENOENT,
	     "group 'Nobody': no such group", 2, 12},
	    {"rule a priority 1 { to group down; action allow; }", -ENOTCONN, "cannot look it up",
	     1, 30},
	    {"rule a priority 1 { to group \"unterminated", -EINVAL, "", 1, 30},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct pol_error err = {0};
		char *out = NULL;
		int ret = pol_text_resolve_groups(cases[i].in, strlen(cases[i].in), lookup, NULL,
						  &out, &err);
		assert_int_equal(ret, cases[i].ret);
		if (ret == 0) {
			assert_non_null(strstr(out, cases[i].want));
			struct pol_rule *r = test_rule(out);
			pol_rule_free(r);
		} else {
			assert_null(out);
			assert_non_null(strstr(err.msg, cases[i].want));
			assert_int_equal(err.line, cases[i].line);
			if (cases[i].col)
				assert_int_equal(err.column, cases[i].col);
		}
		free(out);
	}
}

static void
test_set_groups(void **state)
{
	struct pol_set *set =
	    test_set("rule a priority 1 { from group S-1-5-21-1-2-3-7 \"Old\"; action allow; }\n"
		     "rule b priority 2 { to group S-1-5-21-1-2-3-7, group S-1-5-21-1-2-3-8;\n"
		     "  except from group S-1-5-21-1-2-3-7; action deny; }\n");
	char *text = NULL;

	(void)state;
	assert_int_equal(pol_set_group_count(set), 2);
	assert_null(pol_set_group_sid(set, 2));
	assert_int_equal(pol_set_group_name(set, "S-1-5-21-1-2-3-7", "Renamed"), 0);
	assert_int_equal(pol_set_group_name(set, "S-1-5-21-1-2-3-9", "None"), -ENOENT);
	assert_int_equal(pol_set_group_name(set, "S-1-5-21-1-2-3-8", ""), -EINVAL);
	assert_int_equal(pol_set_text(set, &text), 0);
	assert_null(strstr(text, "Old"));
	/* all three mentions show the new name */
	const char *p = text;
	int n = 0;
	while ((p = strstr(p, "S-1-5-21-1-2-3-7 \"Renamed\"")) != NULL) {
		n++;
		p++;
	}
	assert_int_equal(n, 3);
	free(text);
	pol_set_free(set);
}

static void
test_fed(void **state)
{
	static const struct {
		const char *value;
		int ret;
		bool allow;
		const char *domain;
	} cases[] = {
	    {"allow Partner.Example", 0, true, "partner.example"},
	    {"block evil.test", 0, false, "evil.test"},
	    {"allow", -EINVAL, false, ""},
	    {"permit a.test", -EINVAL, false, ""},
	    {"allow bad..domain", -EINVAL, false, ""},
	    {"allow a.test extra", -EINVAL, false, ""},
	};
	struct pol_fed fed = {0};
	char *text = NULL;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct pol_fed_entry e;
		int ret = pol_fed_parse_value(cases[i].value, strlen(cases[i].value), &e);
		assert_int_equal(ret, cases[i].ret);
		if (ret == 0) {
			assert_int_equal(e.allow, cases[i].allow);
			assert_string_equal(e.domain, cases[i].domain);
		}
	}
	assert_int_equal(pol_fed_parse_text("# cache\nblock z.test\nallow a.test\n\n", &fed), 0);
	assert_int_equal(fed.n, 2);
	assert_true(pol_fed_find(&fed, "A.TEST")->allow);
	assert_false(pol_fed_find(&fed, "z.test")->allow);
	assert_null(pol_fed_find(&fed, "m.test"));
	assert_int_equal(pol_fed_set(&fed, "m.test", true), 0);
	assert_int_equal(pol_fed_set(&fed, "z.test", true), 0);
	assert_int_equal(pol_fed_set(&fed, "bad_domain", true), -EINVAL);
	assert_int_equal(pol_fed_text(&fed, &text), 0);
	assert_string_equal(text, "allow a.test\nallow m.test\nallow z.test\n");
	free(text);
	pol_fed_clear(&fed);
	assert_int_equal(pol_fed_parse_text("allow a.test\nnonsense\n", &fed), -EINVAL);
	assert_int_equal(fed.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolve_table),
	    cmocka_unit_test(test_set_groups),
	    cmocka_unit_test(test_fed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
