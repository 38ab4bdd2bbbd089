/*
 * pg_accounts.c - local Digest accounts in PostgreSQL (table local_users):
 * the HA1 values, one per algorithm; never the password.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

static void
row_read(const PGresult *r, int i, struct gwstore_account *a)
{
	snprintf(a->aor, sizeof(a->aor), "%s", pg_col(r, i, 0));
	snprintf(a->realm, sizeof(a->realm), "%s", pg_col(r, i, 1));
	snprintf(a->ha1_md5, sizeof(a->ha1_md5), "%s", pg_col(r, i, 2));
	snprintf(a->ha1_sha256, sizeof(a->ha1_sha256), "%s", pg_col(r, i, 3));
}

int
pg_account_get(struct gwstore *st, const char *aor, struct gwstore_account *acct)
{
	const char *v[] = {aor};
	PGresult *r = pg_run(pgs(st), Q_ACCOUNT_GET, 1, v);
	int ret = -ENOENT;

	if (r == NULL)
		return -EIO;
	if (PQntuples(r) > 0) {
		row_read(r, 0, acct);
		ret = 0;
	}
	PQclear(r);
	return ret;
}

int
pg_account_put(struct gwstore *st, const struct gwstore_account *a)
{
	const char *v[] = {a->aor, a->realm, a->ha1_md5, a->ha1_sha256};

	return pg_exec(pgs(st), Q_ACCOUNT_PUT, 4, v);
}

int
pg_account_remove(struct gwstore *st, const char *aor)
{
	const char *v[] = {aor};
	PGresult *r = pg_run(pgs(st), Q_ACCOUNT_REMOVE, 1, v);
	int ret;

	if (r == NULL)
		return -EIO;
	ret = strcmp(PQcmdTuples(r), "0") == 0 ? -ENOENT : 0;
	PQclear(r);
	return ret;
}

int
pg_account_each(struct gwstore *st, int (*cb)(const struct gwstore_account *, void *), void *arg)
{
	PGresult *r = pg_run(pgs(st), Q_ACCOUNT_EACH, 0, NULL);
	struct gwstore_account a;

	if (r == NULL)
		return -EIO;
	for (int i = 0; i < PQntuples(r); i++) {
		row_read(r, i, &a);
		if (cb(&a, arg) != 0)
			break;
	}
	PQclear(r);
	return 0;
}
