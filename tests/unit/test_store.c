/*
 * test_store.c - the store interface (gwstore.h) on a backend: bindings with
 * transactions, publications, subscriptions, authorization rules, contact
 * lists with groups and deltaNum, local accounts, and schema versions.
 *
 * SQLite by default (a fresh state directory per test); PostgreSQL when
 * GWSTORE_TEST_CONNINFO names a database (test-store-pg.sh starts a throw-away
 * cluster and runs this program against it; each test starts from an empty
 * schema).  The PostgreSQL runs add the pool's bound and reconnection.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "gwstore.h"
#include "unit.h"

struct fixture {
	char dir[256];
	struct gwstore_params p;
	struct gwstore *st;  /* GWSTORE_STATE */
	struct gwstore *loc; /* GWSTORE_LOCATION */
	time_t now;
};

static const char *pg_conninfo; /* NULL: SQLite */

/* Run sql beside the store, on the backend's own terms. */
static void
side_exec(struct fixture *f, const char *file, const char *sql)
{
	if (pg_conninfo != NULL) {
		PGconn *c = PQconnectdb(pg_conninfo);
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
	} else {
		char path[600], *msg = NULL;
		sqlite3 *db = NULL;
		snprintf(path, sizeof(path), "%s/%s", f->dir, file);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		sqlite3_busy_timeout(db, 5000);
		if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
			fail_msg("%s: %s", sql, msg);
		sqlite3_close(db);
	}
}

/* The first number sql returns (PostgreSQL only). */
static long
pg_number(const char *sql)
{
	PGconn *c = PQconnectdb(pg_conninfo);
	PGresult *r = PQexec(c, sql);
	long n = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	else
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return n;
}

static int
fx_open(struct fixture *f)
{
	char err[512];

	if (gwstore_open(&f->st, &f->p, GWSTORE_STATE, err, sizeof(err)) != 0 ||
	    gwstore_open(&f->loc, &f->p, GWSTORE_LOCATION, err, sizeof(err)) != 0) {
		fprintf(stderr, "cannot open the store: %s\n", err);
		return -1;
	}
	return 0;
}

static void
fx_close(struct fixture *f)
{
	gwstore_close(f->st);
	gwstore_close(f->loc);
	f->st = f->loc = NULL;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || unit_dir_make(f->dir, sizeof(f->dir)) < 0)
		return -1;
	f->now = time(NULL);
	f->p.backend = pg_conninfo ? GWSTORE_POSTGRESQL : GWSTORE_SQLITE;
	f->p.state_dir = f->dir;
	f->p.conninfo = pg_conninfo;
	f->p.pool_size = 4;
	if (pg_conninfo)
		side_exec(f, NULL, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	*state = f;
	return fx_open(f);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	fx_close(f);
	unit_dir_remove(f->dir);
	free(f);
	return 0;
}

/* Bindings, as the walk sees them: "aor uri cseq q path instance transport|..." sorted. */
struct seen {
	char line[16][256];
	int n;
};

static int
seen_binding(const struct gwstore_binding *b, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	snprintf(s->line[s->n++], sizeof(s->line[0]), "%s %s %s %u %lld %d %s %s %s %s %s", b->aor,
		 b->uri, b->call_id, b->cseq, (long long)b->expires, b->q, b->path ? b->path : "-",
		 b->instance ? b->instance : "-", b->user_agent ? b->user_agent : "-",
		 b->transport ? b->transport : "-", b->addr ? b->addr : "-");
	return 0;
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(a, b);
}

static struct seen
bindings(struct fixture *f, time_t now)
{
	struct seen s = {0};

	assert_int_equal(gwstore_binding_each(f->loc, now, seen_binding, &s), 0);
	qsort(s.line, (size_t)s.n, sizeof(s.line[0]), cmp_line);
	return s;
}

static struct gwstore_binding
binding(const char *aor, const char *uri, uint32_t cseq, int64_t expires)
{
	return (struct gwstore_binding){.aor = aor,
					.uri = uri,
					.call_id = "call-1",
					.cseq = cseq,
					.expires = expires,
					.q = -1,
					.path = NULL,
					.instance = "<urn:uuid:1>",
					.user_agent = "unit/1",
					.transport = "tcp",
					.addr = "127.0.0.1:5070"};
}

static void
test_bindings(void **state)
{
	struct fixture *f = *state;
	struct gwstore_binding a1 =
	    binding("alice@example.com", "sip:alice@10.0.0.1", 1, f->now + 600);
	struct gwstore_binding a2 =
	    binding("alice@example.com", "sip:alice@10.0.0.2", 1, f->now + 600);
	struct gwstore_binding b1 = binding("bob@example.com", "sip:bob@10.0.0.3", 4, f->now + 10);
	struct seen s;
	char want[256];

	assert_int_equal(gwstore_begin(f->loc, true), 0);
	assert_int_equal(gwstore_binding_put(f->loc, &a1), 0);
	assert_int_equal(gwstore_binding_put(f->loc, &a2), 0);
	assert_int_equal(gwstore_binding_put(f->loc, &b1), 0);
	assert_int_equal(gwstore_commit(f->loc), 0);
	s = bindings(f, f->now);
	assert_int_equal(s.n, 3);
	snprintf(want, sizeof(want),
		 "alice@example.com sip:alice@10.0.0.1 call-1 1 %lld -1 - <urn:uuid:1> unit/1 tcp"
		 " 127.0.0.1:5070",
		 (long long)f->now + 600);
	assert_string_equal(s.line[0], want);

	/* the same binding in another spelling of the AOR replaces it */
	a1.aor = "ALICE@Example.COM";
	a1.cseq = 2;
	a1.path = "<sip:edge.example.com;lr>";
	assert_int_equal(gwstore_binding_put(f->loc, &a1), 0);
	s = bindings(f, f->now);
	assert_int_equal(s.n, 3);
	assert_non_null(strstr(s.line[0], "sip:alice@10.0.0.1 call-1 2 "));
	assert_non_null(strstr(s.line[0], " <sip:edge.example.com;lr> "));

	assert_int_equal(gwstore_binding_delete(f->loc, "Alice@example.com", a2.uri), 0);
	assert_int_equal(bindings(f, f->now).n, 2);

	/* a transaction rolled back leaves nothing */
	struct gwstore_binding c1 =
	    binding("carol@example.com", "sip:carol@10.0.0.4", 1, f->now + 600);
	assert_int_equal(gwstore_begin(f->loc, true), 0);
	assert_int_equal(gwstore_binding_put(f->loc, &c1), 0);
	gwstore_rollback(f->loc);
	assert_int_equal(bindings(f, f->now).n, 2);

	/* bob's binding has expired 20 s on; expire removes it for good */
	assert_int_equal(bindings(f, f->now + 20).n, 1);
	assert_int_equal(gwstore_binding_expire(f->loc, f->now + 20), 0);
	s = bindings(f, f->now);
	assert_int_equal(s.n, 1);
	assert_non_null(strstr(s.line[0], "sip:alice@10.0.0.1"));

	/* and it is all on the disk: a new handle sees the same */
	gwstore_close(f->loc);
	f->loc = NULL;
	char err[512];
	assert_int_equal(gwstore_open(&f->loc, &f->p, GWSTORE_LOCATION, err, sizeof(err)), 0);
	assert_int_equal(bindings(f, f->now).n, 1);
}

struct pubs {
	int n;
	char etag[4][40];
	struct gwstore_pub last;
	char note[64];
	char frontend[4][40];
};

static int
seen_pub(const struct gwstore_pub *p, void *arg)
{
	struct pubs *s = arg;

	snprintf(s->frontend[s->n % 4], sizeof(s->frontend[0]), "%s", p->frontend);
	snprintf(s->etag[s->n++ % 4], sizeof(s->etag[0]), "%s", p->etag);
	s->last = *p;
	snprintf(s->note, sizeof(s->note), "%s", p->note);
	s->last.note = s->note;
	s->last.etag = s->last.aor = s->last.call_id = s->last.frontend = NULL;
	return 0;
}

static void
test_publications(void **state)
{
	struct fixture *f = *state;
	struct gwstore_pub p = {.etag = "e1",
				.aor = "alice@example.com",
				.expires = f->now + 60,
				.seq = 5,
				.source = 1,
				.open = true,
				.activity = 3,
				.note = "in a meeting",
				.call_id = "c1",
				.cseq = 7};
	struct gwstore_pub old = p;
	struct pubs s = {0};

	old.etag = "e0";
	old.expires = f->now - 1;
	assert_int_equal(gwstore_pub_put(f->st, &p), 0);
	assert_int_equal(gwstore_pub_put(f->st, &old), 0);
	assert_int_equal(gwstore_pub_each(f->st, f->now, seen_pub, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.etag[0], "e1");
	assert_int_equal(s.last.seq, 5);
	assert_int_equal(s.last.source, 1);
	assert_true(s.last.open);
	assert_int_equal(s.last.activity, 3);
	assert_int_equal(s.last.cseq, 7);
	assert_int_equal(s.last.expires, f->now + 60);
	assert_string_equal(s.note, "in a meeting");

	p.seq = 6;
	p.open = false;
	p.note = "";
	assert_int_equal(gwstore_pub_put(f->st, &p), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(gwstore_pub_each(f->st, f->now, seen_pub, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.last.seq, 6);
	assert_false(s.last.open);

	/* one AOR's (the pool re-reads a user's publications), any case; the
	 * front end that wrote each */
	struct gwstore_pub q = p;
	q.etag = "e2";
	q.frontend = "fe2";
	assert_int_equal(gwstore_pub_put(f->st, &q), 0);
	q.etag = "e3";
	q.aor = "bob@example.com";
	assert_int_equal(gwstore_pub_put(f->st, &q), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(gwstore_pub_aor(f->st, "Alice@Example.com", f->now, seen_pub, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(strcmp(s.etag[0], "e1") == 0 ? s.frontend[0] : s.frontend[1], "");
	assert_string_equal(strcmp(s.etag[0], "e2") == 0 ? s.frontend[0] : s.frontend[1], "fe2");
	assert_int_equal(gwstore_pub_delete(f->st, "e2"), 0);
	assert_int_equal(gwstore_pub_delete(f->st, "e3"), 0);

	assert_int_equal(gwstore_pub_delete(f->st, "e1"), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(gwstore_pub_each(f->st, f->now, seen_pub, &s), 0);
	assert_int_equal(s.n, 0);
}

struct subs {
	int n;
	int64_t id[4];
	char contact[4][64];
	char route[4][64];
	uint32_t lseq[4];
	int flags[4];
	char frontend[4][40];
};

static int
seen_sub(const struct gwstore_sub *x, void *arg)
{
	struct subs *s = arg;
	int i = s->n++ % 4;

	s->id[i] = x->id;
	snprintf(s->contact[i], sizeof(s->contact[0]), "%s", x->contact);
	snprintf(s->route[i], sizeof(s->route[0]), "%s", x->route);
	s->lseq[i] = x->lseq;
	s->flags[i] = x->flags;
	snprintf(s->frontend[i], sizeof(s->frontend[0]), "%s", x->frontend);
	return 0;
}

static void
test_subscriptions(void **state)
{
	struct fixture *f = *state;
	struct gwstore_sub x = {.event = 0,
				.presentity = "alice@example.com",
				.watcher = "bob@example.com",
				.call_id = "sc1",
				.local = "<sip:alice@example.com>;tag=a",
				.remote = "<sip:bob@example.com>;tag=b",
				.contact = "<sip:bob@10.0.0.3>",
				.route = "",
				.rseq = 1,
				.lseq = 1,
				.expires = f->now + 300,
				.flags = 3,
				.transport = "udp",
				.addr = "10.0.0.3:5060",
				.frontend = "fe1"};
	int64_t id1 = 0, id2 = 0;
	struct subs s = {0};

	assert_int_equal(gwstore_sub_put(f->st, &x, &id1), 0);
	x.call_id = "sc2";
	x.route = "<sip:p1.example.com;lr>";
	assert_int_equal(gwstore_sub_put(f->st, &x, &id2), 0);
	assert_true(id1 > 0);
	assert_true(id2 > 0);
	assert_true(id1 != id2);

	x.id = id1;
	x.contact = "<sip:bob@10.0.0.9>";
	x.lseq = 42;
	assert_int_equal(gwstore_sub_put(f->st, &x, &id1), 0);
	assert_int_equal(gwstore_sub_delete(f->st, id2), 0);
	assert_int_equal(gwstore_sub_each(f->st, f->now, seen_sub, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], id1);
	assert_string_equal(s.contact[0], "<sip:bob@10.0.0.9>");
	assert_string_equal(s.route[0], "");
	assert_int_equal(s.lseq[0], 42);
	assert_int_equal(s.flags[0], 3);
	assert_string_equal(s.frontend[0], "fe1");
	/* expired ones are not returned */
	memset(&s, 0, sizeof(s));
	assert_int_equal(gwstore_sub_each(f->st, f->now + 301, seen_sub, &s), 0);
	assert_int_equal(s.n, 0);
}

static void
acl_line(const char *watcher, const char *rule, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s=%s;", watcher, rule);
}

static void
test_acl(void **state)
{
	struct fixture *f = *state;
	char rule[16], lines[256] = "";

	assert_int_equal(
	    gwstore_acl_get(f->st, "alice@example.com", "bob@example.com", rule, sizeof(rule)),
	    -ENOENT);
	assert_int_equal(gwstore_acl_set(f->st, "alice@example.com", "bob@example.com", "allow"),
			 0);
	assert_int_equal(
	    gwstore_acl_get(f->st, "ALICE@example.com", "Bob@Example.com", rule, sizeof(rule)), 0);
	assert_string_equal(rule, "allow");
	assert_int_equal(gwstore_acl_set(f->st, "alice@example.com", "bob@example.com", "block"),
			 0);
	assert_int_equal(gwstore_acl_set(f->st, "alice@example.com", "bob@example.com", "maybe"),
			 -EINVAL);
	assert_int_equal(gwstore_acl_set(f->st, "alice@example.com", "carol@example.com", "allow"),
			 0);
	assert_int_equal(gwstore_acl_each(f->st, "alice@example.com", acl_line, lines), 0);
	assert_string_equal(lines, "bob@example.com=block;carol@example.com=allow;");
	assert_int_equal(gwstore_acl_set(f->st, "alice@example.com", "bob@example.com", NULL), 0);
	assert_int_equal(
	    gwstore_acl_get(f->st, "alice@example.com", "bob@example.com", rule, sizeof(rule)),
	    -ENOENT);
}

static void
contact_line(const char *uri, const char *name, const char *groups, int sub, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s|%s|%s|%d;", uri, name, groups, sub);
}

static void
group_line(int64_t id, const char *name, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%lld=%s;", (long long)id, name);
}

static void
owner_line(const char *owner, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s;", owner);
}

static void
test_contact_lists(void **state)
{
	struct fixture *f = *state;
	const char *alice = "alice@example.com";
	int64_t g1 = 0, g2 = 0;
	char out[256] = "", name[64];

	assert_int_equal(gwstore_delta(f->st, alice), 1);
	assert_int_equal(gwstore_group_set(f->st, alice, &g1, "Colleagues"), 0);
	assert_int_equal(gwstore_group_set(f->st, alice, &g2, "Friends"), 0);
	assert_true(g1 >= 2);
	assert_true(g2 > g1);
	assert_int_equal(gwstore_group_find(f->st, "Alice@example.com", "Friends"), g2);
	assert_int_equal(gwstore_group_find(f->st, alice, "Nobody"), 0);
	assert_int_equal(gwstore_contact_set(f->st, alice, "bob@example.com", "Bob", "1 2", 1), 0);
	assert_int_equal(gwstore_contact_set(f->st, alice, "carol@example.com", NULL, NULL, 0), 0);
	/* 4 changes: deltaNum 1 -> 5 */
	assert_int_equal(gwstore_delta(f->st, "ALICE@example.com"), 5);
	assert_true(gwstore_contact_has(f->st, alice, "Bob@Example.com"));
	assert_false(gwstore_contact_has(f->st, alice, "dave@example.com"));
	assert_int_equal(gwstore_contacts_each(f->st, alice, contact_line, out), 0);
	assert_string_equal(out, "bob@example.com|Bob|1 2|1;carol@example.com|||0;");

	int64_t same = g2;
	assert_int_equal(gwstore_group_set(f->st, alice, &same, "Old friends"), 0);
	assert_int_equal(same, g2);
	assert_int_equal(gwstore_group_name(f->st, alice, g2, name, sizeof(name)), 0);
	assert_string_equal(name, "Old friends");
	assert_int_equal(gwstore_group_delete(f->st, alice, g1), 0);
	assert_int_equal(gwstore_group_name(f->st, alice, g1, name, sizeof(name)), -ENOENT);
	out[0] = '\0';
	assert_int_equal(gwstore_groups_each(f->st, alice, group_line, out), 0);
	snprintf(name, sizeof(name), "%lld=Old friends;", (long long)g2);
	assert_string_equal(out, name);
	assert_int_equal(gwstore_contact_delete(f->st, alice, "carol@example.com"), 0);
	assert_false(gwstore_contact_has(f->st, alice, "carol@example.com"));
	assert_int_equal(gwstore_delta(f->st, alice), 8);

	/* owners: of a contact list or an authorization rule, each once */
	assert_int_equal(gwstore_acl_set(f->st, "bob@example.com", alice, "allow"), 0);
	assert_int_equal(gwstore_acl_set(f->st, alice, "bob@example.com", "allow"), 0);
	out[0] = '\0';
	assert_int_equal(gwstore_owners_each(f->st, owner_line, out), 0);
	assert_string_equal(out, "alice@example.com;bob@example.com;");
}

static int
account_line(const struct gwstore_account *a, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s;", a->aor);
	return 0;
}

static void
test_accounts(void **state)
{
	struct fixture *f = *state;
	struct gwstore_account a, b;
	char out[256] = "";

	assert_int_equal(gwstore_account_get(f->st, "bob@example.com", &a), -ENOENT);
	assert_int_equal(gwstore_account_set(f->st, "bob@example.com", "example.com", "pw1"), 0);
	assert_int_equal(gwstore_account_set(f->st, "alice@example.com", "example.com", "pw2"), 0);
	assert_int_equal(gwstore_account_set(f->st, "alice", "example.com", "pw"), -EINVAL);
	assert_int_equal(gwstore_account_get(f->st, "BOB@example.com", &a), 0);
	assert_string_equal(a.aor, "bob@example.com");
	assert_string_equal(a.realm, "example.com");
	assert_int_equal(strlen(a.ha1_md5), 32);
	assert_int_equal(strlen(a.ha1_sha256), 64);
	/* a new password replaces the hashes */
	assert_int_equal(gwstore_account_set(f->st, "bob@example.com", "example.com", "pw3"), 0);
	assert_int_equal(gwstore_account_get(f->st, "bob@example.com", &b), 0);
	assert_string_not_equal(a.ha1_md5, b.ha1_md5);
	assert_int_equal(gwstore_account_each(f->st, account_line, out), 0);
	assert_string_equal(out, "alice@example.com;bob@example.com;");
	assert_int_equal(gwstore_account_remove(f->st, "Bob@example.com"), 0);
	assert_int_equal(gwstore_account_remove(f->st, "bob@example.com"), -ENOENT);
	assert_int_equal(gwstore_account_get(f->st, "bob@example.com", &a), -ENOENT);
}

/* A database a newer Greenwich wrote is refused, with a reason; one of ours
 * opens again and keeps its rows. */
static void
test_schema_version(void **state)
{
	struct fixture *f = *state;
	struct gwstore_account a;
	char err[512] = "";

	assert_int_equal(gwstore_account_set(f->st, "alice@example.com", "example.com", "pw"), 0);
	fx_close(f);
	assert_int_equal(fx_open(f), 0);
	assert_int_equal(gwstore_account_get(f->st, "alice@example.com", &a), 0);
	fx_close(f);
	side_exec(f, "greenwich.db", "UPDATE gw_schema SET version = 99 WHERE part = 'state'");
	assert_int_equal(gwstore_open(&f->st, &f->p, GWSTORE_STATE, err, sizeof(err)), -EPROTO);
	assert_null(f->st);
	assert_non_null(strstr(err, "schema version 99"));
	assert_non_null(strstr(err, "newer"));
	/* the location tables have a version of their own */
	assert_int_equal(gwstore_open(&f->loc, &f->p, GWSTORE_LOCATION, err, sizeof(err)), 0);
}

struct worker_arg {
	struct gwstore *st;
	int id;
	int failures;
};

static void *
worker_main(void *arg)
{
	struct worker_arg *w = arg;
	struct gwstore_account a;
	char aor[64];

	for (int i = 0; i < 40; i++) {
		snprintf(aor, sizeof(aor), "u%d-%d@example.com", w->id, i);
		if (gwstore_account_set(w->st, aor, "example.com", "pw") != 0 ||
		    gwstore_account_get(w->st, aor, &a) != 0)
			w->failures++;
	}
	return NULL;
}

/* PostgreSQL: six handles on six threads share a pool of two connections. */
static void
test_pg_pool_bound(void **state)
{
	struct fixture *f = *state;
	struct worker_arg w[6];
	pthread_t t[6];
	char err[512];

	fx_close(f);
	f->p.pool_size = 2;
	for (int i = 0; i < 6; i++) {
		w[i] = (struct worker_arg){.id = i};
		assert_int_equal(gwstore_open(&w[i].st, &f->p, GWSTORE_STATE, err, sizeof(err)), 0);
	}
	for (int i = 0; i < 6; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	long conns = pg_number("SELECT count(*) FROM pg_stat_activity"
			       " WHERE application_name = 'greenwich'");
	for (int i = 0; i < 6; i++) {
		assert_int_equal(w[i].failures, 0);
		gwstore_close(w[i].st);
	}
	assert_true(conns >= 1 && conns <= 2);
	assert_int_equal(pg_number("SELECT count(*) FROM local_users"), 240);
	assert_int_equal(fx_open(f), 0);
}

/* PostgreSQL: connections the server dropped are replaced on the next use. */
static void
test_pg_reconnect(void **state)
{
	struct fixture *f = *state;
	struct gwstore_account a;
	struct gwstore_binding b =
	    binding("alice@example.com", "sip:alice@10.0.0.1", 1, f->now + 600);

	assert_int_equal(gwstore_account_set(f->st, "alice@example.com", "example.com", "pw"), 0);
	assert_true(pg_number("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
			      " WHERE application_name = 'greenwich'") >= 1);
	assert_int_equal(gwstore_account_get(f->st, "alice@example.com", &a), 0);
	/* a transaction begun after the loss runs on a new connection */
	assert_true(pg_number("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
			      " WHERE application_name = 'greenwich'") >= 1);
	assert_int_equal(gwstore_begin(f->loc, true), 0);
	assert_int_equal(gwstore_binding_put(f->loc, &b), 0);
	assert_int_equal(gwstore_commit(f->loc), 0);
	assert_int_equal(bindings(f, f->now).n, 1);
}

/* PostgreSQL: a database nobody answers for is a clear error at open. */
static void
test_pg_unreachable(void **state)
{
	struct fixture *f = *state;
	struct gwstore_params p = f->p;
	struct gwstore *st = NULL;
	char err[512] = "";

	p.conninfo = "host=127.0.0.1 port=1 dbname=greenwich user=greenwich connect_timeout=2";
	assert_int_equal(gwstore_open(&st, &p, GWSTORE_STATE, err, sizeof(err)), -EIO);
	assert_null(st);
	assert_non_null(strstr(err, "PostgreSQL"));
	assert_non_null(strstr(err, "127.0.0.1"));
}

/* SQLite: location.db is greenwichd's alone while open (locking_mode
 * EXCLUSIVE, no shared-memory index); what it committed is there for the next
 * opener (after a kill -9: t-durable-load). */
static void
test_sqlite_location_exclusive(void **state)
{
	struct fixture *f = *state;
	struct gwstore_binding b =
	    binding("alice@example.com", "sip:alice@10.0.0.1", 1, f->now + 600);
	char path[600], shm[600];
	sqlite3 *side = NULL;

	assert_int_equal(gwstore_begin(f->loc, true), 0);
	assert_int_equal(gwstore_binding_put(f->loc, &b), 0);
	assert_int_equal(gwstore_commit(f->loc), 0);
	snprintf(path, sizeof(path), "%s/location.db", f->dir);
	snprintf(shm, sizeof(shm), "%s/location.db-shm", f->dir);
	assert_int_equal(access(shm, F_OK), -1);
	assert_int_equal(sqlite3_open(path, &side), SQLITE_OK);
	assert_int_equal(sqlite3_exec(side, "SELECT count(*) FROM bindings", NULL, NULL, NULL),
			 SQLITE_BUSY);
	sqlite3_close(side);
	/* closed: anyone may read what was committed */
	fx_close(f);
	assert_int_equal(sqlite3_open(path, &side), SQLITE_OK);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(side, "SELECT uri FROM bindings", -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "sip:alice@10.0.0.1");
	sqlite3_finalize(s);
	sqlite3_close(side);
	assert_int_equal(fx_open(f), 0);
	assert_int_equal(bindings(f, f->now).n, 1);
}

/* SQLite: GW_TEST_LOCATION_HOLD stands for another process holding the lock:
 * -EBUSY without waiting, a failure after the busy timeout, and normal
 * transactions again once the file is gone. */
static void
test_sqlite_location_hold(void **state)
{
	struct fixture *f = *state;
	struct gwstore_binding b = binding("bob@example.com", "sip:bob@10.0.0.2", 1, f->now + 600);
	char hold[600];
	struct timespec t0, t1;

	snprintf(hold, sizeof(hold), "%s/hold", f->dir);
	fclose(fopen(hold, "w"));
	fx_close(f);
	setenv("GW_TEST_LOCATION_HOLD", hold, 1);
	assert_int_equal(fx_open(f), 0);
	unsetenv("GW_TEST_LOCATION_HOLD");
	assert_int_equal(gwstore_begin(f->loc, false), -EBUSY);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(gwstore_begin(f->loc, true), -EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec >= 4);
	assert_non_null(strstr(gwstore_error(f->loc), "locked"));
	unlink(hold);
	assert_int_equal(gwstore_begin(f->loc, false), 0);
	assert_int_equal(gwstore_binding_put(f->loc, &b), 0);
	assert_int_equal(gwstore_commit(f->loc), 0);
	assert_int_equal(bindings(f, f->now).n, 1);
}

/* Location schema 3 (control requests): a database left at version 2 is
 * brought to 3 when opened, its bindings kept; on PostgreSQL the table is there. */
static void
test_location_migration_3(void **state)
{
	struct fixture *f = *state;
	struct gwstore_binding b =
	    binding("alice@example.com", "sip:alice@10.0.0.1", 1, f->now + 600);

	assert_int_equal(gwstore_schema_version(GWSTORE_LOCATION), 3);
	assert_int_equal(gwstore_begin(f->loc, true), 0);
	assert_int_equal(gwstore_binding_put(f->loc, &b), 0);
	assert_int_equal(gwstore_commit(f->loc), 0);
	fx_close(f);
	if (pg_conninfo) {
		assert_int_equal(pg_number("SELECT version FROM gw_schema WHERE part = 'location'"),
				 3);
		side_exec(f, NULL,
			  "DROP TABLE control_requests;"
			  " UPDATE gw_schema SET version = 2 WHERE part = 'location'");
	} else {
		side_exec(f, "location.db",
			  "UPDATE gw_schema SET version = 2 WHERE part = 'location'");
	}
	assert_int_equal(fx_open(f), 0);
	assert_int_equal(bindings(f, f->now).n, 1);
	if (pg_conninfo) {
		assert_int_equal(pg_number("SELECT version FROM gw_schema WHERE part = 'location'"),
				 3);
		assert_int_equal(pg_number("SELECT count(*) FROM control_requests"), 0);
	} else {
		int64_t id = 0;
		/* one server on SQLite: nothing to relay to */
		assert_int_equal(
		    gwstore_control_ask(f->loc, "fe2", "{\"cmd\":\"status\"}", "me", 10, &id),
		    -EOPNOTSUPP);
	}
}

struct ctl_seen {
	int n, expired;
	int64_t id[4];
	char request[4][64], requester[4][64], role[4][64];
};

static void
ctl_row(const struct gwstore_control *c, void *arg)
{
	struct ctl_seen *s = arg;

	assert_true(s->n < 4);
	s->id[s->n] = c->id;
	snprintf(s->request[s->n], sizeof(s->request[0]), "%s", c->request);
	snprintf(s->requester[s->n], sizeof(s->requester[0]), "%s", c->requester);
	snprintf(s->role[s->n], sizeof(s->role[0]), "%s", c->role);
	s->expired += c->expired;
	s->n++;
}

/* PostgreSQL: a control request is taken once, by its front end only, while
 * in time; its reply reaches the asker; one whose time passed is deleted
 * unrun; old rows are purged. */
static void
test_pg_control(void **state)
{
	struct fixture *f = *state;
	struct ctl_seen s = {0};
	int64_t id = 0, late = 0;
	bool taken = true;
	char *reply = NULL;

	assert_int_equal(
	    gwstore_control_ask(f->loc, "fe2", "{\"cmd\":\"status\"}", "admin@a", 10, &id), 0);
	assert_true(id > 0);
	assert_int_equal(gwstore_control_reply(f->loc, id, &taken, &reply), 0);
	assert_false(taken);
	assert_null(reply);
	/* another front end does not get it */
	assert_int_equal(gwstore_control_take(f->loc, "fe1", ctl_row, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(gwstore_control_take(f->loc, "fe2", ctl_row, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.expired, 0);
	assert_true(s.id[0] == id);
	assert_string_equal(s.request[0], "{\"cmd\":\"status\"}");
	assert_string_equal(s.requester[0], "admin@a");
	assert_true(s.role[0][0] != '\0'); /* the database filled in who inserted it */
	/* taken once */
	assert_int_equal(gwstore_control_take(f->loc, "fe2", ctl_row, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(gwstore_control_reply(f->loc, id, &taken, &reply), 0);
	assert_true(taken);
	assert_null(reply);
	assert_int_equal(gwstore_control_answer(f->loc, id, "{\"ok\":true}"), 0);
	assert_int_equal(gwstore_control_reply(f->loc, id, &taken, &reply), 0);
	assert_non_null(reply);
	assert_string_equal(reply, "{\"ok\":true}");
	free(reply);
	reply = NULL;
	assert_int_equal(gwstore_control_delete(f->loc, id, &taken), 0);
	assert_true(taken);
	assert_int_equal(gwstore_control_reply(f->loc, id, &taken, &reply), -ENOENT);

	/* a request whose time passed before its front end looked: deleted, not run */
	assert_int_equal(
	    gwstore_control_ask(f->loc, "fe2", "{\"cmd\":\"reload\"}", "admin@a", 1, &late), 0);
	sleep(2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(gwstore_control_take(f->loc, "fe2", ctl_row, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.expired, 1);
	assert_string_equal(s.request[0], "{\"cmd\":\"reload\"}");
	assert_int_equal(pg_number("SELECT count(*) FROM control_requests"), 0);

	/* rows more than a minute past their time go at the purge */
	assert_int_equal(
	    gwstore_control_ask(f->loc, "fe3", "{\"cmd\":\"status\"}", "admin@a", 10, &id), 0);
	side_exec(f, NULL, "UPDATE control_requests SET expires = expires - 100");
	assert_int_equal(gwstore_control_purge(f->loc), 0);
	assert_int_equal(pg_number("SELECT count(*) FROM control_requests"), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_bindings),       T(test_publications),
	    T(test_subscriptions),  T(test_acl),
	    T(test_contact_lists),  T(test_accounts),
	    T(test_schema_version), T(test_location_migration_3),
	};
	const struct CMUnitTest sqlite_tests[] = {
	    T(test_sqlite_location_exclusive),
	    T(test_sqlite_location_hold),
	};
	const struct CMUnitTest pg_tests[] = {
	    T(test_pg_pool_bound),
	    T(test_pg_reconnect),
	    T(test_pg_unreachable),
	    T(test_pg_control),
	};
	int failed;

	pg_conninfo = getenv("GWSTORE_TEST_CONNINFO");
	if (pg_conninfo != NULL && pg_conninfo[0] == '\0')
		pg_conninfo = NULL;
	failed = cmocka_run_group_tests_name(
	    pg_conninfo ? "store on PostgreSQL" : "store on SQLite", tests, NULL, NULL);
	if (pg_conninfo)
		failed += cmocka_run_group_tests_name("PostgreSQL pool", pg_tests, NULL, NULL);
	else
		failed +=
		    cmocka_run_group_tests_name("SQLite location.db", sqlite_tests, NULL, NULL);
	return failed;
}
