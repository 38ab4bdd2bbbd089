/* Unit tests of the dialog state of libgreenwich-proxy: the table (lookup in
 * both directions, expiry, size bound) and the checks of in-dialog requests
 * against dialogs learnt from real INVITE/200 messages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gwp_internal.h"

#include <sofia-sip/sip_header.h>
#include <sofia-sip/msg_parser.h>

#define NOW ((time_t)1700000000)

static struct gwp_dialog *
make(const char *call_id, const char *a, const char *b)
{
	const char *tag[2] = {a, b};
	const char *target[2] = {"sip:caller@192.0.2.1", "sip:op@192.0.2.2"};
	const char *routes[2] = {"", ""};
	struct gwp_dialog *d = gwp_dialog_make(call_id, tag, target, routes, "sip:op@192.0.2.2");

	assert_non_null(d);
	return d;
}

static void
test_find_both_directions(void **state)
{
	struct gwp_dtable t;
	int dir = -1;

	assert_int_equal(gwp_dtable_init(&t, 8, 60), 0);
	assert_null(gwp_dtable_insert(&t, make("c1", "ta", "tb"), NOW));
	assert_null(gwp_dtable_insert(&t, make("c2", "ta", "tb"), NOW));
	assert_non_null(gwp_dtable_find(&t, "c1", "ta", "tb", NOW, &dir));
	assert_int_equal(dir, GWP_CALLER);
	assert_non_null(gwp_dtable_find(&t, "c1", "tb", "ta", NOW, &dir));
	assert_int_equal(dir, GWP_CALLEE);
	/* every part of the dialog id must match, exactly */
	assert_null(gwp_dtable_find(&t, "c3", "ta", "tb", NOW, &dir));
	assert_null(gwp_dtable_find(&t, "c1", "ta", "tx", NOW, &dir));
	assert_null(gwp_dtable_find(&t, "c1", "tx", "tb", NOW, &dir));
	assert_null(gwp_dtable_find(&t, "c1", "TA", "tb", NOW, &dir));
	assert_null(gwp_dtable_find(&t, "c1", "ta", "ta", NOW, &dir));
	assert_null(gwp_dtable_find(&t, "c1", "ta", NULL, NOW, &dir));
	assert_null(gwp_dtable_find(&t, "c1", NULL, "tb", NOW, &dir));
	assert_int_equal(t.count, 2);
	gwp_dtable_fini(&t);
}

static void
test_expiry(void **state)
{
	struct gwp_dtable t;
	struct gwp_dialog *d;
	int dir;

	assert_int_equal(gwp_dtable_init(&t, 8, 60), 0);
	gwp_dtable_insert(&t, make("c1", "a", "b"), NOW);
	gwp_dtable_insert(&t, make("c2", "a", "b"), NOW + 10);
	/* both acknowledged: they live idle_s from their last request */
	gwp_dtable_touch(&t, gwp_dtable_find(&t, "c1", "a", "b", NOW, &dir), 1, NOW);
	gwp_dtable_touch(&t, gwp_dtable_find(&t, "c2", "a", "b", NOW, &dir), 1, NOW + 10);
	assert_non_null(gwp_dtable_find(&t, "c1", "a", "b", NOW + 59, &dir));
	assert_null(gwp_dtable_find(&t, "c1", "a", "b", NOW + 60, &dir));
	/* use keeps a dialog alive */
	d = gwp_dtable_find(&t, "c1", "a", "b", NOW + 30, &dir);
	gwp_dtable_touch(&t, d, 0, NOW + 30);
	assert_null(gwp_dtable_expired(&t, NOW + 69));
	d = gwp_dtable_expired(&t, NOW + 70);
	assert_non_null(d);
	assert_string_equal(d->call_id, "c2");
	gwp_dialog_free(d);
	assert_null(gwp_dtable_expired(&t, NOW + 89));
	d = gwp_dtable_expired(&t, NOW + 90);
	assert_non_null(d);
	assert_string_equal(d->call_id, "c1");
	gwp_dialog_free(d);
	assert_int_equal(t.count, 0);
	assert_null(gwp_dtable_find(&t, "c1", "a", "b", NOW, &dir));
	gwp_dtable_fini(&t);
}

/* A 2xx nobody acknowledges holds its room 64*T1 (32 s), not idle_s; requests
 * other than the ACK do not keep it. */
static void
test_unacked_expiry(void **state)
{
	struct gwp_dtable t;
	struct gwp_dialog *d;
	int dir;

	assert_int_equal(gwp_dtable_init(&t, 2, 21600), 0);
	gwp_dtable_insert(&t, make("c1", "a", "b"), NOW);
	gwp_dtable_insert(&t, make("c2", "a", "b"), NOW + 1);
	assert_true(gwp_dtable_full(&t));
	d = gwp_dtable_find(&t, "c1", "a", "b", NOW + 5, &dir);
	gwp_dtable_touch(&t, d, 0, NOW + 5); /* an INFO before the ACK */
	gwp_dtable_touch(&t, gwp_dtable_find(&t, "c2", "a", "b", NOW + 6, &dir), 1, NOW + 6);
	assert_null(gwp_dtable_expired(&t, NOW + GWP_DIALOG_UNACKED_S - 1));
	d = gwp_dtable_expired(&t, NOW + GWP_DIALOG_UNACKED_S);
	assert_non_null(d);
	assert_string_equal(d->call_id, "c1");
	gwp_dialog_free(d);
	assert_false(gwp_dtable_full(&t));
	/* the acknowledged one stays */
	assert_null(gwp_dtable_expired(&t, NOW + 3600));
	assert_non_null(gwp_dtable_find(&t, "c2", "a", "b", NOW + 3600, &dir));
	gwp_dtable_fini(&t);
}

/* INVITEs being forwarded hold room: with them the table is full, and their
 * answers never push an acknowledged call out. */
static void
test_reserved(void **state)
{
	struct gwp_dtable t;
	int dir;

	assert_int_equal(gwp_dtable_init(&t, 2, 60), 0);
	gwp_dtable_insert(&t, make("c1", "a", "b"), NOW);
	gwp_dtable_touch(&t, gwp_dtable_find(&t, "c1", "a", "b", NOW, &dir), 1, NOW);
	t.reserved = 1;
	assert_true(gwp_dtable_full(&t));
	t.reserved = 0; /* answered: its room is the dialog's */
	assert_null(gwp_dtable_insert(&t, make("c2", "a", "b"), NOW));
	/* a second 2xx of a forked call beyond the room: the unacknowledged one goes */
	struct gwp_dialog *d = gwp_dtable_insert(&t, make("c2", "a", "x"), NOW);
	assert_non_null(d);
	assert_string_equal(d->tag[GWP_CALLEE], "b");
	gwp_dialog_free(d);
	assert_non_null(gwp_dtable_find(&t, "c1", "a", "b", NOW, &dir));
	gwp_dtable_fini(&t);
}

static void
test_bounded(void **state)
{
	struct gwp_dtable t;
	struct gwp_dialog *d;
	char id[32];
	int i, dir;

	assert_int_equal(gwp_dtable_init(&t, 3, 60), 0);
	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		assert_null(gwp_dtable_insert(&t, make(id, "a", "b"), NOW));
	}
	assert_true(gwp_dtable_full(&t));
	/* c0 was acknowledged, so c1 is the oldest unacknowledged one and goes */
	gwp_dtable_touch(&t, gwp_dtable_find(&t, "c0", "a", "b", NOW, &dir), 1, NOW);
	d = gwp_dtable_insert(&t, make("c3", "a", "b"), NOW);
	assert_non_null(d);
	assert_string_equal(d->call_id, "c1");
	gwp_dialog_free(d);
	assert_int_equal(t.count, 3);
	/* the same dialog again replaces itself, nothing is pushed out */
	assert_null(gwp_dtable_insert(&t, make("c3", "a", "b"), NOW));
	assert_int_equal(t.count, 3);
	d = gwp_dtable_find(&t, "c3", "a", "b", NOW, &dir);
	gwp_dtable_remove(&t, d);
	gwp_dialog_free(d);
	assert_int_equal(t.count, 2);
	gwp_dtable_fini(&t);
	assert_int_equal(gwp_dtable_init(&t, 0, 60), GWP_ERR_INVAL);
}

/* --- dialogs learnt from messages, and the checks of requests --- */

static struct gwp_proxy proxy;

static int
setup(void **state)
{
	memset(&proxy, 0, sizeof(proxy));
	assert_int_equal(gwp_config_add_listen(&proxy.cfg, GWP_TRANSPORT_UDP, "127.0.0.1", 5300),
			 0);
	assert_int_equal(gwp_dtable_init(&proxy.dialogs, 16, 60), 0);
	return 0;
}

static int
teardown(void **state)
{
	gwp_dialog_free_all(&proxy);
	gwp_config_clear(&proxy.cfg);
	return 0;
}

static msg_t *
parse(const char *text)
{
	msg_t *m = msg_make(sip_default_mclass(), 0, text, (isize_t)strlen(text));

	assert_non_null(m);
	assert_non_null(sip_object(m));
	return m;
}

/* An INVITE that went through another proxy (p2) after us, as p2 saw it. */
static const char invite[] = "INVITE sip:helpdesk@helpdesk.test SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n"
			     "From: <sip:caller@example.com>;tag=ct\r\n"
			     "To: <sip:helpdesk@helpdesk.test>\r\n"
			     "Call-ID: call-1\r\n"
			     "CSeq: 1 INVITE\r\n"
			     "Contact: <sip:caller@127.0.0.1:5070>\r\n"
			     "Content-Length: 0\r\n\r\n";

static const char ok[] = "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n"
			 "Record-Route: <sip:p2.test;lr>\r\n"
			 "Record-Route: <sip:127.0.0.1:5300;transport=udp;lr>\r\n"
			 "Record-Route: <sip:p0.test;lr>\r\n"
			 "From: <sip:caller@example.com>;tag=ct\r\n"
			 "To: <sip:helpdesk@helpdesk.test>;tag=ot\r\n"
			 "Call-ID: call-1\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "Contact: <sip:op@127.0.0.1:5312>\r\n"
			 "Content-Length: 0\r\n\r\n";

/* What the caller's requests carry: our Route, then p2's. */
#define CALLER_ROUTES                                                                              \
	"Route: <sip:127.0.0.1:5300;transport=udp;lr>\r\n"                                         \
	"Route: <sip:p2.test;lr>\r\n"

/* status of gwp_dialog_match() for a request */
static int
match(const char *method, const char *ruri, const char *from_tag, const char *to_tag,
      const char *routes)
{
	char text[1024];
	msg_t *m;
	int status = -1;

	snprintf(text, sizeof(text),
		 "%s %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-2\r\n"
		 "%s"
		 "From: <sip:a@example.com>;tag=%s\r\n"
		 "To: <sip:b@example.com>;tag=%s\r\n"
		 "Call-ID: call-1\r\n"
		 "CSeq: 2 %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 method, ruri, routes, from_tag, to_tag, method);
	m = parse(text);
	if (gwp_dialog_match(&proxy, sip_object(m), &status))
		assert_int_equal(status, 0);
	else
		assert_int_not_equal(status, 0);
	msg_destroy(m);
	return status;
}

static void
learn(void)
{
	msg_t *req = parse(invite), *resp = parse(ok);

	assert_int_equal(gwp_dialog_answered(&proxy, req, sip_object(resp), "sip:op@x"), 0);
	msg_destroy(req);
	msg_destroy(resp);
}

static void
test_in_dialog_checks(void **state)
{
	const char *ours = "Route: <sip:127.0.0.1:5300;transport=udp;lr>\r\n";

	assert_int_equal(match("BYE", "sip:op@127.0.0.1:5312", "ct", "ot", ""), 481);
	learn();
	/* the caller: to the operator's Contact, through p2 after us */
	assert_int_equal(match("BYE", "sip:op@127.0.0.1:5312", "ct", "ot", CALLER_ROUTES), 0);
	assert_int_equal(match("ACK", "sip:op@127.0.0.1:5312", "ct", "ot",
			       "Route: <sip:p0.test;lr>, <sip:127.0.0.1:5300;transport=udp;lr>, "
			       "<sip:p2.test;lr>\r\n"),
			 403); /* p0 is not on the caller's side */
	/* the operator: to the caller's Contact, through p0 after us */
	assert_int_equal(
	    match("INFO", "sip:caller@127.0.0.1:5070", "ot", "ct",
		  "Route: <sip:127.0.0.1:5300;transport=udp;lr>, <sip:p0.test;lr>\r\n"),
	    0);
	/* retargeted: right dialog, another Request-URI */
	assert_int_equal(match("BYE", "sip:victim@192.0.2.99", "ct", "ot", CALLER_ROUTES), 403);
	assert_int_equal(match("BYE", "sip:caller@127.0.0.1:5070", "ct", "ot", CALLER_ROUTES),
			 403); /* the caller's own target is not the caller's peer */
	/* the Route set must be the dialog's: no more, no less, no other */
	assert_int_equal(match("BYE", "sip:op@127.0.0.1:5312", "ct", "ot", ours), 403);
	assert_int_equal(match("BYE", "sip:op@127.0.0.1:5312", "ct", "ot",
			       "Route: <sip:127.0.0.1:5300;transport=udp;lr>\r\n"
			       "Route: <sip:p2.test;lr>, <sip:192.0.2.99;lr>\r\n"),
			 403);
	assert_int_equal(match("BYE", "sip:op@127.0.0.1:5312", "ct", "ot",
			       "Route: <sip:127.0.0.1:5300;transport=udp;lr>\r\n"
			       "Route: <sip:192.0.2.99;lr>\r\n"),
			 403);
	/* forged tags or Call-ID */
	assert_int_equal(match("BYE", "sip:op@127.0.0.1:5312", "ct", "other", CALLER_ROUTES), 481);
	assert_int_equal(match("BYE", "sip:op@127.0.0.1:5312", "ot", "ot", CALLER_ROUTES), 481);
}

static void
test_bye_closes(void **state)
{
	msg_t *bye;

	learn();
	bye = parse("BYE sip:op@127.0.0.1:5312 SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-3\r\n"
		    "From: <sip:a@example.com>;tag=ct\r\n"
		    "To: <sip:b@example.com>;tag=ot\r\n"
		    "Call-ID: call-1\r\n"
		    "CSeq: 3 BYE\r\n"
		    "Content-Length: 0\r\n\r\n");
	gwp_dialog_closed(&proxy, bye, 500); /* a failed BYE leaves the dialog */
	assert_int_equal(proxy.dialogs.count, 1);
	gwp_dialog_closed(&proxy, bye, 200);
	assert_int_equal(proxy.dialogs.count, 0);
	msg_destroy(bye);
	assert_int_equal(match("BYE", "sip:op@127.0.0.1:5312", "ct", "ot", CALLER_ROUTES), 481);
}

static void
test_no_dialog_without_our_record_route(void **state)
{
	msg_t *req = parse(invite), *resp;
	char text[sizeof(ok)];
	char *rr;

	/* a 2xx that does not carry our Record-Route (or no Contact) makes no dialog */
	memcpy(text, ok, sizeof(ok));
	rr = strstr(text, "127.0.0.1:5300");
	memcpy(rr, "127.0.0.1:5399", 14);
	resp = parse(text);
	assert_int_equal(gwp_dialog_answered(&proxy, req, sip_object(resp), "sip:op@x"), -1);
	msg_destroy(resp);
	memcpy(text, ok, sizeof(ok));
	memcpy(strstr(text, "Contact:"), "X-Contac:", 9);
	resp = parse(text);
	assert_int_equal(gwp_dialog_answered(&proxy, req, sip_object(resp), "sip:op@x"), -1);
	msg_destroy(resp);
	msg_destroy(req);
	assert_int_equal(proxy.dialogs.count, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find_both_directions),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_unacked_expiry),
	    cmocka_unit_test(test_reserved),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test_setup_teardown(test_in_dialog_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bye_closes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_dialog_without_our_record_route, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
