/*
 * loc_writer.c - the thread that makes location changes durable, with group
 * commit.
 *
 * SIP workers apply a REGISTER to memory and queue it here; the writer takes
 * everything queued as one batch, writes it in one store transaction and
 * only then reports each operation done (the registrar then sends its 200).
 * While one batch commits, the next one gathers, so under load a commit
 * carries many registrations and its fixed cost (locks, the WAL write) is
 * shared.  A batch that fails is rolled back in the database, and every
 * change not yet durable is undone in memory and reported failed.
 *
 * When nothing is queued or committing and the database is local (SQLite),
 * a worker claims the store and commits its own operation
 * (loc_writer_commit_here): at low and moderate load a REGISTER then costs no
 * thread hand-off; whatever arrives meanwhile queues for the writer, which
 * starts once the claim ends.  A remote database (PostgreSQL) is written by
 * the writer thread only: no SIP worker waits on the network.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loc_int.h"
#include "log.h"
#include "gwstore.h"

/* Upper bound of one transaction, so that answers keep flowing. */
#define LOC_BATCH_MAX 4096

struct loc_writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct loc_op *head;
	struct loc_op **tail;
	size_t queued;   /* in the list */
	size_t busy;     /* taken by the thread and not yet durable or undone */
	bool claimed;    /* a worker is committing its own operation */
	bool checkpoint; /* asked by a worker: the WAL is long */
	bool stop;
	/* when the writer last moved on (an operation done, a claim or a
	 * checkpoint over) or left idle: with work waiting, how long it stalls */
	struct timespec moved;
	struct loc *loc;
	struct gwstore *st;
	bool local; /* workers may commit their own operation */
};

/* With wr->mu held: the writer moves on now. */
static void
moved_now(struct loc_writer *wr)
{
	clock_gettime(CLOCK_MONOTONIC, &wr->moved);
}

/* With wr->mu held, before work is added: an idle writer starts now. */
static void
moved_if_idle(struct loc_writer *wr)
{
	if (wr->queued == 0 && wr->busy == 0 && !wr->claimed)
		moved_now(wr);
}

static int
binding_put(struct gwstore *st, const struct loc_contact *c)
{
	const struct gwstore_binding b = {
	    .aor = c->aor,
	    .uri = c->uri,
	    .call_id = c->call_id,
	    .cseq = c->cseq,
	    .expires = (int64_t)c->expires,
	    .q = c->q,
	    .path = c->path,
	    .instance = c->instance,
	    .user_agent = c->user_agent,
	    .transport = c->flow.transport,
	    .addr = c->flow.addr,
	    .frontend = c->flow.frontend,
	};

	return gwstore_binding_put(st, &b);
}

/* The other front ends of a pool read the AOR's bindings again once the
 * transaction commits (PostgreSQL delivers a notification at commit). */
static int
op_announce(struct gwstore *st, const struct loc_op *op, const char *self)
{
	const struct loc_change *c = &op->ch[0];
	const char *aor = c->new ? c->new->c.aor : c->old->c.aor;
	char payload[400];

	if (self[0] == '\0')
		return 0;
	snprintf(payload, sizeof(payload), "%s\t%s", aor, self);
	return gwstore_notify(st, GWSTORE_CHANNEL_BINDINGS, payload);
}

static int
op_write(struct gwstore *st, const struct loc_op *op, const char *self)
{
	if (op->nch > 0 && op_announce(st, op, self) < 0)
		return -EIO;
	for (size_t i = 0; i < op->nch; i++) {
		const struct loc_change *c = &op->ch[i];
		int rc = 0;
		if (c->old && (!c->new || strcmp(c->old->c.uri, c->new->c.uri) != 0))
			rc = gwstore_binding_delete(st, c->old->c.aor, c->old->c.uri);
		if (rc == 0 && c->new)
			rc = binding_put(st, &c->new->c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
batch_abort(struct gwstore *st)
{
	log_warnx("event=store-failed reason=\"%s\"", gwstore_error(st));
	gwstore_rollback(st);
	return -EIO;
}

static int
batch_write(struct gwstore *st, const struct loc_op *ops, const char *self)
{
	for (const struct loc_op *op = ops; op; op = op->next)
		if (op_write(st, op, self) < 0)
			return batch_abort(st);
	if (gwstore_commit(st) < 0)
		return batch_abort(st);
	return 0;
}

/* One transaction for the whole batch; 0 or -EIO (nothing written). */
static int
batch_commit(struct gwstore *st, const struct loc_op *ops, const char *self)
{
	bool any = false;

	for (const struct loc_op *op = ops; op && !any; op = op->next)
		any = op->nch > 0;
	if (!any)
		return 0;
	if (gwstore_begin(st, true) < 0)
		return batch_abort(st);
	return batch_write(st, ops, self);
}

static void
ops_finish(struct loc_op *ops, enum loc_result res)
{
	while (ops) {
		struct loc_op *next = ops->next;
		ops->res = res;
		if (res == LOC_OK) {
			ops->done(ops->arg, res, ops->out, ops->nout);
		} else {
			loc_contacts_free(ops->out, ops->nout);
			ops->done(ops->arg, res, NULL, 0);
		}
		ops->out = NULL;
		ops->nout = 0;
		loc_op_free(ops);
		ops = next;
	}
}

/* The batch failed: every change applied to memory since the last durable
 * one (this batch and what queued behind it) is undone, newest first. */
static struct loc_op *
batch_fail(struct loc_writer *wr, struct loc_op *batch)
{
	struct loc_op **end = &batch;

	while (*end)
		end = &(*end)->next;
	loc_lock_write(wr->loc);
	pthread_mutex_lock(&wr->mu);
	*end = wr->head;
	wr->head = NULL;
	wr->tail = &wr->head;
	wr->queued = 0;
	loc_ops_undo(wr->loc, batch);
	wr->busy = 0;
	wr->claimed = false;
	moved_now(wr);
	pthread_mutex_unlock(&wr->mu);
	loc_unlock(wr->loc);
	return batch;
}

static struct loc_op *
batch_take(struct loc_writer *wr)
{
	struct loc_op *batch = wr->head, *last = NULL;
	size_t n = 0;

	for (struct loc_op *op = batch; op && n < LOC_BATCH_MAX; op = op->next) {
		last = op;
		n++;
	}
	/* cppcheck-suppress nullPointer ; writer_main takes a batch only when wr->head != NULL */
	wr->head = last->next;
	if (wr->head == NULL)
		wr->tail = &wr->head;
	last->next = NULL;
	wr->queued -= n;
	wr->busy = n;
	return batch;
}

/* With wr->mu held and the store free (no claim, no batch): checkpoint
 * while workers queue rather than wait. */
static void
writer_checkpoint(struct loc_writer *wr)
{
	wr->checkpoint = false;
	wr->busy = 1;
	pthread_mutex_unlock(&wr->mu);
	gwstore_checkpoint(wr->st);
	pthread_mutex_lock(&wr->mu);
	wr->busy = 0;
	moved_now(wr);
}

static void *
writer_main(void *arg)
{
	struct loc_writer *wr = arg;

	pthread_mutex_lock(&wr->mu);
	for (;;) {
		while ((wr->head == NULL && !wr->checkpoint && !wr->stop) || wr->claimed)
			pthread_cond_wait(&wr->cv, &wr->mu);
		if (wr->checkpoint) {
			moved_if_idle(wr);
			writer_checkpoint(wr);
			continue;
		}
		if (wr->head == NULL)
			break;
		struct loc_op *batch = batch_take(wr);
		pthread_mutex_unlock(&wr->mu);
		if (batch_commit(wr->st, batch, loc_frontend(wr->loc)) == 0) {
			loc_ops_durable(batch); /* while busy: nothing replaces them yet */
			pthread_mutex_lock(&wr->mu);
			wr->busy = 0;
			moved_now(wr);
			wr->checkpoint = gwstore_wants_checkpoint(wr->st);
			pthread_mutex_unlock(&wr->mu);
			ops_finish(batch, LOC_OK);
		} else {
			ops_finish(batch_fail(wr, batch), LOC_STORE_FAILED);
		}
		pthread_mutex_lock(&wr->mu);
	}
	pthread_mutex_unlock(&wr->mu);
	return NULL;
}

int
loc_writer_alloc(struct loc_writer **out, struct loc *loc, struct gwstore *st)
{
	struct loc_writer *wr = calloc(1, sizeof(*wr));

	*out = NULL;
	if (wr == NULL)
		return -ENOMEM;
	pthread_mutex_init(&wr->mu, NULL);
	pthread_cond_init(&wr->cv, NULL);
	wr->tail = &wr->head;
	wr->loc = loc;
	wr->st = st;
	wr->local = gwstore_is_local(st);
	if (pthread_create(&wr->thread, NULL, writer_main, wr) != 0) {
		pthread_cond_destroy(&wr->cv);
		pthread_mutex_destroy(&wr->mu);
		free(wr);
		return -EAGAIN;
	}
	*out = wr;
	return 0;
}

void
loc_writer_free(struct loc_writer *wr)
{
	if (wr == NULL)
		return;
	pthread_mutex_lock(&wr->mu);
	wr->stop = true;
	pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
	pthread_join(wr->thread, NULL);
	pthread_cond_destroy(&wr->cv);
	pthread_mutex_destroy(&wr->mu);
	free(wr);
}

void
loc_writer_submit(struct loc_writer *wr, struct loc_op *op)
{
	op->next = NULL;
	pthread_mutex_lock(&wr->mu);
	moved_if_idle(wr);
	*wr->tail = op;
	wr->tail = &op->next;
	if (wr->queued++ == 0)
		pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
}

size_t
loc_writer_depth(struct loc_writer *wr)
{
	size_t n;

	pthread_mutex_lock(&wr->mu);
	n = wr->queued + wr->busy + wr->claimed;
	pthread_mutex_unlock(&wr->mu);
	return n;
}

long
loc_writer_stall_ms(struct loc_writer *wr)
{
	struct timespec now;
	long ms = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&wr->mu);
	if (wr->queued + wr->busy + wr->claimed > 0)
		ms = (long)(now.tv_sec - wr->moved.tv_sec) * 1000 +
		     (now.tv_nsec - wr->moved.tv_nsec) / 1000000;
	pthread_mutex_unlock(&wr->mu);
	return ms;
}

bool
loc_writer_claim(struct loc_writer *wr)
{
	bool ok;

	pthread_mutex_lock(&wr->mu);
	ok = wr->local && wr->queued == 0 && wr->busy == 0 && !wr->claimed && !wr->stop;
	if (ok) {
		moved_now(wr);
		wr->claimed = true;
	}
	pthread_mutex_unlock(&wr->mu);
	return ok;
}

/* The claim ends: the writer takes over what queued meanwhile (and op in
 * front of it, when op could not be written here). */
static void
claim_release(struct loc_writer *wr, struct loc_op *op)
{
	pthread_mutex_lock(&wr->mu);
	if (op != NULL) {
		op->next = wr->head;
		if (wr->head == NULL)
			wr->tail = &op->next;
		wr->head = op;
		wr->queued++;
	} else {
		moved_now(wr); /* op is durable */
	}
	wr->claimed = false;
	if (gwstore_wants_checkpoint(wr->st))
		wr->checkpoint = true;
	if (wr->head != NULL || wr->checkpoint)
		pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
}

int
loc_writer_commit_here(struct loc_writer *wr, struct loc_op *op)
{
	struct loc_op *rest;
	int rc = gwstore_begin(wr->st, false);

	if (rc == -EBUSY) {
		claim_release(wr, op);
		return -EAGAIN;
	}
	if (rc < 0)
		rc = batch_abort(wr->st);
	else
		rc = batch_write(wr->st, op, loc_frontend(wr->loc));
	if (rc == 0) {
		loc_ops_durable(op); /* while claimed: nothing replaces them yet */
		claim_release(wr, NULL);
		return 0;
	}
	op->next = NULL;
	batch_fail(wr, op);
	rest = op->next;
	op->next = NULL;
	ops_finish(rest, LOC_STORE_FAILED);
	return -EIO;
}
