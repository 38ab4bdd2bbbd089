/*
 * test_dialog.c - the dialog table's bookkeeping (daemon/sip/dialog_table.c):
 * each state lives as long as it should (early: the ringing time and a
 * margin, answered and never acknowledged: 32 s, confirmed: renewed by use,
 * ending: 64 s), entries go in order of expiry and a renewed one last, the
 * cap counts live dialogs and reservations but not ending ones, a reservation
 * is taken by its dialog or given back, ending dialogs are bounded too, and a
 * call that fails takes all its early dialogs (every fork's) with it.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "dialog_table.h"

#define T0 1800000000
#define RING 10 /* the invite-timeout of these tables */

static struct dlg_table *
table_new(size_t max)
{
	struct dlg_table *t = malloc(sizeof(*t));

	assert_non_null(t);
	assert_int_equal(dlg_table_init(t, max, RING, NULL), 0);
	return t;
}

static void
table_free(struct dlg_table *t)
{
	dlg_table_destroy(t);
	free(t);
}

/* An entry with its strings after it, as sip_dialog.c makes them (freed with free()). */
struct tnode {
	struct dlg_node n;
	char call_id[40], tag[2][16];
};

static struct dlg_node *
node(unsigned i, bool call)
{
	struct tnode *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	snprintf(e->call_id, sizeof(e->call_id), "call-%u@example.test", i);
	snprintf(e->tag[0], sizeof(e->tag[0]), "a%u", i);
	snprintf(e->tag[1], sizeof(e->tag[1]), "b%u", i);
	e->n.call_id = e->call_id;
	e->n.tag[0] = e->tag[0];
	e->n.tag[1] = e->tag[1];
	e->n.call = call;
	return &e->n;
}

/* Reserve, then add dialog i (a call) as early or answered; the node. */
static struct dlg_node *
add(struct dlg_table *t, unsigned i, bool answered, time_t now)
{
	struct dlg_node *n = node(i, true);
	bool reserved = dlg_table_reserve(t, now);

	assert_true(reserved);
	assert_int_equal(dlg_table_add(t, n, answered, &reserved, now), 0);
	assert_false(reserved);
	return n;
}

static struct dlg_node *
find(struct dlg_table *t, unsigned i, time_t now)
{
	char id[64], a[16], b[16];

	snprintf(id, sizeof(id), "call-%u@example.test", i);
	snprintf(a, sizeof(a), "a%u", i);
	snprintf(b, sizeof(b), "b%u", i);
	return dlg_table_find(t, id, a, b, now);
}

static size_t
live(const struct dlg_table *t)
{
	struct dlg_counts c;

	dlg_table_counts(t, &c);
	return c.early + c.unacked + c.confirmed;
}

static void
test_call_states(void **state)
{
	struct dlg_table *t = table_new(10);
	struct dlg_node *n;

	(void)state;
	n = add(t, 1, false, T0); /* 180 with a tag */
	assert_int_equal(dlg_table_state(n), DLG_EARLY);
	dlg_table_answered(t, n, T0 + 5); /* 200 */
	assert_int_equal(dlg_table_state(n), DLG_UNACKED);
	dlg_table_used(t, n, false, T0 + 6); /* an INFO is no ACK */
	assert_int_equal(dlg_table_state(n), DLG_UNACKED);
	dlg_table_used(t, n, true, T0 + 7); /* the ACK */
	assert_int_equal(dlg_table_state(n), DLG_CONFIRMED);
	assert_ptr_equal(find(t, 1, T0 + 7 + DLG_LIFE_CALL - 1), n);
	dlg_table_ending(t, n, T0 + 100); /* BYE */
	assert_int_equal(dlg_table_state(n), DLG_ENDING);
	dlg_table_used(t, n, false, T0 + 150); /* its 200 and retransmissions: not renewed */
	assert_ptr_equal(find(t, 1, T0 + 100 + DLG_LIFE_ENDING - 1), n);
	assert_null(find(t, 1, T0 + 100 + DLG_LIFE_ENDING));
	table_free(t);
}

static void
test_lifetimes(void **state)
{
	struct dlg_table *t = table_new(10);
	struct dlg_counts c;

	(void)state;
	add(t, 1, false, T0);                             /* rings */
	add(t, 2, true, T0);                              /* answered, never acknowledged */
	dlg_table_used(t, add(t, 3, true, T0), true, T0); /* a call going on */
	struct dlg_node *sub = node(4, false);            /* a subscription, answered 2xx */
	bool r = dlg_table_reserve(t, T0);
	assert_int_equal(dlg_table_add(t, sub, true, &r, T0), 0);
	assert_int_equal(dlg_table_state(sub), DLG_CONFIRMED);

	/* the unacknowledged call is gone after 64*T1, the others are not */
	assert_non_null(find(t, 2, T0 + DLG_LIFE_UNACKED - 1));
	assert_null(find(t, 2, T0 + DLG_LIFE_UNACKED));
	dlg_table_expire(t, T0 + DLG_LIFE_UNACKED, 8);
	dlg_table_counts(t, &c);
	assert_int_equal(c.unacked, 0);
	assert_int_equal(c.early, 1);
	/* an early dialog lives as long as its INVITE may ring, and the margin */
	assert_non_null(find(t, 1, T0 + RING + DLG_MARGIN - 1));
	dlg_table_expire(t, T0 + RING + DLG_MARGIN, 8);
	dlg_table_counts(t, &c);
	assert_int_equal(c.early, 0);
	/* a subscription is kept an hour after its last request, a call 12 h */
	dlg_table_used(t, sub, false, T0 + 1000);
	dlg_table_expire(t, T0 + 1000 + DLG_LIFE_OTHER, 8);
	assert_null(find(t, 4, T0 + 1000 + DLG_LIFE_OTHER));
	assert_int_equal(live(t), 1);
	dlg_table_expire(t, T0 + DLG_LIFE_CALL, 8);
	assert_int_equal(live(t), 0);
	table_free(t);
}

/* Oldest first, a renewed one last, and only a few per call. */
static void
test_expiry_order(void **state)
{
	struct dlg_table *t = table_new(100);
	struct dlg_node *n[5];

	(void)state;
	for (unsigned i = 0; i < 5; i++) {
		n[i] = add(t, i, true, T0 + i);
		dlg_table_used(t, n[i], true, T0 + i);
	}
	dlg_table_used(t, n[0], false, T0 + 10); /* n[0] used again: it goes last */
	assert_ptr_equal(t->q[DLG_Q_CALL].head, n[1]);
	assert_ptr_equal(t->q[DLG_Q_CALL].tail, n[0]);
	/* at T0 + 3 + life, n[1..3] are over; a budget of 2 drops n[1] and n[2] */
	dlg_table_expire(t, T0 + 3 + DLG_LIFE_CALL, 2);
	assert_ptr_equal(t->q[DLG_Q_CALL].head, n[3]);
	assert_int_equal(live(t), 3);
	dlg_table_expire(t, T0 + 3 + DLG_LIFE_CALL, 2);
	assert_ptr_equal(t->q[DLG_Q_CALL].head, n[4]); /* n[4] and n[0] are not over */
	assert_int_equal(live(t), 2);
	assert_non_null(find(t, 0, T0 + 9 + DLG_LIFE_CALL));
	table_free(t);
}

/* Live dialogs and reservations count; ending ones give their room back at once. */
static void
test_cap(void **state)
{
	struct dlg_table *t = table_new(3);
	struct dlg_node *n[3];
	struct dlg_counts c;

	(void)state;
	for (unsigned i = 0; i < 3; i++)
		n[i] = add(t, i, true, T0);
	assert_false(dlg_table_reserve(t, T0 + 1));
	dlg_table_counts(t, &c);
	assert_int_equal(c.refused, 1);
	dlg_table_ending(t, n[0], T0 + 2); /* a BYE */
	assert_true(dlg_table_reserve(t, T0 + 2));
	assert_false(dlg_table_reserve(t, T0 + 2)); /* the reservation counts */
	dlg_table_unreserve(t);                     /* its INVITE failed */
	assert_true(dlg_table_reserve(t, T0 + 3));
	dlg_table_counts(t, &c);
	assert_int_equal(c.ending, 1);
	assert_int_equal(c.reserved, 1);
	assert_int_equal(c.unacked, 2);
	/* the never-acknowledged calls give their room back after 32 s */
	assert_false(dlg_table_reserve(t, T0 + DLG_LIFE_UNACKED - 1));
	assert_true(dlg_table_reserve(t, T0 + DLG_LIFE_UNACKED));
	assert_true(dlg_table_reserve(t, T0 + DLG_LIFE_UNACKED));
	assert_false(dlg_table_reserve(t, T0 + DLG_LIFE_UNACKED));
	table_free(t);
}

/* A reservation is taken by the first dialog of its request; another branch's
 * dialog of the same call is still recorded, while under twice the cap. */
static void
test_reservation_taken(void **state)
{
	struct dlg_table *t = table_new(2);
	struct dlg_counts c;
	bool r;

	(void)state;
	r = dlg_table_reserve(t, T0);
	assert_true(r);
	assert_int_equal(dlg_table_add(t, node(1, true), false, &r, T0), 0);
	assert_false(r);
	assert_true(dlg_table_reserve(t, T0)); /* the second call's */
	dlg_table_counts(t, &c);
	assert_int_equal(c.reserved, 1);
	assert_int_equal(c.early, 1);
	/* forks of the first call: beyond the cap, not beyond twice it */
	assert_int_equal(dlg_table_add(t, node(2, true), false, &r, T0), 0);
	assert_int_equal(dlg_table_add(t, node(3, true), false, &r, T0), 0);
	assert_int_equal(dlg_table_add(t, node(4, true), false, &r, T0), 0);
	struct dlg_node *extra = node(5, true);
	assert_int_equal(dlg_table_add(t, extra, false, &r, T0), -ENOSPC);
	free(extra);
	/* a fork that failed goes at once; an answered one does not */
	dlg_table_failed(t, find(t, 2, T0));
	assert_null(find(t, 2, T0));
	struct dlg_node *three = find(t, 3, T0);
	dlg_table_answered(t, three, T0);
	dlg_table_failed(t, three);
	assert_ptr_equal(find(t, 3, T0), three);
	table_free(t);
}

/* Ending dialogs are bounded too: the oldest goes first. */
static void
test_ending_bounded(void **state)
{
	struct dlg_table *t = table_new(2);
	struct dlg_counts c;

	(void)state;
	for (unsigned i = 0; i < 5; i++)
		dlg_table_ending(t, add(t, i, true, T0 + i), T0 + i);
	dlg_table_counts(t, &c);
	assert_int_equal(c.ending, 2);
	assert_int_equal(live(t), 0);
	assert_null(find(t, 2, T0 + 5));
	assert_non_null(find(t, 3, T0 + 5));
	assert_non_null(find(t, 4, T0 + 5));
	table_free(t);
}

/* Many dialogs: each found, and all dropped in a few steps of 64. */
/* Every entry the table lets go reaches its free_node: expired, failed, pushed out of
 * the ending queue, and the rest at clear. */
static unsigned freed;

static void
count_free(struct dlg_node *n)
{
	freed++;
	free(n);
}

static void
test_free_node(void **state)
{
	struct dlg_table t;

	(void)state;
	freed = 0;
	assert_int_equal(dlg_table_init(&t, 2, RING, count_free), 0);
	struct dlg_node *a = add(&t, 1, false, T0);
	dlg_table_failed(&t, a); /* an early dialog whose INVITE failed */
	assert_int_equal(freed, 1);
	add(&t, 2, true, T0);
	dlg_table_expire(&t, T0 + DLG_LIFE_UNACKED, 8); /* never acknowledged */
	assert_int_equal(freed, 2);
	struct dlg_node *b = add(&t, 3, true, T0 + 40);
	struct dlg_node *c = add(&t, 4, true, T0 + 40);
	dlg_table_ending(&t, b, T0 + 40);
	dlg_table_ending(&t, c, T0 + 40);
	struct dlg_node *d = add(&t, 5, true, T0 + 40);
	struct dlg_node *e = add(&t, 6, true, T0 + 40);
	dlg_table_ending(&t, d, T0 + 41); /* the ending queue is full: b goes */
	assert_int_equal(freed, 3);
	assert_null(dlg_table_find(&t, "call-3@example.test", "a3", "b3", T0 + 41));
	(void)e;
	dlg_table_destroy(&t);
	assert_int_equal(freed, 6);
}

/* Dialog i's node with other tags (another fork's To tag, another caller's From tag). */
static struct dlg_node *
add_tagged(struct dlg_table *t, unsigned i, const char *from_tag, const char *to_tag, bool answered)
{
	struct tnode *e = (struct tnode *)node(i, true);
	bool reserved = dlg_table_reserve(t, T0);

	snprintf(e->tag[0], sizeof(e->tag[0]), "%s", from_tag);
	snprintf(e->tag[1], sizeof(e->tag[1]), "%s", to_tag);
	assert_true(reserved);
	assert_int_equal(dlg_table_add(t, &e->n, answered, &reserved, T0), 0);
	return &e->n;
}

static void
test_call_failed(void **state)
{
	struct dlg_table *t = table_new(10);

	(void)state;
	/* call 7 forked downstream: two early dialogs (180 from each fork), and one
	 * answered (a 200 from a third fork); call 8 rings; call 7's Call-ID from
	 * another caller (From tag x) rings too */
	add_tagged(t, 7, "a7", "b7", false);
	add_tagged(t, 7, "a7", "c7", false);
	struct dlg_node *answered = add_tagged(t, 7, "a7", "d7", true);
	struct dlg_node *other = add(t, 8, false, T0);
	struct dlg_node *stranger = add_tagged(t, 7, "x7", "b7", false);
	assert_int_equal(live(t), 5);
	/* call 7 ends above 2xx (a timeout without a To tag): its early dialogs go */
	dlg_table_call_failed(t, "call-7@example.test", "a7");
	assert_null(dlg_table_find(t, "call-7@example.test", "a7", "b7", T0 + 1));
	assert_null(dlg_table_find(t, "call-7@example.test", "a7", "c7", T0 + 1));
	assert_ptr_equal(dlg_table_find(t, "call-7@example.test", "a7", "d7", T0 + 1), answered);
	assert_ptr_equal(find(t, 8, T0 + 1), other);
	assert_ptr_equal(dlg_table_find(t, "call-7@example.test", "x7", "b7", T0 + 1), stranger);
	assert_int_equal(live(t), 3);
	dlg_table_call_failed(t, "call-9@example.test", "a9"); /* nothing of it: no change */
	assert_int_equal(live(t), 3);
	table_free(t);
}

static void
test_many(void **state)
{
	struct dlg_table *t = table_new(60000);

	(void)state;
	for (unsigned i = 0; i < 50000; i++)
		add(t, i, true, T0);
	for (unsigned i = 0; i < 50000; i += 997)
		assert_non_null(find(t, i, T0 + 1));
	for (unsigned i = 0; i < 50000 / 64 + 1; i++)
		dlg_table_expire(t, T0 + DLG_LIFE_UNACKED, 64);
	assert_int_equal(live(t), 0);
	table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_call_states),       cmocka_unit_test(test_lifetimes),
	    cmocka_unit_test(test_expiry_order),      cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_reservation_taken), cmocka_unit_test(test_ending_bounded),
	    cmocka_unit_test(test_free_node),         cmocka_unit_test(test_many),
	    cmocka_unit_test(test_call_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
