/*
 * userdb.c - local accounts in SQLite.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <openssl/crypto.h>

#include "digest.h"
#include "userdb.h"

struct userdb {
	sqlite3 *db;
	sqlite3_stmt *get; /* prepared once: sign-in looks up an account per request */
};

static const char userdb_schema[] = "CREATE TABLE IF NOT EXISTS local_users ("
				    " aor TEXT PRIMARY KEY COLLATE NOCASE,"
				    " realm TEXT NOT NULL,"
				    " ha1_md5 TEXT NOT NULL,"
				    " ha1_sha256 TEXT NOT NULL)";

int
userdb_open(struct userdb **out, const char *path, char *err, size_t errlen)
{
	struct userdb *u = calloc(1, sizeof(*u));
	char *msg = NULL;

	*out = NULL;
	if (u == NULL)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &u->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(u->db));
		goto fail;
	}
	sqlite3_busy_timeout(u->db, 5000);
	if (sqlite3_exec(u->db, "PRAGMA journal_mode=WAL", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(u->db, userdb_schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot prepare database");
		sqlite3_free(msg);
		goto fail;
	}
	*out = u;
	return 0;
fail:
	userdb_close(u);
	return -EIO;
}

void
userdb_close(struct userdb *u)
{
	if (u == NULL)
		return;
	sqlite3_finalize(u->get);
	sqlite3_close(u->db);
	free(u);
}

static void
copy_col(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, len, "%s", s ? (const char *)s : "");
}

static void
row_read(sqlite3_stmt *st, struct userdb_account *a)
{
	copy_col(a->aor, sizeof(a->aor), st, 0);
	copy_col(a->realm, sizeof(a->realm), st, 1);
	copy_col(a->ha1_md5, sizeof(a->ha1_md5), st, 2);
	copy_col(a->ha1_sha256, sizeof(a->ha1_sha256), st, 3);
}

int
userdb_get(struct userdb *u, const char *aor, struct userdb_account *acct)
{
	int ret = -EIO;

	if (u->get == NULL &&
	    sqlite3_prepare_v3(u->db,
			       "SELECT aor, realm, ha1_md5, ha1_sha256 FROM local_users WHERE aor = ?",
			       -1, SQLITE_PREPARE_PERSISTENT, &u->get, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(u->get, 1, aor, -1, SQLITE_STATIC);
	switch (sqlite3_step(u->get)) {
	case SQLITE_ROW:
		row_read(u->get, acct);
		ret = 0;
		break;
	case SQLITE_DONE:
		ret = -ENOENT;
		break;
	default:
		break;
	}
	sqlite3_reset(u->get);
	sqlite3_clear_bindings(u->get);
	return ret;
}

int
userdb_set(struct userdb *u, const char *aor, const char *realm, const char *password)
{
	char user[256];
	char md5[65], sha[65];
	sqlite3_stmt *st = NULL;
	int ret = -EIO;
	const char *at = strchr(aor, '@');

	if (at == NULL || at == aor || at[1] == '\0' || (size_t)(at - aor) >= sizeof(user))
		return -EINVAL;
	memcpy(user, aor, (size_t)(at - aor));
	user[at - aor] = '\0';
	if (gw_digest_ha1(GW_DIGEST_MD5, md5, user, realm, password) < 0 ||
	    gw_digest_ha1(GW_DIGEST_SHA256, sha, user, realm, password) < 0)
		goto done;
	if (sqlite3_prepare_v2(u->db,
			       "INSERT OR REPLACE INTO local_users (aor, realm, ha1_md5, ha1_sha256)"
			       " VALUES (?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, aor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, realm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, md5, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sha, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		ret = 0;
done:
	sqlite3_finalize(st);
	OPENSSL_cleanse(md5, sizeof(md5));
	OPENSSL_cleanse(sha, sizeof(sha));
	return ret;
}

int
userdb_remove(struct userdb *u, const char *aor)
{
	sqlite3_stmt *st = NULL;
	int ret = -EIO;

	if (sqlite3_prepare_v2(u->db, "DELETE FROM local_users WHERE aor = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		goto done;
	sqlite3_bind_text(st, 1, aor, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		ret = sqlite3_changes(u->db) > 0 ? 0 : -ENOENT;
done:
	sqlite3_finalize(st);
	return ret;
}

int
userdb_list(struct userdb *u, int (*cb)(const struct userdb_account *, void *), void *arg)
{
	sqlite3_stmt *st = NULL;
	struct userdb_account a;
	int ret = -EIO;
	int rc;

	if (sqlite3_prepare_v2(u->db,
			       "SELECT aor, realm, ha1_md5, ha1_sha256 FROM local_users ORDER BY aor",
			       -1, &st, NULL) != SQLITE_OK)
		goto done;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_read(st, &a);
		if (cb(&a, arg) != 0)
			break;
	}
	ret = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : -EIO;
done:
	sqlite3_finalize(st);
	return ret;
}
