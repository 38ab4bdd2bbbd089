/*
 * test_userdb.c - local accounts in the SQLite store: set, get, replace,
 * remove, list, the account version another connection sees move with
 * every change (what greenwichd's table in memory follows), and the promise
 * that only HA1 values, never the password, reach the database file.
 * (test_store runs the interface on both backends.)
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "digest.h"
#include "unit.h"
#include "gwstore.h"

struct fixture {
	char dir[256];
	char path[512];
	struct gwstore *db;
};

static int
open_dir(struct gwstore **db, const char *dir, char *err, size_t errlen)
{
	const struct gwstore_params p = {.backend = GWSTORE_SQLITE, .state_dir = dir};

	return gwstore_open(db, &p, GWSTORE_STATE, err, errlen);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL || unit_dir_make(f->dir, sizeof(f->dir)) < 0)
		goto fail;
	snprintf(f->path, sizeof(f->path), "%s/greenwich.db", f->dir);
	if (open_dir(&f->db, f->dir, err, sizeof(err)) != 0) {
		unit_dir_remove(f->dir);
		goto fail;
	}
	*state = f;
	return 0;
fail:
	free(f);
	return -1;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gwstore_close(f->db);
	unit_dir_remove(f->dir);
	free(f);
	return 0;
}

static void
assert_account(const struct gwstore_account *a, const char *aor, const char *user,
	       const char *realm, const char *password)
{
	char md5[65], sha[65];

	assert_int_equal(gw_digest_ha1(GW_DIGEST_MD5, md5, user, realm, password), 0);
	assert_int_equal(gw_digest_ha1(GW_DIGEST_SHA256, sha, user, realm, password), 0);
	assert_string_equal(a->aor, aor);
	assert_string_equal(a->realm, realm);
	assert_string_equal(a->ha1_md5, md5);
	assert_string_equal(a->ha1_sha256, sha);
}

struct seen {
	char aor[8][256];
	int n;
	int stop_after; /* 0: never stop */
};

static int
collect(const struct gwstore_account *a, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->aor[s->n], sizeof(s->aor[0]), "%s", a->aor);
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

static void
test_set_get(void **state)
{
	struct fixture *f = *state;
	struct gwstore_account a;

	assert_int_equal(gwstore_account_set(f->db, "alice@example.com", "example.com", "s3cret!"),
			 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(gwstore_account_get(f->db, "alice@example.com", &a), 0);
	/* HA1 is made of the user part only, not the whole AOR */
	assert_account(&a, "alice@example.com", "alice", "example.com", "s3cret!");
	/* the AOR key is case-insensitive */
	memset(&a, 0, sizeof(a));
	assert_int_equal(gwstore_account_get(f->db, "ALICE@Example.COM", &a), 0);
	assert_string_equal(a.aor, "alice@example.com");
}

static void
test_missing_user(void **state)
{
	struct fixture *f = *state;
	struct gwstore_account a;

	assert_int_equal(gwstore_account_get(f->db, "nobody@example.com", &a), -ENOENT);
	assert_int_equal(gwstore_account_remove(f->db, "nobody@example.com"), -ENOENT);
	assert_int_equal(gwstore_account_set(f->db, "bob@example.com", "example.com", "pw"), 0);
	assert_int_equal(gwstore_account_get(f->db, "bob@example.org", &a), -ENOENT);
	assert_int_equal(gwstore_account_get(f->db, "bo@example.com", &a), -ENOENT);
}

static void
test_bad_aor(void **state)
{
	static const char *bad[] = {"", "alice", "@example.com", "alice@", "@"};
	struct fixture *f = *state;
	char longuser[400];
	struct seen s = {0};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gwstore_account_set(f->db, bad[i], "example.com", "pw"), -EINVAL);
	memset(longuser, 'u', 300);
	strcpy(longuser + 300, "@example.com");
	assert_int_equal(gwstore_account_set(f->db, longuser, "example.com", "pw"), -EINVAL);
	/* nothing was written */
	assert_int_equal(gwstore_account_each(f->db, collect, &s), 0);
	assert_int_equal(s.n, 0);
}

static void
test_replace(void **state)
{
	struct fixture *f = *state;
	struct gwstore_account before, after;

	assert_int_equal(gwstore_account_set(f->db, "carol@example.com", "example.com", "first"),
			 0);
	assert_int_equal(gwstore_account_get(f->db, "carol@example.com", &before), 0);
	assert_int_equal(gwstore_account_set(f->db, "carol@example.com", "corp", "second"), 0);
	assert_int_equal(gwstore_account_get(f->db, "carol@example.com", &after), 0);
	assert_account(&after, "carol@example.com", "carol", "corp", "second");
	assert_string_not_equal(before.ha1_md5, after.ha1_md5);
	assert_string_not_equal(before.ha1_sha256, after.ha1_sha256);
}

static void
test_remove(void **state)
{
	struct fixture *f = *state;
	struct gwstore_account a;

	assert_int_equal(gwstore_account_set(f->db, "dave@example.com", "example.com", "pw1"), 0);
	assert_int_equal(gwstore_account_set(f->db, "erin@example.com", "example.com", "pw2"), 0);
	assert_int_equal(gwstore_account_remove(f->db, "DAVE@example.com"), 0);
	assert_int_equal(gwstore_account_get(f->db, "dave@example.com", &a), -ENOENT);
	assert_int_equal(gwstore_account_remove(f->db, "dave@example.com"), -ENOENT);
	assert_int_equal(gwstore_account_get(f->db, "erin@example.com", &a), 0);
	assert_account(&a, "erin@example.com", "erin", "example.com", "pw2");
}

static void
test_list(void **state)
{
	struct fixture *f = *state;
	struct seen s = {0};

	assert_int_equal(gwstore_account_each(f->db, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(gwstore_account_set(f->db, "mallory@example.com", "example.com", "a"), 0);
	assert_int_equal(gwstore_account_set(f->db, "alice@example.com", "example.com", "b"), 0);
	assert_int_equal(gwstore_account_set(f->db, "bob@example.com", "example.com", "c"), 0);
	assert_int_equal(gwstore_account_each(f->db, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.aor[0], "alice@example.com");
	assert_string_equal(s.aor[1], "bob@example.com");
	assert_string_equal(s.aor[2], "mallory@example.com");

	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(gwstore_account_each(f->db, collect, &s), 0);
	assert_int_equal(s.n, 2);
}

/* The password never reaches the disk; the HA1 values do; a reopened
 * database returns the same account. */
static void
test_password_not_stored(void **state)
{
	static const char password[] = "Very-Distinct-Password-4711";
	struct fixture *f = *state;
	struct gwstore_account a, b;
	char err[256], wal[600];

	assert_int_equal(gwstore_account_set(f->db, "frank@example.com", "example.com", password),
			 0);
	assert_int_equal(gwstore_account_get(f->db, "frank@example.com", &a), 0);
	gwstore_close(f->db);
	f->db = NULL;

	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_true(unit_file_contains(f->path, a.ha1_sha256, strlen(a.ha1_sha256)) ||
		    unit_file_contains(wal, a.ha1_sha256, strlen(a.ha1_sha256)));
	assert_false(unit_file_contains(f->path, password, strlen(password)));
	assert_false(unit_file_contains(wal, password, strlen(password)));

	assert_int_equal(open_dir(&f->db, f->dir, err, sizeof(err)), 0);
	assert_int_equal(gwstore_account_get(f->db, "frank@example.com", &b), 0);
	assert_account(&b, "frank@example.com", "frank", "example.com", password);
}

/* Every change moves the version a second connection (greenwichd's, while
 * greenwich-mmc changes the file) reads; a failed change does not. */
static void
test_version(void **state)
{
	struct fixture *f = *state;
	struct gwstore *other = NULL;
	int64_t v0 = 0, v1 = 0, v2 = 0, v3 = 0;
	char err[256];

	assert_int_equal(open_dir(&other, f->dir, err, sizeof(err)), 0);
	assert_int_equal(gwstore_accounts_version(other, &v0), 0);
	assert_int_equal(gwstore_account_set(f->db, "gina@example.com", "example.com", "pw"), 0);
	assert_int_equal(gwstore_accounts_version(other, &v1), 0);
	assert_true(v1 != v0);
	assert_int_equal(gwstore_account_set(f->db, "gina@example.com", "example.com", "pw2"), 0);
	assert_int_equal(gwstore_accounts_version(other, &v2), 0);
	assert_true(v2 != v1);
	assert_int_equal(gwstore_account_remove(f->db, "nobody@example.com"), -ENOENT);
	assert_int_equal(gwstore_accounts_version(other, &v3), 0);
	assert_true(v3 == v2);
	assert_int_equal(gwstore_account_remove(f->db, "gina@example.com"), 0);
	assert_int_equal(gwstore_accounts_version(other, &v3), 0);
	assert_true(v3 != v2);
	gwstore_close(other);
}

static void
test_open_failure(void **state)
{
	struct fixture *f = *state;
	struct gwstore *db = (struct gwstore *)f;
	char path[600], err[256] = "";

	snprintf(path, sizeof(path), "%s/no/such/dir", f->dir);
	assert_int_equal(open_dir(&db, path, err, sizeof(err)), -EIO);
	assert_null(db);
	assert_non_null(strstr(err, path));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_set_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_aor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_password_not_stored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_failure, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
