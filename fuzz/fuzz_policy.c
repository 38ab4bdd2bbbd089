/*
 * fuzz_policy.c - the policy text (policy/pol_lex.c, pol_parse.c): a rule
 * set, a single rule, group names resolved to SIDs, and the federation
 * settings' text.  Whatever parses must print, parse back to the same text
 * and evaluate; a syntax error must name a line of the input.
 */
#include "config.h"

#include <errno.h>

#include "fuzz.h"
#include "gwpolicy.h"

static unsigned
count_lines(const char *text, size_t len)
{
	unsigned lines = 1;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	return lines;
}

static void
check_set(const char *text, size_t len)
{
	const char *const sids[] = {"S-1-5-21-1-2-3-1105", "S-1-5-32-544"};
	struct pol_request req = {POL_CLASS_IM,
				  POL_ZONE_FEDERATED,
				  POL_NET_REMOTE,
				  {"sip:a@partner.example", NULL, sids, 2},
				  {"sip:b@corp.example.com", NULL, sids, 1}};
	struct pol_set *set = NULL, *again = NULL;
	struct pol_decision d;
	struct pol_error err;
	char *out = NULL, *out2 = NULL;
	int ret;

	memset(&err, 0, sizeof(err));
	ret = pol_set_parse(text, len, &set, &err);
	if (ret != 0) {
		FUZZ_ASSERT(ret == -EINVAL || ret == -E2BIG || ret == -ENOMEM);
		FUZZ_ASSERT(set == NULL && err.msg[0] != '\0');
		if (ret == -EINVAL && err.line != 0)
			FUZZ_ASSERT(err.line <= count_lines(text, len) && err.column >= 1);
		return;
	}
	FUZZ_ASSERT(pol_set_text(set, &out) == 0);
	ret = pol_set_parse(out, strlen(out), &again, &err);
	if (ret != 0) {
		fprintf(stderr, "printed set does not parse: %u:%u: %s\n%s\n", err.line, err.column,
			err.msg, out);
		abort();
	}
	FUZZ_ASSERT(pol_set_text(again, &out2) == 0);
	FUZZ_ASSERT(strcmp(out, out2) == 0);
	FUZZ_ASSERT(pol_set_count(set) == pol_set_count(again));
	for (int c = POL_CLASS_IM; c <= POL_CLASS_CALL; c <<= 1) {
		req.req_class = (enum pol_class)c;
		FUZZ_ASSERT(pol_eval(set, &req, &d) == 0);
		FUZZ_ASSERT(d.code == 0 || (d.code >= 400 && d.code <= 699));
	}
	pol_set_free(set);
	pol_set_free(again);
	free(out);
	free(out2);
}

static void
check_rule(const char *text, size_t len)
{
	struct pol_rule *rule = NULL, *again = NULL;
	struct pol_error err;
	char *out = NULL, *out2 = NULL;
	int ret = pol_rule_parse(text, len, &rule, &err);

	FUZZ_ASSERT(ret == 0 || ret == -EINVAL || ret == -E2BIG || ret == -ENOMEM);
	if (ret != 0)
		return;
	FUZZ_ASSERT(pol_rule_text(rule, &out) == 0);
	FUZZ_ASSERT(pol_rule_parse(out, strlen(out), &again, &err) == 0);
	FUZZ_ASSERT(pol_rule_text(again, &out2) == 0);
	FUZZ_ASSERT(strcmp(out, out2) == 0);
	pol_rule_free(rule);
	pol_rule_free(again);
	free(out);
	free(out2);
}

/* Every group name is known: "Support" and the rest get made-up SIDs. */
static int
group_sid(const char *name, char *sid, size_t sidlen, void *arg)
{
	(void)arg;
	if (strcmp(name, "Missing") == 0)
		return -ENOENT;
	snprintf(sid, sidlen, "S-1-5-21-1-2-3-%zu", 1000 + strlen(name));
	return 0;
}

static void
check_groups(const char *text, size_t len)
{
	struct pol_error err;
	struct pol_set *set = NULL;
	char *out = NULL;
	int ret = pol_text_resolve_groups(text, len, group_sid, NULL, &out, &err);

	/* group_sid()'s own -ENOENT comes back as it is (test_groups.c and
	 * greenwich-mmc rely on it; gwpolicy.h says -EINVAL) */
	FUZZ_ASSERT(ret == 0 || ret == -EINVAL || ret == -E2BIG || ret == -ENOMEM ||
		    ret == -ENOENT);
	if (ret != 0)
		return;
	/* "parse it next" */
	if (pol_set_parse(out, strlen(out), &set, &err) == 0)
		pol_set_free(set);
	free(out);
}

static void
check_fed(const char *text)
{
	struct pol_fed fed = {0}, again = {0};
	char *out = NULL, *out2 = NULL;

	if (pol_fed_parse_text(text, &fed) == 0) {
		FUZZ_ASSERT(pol_fed_text(&fed, &out) == 0);
		FUZZ_ASSERT(pol_fed_parse_text(out, &again) == 0);
		FUZZ_ASSERT(pol_fed_text(&again, &out2) == 0);
		FUZZ_ASSERT(strcmp(out, out2) == 0);
		for (size_t i = 0; i < fed.n; i++)
			FUZZ_ASSERT(pol_fed_find(&again, fed.v[i].domain) != NULL);
	}
	pol_fed_clear(&fed);
	pol_fed_clear(&again);
	free(out);
	free(out2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: the parsers take a length, ASan sees any read beyond */
	char *text = malloc(size ? size : 1), *cstr;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	check_set(text, size);
	check_rule(text, size);
	check_groups(text, size);
	free(text);
	cstr = fuzz_cstr(data, size);
	if (cstr != NULL)
		check_fed(cstr);
	free(cstr);
	return 0;
}
