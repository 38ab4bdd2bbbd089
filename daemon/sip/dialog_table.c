/*
 * dialog_table.c - the dialog table's bookkeeping: a hash of entries by
 * Call-ID, and one queue per lifetime, oldest first, so that what expires
 * is always at a head and a renewed entry goes to its queue's tail.  No
 * SIP, no lock, no clock of its own (dialog_table.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dialog_table.h"

int
dlg_table_init(struct dlg_table *t, size_t max, int invite_timeout,
	       void (*free_node)(struct dlg_node *n))
{
	memset(t, 0, sizeof(*t));
	if (gw_keyed_hash_new(&t->hash, NULL) < 0)
		return -1;
	t->max = max;
	t->free_node = free_node;
	t->life[DLG_Q_EARLY] = (time_t)(invite_timeout > 0 ? invite_timeout : 0) + DLG_MARGIN;
	t->life[DLG_Q_UNACKED] = DLG_LIFE_UNACKED;
	t->life[DLG_Q_CALL] = DLG_LIFE_CALL;
	t->life[DLG_Q_OTHER] = DLG_LIFE_OTHER;
	t->life[DLG_Q_ENDING] = DLG_LIFE_ENDING;
	return 0;
}

static struct dlg_node **
bucket(struct dlg_table *t, const char *call_id)
{
	return &t->buckets[gw_keyed_hash(t->hash, call_id, strlen(call_id)) % DLG_BUCKETS];
}

static void
fifo_push(struct dlg_table *t, struct dlg_node *n, enum dlg_queue q, time_t now)
{
	struct dlg_fifo *f = &t->q[q];

	n->queue = q;
	n->expires = now + t->life[q];
	n->qnext = NULL;
	n->qprev = f->tail;
	if (f->tail)
		f->tail->qnext = n;
	else
		f->head = n;
	f->tail = n;
	f->n++;
}

static void
fifo_unlink(struct dlg_table *t, struct dlg_node *n)
{
	struct dlg_fifo *f = &t->q[n->queue];

	if (n->qprev)
		n->qprev->qnext = n->qnext;
	else
		f->head = n->qnext;
	if (n->qnext)
		n->qnext->qprev = n->qprev;
	else
		f->tail = n->qprev;
	n->qprev = n->qnext = NULL;
	f->n--;
}

/* Into queue q, at its tail, living from now. */
static void
move(struct dlg_table *t, struct dlg_node *n, enum dlg_queue q, time_t now)
{
	fifo_unlink(t, n);
	fifo_push(t, n, q, now);
}

static void
drop(struct dlg_table *t, struct dlg_node *n)
{
	fifo_unlink(t, n);
	*n->hprev = n->hnext;
	if (n->hnext)
		n->hnext->hprev = n->hprev;
	if (t->free_node)
		t->free_node(n);
	else
		free(n);
}

void
dlg_table_clear(struct dlg_table *t)
{
	for (int q = 0; q < DLG_NQUEUES; q++)
		while (t->q[q].head)
			drop(t, t->q[q].head);
}

void
dlg_table_destroy(struct dlg_table *t)
{
	dlg_table_clear(t);
	gw_keyed_hash_free(t->hash);
	t->hash = NULL;
}

void
dlg_table_expire(struct dlg_table *t, time_t now, unsigned budget)
{
	for (int q = 0; q < DLG_NQUEUES; q++)
		for (unsigned i = 0; i < budget && t->q[q].head && t->q[q].head->expires <= now;
		     i++)
			drop(t, t->q[q].head);
}

static size_t
live(const struct dlg_table *t)
{
	return t->q[DLG_Q_EARLY].n + t->q[DLG_Q_UNACKED].n + t->q[DLG_Q_CALL].n +
	       t->q[DLG_Q_OTHER].n;
}

bool
dlg_table_reserve(struct dlg_table *t, time_t now)
{
	dlg_table_expire(t, now, 64);
	if (live(t) + t->reserved >= t->max) {
		t->refused++;
		return false;
	}
	t->reserved++;
	return true;
}

void
dlg_table_unreserve(struct dlg_table *t)
{
	if (t->reserved > 0)
		t->reserved--;
}

struct dlg_node *
dlg_table_find(struct dlg_table *t, const char *call_id, const char *t0, const char *t1, time_t now)
{
	for (struct dlg_node *n = *bucket(t, call_id); n; n = n->hnext)
		if (n->expires > now && strcmp(n->call_id, call_id) == 0 &&
		    strcmp(n->tag[0], t0) == 0 && strcmp(n->tag[1], t1) == 0)
			return n;
	return NULL;
}

static enum dlg_queue
answered_queue(const struct dlg_node *n)
{
	return n->call ? DLG_Q_UNACKED : DLG_Q_OTHER;
}

int
dlg_table_add(struct dlg_table *t, struct dlg_node *n, bool answered, bool *reserved, time_t now)
{
	dlg_table_expire(t, now, 8);
	if (reserved && *reserved) {
		*reserved = false;
		t->reserved--;
	} else if (live(t) >= 2 * t->max) {
		return -ENOSPC;
	}
	struct dlg_node **b = bucket(t, n->call_id);
	n->hnext = *b;
	n->hprev = b;
	if (*b)
		(*b)->hprev = &n->hnext;
	*b = n;
	fifo_push(t, n, answered ? answered_queue(n) : DLG_Q_EARLY, now);
	return 0;
}

void
dlg_table_answered(struct dlg_table *t, struct dlg_node *n, time_t now)
{
	if (n->queue == DLG_Q_EARLY)
		move(t, n, answered_queue(n), now);
}

void
dlg_table_used(struct dlg_table *t, struct dlg_node *n, bool ack, time_t now)
{
	if (n->queue == DLG_Q_UNACKED && ack)
		move(t, n, DLG_Q_CALL, now);
	else if (n->queue == DLG_Q_CALL || n->queue == DLG_Q_OTHER)
		move(t, n, n->queue, now);
}

void
dlg_table_ending(struct dlg_table *t, struct dlg_node *n, time_t now)
{
	if (n->queue == DLG_Q_ENDING)
		return;
	while (t->q[DLG_Q_ENDING].n >= t->max && t->q[DLG_Q_ENDING].head)
		drop(t, t->q[DLG_Q_ENDING].head);
	move(t, n, DLG_Q_ENDING, now);
}

void
dlg_table_failed(struct dlg_table *t, struct dlg_node *n)
{
	if (n->queue == DLG_Q_EARLY)
		drop(t, n);
}

void
dlg_table_call_failed(struct dlg_table *t, const char *call_id, const char *from_tag)
{
	struct dlg_node *n = *bucket(t, call_id);

	while (n) {
		struct dlg_node *next = n->hnext;
		if (n->queue == DLG_Q_EARLY && strcmp(n->call_id, call_id) == 0 &&
		    strcmp(n->tag[0], from_tag) == 0)
			drop(t, n);
		n = next;
	}
}

enum dlg_state
dlg_table_state(const struct dlg_node *n)
{
	switch (n->queue) {
	case DLG_Q_EARLY:
		return DLG_EARLY;
	case DLG_Q_UNACKED:
		return DLG_UNACKED;
	case DLG_Q_ENDING:
		return DLG_ENDING;
	default:
		return DLG_CONFIRMED;
	}
}

void
dlg_table_counts(const struct dlg_table *t, struct dlg_counts *c)
{
	c->early = t->q[DLG_Q_EARLY].n;
	c->unacked = t->q[DLG_Q_UNACKED].n;
	c->confirmed = t->q[DLG_Q_CALL].n + t->q[DLG_Q_OTHER].n;
	c->ending = t->q[DLG_Q_ENDING].n;
	c->reserved = t->reserved;
	c->max = t->max;
	c->refused = t->refused;
}
