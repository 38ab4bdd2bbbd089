/*
 * test_print.c - the printer: canonical text, and text that parses back to the same rules.
 */
#include "config.h"

#include "pol_test.h"

/* Texts already in canonical form print back unchanged. */
/* clang-format off */
static const char *const canonical[] = {
	"rule \"a\" priority 0 {\n"
	"\taction allow;\n"
	"}\n",

	"rule \"internet-im-to-support\" priority 100 {\n"
	"\tclass im;\n"
	"\tfrom zone external;\n"
	"\texcept to group S-1-5-21-1-2-3-1105 \"Support\";\n"
	"\taction deny 403 \"Forbidden\";\n"
	"}\n",

	"rule \"full\" priority 5 {\n"
	"\tclass im, presence, call;\n"
	"\tfrom zone internal, federated;\n"
	"\tfrom network remote;\n"
	"\tfrom group S-1-5-32-544 \"Admins \\\"root\\\" \\\\ x\", "
	"user sip:alice@corp.example.com, domain partner.example;\n"
	"\tto any;\n"
	"\texcept {\n"
	"\t\tclass call;\n"
	"\t\tfrom network internal;\n"
	"\t}\n"
	"\texcept from user sips:Bob@Corp.example.com;\n"
	"\taction deny 488 \"Not Acceptable Here\";\n"
	"}\n",

	"rule \"g\" priority 999999 {\n"
	"\tfrom group S-1-5-21-7-8-9-513, group S-1-5-21-7-8-9-1105 \"Support\";\n"
	"\tto user sip:bob@corp.example.com, domain corp.example.com;\n"
	"\texcept from zone internal, external;\n"
	"\texcept to group S-1-5-21-7-8-9-512 \"Domain Admins\";\n"
	"\taction deny 603 \"Decline\";\n"
	"}\n",
};
/* clang-format on */
static void
test_canonical(void **state)
{
	for (size_t i = 0; i < N_ELEMS(canonical); i++) {
		struct pol_rule *r = test_rule(canonical[i]);
		char *text = NULL;

		assert_int_equal(pol_rule_text(r, &text), 0);
		assert_string_equal(text, canonical[i]);
		free(text);
		pol_rule_free(r);
	}
}

struct norm_case {
	const char *in, *out;
};

/* Other spellings print in canonical form. */
/* clang-format off */
static const struct norm_case norm[] = {
	{"rule a priority 1{action deny;}",
	 "rule \"a\" priority 1 {\n\taction deny 403 \"Forbidden\";\n}\n"},
	{"rule b priority 2 { action deny 486; to domain X.org; class call, im; }",
	 "rule \"b\" priority 2 {\n\tclass im, call;\n\tto domain X.org;\n"
	 "\taction deny 486 \"Busy Here\";\n}\n"},
	{"rule c priority 3 { except { to group \"S-1-5-32-545\"; } class any; action allow; }",
	 "rule \"c\" priority 3 {\n\tclass im, presence, call;\n"
	 "\texcept to group S-1-5-32-545;\n\taction allow;\n}\n"},
	{"# comment\nrule \"d\"   priority 4 {\n\n\taction deny 499;   # unknown code\n}",
	 "rule \"d\" priority 4 {\n\taction deny 499 \"Denied\";\n}\n"},
};
/* clang-format on */
static void
test_normalize(void **state)
{
	for (size_t i = 0; i < N_ELEMS(norm); i++) {
		struct pol_rule *r = test_rule(norm[i].in);
		struct pol_rule *again = NULL;
		char *text = NULL, *text2 = NULL;

		assert_int_equal(pol_rule_text(r, &text), 0);
		assert_string_equal(text, norm[i].out);
		/* and the canonical text is a fixed point */
		again = test_rule(text);
		assert_int_equal(pol_rule_text(again, &text2), 0);
		assert_string_equal(text2, text);
		free(text);
		free(text2);
		pol_rule_free(r);
		pol_rule_free(again);
	}
}

static void
test_set_round_trip(void **state)
{
	const char *in = "rule late priority 20 { class call; action deny 480; }\n"
			 "rule early priority 10 { from zone external; action allow; }\n";
	const char *want = "rule \"early\" priority 10 {\n\tfrom zone external;\n"
			   "\taction allow;\n}\n\n"
			   "rule \"late\" priority 20 {\n\tclass call;\n"
			   "\taction deny 480 \"Temporarily Unavailable\";\n}\n";
	struct pol_set *set = test_set(in), *set2 = NULL;
	char *text = NULL, *text2 = NULL;

	assert_int_equal(pol_set_text(set, &text), 0);
	assert_string_equal(text, want);
	set2 = test_set(text);
	assert_int_equal(pol_set_text(set2, &text2), 0);
	assert_string_equal(text2, text);
	assert_string_equal(pol_rule_name(pol_set_at(set2, 0)), "early");
	assert_string_equal(pol_rule_name(pol_set_at(set2, 1)), "late");
	free(text);
	free(text2);
	pol_set_free(set);
	pol_set_free(set2);
}

static void
test_empty_set_text(void **state)
{
	struct pol_set *set = NULL;
	char *text = NULL;

	assert_int_equal(pol_set_alloc(&set), 0);
	assert_int_equal(pol_set_text(set, &text), 0);
	assert_string_equal(text, "");
	free(text);
	pol_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical),
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_set_round_trip),
	    cmocka_unit_test(test_empty_set_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
