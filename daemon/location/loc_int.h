/*
 * loc_int.h - what loc.c (the in-memory table) and loc_writer.c (the thread
 * that makes its changes durable) share.  Private to the location service.
 *
 * A change is applied to memory at once and kept in an operation (struct
 * loc_op) until the writer has committed it: the replaced nodes stay alive
 * so that a failed commit can put them back.  Operations are committed in
 * the order they were applied, so undoing every uncommitted one in reverse
 * order restores exactly what the database holds.
 */
#ifndef GW_LOC_INT_H
#define GW_LOC_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "loc.h"

struct gwstore;

struct loc_node {
	struct loc_contact c;      /* never changed once linked */
	struct loc_node *next_aor; /* chain in the AOR bucket */
	struct loc_node *next_uri; /* chain in the URI bucket */
	/* applied to memory, its operation not yet durable or undone (cleared
	 * by loc_ops_durable, on the thread that committed it) */
	atomic_bool pending;
};

/* One binding replaced (old and new), added (new only) or removed (old only). */
struct loc_change {
	struct loc_node *old;
	struct loc_node *new;
};

struct loc_op {
	struct loc_op *next;
	struct loc_change *ch;
	size_t nch;
	enum loc_result res;     /* set by the writer */
	struct loc_contact *out; /* the answer: the AOR's contacts after the change */
	size_t nout;
	loc_done_f *done;
	void *arg;
};

struct loc_writer;

/* loc_writer.c */
int loc_writer_alloc(struct loc_writer **out, struct loc *loc, struct gwstore *st);
/* Commits what is queued, then stops the thread. */
void loc_writer_free(struct loc_writer *wr);
/* Queue op (the caller holds the location write lock). */
void loc_writer_submit(struct loc_writer *wr, struct loc_op *op);
/* Nothing queued or being committed, and the database is local (no SIP
 * worker waits on the network): the caller takes the store and must call
 * loc_writer_commit_here next (write lock held); else false. */
bool loc_writer_claim(struct loc_writer *wr);
/* On the claiming thread, without the write lock: commit op (applied to
 * memory) now.  0: durable.  -EAGAIN: the database was busy, op went to the
 * writer (its done comes later).  -EIO: op and everything queued behind it
 * are undone in memory; those behind it are answered failed. */
int loc_writer_commit_here(struct loc_writer *wr, struct loc_op *op);
/* Operations queued or being committed (0: the writer is idle). */
size_t loc_writer_depth(struct loc_writer *wr);
/* With operations waiting: ms since the writer last moved on; else 0. */
long loc_writer_stall_ms(struct loc_writer *wr);

/* loc.c, for the writer */
void loc_lock_write(struct loc *loc);
void loc_unlock(struct loc *loc);
/* Undo the memory changes of ops, a list in the order they were applied. */
void loc_ops_undo(struct loc *loc, struct loc_op *ops);
/* The changes of ops (a list) are durable: their new nodes are no longer
 * pending.  Before anything may replace them: before the batch is over (the
 * writer busy) or the claim released. */
void loc_ops_durable(struct loc_op *ops);
/* Free an operation whose changes are durable (old nodes go) or undone. */
void loc_op_free(struct loc_op *op);

#endif
