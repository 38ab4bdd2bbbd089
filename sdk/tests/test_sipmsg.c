/* Unit tests of the routing decisions inside libgreenwich-proxy: failover
 * codes, best-response ranking, our own addresses, request rewriting and
 * request facts. Linked with the static archive to reach internals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "gwp_internal.h"

#include <sofia-sip/sip_header.h>
#include <sofia-sip/msg_parser.h>

static struct gwp_proxy proxy;

static int
setup(void **state)
{
	memset(&proxy, 0, sizeof(proxy));
	pthread_mutex_init(&proxy.mu, NULL);
	proxy.refs = 1;
	assert_int_equal(gwp_config_add_listen(&proxy.cfg, GWP_TRANSPORT_UDP, "127.0.0.1", 5300),
			 0);
	assert_int_equal(gwp_config_add_listen(&proxy.cfg, GWP_TRANSPORT_TCP, "127.0.0.1", 5301),
			 0);
	assert_int_equal(gwp_config_set_domain(&proxy.cfg, "helpdesk.test"), 0);
	return 0;
}

static int
teardown(void **state)
{
	assert_int_equal(proxy.refs, 1);
	gwp_config_clear(&proxy.cfg);
	pthread_mutex_destroy(&proxy.mu);
	return 0;
}

static msg_t *
parse(const char *text)
{
	msg_t *m = msg_make(sip_default_mclass(), 0, text, (isize_t)strlen(text));

	assert_non_null(m);
	assert_non_null(sip_object(m)->sip_request);
	return m;
}

static const char invite[] = "INVITE sip:helpdesk@helpdesk.test SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n"
			     "Route: <sip:127.0.0.1:5300;lr>\r\n"
			     "Route: <sip:192.0.2.7;lr>\r\n"
			     "Max-Forwards: 12\r\n"
			     "From: \"Caller\" <sip:caller@example.com>;tag=a1\r\n"
			     "To: <sip:helpdesk@helpdesk.test>\r\n"
			     "Call-ID: call-1@example.com\r\n"
			     "CSeq: 1 INVITE\r\n"
			     "Contact: <sip:caller@127.0.0.1:5070>;expires=120\r\n"
			     "Subject: printer on fire\r\n"
			     "X-Priority: high\r\n"
			     "Content-Length: 0\r\n\r\n";

static void
test_failover_codes(void **state)
{
	static const int yes[] = {408, 480, 486, 500, 503, 504, 600, 603};
	static const int no[] = {400, 401, 403, 404, 407, 484, 487, 604, 606};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(gwp_status_fails_over(yes[i]));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(gwp_status_fails_over(no[i]));
}

static void
test_best_response_rank(void **state)
{
	assert_true(gwp_status_rank(603, 0) < gwp_status_rank(486, 0));
	assert_true(gwp_status_rank(486, 0) < gwp_status_rank(404, 0));
	assert_true(gwp_status_rank(404, 0) < gwp_status_rank(503, 0));
	/* a timeout we made ourselves loses against any real answer */
	assert_true(gwp_status_rank(503, 0) < gwp_status_rank(408, 1));
	assert_true(gwp_status_rank(486, 0) < gwp_status_rank(408, 1));
}

static void
test_our_addresses(void **state)
{
	url_t *u1 = url_make(NULL, "sip:127.0.0.1:5300;lr");
	url_t *u2 = url_make(NULL, "sip:127.0.0.1:5302;lr");
	url_t *u3 = url_make(NULL, "sip:127.0.0.1;lr");

	assert_true(gwp_url_is_ours(&proxy, u1));
	assert_false(gwp_url_is_ours(&proxy, u2));
	assert_false(gwp_url_is_ours(&proxy, u3)); /* 5060 is not ours */
	assert_true(gwp_host_is_local(&proxy, "HelpDesk.Test"));
	assert_true(gwp_host_is_local(&proxy, "127.0.0.1"));
	assert_false(gwp_host_is_local(&proxy, "example.com"));
	su_free(NULL, u1);
	su_free(NULL, u2);
	su_free(NULL, u3);
}

static void
test_loop_detection(void **state)
{
	msg_t *m = parse(invite);
	sip_t *sip = sip_object(m);
	sip_via_t *via = sip_via_make(msg_home(m), "SIP/2.0/UDP 127.0.0.1:5301;branch=z9hG4bKx");

	assert_false(gwp_via_has_us(&proxy, sip->sip_via));
	assert_non_null(via);
	msg_header_insert(m, (msg_pub_t *)sip, (msg_header_t *)via);
	assert_true(gwp_via_has_us(&proxy, sip->sip_via));
	msg_destroy(m);
}

static void
test_prepare_rewrites(void **state)
{
	msg_t *m = parse(invite);
	msg_t *out = gwp_msg_prepare(&proxy, m, 1);
	sip_t *sip;

	assert_non_null(out);
	sip = sip_object(out);
	assert_int_equal(sip->sip_max_forwards->mf_count, 11);
	/* our Route is gone, the next hop's stays */
	assert_non_null(sip->sip_route);
	assert_string_equal(sip->sip_route->r_url->url_host, "192.0.2.7");
	assert_null(sip->sip_route->r_next);
	/* our Record-Route is on top, loose routing, on the UDP listener */
	assert_non_null(sip->sip_record_route);
	assert_string_equal(sip->sip_record_route->r_url->url_host, "127.0.0.1");
	assert_string_equal(sip->sip_record_route->r_url->url_port, "5300");
	assert_non_null(url_has_param(sip->sip_record_route->r_url, "lr"));
	/* the original is untouched */
	assert_int_equal(sip_object(m)->sip_max_forwards->mf_count, 12);
	msg_destroy(out);
	msg_destroy(m);
}

static void
test_prepare_without_max_forwards(void **state)
{
	const char *text = "MESSAGE sip:bob@helpdesk.test SIP/2.0\r\n"
			   "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-2\r\n"
			   "From: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@helpdesk.test>\r\n"
			   "Call-ID: m-1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
	msg_t *m = parse(text);
	msg_t *out = gwp_msg_prepare(&proxy, m, 1);

	assert_non_null(out);
	assert_int_equal(sip_object(out)->sip_max_forwards->mf_count, 69);
	/* a TCP request is record-routed through the TCP listener */
	assert_string_equal(sip_object(out)->sip_record_route->r_url->url_port, "5301");
	msg_destroy(out);
	msg_destroy(m);
}

static void
test_request_facts(void **state)
{
	msg_t *m = parse(invite);
	struct gwp_request *req = gwp_request_from_sip(&proxy, m, sip_object(m));

	assert_non_null(req);
	assert_int_equal(proxy.refs, 2);
	assert_string_equal(gwp_request_method(req), "INVITE");
	assert_string_equal(gwp_request_uri(req), "sip:helpdesk@helpdesk.test");
	assert_string_equal(gwp_request_user(req), "helpdesk");
	assert_string_equal(gwp_request_from(req), "sip:caller@example.com");
	assert_string_equal(gwp_request_to(req), "sip:helpdesk@helpdesk.test");
	assert_string_equal(gwp_request_call_id(req), "call-1@example.com");
	assert_string_equal(gwp_request_contact(req), "sip:caller@127.0.0.1:5070");
	assert_int_equal(gwp_request_expires(req), 120);
	assert_string_equal(gwp_request_header(req, "subject"), "printer on fire");
	assert_string_equal(gwp_request_header(req, "X-Priority"), "high");
	assert_string_equal(gwp_request_header(req, "CSeq"), "1 INVITE");
	assert_null(gwp_request_header(req, "X-Missing"));
	gwp_request_free(req);
	msg_destroy(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_failover_codes),
	    cmocka_unit_test(test_best_response_rank),
	    cmocka_unit_test(test_our_addresses),
	    cmocka_unit_test(test_loop_detection),
	    cmocka_unit_test(test_prepare_rewrites),
	    cmocka_unit_test(test_prepare_without_max_forwards),
	    cmocka_unit_test(test_request_facts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
