/*
 * loc_fixture.c - a location service over a fresh SQLite file for each test,
 * and the checks the location tests share.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "loc_fixture.h"
#include "unit.h"

int
fx_store_open(struct fixture *f, char *err, size_t errlen)
{
	/* shared: the tests look at the file, and hold its lock, from a second connection */
	const struct gwstore_params p = {
	    .backend = GWSTORE_SQLITE, .state_dir = f->dir, .location_shared = true};

	return gwstore_open(&f->st, &p, GWSTORE_LOCATION, err, errlen);
}

int
fx_open(struct fixture *f)
{
	char err[256];

	if (fx_store_open(f, err, sizeof(err)) != 0)
		return -1;
	if (loc_alloc(&f->loc, f->st) != 0) {
		gwstore_close(f->st);
		f->st = NULL;
		return -1;
	}
	return 0;
}

void
fx_close(struct fixture *f)
{
	loc_free(f->loc);
	gwstore_close(f->st);
	f->loc = NULL;
	f->st = NULL;
}

int
fx_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || unit_dir_make(f->dir, sizeof(f->dir)) < 0) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/location.db", f->dir);
	if (fx_open(f) < 0) {
		unit_dir_remove(f->dir);
		free(f);
		return -1;
	}
	/* loc_alloc loads what is live at the wall clock: tests use it too */
	f->now = time(NULL);
	*state = f;
	return 0;
}

int
fx_teardown(void **state)
{
	struct fixture *f = *state;

	fx_close(f);
	unit_dir_remove(f->dir);
	free(f);
	return 0;
}

struct loc_register_req
fx_req(const char *aor, const char *call_id, uint32_t cseq, const struct loc_update *u, size_t n)
{
	struct loc_register_req r = {
	    .aor = aor,
	    .call_id = call_id,
	    .cseq = cseq,
	    .user_agent = "unit-phone/1.0",
	    .flow = {.worker = 2, .id = 77, .transport = "tcp", .addr = "127.0.0.1:40000"},
	    .updates = u,
	    .nupdates = n,
	    .max_contacts = 10,
	};

	return r;
}

/* One line per binding, the fields a registrar decides on. */
static void
contact_line(char *buf, size_t len, const struct loc_contact *c)
{
	snprintf(buf, len, "%s %s %s %u %lld %d %s %s %s %s\n", c->aor, c->uri, c->call_id, c->cseq,
		 (long long)c->expires, c->q, c->path ? c->path : "-",
		 c->instance ? c->instance : "-", c->user_agent ? c->user_agent : "-",
		 c->flow.transport);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct lines {
	char *v[64];
	size_t n;
	const char *aor; /* NULL: every AOR */
};

static int
lines_add(const struct loc_contact *c, void *arg)
{
	struct lines *l = arg;
	char buf[1024];

	if (l->aor && strcasecmp(l->aor, c->aor) != 0)
		return 0;
	assert_true(l->n < 64);
	contact_line(buf, sizeof(buf), c);
	l->v[l->n] = strdup(buf);
	assert_non_null(l->v[l->n]);
	l->n++;
	return 0;
}

/* Sorted lines joined into out; the lines are freed. */
static void
lines_join(struct lines *l, char *out, size_t len)
{
	size_t k = 0;

	qsort(l->v, l->n, sizeof(l->v[0]), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		k += (size_t)snprintf(out + k, k < len ? len - k : 0, "%s", l->v[i]);
		free(l->v[i]);
	}
	assert_true(k < len);
	l->n = 0;
}

static int
lines_add_row(const struct gwstore_binding *b, void *arg)
{
	struct loc_contact c;

	loc_contact_view(&c, b);
	return lines_add(&c, arg);
}

/* The live bindings of aor as the store holds them, sorted. */
void
fx_store_lines(struct fixture *f, const char *aor, time_t now, char *out, size_t len)
{
	struct lines l = {.aor = aor};

	assert_int_equal(gwstore_binding_each(f->st, now, lines_add_row, &l), 0);
	lines_join(&l, out, len);
}

/* The live bindings of aor as memory holds them, sorted. */
void
fx_mem_lines(struct fixture *f, const char *aor, time_t now, char *out, size_t len)
{
	struct loc_contact *v = NULL;
	struct lines l = {.aor = aor};
	size_t n = 0;

	assert_int_equal(loc_lookup(f->loc, aor, now, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		lines_add(&v[i], &l);
	loc_contacts_free(v, n);
	lines_join(&l, out, len);
}

void
fx_assert_agrees(struct fixture *f, const char *aor, time_t now)
{
	char mem[SNAP_LEN], db[SNAP_LEN];

	fx_mem_lines(f, aor, now, mem, sizeof(mem));
	fx_store_lines(f, aor, now, db, sizeof(db));
	assert_string_equal(mem, db);
}

/* Everything: the number of nodes in memory, and every row of the store. */
void
fx_snapshot(struct fixture *f, char *out, size_t len)
{
	char db[SNAP_LEN];
	int k;

	fx_store_lines(f, NULL, 0, db, sizeof(db));
	k = snprintf(out, len, "count=%zu\n%s", loc_count(f->loc), db);
	assert_true(k > 0 && (size_t)k < len);
	fx_mem_lines(f, ALICE, 0, db, sizeof(db));
	assert_true(strlen(out) + strlen(db) < len);
	strcat(out, db);
}

/* Register; on LOC_OK the returned contacts must be what a lookup gives. */
enum loc_result
fx_reg(struct fixture *f, const struct loc_register_req *r, time_t now)
{
	struct loc_contact *out = NULL, *look = NULL;
	size_t nout = 0, nlook = 0;
	enum loc_result res = loc_register(f->loc, r, now, &out, &nout);

	if (res == LOC_OK) {
		assert_int_equal(loc_lookup(f->loc, r->aor, now, &look, &nlook), 0);
		assert_int_equal(nout, nlook);
		for (size_t i = 0; i < nout; i++) {
			assert_string_equal(out[i].uri, look[i].uri);
			assert_int_equal(out[i].expires, look[i].expires);
		}
		loc_contacts_free(look, nlook);
		fx_assert_agrees(f, r->aor, now);
	} else {
		assert_null(out);
		assert_int_equal(nout, 0);
	}
	loc_contacts_free(out, nout);
	return res;
}

/* Register one contact from one request. */
enum loc_result
fx_reg1(struct fixture *f, const char *aor, const char *call_id, uint32_t cseq, const char *uri,
	int expires, time_t now)
{
	struct loc_update u = {.uri = uri, .expires = expires, .q = -1};
	struct loc_register_req r = fx_req(aor, call_id, cseq, &u, 1);

	return fx_reg(f, &r, now);
}

void
fx_bind(struct fixture *f, const char *aor, const char *call_id, uint32_t cseq, const char *uri,
	int expires, time_t now)
{
	assert_int_equal(fx_reg1(f, aor, call_id, cseq, uri, expires, now), LOC_OK);
}

/* The one live contact of aor. */
void
fx_lookup1(struct fixture *f, const char *aor, time_t now, struct loc_contact *c)
{
	struct loc_contact *v = NULL;
	size_t n = 0;

	assert_int_equal(loc_lookup(f->loc, aor, now, &v, &n), 0);
	assert_int_equal(n, 1);
	*c = v[0];
	free(v);
}

size_t
fx_live(struct fixture *f, const char *aor, time_t now)
{
	struct loc_contact *v = NULL;
	size_t n = 0;

	assert_int_equal(loc_lookup(f->loc, aor, now, &v, &n), 0);
	loc_contacts_free(v, n);
	return n;
}

/* A second connection to the same database, as another process would have. */
sqlite3 *
fx_side_open(struct fixture *f)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

void
fx_side_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		char copy[256];
		snprintf(copy, sizeof(copy), "%s", msg ? msg : "?");
		sqlite3_free(msg);
		fail_msg("%s: %s", sql, copy);
	}
}
