/*
 * test_loc_batch.c - the location service's writer thread: registrations
 * applied to memory at once, answered only once their batch is committed,
 * and undone together when a batch fails.
 *
 * A second connection holds the database's write lock, so the writer is
 * held in front of its transaction while the test queues more changes.
 * Without it, the caller commits on its own thread (the writer is idle):
 * answered at once, already on disk, or undone at once when the write fails.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "loc_fixture.h"

#define NREG 40

struct answers {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n;
	int ok;
	int failed;
	size_t contacts; /* total listed in the OK answers */
};

static void
answer_cb(void *arg, enum loc_result res, struct loc_contact *v, size_t n)
{
	struct answers *a = arg;

	pthread_mutex_lock(&a->mu);
	a->n++;
	a->ok += res == LOC_OK;
	a->failed += res == LOC_STORE_FAILED;
	a->contacts += n;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	loc_contacts_free(v, n);
}

static void
answers_wait(struct answers *a, int n)
{
	pthread_mutex_lock(&a->mu);
	while (a->n < n)
		pthread_cond_wait(&a->cv, &a->mu);
	pthread_mutex_unlock(&a->mu);
}

static int
answers_count(struct answers *a)
{
	int n;

	pthread_mutex_lock(&a->mu);
	n = a->n;
	pthread_mutex_unlock(&a->mu);
	return n;
}

/* Rows in the database, read over the side connection (the store's own
 * connection belongs to the writer thread). */
static int
side_rows(sqlite3 *side)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	assert_int_equal(sqlite3_prepare_v2(side, "SELECT count(*) FROM bindings", -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Start one registration of user i; it must be queued. */
static void
start_one(struct fixture *f, struct answers *a, int i, uint32_t cseq)
{
	char aor[64], uri[64], cid[32];
	struct loc_update u = {.uri = uri, .expires = 600, .q = -1};
	struct loc_contact *out = NULL;
	size_t nout = 0;

	snprintf(aor, sizeof(aor), "user%d@example.com", i);
	snprintf(uri, sizeof(uri), "sip:user%d@127.0.0.1:%d", i, 6000 + i);
	snprintf(cid, sizeof(cid), "call-%d", i);
	struct loc_register_req r = fx_req(aor, cid, cseq, &u, 1);
	assert_int_equal(loc_register_start(f->loc, &r, f->now, answer_cb, a, &out, &nout),
			 LOC_PENDING);
	assert_null(out);
}

/* Many registrations queued behind a held lock: memory has them at once, no
 * answer comes before the commit, then all are answered and on disk. */
static void
test_batch_commit(void **state)
{
	struct fixture *f = *state;
	struct answers a = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	sqlite3 *side = fx_side_open(f);

	fx_side_exec(side, "BEGIN IMMEDIATE");
	for (int i = 0; i < NREG; i++)
		start_one(f, &a, i, 1);
	assert_int_equal(loc_count(f->loc), NREG);
	assert_int_equal(fx_live(f, "user7@example.com", f->now), 1);
	/* a repeat of a queued REGISTER changes nothing but waits its turn too */
	start_one(f, &a, 7, 1);
	assert_true(loc_pending(f->loc) > 0);
	assert_int_equal(answers_count(&a), 0);
	assert_int_equal(side_rows(side), 0);

	fx_side_exec(side, "COMMIT");
	answers_wait(&a, NREG + 1);
	assert_int_equal(a.ok, NREG + 1);
	assert_int_equal(a.contacts, NREG + 1);
	assert_int_equal(loc_pending(f->loc), 0);
	assert_int_equal(side_rows(side), NREG);
	for (int i = 0; i < NREG; i++) {
		char aor[64];
		snprintf(aor, sizeof(aor), "user%d@example.com", i);
		fx_assert_agrees(f, aor, f->now);
		assert_int_equal(fx_live(f, aor, f->now), 1);
	}
	/* and they come back after a restart */
	fx_close(f);
	assert_int_equal(fx_open(f), 0);
	assert_int_equal(loc_count(f->loc), NREG);
	sqlite3_close(side);
}

/* The batch cannot be written: every queued change is undone in memory,
 * including those that built on one another, and each is answered failed. */
static void
test_batch_failure(void **state)
{
	struct fixture *f = *state;
	struct answers a = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	char before[SNAP_LEN], after[SNAP_LEN];
	sqlite3 *side = fx_side_open(f);

	fx_bind(f, ALICE, "call-a", 1, "sip:alice@127.0.0.1:5001", 3600, f->now);
	fx_bind(f, "user3@example.com", "call-3", 1, "sip:user3@127.0.0.1:6003", 600, f->now);
	fx_snapshot(f, before, sizeof(before));

	fx_side_exec(side, "BEGIN IMMEDIATE");
	fx_side_exec(side,
		     "CREATE TRIGGER no_put BEFORE INSERT ON bindings"
		     " WHEN NEW.uri LIKE '%6005' BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
	/* the refused one first: whatever batch the writer takes fails */
	start_one(f, &a, 5, 2);
	for (int i = 0; i < 10; i++)
		if (i != 5)
			start_one(f, &a, i, 2); /* user3: a refresh of the stored binding */
	start_one(f, &a, 3, 3);                 /* a change on top of a queued change */
	assert_int_equal(loc_count(f->loc), 11);
	assert_int_equal(answers_count(&a), 0);
	fx_side_exec(side, "COMMIT");
	answers_wait(&a, 11);
	assert_int_equal(a.failed, 11);
	assert_int_equal(loc_pending(f->loc), 0);
	fx_snapshot(f, after, sizeof(after));
	assert_string_equal(before, after);
	fx_assert_agrees(f, "user3@example.com", f->now);

	/* the next batch is written again */
	fx_side_exec(side, "DROP TRIGGER no_put");
	fx_bind(f, "user5@example.com", "call-5", 1, "sip:user5@127.0.0.1:6005", 600, f->now);
	assert_int_equal(loc_count(f->loc), 3);
	sqlite3_close(side);
}

/* Sign-out and expiry share the queue: they wait for what is before them. */
static void
test_remove_behind_queue(void **state)
{
	struct fixture *f = *state;
	struct answers a = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	sqlite3 *side = fx_side_open(f);

	fx_side_exec(side, "BEGIN IMMEDIATE");
	for (int i = 0; i < 5; i++)
		start_one(f, &a, i, 1);
	fx_side_exec(side, "COMMIT");
	assert_int_equal(loc_remove_aor(f->loc, "user2@example.com"), 1);
	answers_wait(&a, 5);
	assert_int_equal(a.ok, 5);
	assert_int_equal(loc_count(f->loc), 4);
	fx_assert_agrees(f, "user2@example.com", 0);
	assert_int_equal(loc_expire(f->loc, f->now + 601), 4);
	fx_assert_agrees(f, "user1@example.com", 0);
	assert_int_equal(loc_count(f->loc), 0);
	sqlite3_close(side);
}

/* Nothing queued: the caller commits itself; the answer comes back now and
 * the row is on disk before the call returns; done is never called. */
static void
test_commit_here(void **state)
{
	struct fixture *f = *state;
	struct answers a = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct loc_update u = {.uri = "sip:alice@127.0.0.1:5001", .expires = 600, .q = -1};
	struct loc_register_req r = fx_req(ALICE, "call-a", 1, &u, 1);
	struct loc_contact *out = NULL;
	size_t nout = 0;
	sqlite3 *side = fx_side_open(f);

	assert_int_equal(loc_register_start(f->loc, &r, f->now, answer_cb, &a, &out, &nout),
			 LOC_OK);
	assert_int_equal(nout, 1);
	assert_string_equal(out[0].uri, u.uri);
	loc_contacts_free(out, nout);
	assert_int_equal(side_rows(side), 1);
	assert_int_equal(loc_pending(f->loc), 0);
	assert_int_equal(answers_count(&a), 0);
	fx_assert_agrees(f, ALICE, f->now);
	sqlite3_close(side);
}

/* The caller's own commit fails: its change is undone before the call
 * returns and it gets LOC_STORE_FAILED; the next one is written again. */
static void
test_commit_here_fails(void **state)
{
	struct fixture *f = *state;
	struct answers a = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct loc_update u = {.uri = "sip:user5@127.0.0.1:6005", .expires = 600, .q = -1};
	struct loc_register_req r = fx_req("user5@example.com", "call-5", 2, &u, 1);
	struct loc_contact *out = NULL;
	size_t nout = 0;
	char before[SNAP_LEN], after[SNAP_LEN];
	sqlite3 *side = fx_side_open(f);

	fx_bind(f, "user5@example.com", "call-5", 1, "sip:user5@127.0.0.1:7005", 600, f->now);
	fx_snapshot(f, before, sizeof(before));
	fx_side_exec(side,
		     "CREATE TRIGGER no_put BEFORE INSERT ON bindings"
		     " WHEN NEW.uri LIKE '%6005' BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
	assert_int_equal(loc_register_start(f->loc, &r, f->now, answer_cb, &a, &out, &nout),
			 LOC_STORE_FAILED);
	assert_null(out);
	fx_snapshot(f, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(loc_pending(f->loc), 0);
	assert_int_equal(answers_count(&a), 0);
	fx_side_exec(side, "DROP TRIGGER no_put");
	fx_bind(f, "user5@example.com", "call-5", 3, "sip:user5@127.0.0.1:6005", 600, f->now);
	fx_assert_agrees(f, "user5@example.com", f->now);
	sqlite3_close(side);
}

/* flipped: set when the AOR goes from no live binding to some or back, not
 * on a refresh nor on a second device (presence is told only then). */
static void
test_flipped(void **state)
{
	struct fixture *f = *state;
	struct loc_update u = {.uri = "sip:alice@127.0.0.1:5001", .expires = 600, .q = -1};
	struct loc_update u2 = {.uri = "sip:alice@127.0.0.1:5002", .expires = 600, .q = -1};
	const struct {
		struct loc_update *u;
		uint32_t cseq;
		int expires;
		bool flipped;
	} steps[] = {{&u, 1, 600, true}, {&u, 2, 600, false}, {&u2, 3, 600, false},
		     {&u2, 4, 0, false}, {&u, 5, 0, true},    {&u, 6, 600, true}};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		bool flipped = !steps[i].flipped;
		struct loc_contact *out = NULL;
		size_t nout = 0;
		steps[i].u->expires = steps[i].expires;
		struct loc_register_req r = fx_req(ALICE, "call-a", steps[i].cseq, steps[i].u, 1);
		r.flipped = &flipped;
		assert_int_equal(loc_register(f->loc, &r, f->now, &out, &nout), LOC_OK);
		loc_contacts_free(out, nout);
		assert_int_equal(flipped, steps[i].flipped);
	}
}

#define NTHREADS 3
#define NROUNDS 1500

struct racer {
	struct fixture *f;
	int id;
	int failed;
};

static void *
racer_run(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < NROUNDS; i++) {
		char aor[64], uri[64], cid[32];
		struct loc_contact *out = NULL;
		size_t nout = 0;
		snprintf(aor, sizeof(aor), "t%d-%d@example.com", r->id, i % 100);
		snprintf(uri, sizeof(uri), "sip:t%d-%d@127.0.0.1:5060", r->id, i % 100);
		snprintf(cid, sizeof(cid), "c%d-%d", r->id, i % 100);
		struct loc_update u = {.uri = uri, .expires = 600, .q = -1};
		struct loc_register_req q = fx_req(aor, cid, (uint32_t)i + 1, &u, 1);
		if (loc_register(r->f->loc, &q, r->f->now, &out, &nout) != LOC_OK)
			r->failed++;
		loc_contacts_free(out, nout);
	}
	return NULL;
}

/* Workers registering at once: one commits on its own thread, the others
 * queue for the writer meanwhile; never two on the store together. */
static void
test_concurrent(void **state)
{
	struct fixture *f = *state;
	struct racer r[NTHREADS];
	pthread_t t[NTHREADS];

	for (int i = 0; i < NTHREADS; i++) {
		r[i] = (struct racer){.f = f, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, racer_run, &r[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].failed, 0);
	}
	assert_int_equal(loc_count(f->loc), NTHREADS * 100);
	assert_int_equal(loc_pending(f->loc), 0);
	for (int i = 0; i < NTHREADS * 100; i++) {
		char aor[64];
		snprintf(aor, sizeof(aor), "t%d-%d@example.com", i / 100, i % 100);
		fx_assert_agrees(f, aor, f->now);
	}
}

/* Commits never checkpoint themselves; the writer does once the WAL is long,
 * so it stays bounded (4,000 pages) however many commits come. */
static void
test_checkpoint(void **state)
{
	struct fixture *f = *state;
	char wal[600];
	struct stat sb;

	for (uint32_t i = 1; i <= 9000; i++) {
		fx_bind(f, ALICE, "call-a", i, "sip:alice@127.0.0.1:5001", 600, f->now);
		if (i % 1000 == 0)
			usleep(20000); /* let the writer thread have its turn */
	}
	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size < 4500L * (4096 + 24));
	fx_assert_agrees(f, ALICE, f->now);
}

/* A retransmission of a REGISTER still waiting for the disk, when the caller
 * asks (absorb_in_flight): LOC_IN_FLIGHT, nothing queued, and the original's
 * answer still comes; once durable the same repeat is answered at once.  The
 * writer's stall is measured meanwhile and is 0 again after the commit. */
static void
test_in_flight(void **state)
{
	struct fixture *f = *state;
	struct answers a = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	sqlite3 *side = fx_side_open(f);
	struct loc_update u = {.uri = "sip:user1@127.0.0.1:6001", .expires = 600, .q = -1};
	struct loc_contact *out = NULL;
	size_t nout = 0;
	bool repeated = false;

	assert_int_equal(loc_stall_ms(f->loc), 0);
	fx_side_exec(side, "BEGIN IMMEDIATE");
	for (int i = 0; i < 3; i++)
		start_one(f, &a, i, 1);
	size_t depth = loc_pending(f->loc);
	struct loc_register_req r = fx_req("user1@example.com", "call-1", 1, &u, 1);
	r.absorb_in_flight = true;
	r.repeated = &repeated;
	assert_int_equal(loc_register_start(f->loc, &r, f->now, answer_cb, &a, &out, &nout),
			 LOC_IN_FLIGHT);
	assert_true(repeated);
	assert_null(out);
	assert_int_equal(loc_pending(f->loc), depth);
	usleep(120000);
	assert_true(loc_stall_ms(f->loc) >= 100);
	assert_int_equal(answers_count(&a), 0);

	fx_side_exec(side, "COMMIT");
	answers_wait(&a, 3);
	usleep(50000);
	assert_int_equal(a.n, 3); /* the absorbed repeat got no answer of its own */
	assert_int_equal(a.ok, 3);
	assert_int_equal(loc_pending(f->loc), 0);
	assert_int_equal(loc_stall_ms(f->loc), 0);
	assert_int_equal(side_rows(side), 3);
	repeated = false;
	assert_int_equal(loc_register_start(f->loc, &r, f->now, answer_cb, &a, &out, &nout),
			 LOC_OK);
	assert_true(repeated);
	assert_int_equal(nout, 1);
	loc_contacts_free(out, nout);
	sqlite3_close(side);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_batch_commit), T(test_batch_failure),     T(test_remove_behind_queue),
	    T(test_commit_here),  T(test_commit_here_fails), T(test_flipped),
	    T(test_concurrent),   T(test_checkpoint),        T(test_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
