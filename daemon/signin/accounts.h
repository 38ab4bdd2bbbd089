/*
 * accounts.h - the local Digest accounts as the SIP workers read them.
 *
 * On SQLite a worker reads its own handle (a local file: no network).  On
 * PostgreSQL no SIP worker waits on the database: every account is kept in
 * memory, read by a thread of its own at start, again whenever a console or
 * another front end announces a change (the store's gw_accounts channel),
 * after a lost connection to the database, and every minute in any case.
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
/* aor is a local account. */
bool accounts_has(struct worker *w, const char *aor);

#endif
