/*
 * accounts.h - the local Digest accounts as the SIP workers read them.
 *
 * Every account is kept in memory (one table for the process, accounts.c),
 * read by a thread of its own at start and every minute in any case, and:
 * on PostgreSQL whenever a console or another front end announces a change
 * (the store's gw_accounts channel) and after a lost connection to the
 * database, so that no SIP worker waits on the database; on SQLite whenever
 * the file's account version (gwstore_accounts_version, counted up by every
 * change greenwich-mmc makes) moved, looked at every 100 ms, so that no
 * REGISTER pays an SQLite read.  On SQLite an account missing from the table,
 * or credentials it refuses, are looked up in the file too
 * (accounts_get_fresh): an account just added, or a password just changed, is
 * taken at once; one just removed, or an old password, within the 100 ms.
 */
#ifndef GW_ACCOUNTS_H
#define GW_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

struct gwd;
struct worker;
struct gwstore_account;

/* Before the workers start: 0, or -1 with err set (the accounts cannot be read). */
int accounts_start(struct gwd *g, char *err, size_t errlen);
void accounts_stop(struct gwd *g);
/* The account of aor (no regard to case): 0, or -ENOENT. */
int accounts_get(struct worker *w, const char *aor, struct gwstore_account *out);
/* The same from the database itself where a worker can read it at once
 * (SQLite; the table is told to catch up when it differs), else as
 * accounts_get: for credentials the table refused. */
int accounts_get_fresh(struct worker *w, const char *aor, struct gwstore_account *out);
/* aor is a local account. */
bool accounts_has(struct worker *w, const char *aor);

#endif
