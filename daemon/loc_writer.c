/*
 * loc_writer.c - the thread that makes location changes durable, with group
 * commit.
 *
 * SIP workers apply a REGISTER to memory and queue it here; the writer takes
 * everything queued as one batch, writes it in one SQLite transaction and
 * only then reports each operation done (the registrar then sends its 200).
 * While one batch commits, the next one gathers, so under load a commit
 * carries many registrations and its fixed cost (locks, the WAL write) is
 * shared.  A batch that fails is rolled back in the database, and every
 * change not yet durable is undone in memory and reported failed.
 *
 * When nothing is queued or committing, a worker claims the store and
 * commits its own operation (loc_writer_commit_here): at low and moderate
 * load a REGISTER then costs no thread hand-off; whatever arrives meanwhile
 * queues for the writer, which starts once the claim ends.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "loc_int.h"
#include "log.h"
#include "store.h"

/* Upper bound of one transaction, so that answers keep flowing. */
#define LOC_BATCH_MAX 4096

struct loc_writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct loc_op *head;
	struct loc_op **tail;
	size_t queued; /* in the list */
	size_t busy;   /* taken by the thread and not yet durable or undone */
	bool claimed;  /* a worker is committing its own operation */
	bool checkpoint; /* asked by a worker: the WAL is long */
	bool stop;
	struct loc *loc;
	struct store *st;
};

static int
op_write(struct store *st, const struct loc_op *op)
{
	for (size_t i = 0; i < op->nch; i++) {
		const struct loc_change *c = &op->ch[i];
		int rc = 0;
		if (c->old && (!c->new || strcmp(c->old->c.uri, c->new->c.uri) != 0))
			rc = store_binding_delete(st, c->old->c.aor, c->old->c.uri);
		if (rc == 0 && c->new)
			rc = store_binding_put(st, &c->new->c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
batch_abort(struct store *st)
{
	log_warnx("event=store-failed reason=\"%s\"", store_error(st));
	store_rollback(st);
	return -EIO;
}

static int
batch_write(struct store *st, const struct loc_op *ops)
{
	for (const struct loc_op *op = ops; op; op = op->next)
		if (op_write(st, op) < 0)
			return batch_abort(st);
	if (store_commit(st) < 0)
		return batch_abort(st);
	return 0;
}

/* One transaction for the whole batch; 0 or -EIO (nothing written). */
static int
batch_commit(struct store *st, const struct loc_op *ops)
{
	bool any = false;

	for (const struct loc_op *op = ops; op && !any; op = op->next)
		any = op->nch > 0;
	if (!any)
		return 0;
	if (store_begin(st) < 0)
		return batch_abort(st);
	return batch_write(st, ops);
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
	store_checkpoint(wr->st);
	pthread_mutex_lock(&wr->mu);
	wr->busy = 0;
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
			writer_checkpoint(wr);
			continue;
		}
		if (wr->head == NULL)
			break;
		struct loc_op *batch = batch_take(wr);
		pthread_mutex_unlock(&wr->mu);
		if (batch_commit(wr->st, batch) == 0) {
			pthread_mutex_lock(&wr->mu);
			wr->busy = 0;
			wr->checkpoint = store_wants_checkpoint(wr->st);
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
loc_writer_alloc(struct loc_writer **out, struct loc *loc, struct store *st)
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

bool
loc_writer_claim(struct loc_writer *wr)
{
	bool ok;

	pthread_mutex_lock(&wr->mu);
	ok = wr->queued == 0 && wr->busy == 0 && !wr->claimed && !wr->stop;
	if (ok)
		wr->claimed = true;
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
	}
	wr->claimed = false;
	if (store_wants_checkpoint(wr->st))
		wr->checkpoint = true;
	if (wr->head != NULL || wr->checkpoint)
		pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
}

int
loc_writer_commit_here(struct loc_writer *wr, struct loc_op *op)
{
	struct loc_op *rest;
	int rc = store_try_begin(wr->st);

	if (rc == -EBUSY) {
		claim_release(wr, op);
		return -EAGAIN;
	}
	if (rc < 0)
		rc = batch_abort(wr->st);
	else
		rc = batch_write(wr->st, op);
	if (rc == 0) {
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
