/*
 * test_loc.c - the registrar's rules in the location service (daemon/location/loc.c
 * over daemon/location/store.c): add, refresh, remove, q order, Call-ID and CSeq
 * ordering (RFC 3261 section 10.3), Contact: *, max-contacts, +sip.instance.
 *
 * Every successful change is checked against the rows in the database.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "loc_fixture.h"

static void
test_add(void **state)
{
	struct fixture *f = *state;
	struct loc_update u = {.uri = "sip:alice@127.0.0.1:40000;transport=tcp",
			       .expires = 3600,
			       .q = 800,
			       .instance = "\"<urn:uuid:00000000-0000-0000-0000-000000000001>\""};
	struct loc_register_req r = fx_req(ALICE, "call-1", 7, &u, 1);
	struct loc_contact c;

	r.path = "<sip:edge.example.com;lr>";
	assert_int_equal(fx_live(f, ALICE, f->now), 0);
	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
	assert_int_equal(loc_count(f->loc), 1);
	fx_lookup1(f, "Alice@Example.COM", f->now, &c);
	assert_string_equal(c.aor, ALICE);
	assert_string_equal(c.uri, u.uri);
	assert_string_equal(c.call_id, "call-1");
	assert_int_equal(c.cseq, 7);
	assert_int_equal(c.expires, f->now + 3600);
	assert_int_equal(c.q, 800);
	assert_string_equal(c.path, r.path);
	assert_string_equal(c.instance, u.instance);
	assert_string_equal(c.user_agent, "unit-phone/1.0");
	assert_int_equal(c.flow.worker, 2);
	assert_int_equal(c.flow.id, 77);
	assert_string_equal(c.flow.transport, "tcp");
	assert_string_equal(c.flow.addr, "127.0.0.1:40000");
	loc_contact_clear(&c);
	assert_int_equal(fx_live(f, BOB, f->now), 0);
}

static void
test_refresh(void **state)
{
	struct fixture *f = *state;
	struct loc_contact c;

	fx_bind(f, ALICE, "call-1", 1, "sip:alice@127.0.0.1:5062", 3600, f->now);
	fx_bind(f, ALICE, "call-1", 2, "sip:alice@127.0.0.1:5062", 600, f->now + 100);
	assert_int_equal(loc_count(f->loc), 1);
	fx_lookup1(f, ALICE, f->now + 100, &c);
	assert_int_equal(c.cseq, 2);
	assert_int_equal(c.expires, f->now + 700);
	loc_contact_clear(&c);
}

static void
test_remove(void **state)
{
	struct fixture *f = *state;

	fx_bind(f, ALICE, "call-1", 1, "sip:alice@127.0.0.1:5062", 3600, f->now);
	fx_bind(f, ALICE, "call-1", 2, "sip:alice@127.0.0.1:5064", 3600, f->now);
	fx_bind(f, ALICE, "call-1", 3, "sip:alice@127.0.0.1:5062", 0, f->now);
	assert_int_equal(loc_count(f->loc), 1);
	assert_int_equal(fx_live(f, ALICE, f->now), 1);
	/* removing a contact that is not bound is accepted and changes nothing */
	fx_bind(f, ALICE, "call-1", 4, "sip:alice@127.0.0.1:5099", 0, f->now);
	assert_int_equal(loc_count(f->loc), 1);
	fx_bind(f, ALICE, "call-1", 5, "sip:alice@127.0.0.1:5064", 0, f->now);
	assert_int_equal(loc_count(f->loc), 0);
	assert_int_equal(fx_live(f, ALICE, f->now), 0);
}

/* Several contacts; lookups give the highest q first, no q last. */
static void
test_several_contacts_q_order(void **state)
{
	struct fixture *f = *state;
	struct loc_update u[] = {
	    {.uri = "sip:alice@127.0.0.1:5001", .expires = 3600, .q = 500},
	    {.uri = "sip:alice@127.0.0.1:5002", .expires = 3600, .q = 1000},
	    {.uri = "sip:alice@127.0.0.1:5003", .expires = 3600, .q = -1},
	    {.uri = "sip:alice@127.0.0.1:5004", .expires = 3600, .q = 100},
	};
	struct loc_update more = {.uri = "sip:alice@127.0.0.1:5005", .expires = 3600, .q = 700};
	struct loc_register_req r = fx_req(ALICE, "call-1", 1, u, 4);
	struct loc_register_req r2 = fx_req(ALICE, "call-2", 1, &more, 1);
	static const int want_q[] = {1000, 700, 500, 100, -1};
	static const char *want_port[] = {"5002", "5005", "5001", "5004", "5003"};
	struct loc_contact *v = NULL;
	size_t n = 0;

	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
	assert_int_equal(fx_reg(f, &r2, f->now), LOC_OK);
	fx_bind(f, BOB, "call-3", 1, "sip:bob@127.0.0.1:5006", 3600, f->now);
	assert_int_equal(loc_count(f->loc), 6);
	assert_int_equal(loc_lookup(f->loc, ALICE, f->now, &v, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(v[i].q, want_q[i]);
		assert_non_null(strstr(v[i].uri, want_port[i]));
		assert_string_equal(v[i].aor, ALICE);
	}
	loc_contacts_free(v, n);
}

/* Same Call-ID, lower CSeq: refused, and nothing at all changes. */
static void
test_out_of_order(void **state)
{
	struct fixture *f = *state;
	struct loc_update u[] = {
	    {.uri = "sip:alice@127.0.0.1:5010", .expires = 3600, .q = -1},
	    {.uri = "sip:alice@127.0.0.1:5062", .expires = 7200, .q = -1},
	};
	struct loc_register_req r = fx_req(ALICE, "call-1", 9, u, 2);
	struct loc_register_req star = fx_req(ALICE, "call-1", 9, NULL, 0);
	char before[SNAP_LEN], after[SNAP_LEN];

	fx_bind(f, ALICE, "call-1", 10, "sip:alice@127.0.0.1:5062", 3600, f->now);
	fx_snapshot(f, before, sizeof(before));
	/* a new contact first, then the stale one: the new one is not added either */
	assert_int_equal(fx_reg(f, &r, f->now + 5), LOC_OUT_OF_ORDER);
	fx_snapshot(f, after, sizeof(after));
	assert_string_equal(before, after);
	/* a stale removal */
	assert_int_equal(fx_reg1(f, ALICE, "call-1", 3, "sip:alice@127.0.0.1:5062", 0, f->now),
			 LOC_OUT_OF_ORDER);
	star.remove_all = true;
	assert_int_equal(fx_reg(f, &star, f->now), LOC_OUT_OF_ORDER);
	fx_snapshot(f, after, sizeof(after));
	assert_string_equal(before, after);
}

/* Same Call-ID and CSeq: a retransmission, answered but not applied again. */
static void
test_retransmission(void **state)
{
	struct fixture *f = *state;
	char before[SNAP_LEN], after[SNAP_LEN];
	struct loc_contact c;

	fx_bind(f, ALICE, "call-1", 10, "sip:alice@127.0.0.1:5062", 3600, f->now);
	fx_snapshot(f, before, sizeof(before));
	fx_bind(f, ALICE, "call-1", 10, "sip:alice@127.0.0.1:5062", 1800, f->now + 30);
	fx_snapshot(f, after, sizeof(after));
	assert_string_equal(before, after);
	fx_lookup1(f, ALICE, f->now + 30, &c);
	assert_int_equal(c.expires, f->now + 3600);
	assert_int_equal(c.cseq, 10);
	loc_contact_clear(&c);
}

/* Another Call-ID (the phone restarted) replaces the binding, whatever its CSeq. */
static void
test_new_call_id_replaces(void **state)
{
	struct fixture *f = *state;
	struct loc_contact c;

	fx_bind(f, ALICE, "call-1", 500, "sip:alice@127.0.0.1:5062", 3600, f->now);
	fx_bind(f, ALICE, "call-2", 1, "sip:alice@127.0.0.1:5062", 120, f->now + 10);
	assert_int_equal(loc_count(f->loc), 1);
	fx_lookup1(f, ALICE, f->now + 10, &c);
	assert_string_equal(c.call_id, "call-2");
	assert_int_equal(c.cseq, 1);
	assert_int_equal(c.expires, f->now + 130);
	loc_contact_clear(&c);
}

/* Contact: * removes every binding of the AOR and no other. */
static void
test_remove_all(void **state)
{
	struct fixture *f = *state;
	struct loc_register_req star = fx_req("ALICE@example.com", "call-9", 1, NULL, 0);

	fx_bind(f, ALICE, "call-1", 1, "sip:alice@127.0.0.1:5001", 3600, f->now);
	fx_bind(f, ALICE, "call-1", 2, "sip:alice@127.0.0.1:5002", 3600, f->now);
	fx_bind(f, ALICE, "call-2", 1, "sip:alice@127.0.0.1:5003", 3600, f->now);
	fx_bind(f, BOB, "call-3", 1, "sip:bob@127.0.0.1:5004", 3600, f->now);
	star.remove_all = true;
	assert_int_equal(fx_reg(f, &star, f->now), LOC_OK);
	assert_int_equal(fx_live(f, ALICE, f->now), 0);
	assert_int_equal(fx_live(f, BOB, f->now), 1);
	assert_int_equal(loc_count(f->loc), 1);
	fx_assert_agrees(f, ALICE, 0);
	fx_assert_agrees(f, BOB, 0);
}

/* More than max_contacts: refused, nothing changed; expired ones do not count. */
static void
test_max_contacts(void **state)
{
	struct fixture *f = *state;
	struct loc_update first[] = {
	    {.uri = "sip:alice@127.0.0.1:5001", .expires = 3600, .q = -1},
	    {.uri = "sip:alice@127.0.0.1:5002", .expires = 3600, .q = -1},
	};
	struct loc_update swap[] = {
	    {.uri = "sip:alice@127.0.0.1:5001", .expires = 0, .q = -1},
	    {.uri = "sip:alice@127.0.0.1:5003", .expires = 3600, .q = -1},
	};
	struct loc_update two[] = {
	    {.uri = "sip:alice@127.0.0.1:5004", .expires = 600, .q = -1},
	    {.uri = "sip:alice@127.0.0.1:5005", .expires = 600, .q = -1},
	};
	struct loc_register_req r = fx_req(ALICE, "call-1", 1, first, 2);
	char before[SNAP_LEN], after[SNAP_LEN];

	r.max_contacts = 2;
	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
	fx_snapshot(f, before, sizeof(before));

	/* a third device */
	r = fx_req(ALICE, "call-2", 1, &two[0], 1);
	r.max_contacts = 2;
	assert_int_equal(fx_reg(f, &r, f->now), LOC_TOO_MANY);
	fx_snapshot(f, after, sizeof(after));
	assert_string_equal(before, after);

	/* one out, one in, in the same request: still two */
	r = fx_req(ALICE, "call-1", 2, swap, 2);
	r.max_contacts = 2;
	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
	assert_int_equal(fx_live(f, ALICE, f->now), 2);

	/* two more next to two live ones exceed three, and nothing is added */
	r = fx_req(ALICE, "call-3", 1, two, 2);
	r.max_contacts = 3;
	fx_snapshot(f, before, sizeof(before));
	assert_int_equal(fx_reg(f, &r, f->now), LOC_TOO_MANY);
	fx_snapshot(f, after, sizeof(after));
	assert_string_equal(before, after);

	/* once the two have expired they no longer count */
	r.max_contacts = 2;
	assert_int_equal(fx_reg(f, &r, f->now + 3600), LOC_OK);
	assert_int_equal(fx_live(f, ALICE, f->now + 3600), 2);
	assert_int_equal(loc_count(f->loc), 4);
}

/* +sip.instance identifies the device: a new URI replaces the old binding. */
static void
test_instance_replaces(void **state)
{
	struct fixture *f = *state;
	const char *inst = "\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\"";
	struct loc_update u = {
	    .uri = "sip:alice@192.0.2.1:5062", .expires = 3600, .q = -1, .instance = inst};
	struct loc_update other = {.uri = "sip:alice@192.0.2.9:5062",
				   .expires = 3600,
				   .q = -1,
				   .instance = "\"<urn:uuid:other>\""};
	struct loc_register_req r = fx_req(ALICE, "call-1", 1, &u, 1);
	struct loc_contact c;

	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
	r = fx_req(ALICE, "call-2", 1, &other, 1);
	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
	u.uri = "sip:alice@192.0.2.2:5070";
	r = fx_req(ALICE, "call-3", 1, &u, 1);
	assert_int_equal(fx_reg(f, &r, f->now + 60), LOC_OK);
	assert_int_equal(loc_count(f->loc), 2);
	assert_int_equal(fx_live(f, ALICE, f->now + 60), 2);
	assert_int_equal(loc_lookup_uri(f->loc, "sip:alice@192.0.2.1:5062", f->now + 60, &c),
			 -ENOENT);
	assert_int_equal(loc_lookup_uri(f->loc, "sip:alice@192.0.2.2:5070", f->now + 60, &c), 0);
	assert_string_equal(c.instance, inst);
	assert_string_equal(c.call_id, "call-3");
	loc_contact_clear(&c);
	assert_int_equal(loc_lookup_uri(f->loc, other.uri, f->now + 60, &c), 0);
	assert_string_equal(c.call_id, "call-2");
	loc_contact_clear(&c);
	fx_assert_agrees(f, ALICE, 0);
}

static void
test_lookup_uri(void **state)
{
	struct fixture *f = *state;
	struct loc_contact c;

	fx_bind(f, ALICE, "call-1", 1, "sip:alice@127.0.0.1:5001", 3600, f->now);
	fx_bind(f, BOB, "call-2", 1, "sip:bob@127.0.0.1:5002", 100, f->now);
	assert_int_equal(loc_lookup_uri(f->loc, "sip:bob@127.0.0.1:5002", f->now, &c), 0);
	assert_string_equal(c.aor, BOB);
	assert_string_equal(c.call_id, "call-2");
	loc_contact_clear(&c);
	assert_int_equal(loc_lookup_uri(f->loc, "sip:alice@127.0.0.1:5001", f->now, &c), 0);
	assert_string_equal(c.aor, ALICE);
	loc_contact_clear(&c);
	assert_int_equal(loc_lookup_uri(f->loc, "sip:carol@127.0.0.1:5001", f->now, &c), -ENOENT);
	assert_int_equal(loc_lookup_uri(f->loc, "sip:bob@127.0.0.1:5002", f->now + 100, &c),
			 -ENOENT);
}

/* A REGISTER that names the same contact twice leaves one binding, in
 * memory as in the store, whether the contact was bound before or not. */
static void
test_same_contact_twice(void **state)
{
	struct fixture *f = *state;
	struct loc_update bound[] = {
	    {.uri = "sip:alice@127.0.0.1:5001", .expires = 600, .q = -1},
	    {.uri = "sip:alice@127.0.0.1:5001", .expires = 1200, .q = -1},
	};
	struct loc_update fresh[] = {
	    {.uri = "sip:alice@127.0.0.1:5002", .expires = 600, .q = -1},
	    {.uri = "sip:alice@127.0.0.1:5002", .expires = 1200, .q = -1},
	};
	struct loc_register_req r = fx_req(ALICE, "call-1", 2, bound, 2);

	fx_bind(f, ALICE, "call-1", 1, bound[0].uri, 3600, f->now);
	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
	assert_int_equal(fx_live(f, ALICE, f->now), 1);
	assert_int_equal(loc_count(f->loc), 1);
	r = fx_req(ALICE, "call-1", 3, fresh, 2);
	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
	assert_int_equal(fx_live(f, ALICE, f->now), 2);
	assert_int_equal(loc_count(f->loc), 2);
}

/* A contact URI registered anew with another +sip.instance replaces the
 * binding of that URI: the store keeps one row per (AOR, URI), so must memory. */
static void
test_same_uri_new_instance(void **state)
{
	struct fixture *f = *state;
	struct loc_update u = {.uri = "sip:alice@127.0.0.1:5001",
			       .expires = 600,
			       .q = -1,
			       .instance = "\"<urn:uuid:one>\""};
	struct loc_register_req r = fx_req(ALICE, "call-1", 1, &u, 1);

	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
	u.instance = "\"<urn:uuid:two>\"";
	r = fx_req(ALICE, "call-2", 1, &u, 1);
	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
	assert_int_equal(fx_live(f, ALICE, f->now), 1);
	assert_int_equal(loc_count(f->loc), 1);
}

/* Register u over connection flow of worker 0. */
static void
reg_on_flow(struct fixture *f, const char *aor, const char *call_id, const struct loc_update *u,
	    uint64_t flow)
{
	struct loc_register_req r = fx_req(aor, call_id, 1, u, 1);

	r.flow.worker = 0;
	r.flow.id = flow;
	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
}

/* A connection closed: the bindings of that AOR made over it go, from memory
 * and the store; the AOR's others, and another AOR's over the same
 * connection, stay. */
static void
test_remove_flow(void **state)
{
	struct fixture *f = *state;
	const struct loc_update u1 = {"sip:alice@127.0.0.1:5062", 3600, -1, NULL};
	const struct loc_update u2 = {"sip:alice@127.0.0.1:5063", 3600, -1, NULL};
	const struct loc_update u3 = {"sip:alice@127.0.0.1:5064", 3600, -1, NULL};
	const struct loc_update ub = {"sip:bob@127.0.0.1:5070", 3600, -1, NULL};
	reg_on_flow(f, ALICE, "call-a", &u1, 7);
	reg_on_flow(f, ALICE, "call-b", &u2, 7);
	reg_on_flow(f, ALICE, "call-c", &u3, 8);
	reg_on_flow(f, BOB, "call-d", &ub, 7);
	/* the same connection id on another worker is another connection */
	assert_int_equal(loc_remove_flow(f->loc, ALICE, 1, 7), 0);
	assert_int_equal(loc_remove_flow(f->loc, ALICE, 0, 7), 2);
	assert_int_equal(fx_live(f, ALICE, f->now), 1);
	assert_int_equal(fx_live(f, BOB, f->now), 1);
	fx_assert_agrees(f, ALICE, f->now);
	fx_assert_agrees(f, BOB, f->now);
	assert_int_equal(loc_remove_flow(f->loc, ALICE, 0, 7), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_add),
	    T(test_refresh),
	    T(test_remove),
	    T(test_several_contacts_q_order),
	    T(test_out_of_order),
	    T(test_retransmission),
	    T(test_new_call_id_replaces),
	    T(test_remove_all),
	    T(test_max_contacts),
	    T(test_instance_replaces),
	    T(test_lookup_uri),
	    T(test_same_contact_twice),
	    T(test_same_uri_new_instance),
	    T(test_remove_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
