/*
 * userdb.h - local (non-domain) SIP accounts, kept in the server's SQLite
 * database (<state-directory>/greenwich.db, table local_users).
 *
 * Only the Digest HA1 values are stored, one per algorithm; never the password.
 * Shared by greenwichd (verification) and greenwich-mmc (local-user add/remove/list).
 */
#ifndef GW_USERDB_H
#define GW_USERDB_H

#include <stdbool.h>
#include <stddef.h>

struct userdb;

struct userdb_account {
	char aor[256];	    /* user@domain */
	char realm[128];    /* the Digest realm the HA1 values were made for */
	char ha1_md5[65];
	char ha1_sha256[65];
};

/* Open (and create when missing) the database file. */
int userdb_open(struct userdb **out, const char *path, char *err, size_t errlen);
void userdb_close(struct userdb *db);
/* 0 when found, -ENOENT when not, other -errno on failure. */
int userdb_get(struct userdb *db, const char *aor, struct userdb_account *acct);
/* Add or replace an account; the password is hashed here and not kept. */
int userdb_set(struct userdb *db, const char *aor, const char *realm, const char *password);
int userdb_remove(struct userdb *db, const char *aor);
/* Calls cb for each account in AOR order; stops when cb returns non-zero. */
int userdb_list(struct userdb *db, int (*cb)(const struct userdb_account *, void *), void *arg);

#endif
