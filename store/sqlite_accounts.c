/*
 * sqlite_accounts.c - local Digest accounts in SQLite (greenwich.db, table
 * local_users): the HA1 values, one per algorithm; never the password.
 *
 * Every change also counts up the file's user_version (nothing else uses
 * it): greenwichd keeps the accounts in memory and reads that one number,
 * not the table, to notice greenwich-mmc's changes (gwstore_accounts_version).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

/* prepared once: sign-in looks up an account per request */
static const char sql_get[] =
    "SELECT aor, realm, ha1_md5, ha1_sha256 FROM local_users WHERE aor = ?";
static const char sql_put[] = "INSERT OR REPLACE INTO local_users (aor, realm, ha1_md5,"
			      " ha1_sha256) VALUES (?, ?, ?, ?)";
static const char sql_remove[] = "DELETE FROM local_users WHERE aor = ?";
static const char sql_each[] =
    "SELECT aor, realm, ha1_md5, ha1_sha256 FROM local_users ORDER BY aor";

static const char sql_version[] = "PRAGMA user_version";

int
sq_accounts_version(struct gwstore *st, int64_t *out)
{
	sqlite3_stmt *s = sq_stmt(sq(st), sql_version, "");
	int ret = -EIO;

	if (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		ret = 0;
	}
	sq_done(s);
	return ret;
}

/* After a change: the next user_version (a pragma's value cannot be bound, so
 * it is printed).  Two changes at once may both write the same number; a
 * reader that saw either reads the table after both changes were made. */
static void
version_bump(struct gwstore *st)
{
	int64_t v = 0;
	char sql[64];

	if (sq_accounts_version(st, &v) < 0)
		return;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", (int)(int32_t)(uint32_t)(v + 1));
	sqlite3_exec(sq(st)->db, sql, NULL, NULL, NULL);
}

static void
row_read(sqlite3_stmt *st, struct gwstore_account *a)
{
	snprintf(a->aor, sizeof(a->aor), "%s", sq_col(st, 0));
	snprintf(a->realm, sizeof(a->realm), "%s", sq_col(st, 1));
	snprintf(a->ha1_md5, sizeof(a->ha1_md5), "%s", sq_col(st, 2));
	snprintf(a->ha1_sha256, sizeof(a->ha1_sha256), "%s", sq_col(st, 3));
}

int
sq_account_get(struct gwstore *st, const char *aor, struct gwstore_account *acct)
{
	sqlite3_stmt *s = sq_stmt(sq(st), sql_get, "s", aor);
	int ret = -EIO;

	if (s == NULL)
		return -EIO;
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		row_read(s, acct);
		ret = 0;
		break;
	case SQLITE_DONE:
		ret = -ENOENT;
		break;
	default:
		break;
	}
	sq_done(s);
	return ret;
}

int
sq_account_put(struct gwstore *st, const struct gwstore_account *a)
{
	int ret = sq_exec(sq(st), sql_put, "ssss", a->aor, a->realm, a->ha1_md5, a->ha1_sha256);

	if (ret == 0)
		version_bump(st);
	return ret;
}

int
sq_account_remove(struct gwstore *st, const char *aor)
{
	int ret = sq_exec(sq(st), sql_remove, "s", aor);

	if (ret == 0 && sqlite3_changes(sq(st)->db) == 0)
		ret = -ENOENT;
	if (ret == 0)
		version_bump(st);
	return ret;
}

struct walk {
	int (*cb)(const struct gwstore_account *, void *);
	void *arg;
};

/* A non-zero return of cb stops the walk (sq_rows), not reported as an error. */
static int
account_row(sqlite3_stmt *s, void *arg)
{
	const struct walk *w = arg;
	struct gwstore_account a;

	row_read(s, &a);
	return w->cb(&a, w->arg) != 0;
}

int
sq_account_each(struct gwstore *st, int (*cb)(const struct gwstore_account *, void *), void *arg)
{
	struct walk w = {cb, arg};

	return sq_rows(sq_stmt(sq(st), sql_each, ""), account_row, &w) < 0 ? -EIO : 0;
}
