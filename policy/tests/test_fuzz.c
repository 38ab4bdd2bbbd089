/*
 * test_fuzz.c - robustness of the parser: truncated, mutated, shuffled and random inputs.
 *
 * The parser must never crash (run it under ASan/UBSan), must answer 0, -EINVAL or -E2BIG,
 * must place every syntax error on a real position of the input, and whatever it accepts must
 * print and parse back to the same text and evaluate.  The generator is seeded
 * (POL_FUZZ_SEED, default fixed) so a failure can be replayed.
 */
#include "config.h"

#include "pol_test.h"

/* clang-format off */
static const char sample[] =
	"# sample policy\n"
	"rule \"internet-im\" priority 100 {\n"
	"\tclass im;\n"
	"\tfrom zone external;\n"
	"\texcept to group S-1-5-21-1-2-3-1105 \"Support \\\"desk\\\"\";\n"
	"\taction deny 403 \"Forbidden\";\n"
	"}\n"
	"rule partners priority 200 {\n"
	"\tclass im, presence, call; from zone federated; from network remote;\n"
	"\tfrom user sip:a@partner.example, domain partner.example, group S-1-5-32-544;\n"
	"\tto any;\n"
	"\texcept { class call; from network internal; }\n"
	"\taction allow;\n"
	"}\n";
/* clang-format on */
static uint64_t rng_state;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static unsigned long parsed_ok, parsed_bad;

static unsigned
count_lines(const char *text, size_t len)
{
	unsigned lines = 1;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	return lines;
}

/* Parse as a set and as one rule; check the answer's shape and the round trip. */
static void
check_input(const char *text, size_t len)
{
	const char *const sids[] = {"S-1-5-21-1-2-3-1105", "S-1-5-32-544"};
	struct pol_request req = {POL_CLASS_IM,
				  POL_ZONE_FEDERATED,
				  POL_NET_REMOTE,
				  {"sip:a@partner.example", NULL, sids, 2},
				  {"sip:b@corp.example.com", NULL, sids, 1}};
	struct pol_set *set = NULL, *again = NULL;
	struct pol_rule *rule = NULL;
	struct pol_decision d;
	struct pol_error err;
	char *out = NULL, *out2 = NULL;
	int ret;

	memset(&err, 0, sizeof(err));
	ret = pol_set_parse(text, len, &set, &err);
	if (ret != 0) {
		assert_true(ret == -EINVAL || ret == -E2BIG);
		assert_true(err.msg[0] != '\0');
		if (ret == -EINVAL && err.line != 0)
			assert_true(err.line <= count_lines(text, len) && err.column >= 1);
		assert_null(set);
		parsed_bad++;
	} else {
		assert_int_equal(pol_set_text(set, &out), 0);
		if (pol_set_parse(out, strlen(out), &again, &err) != 0)
			fail_msg("printed text does not parse: %u:%u: %s\n%s", err.line, err.column,
				 err.msg, out);
		assert_int_equal(pol_set_text(again, &out2), 0);
		assert_string_equal(out, out2);
		assert_int_equal(pol_eval(set, &req, &d), 0);
		parsed_ok++;
	}
	ret = pol_rule_parse(text, len, &rule, &err);
	assert_true(ret == 0 || ret == -EINVAL || ret == -E2BIG);
	pol_rule_free(rule);
	pol_set_free(set);
	pol_set_free(again);
	free(out);
	free(out2);
}

static void
test_truncated(void **state)
{
	size_t len = strlen(sample);

	for (size_t n = 0; n <= len; n++) {
		/* a private copy of exactly n bytes, so ASan sees any read beyond it */
		char *copy = malloc(n ? n : 1);

		assert_non_null(copy);
		memcpy(copy, sample, n);
		check_input(copy, n);
		free(copy);
	}
	/* the whole sample parses, several prefixes too */
	assert_true(parsed_ok >= 2);
}

static void
mutate(char *buf, size_t *len, size_t cap)
{
	static const char interesting[] = "{};,\"\\#\n\t -:@0129SaZ\x7f\x80\xff";
	size_t pos = *len ? rng() % *len : 0;

	switch (rng() % 4) {
	case 0: /* overwrite a byte */
		if (*len)
			buf[pos] = rng() % 3 ? interesting[rng() % (sizeof(interesting) - 1)]
					     : (char)rng();
		break;
	case 1: /* insert a byte */
		if (*len < cap) {
			memmove(buf + pos + 1, buf + pos, *len - pos);
			buf[pos] = interesting[rng() % (sizeof(interesting) - 1)];
			(*len)++;
		}
		break;
	case 2: /* delete a run */
		if (*len) {
			size_t run = 1 + rng() % 8;

			run = run > *len - pos ? *len - pos : run;
			memmove(buf + pos, buf + pos + run, *len - pos - run);
			*len -= run;
		}
		break;
	default: /* copy a run elsewhere */
		if (*len) {
			size_t run = 1 + rng() % 16, to = rng() % *len;

			run = run > *len - pos ? *len - pos : run;
			run = run > *len - to ? *len - to : run;
			memmove(buf + to, buf + pos, run);
		}
		break;
	}
}

static void
test_mutated(void **state)
{
	size_t cap = sizeof(sample) * 2;

	for (int i = 0; i < 20000; i++) {
		char *buf = malloc(cap);
		size_t len = strlen(sample);
		int n = 1 + (int)(rng() % 4);

		assert_non_null(buf);
		memcpy(buf, sample, len);
		while (n-- > 0)
			mutate(buf, &len, cap);
		check_input(buf, len);
		free(buf);
	}
}

/* Random sequences of the grammar's own tokens: mostly near-misses of valid rules. */
static void
test_token_soup(void **state)
{
	/* clang-format off */
	static const char *const tokens[] = {
		"rule", "priority", "{", "}", ";", ",", "class", "im", "presence", "call", "any",
		"from", "to", "zone", "network", "internal", "external", "federated", "remote",
		"group", "user", "domain", "except", "action", "allow", "deny", "403", "42",
		"\"x y\"", "S-1-5-32-544", "sip:a@b.c", "b.c", "r1", "\"r2\"", "# c\n", "\n",
	};
	/* clang-format on */

	char buf[1024];

	for (int i = 0; i < 20000; i++) {
		size_t len = 0;
		int n = (int)(rng() % 40);

		if (i % 4 == 0) {
			memcpy(buf, "rule r priority 1 { ", 20);
			len = 20;
		}
		while (n-- > 0) {
			const char *t = tokens[rng() % N_ELEMS(tokens)];
			size_t tl = strlen(t);

			if (len + tl + 1 > sizeof(buf))
				break;
			memcpy(buf + len, t, tl);
			len += tl;
			buf[len++] = ' ';
		}
		check_input(buf, len);
	}
}

static void
test_random_bytes(void **state)
{
	for (int i = 0; i < 5000; i++) {
		size_t len = rng() % 300;
		char *buf = malloc(len ? len : 1);

		assert_non_null(buf);
		for (size_t j = 0; j < len; j++)
			buf[j] = rng() % 2 ? (char)rng() : "rule{};\" a1-\n"[rng() % 13];
		check_input(buf, len);
		free(buf);
	}
	print_message("fuzz: %lu inputs accepted, %lu refused\n", parsed_ok, parsed_bad);
	assert_true(parsed_bad > parsed_ok);
}

int
main(void)
{
	const char *seed = getenv("POL_FUZZ_SEED");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_mutated),
	    cmocka_unit_test(test_token_soup),
	    cmocka_unit_test(test_random_bytes),
	};

	rng_state = seed != NULL ? strtoull(seed, NULL, 0) : 0x9e3779b97f4a7c15ULL;
	if (rng_state == 0)
		rng_state = 1;
	print_message("fuzz: seed %s\n", seed != NULL ? seed : "0x9e3779b97f4a7c15");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
