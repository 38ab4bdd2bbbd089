/*
 * test_eval.c - pol_eval(): the headline scenario, groups, users, domains, order, exceptions,
 * the built-in default and deny codes.
 */
#include "config.h"

#include "pol_test.h"

#define DOM "S-1-5-21-1-2-3"
#define SUPPORT DOM "-1105"
#define HELPDESK DOM "-1200"
#define USERS DOM "-513"

/* carol is a member of Helpdesk, which is a member of Support: the caller resolved the
 * nesting, so her list holds both groups. */
static const char *const carol_sids[] = {DOM "-1301", USERS, HELPDESK, SUPPORT};
static const char *const bob_sids[] = {DOM "-1302", USERS};

static const char headline[] = "rule \"internet-im\" priority 100 {\n"
			       "\tclass im;\n"
			       "\tfrom zone external;\n"
			       "\texcept to group " SUPPORT " \"Support\";\n"
			       "\taction deny;\n"
			       "}\n";

static struct pol_request
req_make(enum pol_class cls, enum pol_zone zone, const char *from, const char *to)
{
	struct pol_request req;

	memset(&req, 0, sizeof(req));
	req.req_class = cls;
	req.zone = zone;
	req.net = zone == POL_ZONE_INTERNAL ? POL_NET_INTERNAL : POL_NET_REMOTE;
	req.from.uri = from;
	req.to.uri = to;
	return req;
}

static void
to_carol(struct pol_request *req)
{
	req->to.uri = "sip:carol@corp.example.com";
	req->to.sids = carol_sids;
	req->to.nsids = N_ELEMS(carol_sids);
}

static void
to_bob(struct pol_request *req)
{
	req->to.uri = "sip:bob@corp.example.com";
	req->to.sids = bob_sids;
	req->to.nsids = N_ELEMS(bob_sids);
}

static struct pol_decision
decide(const struct pol_set *set, const struct pol_request *req)
{
	struct pol_decision d;

	memset(&d, 0x55, sizeof(d));
	assert_int_equal(pol_eval(set, req, &d), 0);
	return d;
}

static void
assert_denied(const struct pol_decision *d, int code, const char *reason, const char *rule)
{
	assert_int_equal(d->verdict, POL_DENY);
	assert_int_equal(d->code, code);
	assert_string_equal(d->reason, reason);
	assert_string_equal(d->rule, rule);
	assert_int_equal(d->by_default, rule[0] == '\0');
}

static void
assert_allowed(const struct pol_decision *d, const char *rule)
{
	assert_int_equal(d->verdict, POL_ALLOW);
	assert_int_equal(d->code, 0);
	assert_string_equal(d->reason, "");
	assert_string_equal(d->rule, rule);
	assert_int_equal(d->by_default, rule[0] == '\0');
}

/* "Deny IM from external senders except to members of Support"; internal is allowed. */
static void
test_headline(void **state)
{
	struct pol_set *set = test_set(headline);
	struct pol_request req =
	    req_make(POL_CLASS_IM, POL_ZONE_EXTERNAL, "sip:guest@internet.example", NULL);
	struct pol_decision d;

	to_carol(&req);
	d = decide(set, &req);
	assert_allowed(&d, "internet-im");
	assert_true(d.by_exception);

	to_bob(&req);
	d = decide(set, &req);
	assert_denied(&d, 403, "Forbidden", "internet-im");
	assert_false(d.by_exception);

	/* a call from outside is not IM: the rule does not apply, the default denies it */
	req.req_class = POL_CLASS_CALL;
	to_carol(&req);
	d = decide(set, &req);
	assert_denied(&d, 403, "Forbidden", "");
	assert_false(d.by_exception);

	/* internal users reach everybody by the default */
	req = req_make(POL_CLASS_IM, POL_ZONE_INTERNAL, "sip:alice@corp.example.com", NULL);
	to_bob(&req);
	d = decide(set, &req);
	assert_allowed(&d, "");
	assert_true(d.by_default);
	pol_set_free(set);
}

/* Only the direct membership of Helpdesk is in the rule; a member of a group nested in it is
 * matched when the caller lists the nested groups, and not otherwise. */
static void
test_nested_groups(void **state)
{
	struct pol_set *set = test_set("rule helpdesk priority 1 {\n"
				       "\tfrom group " HELPDESK " \"Old name of Helpdesk\";\n"
				       "\taction deny 480;\n}\n");
	const char *const direct_only[] = {DOM "-1301", SUPPORT};
	struct pol_request req = req_make(POL_CLASS_CALL, POL_ZONE_INTERNAL,
					  "sip:carol@corp.example.com", "sip:x@corp.example.com");
	struct pol_decision d;

	req.from.sids = carol_sids;
	req.from.nsids = N_ELEMS(carol_sids);
	d = decide(set, &req);
	assert_denied(&d, 480, "Temporarily Unavailable", "helpdesk");
	req.from.sids = direct_only;
	req.from.nsids = N_ELEMS(direct_only);
	d = decide(set, &req);
	assert_allowed(&d, "");
	pol_set_free(set);
}

static void
test_priorities(void **state)
{
	struct pol_set *set = test_set("rule allow-support priority 20 {\n"
				       "\tfrom group " SUPPORT "; action allow; }\n"
				       "rule deny-calls priority 10 {\n"
				       "\tclass call; action deny 603; }\n");
	struct pol_request req = req_make(POL_CLASS_CALL, POL_ZONE_FEDERATED,
					  "sip:carol@corp.example.com", "sip:x@partner.example");
	struct pol_decision d;
	struct pol_error err;

	req.from.sids = carol_sids;
	req.from.nsids = N_ELEMS(carol_sids);
	d = decide(set, &req);
	assert_denied(&d, 603, "Decline", "deny-calls");
	/* the lower number is tried first: moving allow-support before deny-calls flips it */
	assert_int_equal(pol_set_move(set, "allow-support", 5, &err), 0);
	d = decide(set, &req);
	assert_allowed(&d, "allow-support");
	/* an IM is not a call: only allow-support can match */
	req.req_class = POL_CLASS_IM;
	req.from.nsids = 0;
	d = decide(set, &req);
	assert_denied(&d, 403, "Forbidden", "");
	pol_set_free(set);
}

static void
test_default(void **state)
{
	struct pol_set *set = NULL;
	struct pol_request req = req_make(POL_CLASS_PRESENCE, POL_ZONE_INTERNAL, NULL, NULL);
	struct pol_decision d;

	assert_int_equal(pol_set_alloc(&set), 0);
	d = decide(set, &req);
	assert_allowed(&d, "");
	assert_true(d.by_default);
	req.zone = POL_ZONE_FEDERATED;
	d = decide(set, &req);
	assert_denied(&d, 403, "Forbidden", "");
	req.zone = POL_ZONE_EXTERNAL;
	req.net = POL_NET_INTERNAL;
	d = decide(set, &req);
	assert_denied(&d, 403, "Forbidden", "");
	pol_set_free(set);
}

static void
test_custom_deny(void **state)
{
	struct pol_set *set =
	    test_set("rule busy priority 1 {\n"
		     "\tto user sip:CEO@corp.example.com;\n"
		     "\taction deny 486 \"Busy: ask the \\\"assistant\\\"\";\n}\n");
	struct pol_request req =
	    req_make(POL_CLASS_CALL, POL_ZONE_INTERNAL, "sip:alice@corp.example.com",
		     "sips:ceo@Corp.Example.com");
	struct pol_decision d = decide(set, &req);

	assert_denied(&d, 486, "Busy: ask the \"assistant\"", "busy");
	/* the decision holds copies: it survives the set */
	pol_set_free(set);
	assert_string_equal(d.reason, "Busy: ask the \"assistant\"");
	assert_string_equal(d.rule, "busy");
}

/* An allow rule's exception denies with 403; an exception block needs all its conditions. */
static void
test_allow_exceptions(void **state)
{
	struct pol_set *set = test_set("rule partners priority 1 {\n"
				       "\tfrom zone federated;\n"
				       "\texcept from domain evil.example;\n"
				       "\texcept { class call; from network remote; }\n"
				       "\taction allow;\n}\n");
	struct pol_request req = req_make(POL_CLASS_IM, POL_ZONE_FEDERATED,
					  "sip:eve@EVIL.example:5061", "sip:bob@corp.example.com");
	struct pol_decision d = decide(set, &req);

	assert_denied(&d, 403, "Forbidden", "partners");
	assert_true(d.by_exception);
	/* an explicit domain wins over the URI's host */
	req.from.domain = "partner.example";
	d = decide(set, &req);
	assert_allowed(&d, "partners");
	assert_false(d.by_exception);
	/* a remote call hits the second exception; an internal-network call does not */
	req.req_class = POL_CLASS_CALL;
	d = decide(set, &req);
	assert_denied(&d, 403, "Forbidden", "partners");
	assert_true(d.by_exception);
	req.net = POL_NET_INTERNAL;
	d = decide(set, &req);
	assert_allowed(&d, "partners");
	pol_set_free(set);
}

static void
test_identities(void **state)
{
	struct pol_set *set =
	    test_set("rule guests priority 1 {\n"
		     "\tfrom user sip:Guest@Example.NET, domain partner.example;\n"
		     "\tto any;\n\tfrom network remote;\n\taction allow;\n}\n");
	struct pol_request req = req_make(POL_CLASS_IM, POL_ZONE_EXTERNAL, "sips:guest@example.net",
					  "sip:bob@corp.example.com");
	struct pol_decision d = decide(set, &req);

	assert_allowed(&d, "guests");
	req.from.uri = "sip:other@example.net";
	d = decide(set, &req);
	assert_denied(&d, 403, "Forbidden", "");
	req.from.uri = "sip:anyone@partner.example;transport=tls";
	d = decide(set, &req);
	assert_allowed(&d, "guests");
	req.net = POL_NET_INTERNAL;
	d = decide(set, &req);
	assert_denied(&d, 403, "Forbidden", "");
	req.net = POL_NET_REMOTE;
	req.from.uri = NULL;
	d = decide(set, &req);
	assert_denied(&d, 403, "Forbidden", "");
	pol_set_free(set);
}

/* A long SID list with the member group last, and NULL entries that are skipped. */
static void
test_long_sid_list(void **state)
{
	struct pol_set *set = test_set(headline);
	struct pol_request req = req_make(POL_CLASS_IM, POL_ZONE_EXTERNAL, NULL, NULL);
	static char sids[1000][48];
	const char *ptrs[1001];
	struct pol_decision d;

	for (int i = 0; i < 1000; i++) {
		snprintf(sids[i], sizeof(sids[i]), DOM "-%d", 10000 + i);
		ptrs[i] = sids[i];
	}
	ptrs[500] = NULL;
	ptrs[1000] = SUPPORT;
	req.to.sids = ptrs;
	req.to.nsids = 1000;
	d = decide(set, &req);
	assert_denied(&d, 403, "Forbidden", "internet-im");
	req.to.nsids = 1001;
	d = decide(set, &req);
	assert_allowed(&d, "internet-im");
	pol_set_free(set);
}

static void
test_bad_requests(void **state)
{
	struct pol_set *set = test_set(headline);
	struct pol_request req = req_make(POL_CLASS_IM, POL_ZONE_EXTERNAL, NULL, NULL);
	struct pol_decision d;

	req.req_class = POL_CLASS_IM | POL_CLASS_CALL;
	assert_int_equal(pol_eval(set, &req, &d), -EINVAL);
	req.req_class = 0;
	assert_int_equal(pol_eval(set, &req, &d), -EINVAL);
	req.req_class = POL_CLASS_IM;
	req.zone = POL_ZONE_INTERNAL | POL_ZONE_EXTERNAL;
	assert_int_equal(pol_eval(set, &req, &d), -EINVAL);
	req.zone = POL_ZONE_EXTERNAL;
	req.net = 0;
	assert_int_equal(pol_eval(set, &req, &d), -EINVAL);
	req.net = POL_NET_REMOTE;
	req.from.nsids = 3; /* with a NULL list */
	assert_int_equal(pol_eval(set, &req, &d), -EINVAL);
	req.from.nsids = 0;
	assert_int_equal(pol_eval(set, &req, &d), 0);
	pol_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_headline),     cmocka_unit_test(test_nested_groups),
	    cmocka_unit_test(test_priorities),   cmocka_unit_test(test_default),
	    cmocka_unit_test(test_custom_deny),  cmocka_unit_test(test_allow_exceptions),
	    cmocka_unit_test(test_identities),   cmocka_unit_test(test_long_sid_list),
	    cmocka_unit_test(test_bad_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
