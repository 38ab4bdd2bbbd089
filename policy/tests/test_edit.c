/*
 * test_edit.c - the editing API the console uses: add, replace, delete, move, get, list, text.
 */
#include "config.h"

#include "pol_test.h"

#define SUPPORT "S-1-5-21-1-2-3-1105"
#define SALES "S-1-5-21-1-2-3-1106"

static const char *const support_sids[] = {SUPPORT};
static const char *const sales_sids[] = {SALES};

/* The names of the set's rules in evaluation order, space separated. */
static void
assert_order(const struct pol_set *set, const char *want)
{
	char got[256] = "";

	for (size_t i = 0; i < pol_set_count(set); i++) {
		if (i > 0)
			strcat(got, " ");
		strcat(got, pol_rule_name(pol_set_at(set, i)));
	}
	assert_string_equal(got, want);
}

/* The verdict for an external IM to a member of the given groups. */
static enum pol_verdict
verdict_to(const struct pol_set *set, const char *const *sids, size_t n, char *rule)
{
	struct pol_request req;
	struct pol_decision d;

	memset(&req, 0, sizeof(req));
	req.req_class = POL_CLASS_IM;
	req.zone = POL_ZONE_EXTERNAL;
	req.net = POL_NET_REMOTE;
	req.to.sids = sids;
	req.to.nsids = n;
	assert_int_equal(pol_eval(set, &req, &d), 0);
	strcpy(rule, d.rule);
	return d.verdict;
}

static void
test_add_get_list(void **state)
{
	struct pol_set *set = NULL;
	struct pol_rule *r;
	struct pol_error err;
	char rule[POL_NAME_MAX + 1];

	assert_int_equal(pol_set_alloc(&set), 0);
	assert_int_equal(verdict_to(set, support_sids, 1, rule), POL_DENY);
	r = test_rule("rule support priority 50 { to group " SUPPORT "; action allow; }");
	assert_int_equal(pol_set_add(set, r, &err), 0);
	r = test_rule("rule first priority 10 { class call; action deny; }");
	assert_int_equal(pol_set_add(set, r, &err), 0);
	r = test_rule("rule last priority 90 { action deny 488; }");
	assert_int_equal(pol_set_add(set, r, &err), 0);
	assert_order(set, "first support last");
	assert_int_equal(pol_set_count(set), 3);
	/* a SID that came in with an added rule is matched */
	assert_int_equal(verdict_to(set, support_sids, 1, rule), POL_ALLOW);
	assert_string_equal(rule, "support");
	assert_int_equal(verdict_to(set, sales_sids, 1, rule), POL_DENY);
	assert_string_equal(rule, "last");

	assert_non_null(pol_set_get(set, "support"));
	assert_int_equal(pol_rule_priority(pol_set_get(set, "support")), 50);
	assert_null(pol_set_get(set, "nope"));
	assert_null(pol_set_at(set, 3));

	/* duplicates are refused and leave the set alone */
	r = test_rule("rule support priority 60 { action allow; }");
	assert_int_equal(pol_set_add(set, r, &err), -EEXIST);
	assert_string_equal(err.msg, "a rule named 'support' already exists");
	pol_rule_free(r);
	r = test_rule("rule other priority 90 { action allow; }");
	assert_int_equal(pol_set_add(set, r, &err), -EEXIST);
	assert_string_equal(err.msg, "priority 90 is already used by rule 'last'");
	pol_rule_free(r);
	assert_order(set, "first support last");
	pol_set_free(set);
}

static void
test_replace(void **state)
{
	struct pol_set *set = test_set("rule a priority 1 { to group " SUPPORT "; action allow; }\n"
				       "rule b priority 2 { action deny 480; }\n");
	struct pol_rule *r;
	struct pol_error err;
	char rule[POL_NAME_MAX + 1];

	/* a now names Sales, and moves after b */
	r = test_rule("rule a priority 3 { to group " SALES " \"Sales\"; action allow; }");
	assert_int_equal(pol_set_replace(set, r, &err), 0);
	assert_order(set, "b a");
	assert_int_equal(verdict_to(set, support_sids, 1, rule), POL_DENY);
	assert_string_equal(rule, "b");
	assert_int_equal(pol_set_move(set, "b", 4, &err), 0);
	assert_int_equal(verdict_to(set, sales_sids, 1, rule), POL_ALLOW);
	assert_int_equal(verdict_to(set, support_sids, 1, rule), POL_DENY);
	assert_string_equal(rule, "b");

	r = test_rule("rule zz priority 9 { action allow; }");
	assert_int_equal(pol_set_replace(set, r, &err), -ENOENT);
	pol_rule_free(r);
	r = test_rule("rule a priority 4 { action allow; }");
	assert_int_equal(pol_set_replace(set, r, &err), -EEXIST);
	assert_string_equal(err.msg, "priority 4 is already used by rule 'b'");
	pol_rule_free(r);
	/* keeping its own priority is fine */
	r = test_rule("rule a priority 3 { action deny 603; }");
	assert_int_equal(pol_set_replace(set, r, &err), 0);
	assert_int_equal(verdict_to(set, sales_sids, 1, rule), POL_DENY);
	assert_string_equal(rule, "a");
	pol_set_free(set);
}

static void
test_delete_move(void **state)
{
	struct pol_set *set = test_set("rule a priority 1 { to group " SUPPORT "; action allow; }\n"
				       "rule b priority 2 { action deny; }\n"
				       "rule c priority 3 { action allow; }\n");
	struct pol_error err;
	char rule[POL_NAME_MAX + 1];

	assert_int_equal(pol_set_move(set, "c", 0, &err), 0);
	assert_order(set, "c a b");
	assert_int_equal(pol_set_move(set, "c", 2, &err), -EEXIST);
	assert_int_equal(pol_set_move(set, "c", POL_PRIORITY_MAX + 1, &err), -ERANGE);
	assert_int_equal(pol_set_move(set, "x", 5, &err), -ENOENT);
	assert_int_equal(pol_set_move(set, "c", 0, &err), 0); /* to where it is */
	assert_int_equal(pol_set_move(set, "c", 7, &err), 0);
	assert_order(set, "a b c");

	assert_int_equal(pol_set_delete(set, "a"), 0);
	assert_int_equal(pol_set_delete(set, "a"), -ENOENT);
	assert_order(set, "b c");
	assert_int_equal(verdict_to(set, support_sids, 1, rule), POL_DENY);
	assert_string_equal(rule, "b");
	assert_int_equal(pol_set_delete(set, "b"), 0);
	assert_int_equal(pol_set_delete(set, "c"), 0);
	assert_int_equal(pol_set_count(set), 0);
	assert_int_equal(verdict_to(set, support_sids, 1, rule), POL_DENY);
	assert_string_equal(rule, "");
	pol_set_free(set);
}

static void
test_rule_text_in_set(void **state)
{
	struct pol_set *set =
	    test_set("rule a priority 1 { to group " SUPPORT " \"Support\"; action allow; }\n");
	struct pol_error err;
	char *text = NULL;

	assert_int_equal(pol_set_move(set, "a", 42, &err), 0);
	assert_int_equal(pol_rule_text(pol_set_get(set, "a"), &text), 0);
	assert_string_equal(text, "rule \"a\" priority 42 {\n\tto group " SUPPORT
				  " \"Support\";\n\taction allow;\n}\n");
	free(text);
	pol_set_free(set);
}

/* The set refuses a rule beyond its size limit. */
static void
test_rules_max(void **state)
{
	struct pol_set *set = NULL;
	struct pol_error err;
	char text[96];

	assert_int_equal(pol_set_alloc(&set), 0);
	for (int i = 0; i <= POL_RULES_MAX; i++) {
		struct pol_rule *r;
		int ret;

		snprintf(text, sizeof(text), "rule r%d priority %d { action allow; }", i, i);
		r = test_rule(text);
		ret = pol_set_add(set, r, &err);
		if (i < POL_RULES_MAX) {
			assert_int_equal(ret, 0);
		} else {
			assert_int_equal(ret, -E2BIG);
			pol_rule_free(r);
		}
	}
	assert_int_equal(pol_set_count(set), POL_RULES_MAX);
	pol_set_free(set);
}

/* A text of 16 rules naming 4096 distinct SIDs S-1-5-21-9-<i>: the most a set may hold. */
static char *
full_set_text(void)
{
	size_t size = 256 * 1024, len = 0;
	char *text = malloc(size);

	assert_non_null(text);
	for (int i = 0; i < POL_SIDS_MAX; i++) {
		if (i % POL_LIST_MAX == 0)
			len += (size_t)snprintf(text + len, size - len,
						"%srule r%d priority %d { to group S-1-5-21-9-%d",
						i ? "; action allow; }\n" : "", i, i, i);
		else
			len += (size_t)snprintf(text + len, size - len, ", group S-1-5-21-9-%d", i);
	}
	snprintf(text + len, size - len, "; action allow; }\n");
	return text;
}

/* An edit that would exceed the SID limit fails and leaves the set working as before. */
static void
test_failed_edits(void **state)
{
	const char *const last[] = {"S-1-5-21-9-4095"};
	char *text = full_set_text();
	struct pol_set *set = test_set(text);
	struct pol_rule *r;
	struct pol_error err;
	char rule[POL_NAME_MAX + 1];

	free(text);
	assert_int_equal(verdict_to(set, last, 1, rule), POL_ALLOW);
	assert_string_equal(rule, "r3840");
	r = test_rule("rule extra priority 1 { to group S-1-5-21-9-5000; action deny; }");
	assert_int_equal(pol_set_add(set, r, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "distinct group SIDs"));
	assert_int_equal(pol_set_count(set), 16);
	assert_null(pol_set_get(set, "extra"));
	/* replacing r0 by a rule with one more SID than it had fails the same way */
	pol_rule_free(r);
	text = full_set_text();
	strcpy(strchr(text, ';'), "; from group S-1-5-21-9-5000; action deny; }");
	r = test_rule(text);
	free(text);
	assert_int_equal(pol_set_replace(set, r, &err), -E2BIG);
	pol_rule_free(r);
	assert_int_equal(verdict_to(set, last, 1, rule), POL_ALLOW);
	assert_string_equal(rule, "r3840");
	/* replacing r0 by a rule with fewer SIDs works, and the others still match */
	r = test_rule("rule r0 priority 0 { to group S-1-5-21-9-5000; action deny; }");
	assert_int_equal(pol_set_replace(set, r, &err), 0);
	assert_int_equal(verdict_to(set, last, 1, rule), POL_ALLOW);
	assert_string_equal(rule, "r3840");
	pol_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_get_list), cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_delete_move),  cmocka_unit_test(test_rule_text_in_set),
	    cmocka_unit_test(test_rules_max),    cmocka_unit_test(test_failed_edits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
