/*
 * test_decide.c - pol_decide(): the zone from how the sender arrived and the federation
 * settings, blocked domains, the identity an unproven sender is denied, groups only for our
 * own users, other methods held to the strictest class, a zone recorded by a dialog.
 */
#include "config.h"

#include "pol_test.h"

#define DOM "S-1-5-21-1-2-3"
#define SUPPORT DOM "-1105"

static const char rules[] =
    "rule \"guest-by-name\" priority 10 { from domain outside.test; action allow; }\n"
    "rule \"partner-group\" priority 20 { from group " SUPPORT "; class call; action allow; }\n"
    "rule \"partner-im\" priority 30 { class im; from zone federated; action allow; }\n"
    "rule \"no-ext-calls\" priority 40 { class call; from zone external; action deny 603; }\n"
    "rule \"ext-presence\" priority 50 { class presence; from zone external; action allow; }\n"
    "rule \"ext-im\" priority 60 { class im; from zone external; action allow; }\n";

static const char *const support[] = {DOM "-1301", SUPPORT};

static struct pol_fed fed;

static int
setup(void **state)
{
	(void)state;
	if (pol_fed_set(&fed, "partner.example.net", true) < 0 ||
	    pol_fed_set(&fed, "blocked.example.org", false) < 0 ||
	    pol_fed_set(&fed, "outside.test", true) < 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pol_fed_clear(&fed);
	return 0;
}

static struct pol_facts
facts(enum pol_class cls, enum pol_arrival arrival, const char *from, const char *to)
{
	struct pol_facts f;

	memset(&f, 0, sizeof(f));
	f.req_class = cls;
	f.arrival = arrival;
	f.net = POL_NET_REMOTE;
	f.from.uri = from;
	f.to.uri = to;
	return f;
}

static struct pol_outcome
decide(const struct pol_set *set, const struct pol_facts *f)
{
	struct pol_outcome o;

	memset(&o, 0x55, sizeof(o));
	assert_int_equal(pol_decide(set, &fed, f, &o), 0);
	return o;
}

/* An authenticated user of ours is internal, with its address and groups. */
static void
test_authenticated(void **state)
{
	struct pol_set *set = test_set(rules);
	struct pol_facts f = facts(POL_CLASS_CALL, POL_ARRIVAL_AUTHENTICATED,
				   "sip:alice@corp.example.com", "sip:bob@corp.example.com");
	struct pol_outcome o;

	(void)state;
	f.from.sids = support;
	f.from.nsids = N_ELEMS(support);
	o = decide(set, &f);
	assert_int_equal(o.zone, POL_ZONE_INTERNAL);
	assert_int_equal(o.decision.verdict, POL_ALLOW);
	assert_string_equal(o.decision.rule, "partner-group");
	assert_false(o.blocked);
	assert_false(o.anonymous);
	assert_false(o.claim_ignored);
	assert_int_equal(o.req_class, POL_CLASS_CALL);
	/* authenticated wins over a blocked From domain: the zone comes from the proof */
	f.from.uri = "sip:alice@blocked.example.org";
	o = decide(set, &f);
	assert_int_equal(o.zone, POL_ZONE_INTERNAL);
	assert_false(o.blocked);
	pol_set_free(set);
}

/* An unproven sender is external and anonymous: a rule naming its domain cannot match it,
 * and the outcome says what the claim would have decided. */
static void
test_unproven(void **state)
{
	struct pol_set *set = test_set(rules);
	struct pol_facts f = facts(POL_CLASS_CALL, POL_ARRIVAL_UNPROVEN, "sip:guest@outside.test",
				   "sip:bob@corp.example.com");
	struct pol_outcome o;

	(void)state;
	f.from.sids = support; /* whatever the caller found, an outsider has no groups */
	f.from.nsids = N_ELEMS(support);
	o = decide(set, &f);
	assert_int_equal(o.zone, POL_ZONE_EXTERNAL);
	assert_true(o.anonymous);
	assert_true(o.partner_unproven); /* outside.test is an allowed partner */
	assert_int_equal(o.decision.verdict, POL_DENY);
	assert_int_equal(o.decision.code, 603);
	assert_string_equal(o.decision.rule, "no-ext-calls");
	assert_true(o.claim_ignored);
	assert_int_equal(o.claimed.verdict, POL_ALLOW);
	assert_string_equal(o.claimed.rule, "guest-by-name");

	/* a claim that no rule names changes nothing, and is not reported */
	f.from.uri = "sip:guest@elsewhere.test";
	f.from.nsids = 0;
	o = decide(set, &f);
	assert_string_equal(o.decision.rule, "no-ext-calls");
	assert_true(o.anonymous);
	assert_false(o.claim_ignored);
	assert_false(o.partner_unproven);

	/* a verified peer of a domain with no federation setting is no partner */
	f.arrival = POL_ARRIVAL_VERIFIED_PEER;
	o = decide(set, &f);
	assert_int_equal(o.zone, POL_ZONE_EXTERNAL);
	pol_set_free(set);
}

/* A partner's user is federated only through its verified server; it keeps its address
 * for the rules, but not groups. */
static void
test_partner(void **state)
{
	struct pol_set *set = test_set(rules);
	struct pol_facts f =
	    facts(POL_CLASS_IM, POL_ARRIVAL_UNPROVEN, "sip:carol@Partner.Example.NET;transport=tls",
		  "sip:bob@corp.example.com");
	struct pol_outcome o;

	(void)state;
	o = decide(set, &f);
	assert_int_equal(o.zone, POL_ZONE_EXTERNAL);
	assert_true(o.partner_unproven);
	assert_string_equal(o.decision.rule, "ext-im");

	f.arrival = POL_ARRIVAL_VERIFIED_PEER;
	o = decide(set, &f);
	assert_int_equal(o.zone, POL_ZONE_FEDERATED);
	assert_false(o.partner_unproven);
	assert_false(o.anonymous);
	assert_string_equal(o.decision.rule, "partner-im");

	/* calls: the group rule would allow a member, but a partner's user has no groups here */
	f.req_class = POL_CLASS_CALL;
	f.from.sids = support;
	f.from.nsids = N_ELEMS(support);
	o = decide(set, &f);
	assert_int_equal(o.decision.verdict, POL_DENY);
	assert_true(o.decision.by_default);

	/* the domain given explicitly is the one looked up */
	f.req_class = POL_CLASS_IM;
	f.from.domain = "elsewhere.test";
	o = decide(set, &f);
	assert_int_equal(o.zone, POL_ZONE_EXTERNAL);
	pol_set_free(set);
}

/* A blocked domain is denied before any rule, however it arrived (unless authenticated). */
static void
test_blocked(void **state)
{
	struct pol_set *set = test_set(rules);
	const enum pol_arrival how[] = {POL_ARRIVAL_UNPROVEN, POL_ARRIVAL_VERIFIED_PEER};
	struct pol_outcome o;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(how); i++) {
		struct pol_facts f = facts(POL_CLASS_PRESENCE, how[i], "sip:x@BLOCKED.example.org",
					   "sip:bob@corp.example.com");
		o = decide(set, &f);
		assert_true(o.blocked);
		assert_int_equal(o.zone, POL_ZONE_EXTERNAL);
		assert_int_equal(o.decision.verdict, POL_DENY);
		assert_int_equal(o.decision.code, 403);
		assert_string_equal(o.decision.reason, "Forbidden");
		assert_string_equal(o.decision.rule, "federation-blocked");
		assert_false(o.decision.by_default);
		assert_int_equal(o.req_class, POL_CLASS_IM);
	}
	/* without federation settings the same sender is just external */
	struct pol_facts f = facts(POL_CLASS_PRESENCE, POL_ARRIVAL_UNPROVEN,
				   "sip:x@blocked.example.org", "sip:bob@corp.example.com");
	assert_int_equal(pol_decide(set, NULL, &f, &o), 0);
	assert_false(o.blocked);
	assert_string_equal(o.decision.rule, "ext-presence");
	pol_set_free(set);
}

/* Other methods: im, call, presence in turn; the first denial decides. */
static void
test_other_methods(void **state)
{
	struct pol_set *set = test_set(rules);
	struct pol_set *open = test_set("rule all priority 1 { action allow; }\n");
	struct pol_facts f = facts(POL_CLASS_OTHER, POL_ARRIVAL_UNPROVEN, "sip:x@elsewhere.test",
				   "sip:bob@corp.example.com");
	struct pol_outcome o;

	(void)state;
	o = decide(set, &f); /* im allowed by ext-im, call denied by no-ext-calls */
	assert_int_equal(o.decision.verdict, POL_DENY);
	assert_string_equal(o.decision.rule, "no-ext-calls");
	assert_int_equal(o.req_class, POL_CLASS_CALL);
	o = decide(open, &f);
	assert_int_equal(o.decision.verdict, POL_ALLOW);
	assert_int_equal(o.req_class, POL_CLASS_PRESENCE);
	f.arrival = POL_ARRIVAL_AUTHENTICATED;
	o = decide(set, &f); /* the default allows internal senders in every class */
	assert_int_equal(o.decision.verdict, POL_ALLOW);
	assert_true(o.decision.by_default);
	pol_set_free(open);
	pol_set_free(set);
}

/* A zone recorded by a dialog stands: no federation lookup, no proof asked again. */
static void
test_recorded_zone(void **state)
{
	struct pol_set *set = test_set(rules);
	struct pol_facts f = facts(POL_CLASS_IM, POL_ARRIVAL_UNPROVEN, "sip:x@blocked.example.org",
				   "sip:bob@corp.example.com");
	struct pol_outcome o;

	(void)state;
	f.zone = POL_ZONE_FEDERATED;
	o = decide(set, &f);
	assert_false(o.blocked);
	assert_int_equal(o.zone, POL_ZONE_FEDERATED);
	assert_string_equal(o.decision.rule, "partner-im");
	f.zone = POL_ZONE_INTERNAL;
	f.req_class = POL_CLASS_CALL;
	f.from.sids = support;
	f.from.nsids = N_ELEMS(support);
	o = decide(set, &f);
	assert_string_equal(o.decision.rule, "partner-group");
	pol_set_free(set);
}

static void
test_bad_facts(void **state)
{
	struct pol_set *set = test_set(rules);
	struct pol_facts f = facts(POL_CLASS_IM, POL_ARRIVAL_UNPROVEN, "sip:x@a.test", NULL);
	struct pol_outcome o;

	(void)state;
	assert_int_equal(pol_decide(NULL, &fed, &f, &o), -EINVAL);
	assert_int_equal(pol_decide(set, &fed, NULL, &o), -EINVAL);
	assert_int_equal(pol_decide(set, &fed, &f, NULL), -EINVAL);
	f.arrival = 0;
	assert_int_equal(pol_decide(set, &fed, &f, &o), -EINVAL);
	f.arrival = POL_ARRIVAL_UNPROVEN;
	f.req_class = POL_CLASS_IM | POL_CLASS_CALL;
	assert_int_equal(pol_decide(set, &fed, &f, &o), -EINVAL);
	f.req_class = POL_CLASS_IM;
	f.zone = POL_ZONE_INTERNAL | POL_ZONE_EXTERNAL;
	assert_int_equal(pol_decide(set, &fed, &f, &o), -EINVAL);
	f.zone = 0;
	f.net = 0;
	assert_int_equal(pol_decide(set, &fed, &f, &o), -EINVAL);
	f.net = POL_NET_INTERNAL;
	f.from.uri = NULL; /* nobody claimed: nothing to report */
	assert_int_equal(pol_decide(set, &fed, &f, &o), 0);
	assert_false(o.claim_ignored);
	pol_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_authenticated), cmocka_unit_test(test_unproven),
	    cmocka_unit_test(test_partner),       cmocka_unit_test(test_blocked),
	    cmocka_unit_test(test_other_methods), cmocka_unit_test(test_recorded_zone),
	    cmocka_unit_test(test_bad_facts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
