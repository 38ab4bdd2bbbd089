/*
 * test_loc_store.c - the location service and its SQLite store: expiry,
 * sign-out, persistence across a restart, a store that fails, and bindings
 * moved from the state database where they were kept before.
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
#include <sqlite3.h>

#include "loc_fixture.h"

/* Lookups at a later time skip expired bindings; loc_expire drops them. */
static void
test_expiry(void **state)
{
	struct fixture *f = *state;
	struct loc_contact c;

	fx_bind(f, ALICE, "call-1", 1, "sip:alice@127.0.0.1:5001", 60, f->now);
	fx_bind(f, ALICE, "call-2", 1, "sip:alice@127.0.0.1:5002", 3600, f->now);
	fx_bind(f, BOB, "call-3", 1, "sip:bob@127.0.0.1:5003", 30, f->now);
	assert_int_equal(fx_live(f, ALICE, f->now + 59), 2);
	assert_int_equal(fx_live(f, ALICE, f->now + 60), 1);
	fx_lookup1(f, ALICE, f->now + 61, &c);
	assert_string_equal(c.uri, "sip:alice@127.0.0.1:5002");
	loc_contact_clear(&c);
	assert_int_equal(loc_lookup_uri(f->loc, "sip:alice@127.0.0.1:5001", f->now + 61, &c),
			 -ENOENT);
	assert_int_equal(fx_live(f, BOB, f->now + 61), 0);
	/* still held until swept */
	assert_int_equal(loc_count(f->loc), 3);

	assert_int_equal(loc_expire(f->loc, f->now + 10), 0);
	assert_int_equal(loc_count(f->loc), 3);
	assert_int_equal(loc_expire(f->loc, f->now + 61), 2);
	assert_int_equal(loc_count(f->loc), 1);
	/* gone from the store too, even for a reader from long ago */
	fx_assert_agrees(f, ALICE, 0);
	fx_assert_agrees(f, BOB, 0);
	assert_int_equal(fx_live(f, ALICE, 0), 1);
	assert_int_equal(fx_live(f, BOB, 0), 0);
	assert_int_equal(loc_expire(f->loc, f->now + 61), 0);
}

/* A restart: the live bindings come back with every field, expired ones do not. */
static void
test_persistence(void **state)
{
	struct fixture *f = *state;
	struct loc_update u[] = {
	    {.uri = "sip:alice@127.0.0.1:5001",
	     .expires = 3600,
	     .q = 300,
	     .instance = "\"<urn:uuid:a>\""},
	    {.uri = "sip:alice@127.0.0.1:5002", .expires = 7200, .q = 900},
	};
	struct loc_register_req r = fx_req(ALICE, "call-1", 42, u, 2);
	char before[SNAP_LEN], after[SNAP_LEN];

	r.path = "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>";
	assert_int_equal(fx_reg(f, &r, f->now), LOC_OK);
	fx_bind(f, BOB, "call-2", 1, "sip:bob@127.0.0.1:5003", 600, f->now);
	/* registered long ago and expired by now */
	fx_bind(f, BOB, "call-3", 1, "sip:bob@127.0.0.1:5004", 60, f->now - 3600);
	assert_int_equal(loc_count(f->loc), 4);
	fx_mem_lines(f, ALICE, f->now, before, sizeof(before));

	fx_close(f);
	assert_int_equal(fx_open(f), 0);
	assert_int_equal(loc_count(f->loc), 3);
	fx_mem_lines(f, ALICE, f->now, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(fx_live(f, BOB, 0), 1);

	struct loc_contact c;
	assert_int_equal(loc_lookup_uri(f->loc, "sip:alice@127.0.0.1:5001", f->now, &c), 0);
	assert_string_equal(c.flow.addr, "127.0.0.1:40000");
	assert_string_equal(c.flow.transport, "tcp");
	/* the connection did not survive the restart */
	assert_int_equal(c.flow.worker, -1);
	loc_contact_clear(&c);
	assert_int_equal(loc_lookup_uri(f->loc, "sip:bob@127.0.0.1:5004", 0, &c), -ENOENT);

	/* the order rules hold across the restart */
	assert_int_equal(fx_reg1(f, ALICE, "call-1", 41, "sip:alice@127.0.0.1:5001", 60, f->now),
			 LOC_OUT_OF_ORDER);
}

static void
test_remove_aor(void **state)
{
	struct fixture *f = *state;

	fx_bind(f, ALICE, "call-1", 1, "sip:alice@127.0.0.1:5001", 3600, f->now);
	fx_bind(f, ALICE, "call-2", 1, "sip:alice@127.0.0.1:5002", 3600, f->now);
	fx_bind(f, BOB, "call-3", 1, "sip:bob@127.0.0.1:5003", 3600, f->now);
	assert_int_equal(loc_remove_aor(f->loc, "Alice@EXAMPLE.com"), 2);
	assert_int_equal(loc_count(f->loc), 1);
	assert_int_equal(fx_live(f, ALICE, 0), 0);
	assert_int_equal(fx_live(f, BOB, 0), 1);
	fx_assert_agrees(f, ALICE, 0);
	fx_assert_agrees(f, BOB, 0);
	assert_int_equal(loc_remove_aor(f->loc, ALICE), 0);
	assert_int_equal(loc_remove_aor(f->loc, "nobody@example.com"), 0);
}

/* The database refuses writes (a trigger aborts them): LOC_STORE_FAILED and
 * memory unchanged; once it accepts them again, registration works. */
static void
test_store_failure_register(void **state)
{
	struct fixture *f = *state;
	struct loc_update u[] = {
	    {.uri = "sip:alice@127.0.0.1:5001", .expires = 600, .q = -1},
	    {.uri = "sip:alice@127.0.0.1:5002", .expires = 600, .q = -1},
	};
	struct loc_register_req r = fx_req(ALICE, "call-1", 2, u, 2);
	struct loc_register_req star = fx_req(ALICE, "call-1", 3, NULL, 0);
	char before[SNAP_LEN], after[SNAP_LEN];
	sqlite3 *side = fx_side_open(f);

	fx_bind(f, ALICE, "call-1", 1, "sip:alice@127.0.0.1:5001", 3600, f->now);
	fx_snapshot(f, before, sizeof(before));

	fx_side_exec(side, "CREATE TRIGGER no_put BEFORE INSERT ON bindings"
			   " BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
	assert_int_equal(fx_reg(f, &r, f->now + 1), LOC_STORE_FAILED);
	fx_snapshot(f, after, sizeof(after));
	assert_string_equal(before, after);

	fx_side_exec(side, "DROP TRIGGER no_put; CREATE TRIGGER no_del BEFORE DELETE ON bindings"
			   " BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
	assert_int_equal(fx_reg1(f, ALICE, "call-1", 2, "sip:alice@127.0.0.1:5001", 0, f->now + 1),
			 LOC_STORE_FAILED);
	star.remove_all = true;
	assert_int_equal(fx_reg(f, &star, f->now + 1), LOC_STORE_FAILED);
	fx_snapshot(f, after, sizeof(after));
	assert_string_equal(before, after);

	fx_side_exec(side, "DROP TRIGGER no_del");
	assert_int_equal(fx_reg(f, &r, f->now + 1), LOC_OK);
	assert_int_equal(fx_live(f, ALICE, f->now + 1), 2);
	sqlite3_close(side);
}

/* The same for sign-out and the expiry sweep. */
static void
test_store_failure_remove(void **state)
{
	struct fixture *f = *state;
	char before[SNAP_LEN], after[SNAP_LEN];
	sqlite3 *side = fx_side_open(f);

	fx_bind(f, ALICE, "call-1", 1, "sip:alice@127.0.0.1:5001", 60, f->now);
	fx_bind(f, ALICE, "call-2", 1, "sip:alice@127.0.0.1:5002", 3600, f->now);
	fx_snapshot(f, before, sizeof(before));
	fx_side_exec(side, "CREATE TRIGGER no_del BEFORE DELETE ON bindings"
			   " BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
	assert_true(loc_remove_aor(f->loc, ALICE) < 0);
	assert_true(loc_expire(f->loc, f->now + 61) < 0);
	fx_snapshot(f, after, sizeof(after));
	assert_string_equal(before, after);
	fx_side_exec(side, "DROP TRIGGER no_del");
	assert_int_equal(loc_expire(f->loc, f->now + 61), 1);
	assert_int_equal(loc_remove_aor(f->loc, ALICE), 1);
	assert_int_equal(loc_count(f->loc), 0);
	sqlite3_close(side);
}

/* Another process holds the database's write lock past the busy timeout:
 * every writer reports the failure and leaves memory as it was. */
static void
test_store_locked(void **state)
{
	struct fixture *f = *state;
	char before[SNAP_LEN], after[SNAP_LEN];
	sqlite3 *side = fx_side_open(f);

	fx_bind(f, ALICE, "call-1", 1, "sip:alice@127.0.0.1:5001", 60, f->now);
	fx_snapshot(f, before, sizeof(before));
	fx_side_exec(side, "BEGIN IMMEDIATE");
	assert_int_equal(fx_reg1(f, ALICE, "call-1", 2, "sip:alice@127.0.0.1:5002", 60, f->now),
			 LOC_STORE_FAILED);
	assert_true(loc_remove_aor(f->loc, ALICE) < 0);
	assert_true(loc_expire(f->loc, f->now + 61) < 0);
	fx_side_exec(side, "COMMIT");
	fx_snapshot(f, after, sizeof(after));
	assert_string_equal(before, after);
	sqlite3_close(side);
}

/* Bindings kept in greenwich.db (the layout before location.db) move to the
 * location database at the first open and leave the rest of that file. */
static void
test_legacy_move(void **state)
{
	struct fixture *f = *state;
	char legacy[600], err[256];
	sqlite3 *old = NULL;
	sqlite3_stmt *s = NULL;

	fx_close(f);
	snprintf(legacy, sizeof(legacy), "%s/greenwich.db", f->dir);
	assert_int_equal(sqlite3_open(legacy, &old), SQLITE_OK);
	fx_side_exec(old,
		     "CREATE TABLE local_users (aor TEXT PRIMARY KEY);"
		     "INSERT INTO local_users VALUES ('alice@example.com');"
		     "CREATE TABLE bindings (aor TEXT NOT NULL COLLATE NOCASE, uri TEXT NOT NULL,"
		     " call_id TEXT NOT NULL, cseq INTEGER NOT NULL, expires INTEGER NOT NULL,"
		     " q INTEGER NOT NULL, path TEXT, instance TEXT, user_agent TEXT,"
		     " transport TEXT, addr TEXT, PRIMARY KEY (aor, uri));");
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO bindings VALUES ('alice@example.com',"
		 " 'sip:alice@127.0.0.1:5001', 'c1', 1, %lld, -1, NULL, NULL, 'ua', 'udp',"
		 " '127.0.0.1:5001')",
		 (long long)f->now + 600);
	fx_side_exec(old, sql);
	assert_int_equal(fx_store_open(f, err, sizeof(err)), 0);
	assert_int_equal(loc_alloc(&f->loc, f->st), 0);
	assert_int_equal(fx_live(f, ALICE, f->now), 1);
	fx_assert_agrees(f, ALICE, f->now);
	assert_int_equal(sqlite3_prepare_v2(old,
					    "SELECT count(*) FROM sqlite_master WHERE"
					    " name = 'bindings'",
					    -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 0);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(old, "SELECT count(*) FROM local_users", -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 1);
	sqlite3_finalize(s);
	sqlite3_close(old);
	/* a second open finds nothing more to move */
	fx_close(f);
	assert_int_equal(fx_store_open(f, err, sizeof(err)), 0);
	assert_int_equal(loc_alloc(&f->loc, f->st), 0);
	assert_int_equal(fx_live(f, ALICE, f->now), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_expiry),
	    T(test_persistence),
	    T(test_remove_aor),
	    T(test_store_failure_register),
	    T(test_store_failure_remove),
	    T(test_store_locked),
	    T(test_legacy_move),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
