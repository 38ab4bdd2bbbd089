/*
 * store.h - the registrations of greenwichd in SQLite (WAL), in their own
 * file under the state directory (location.db).
 *
 * One connection per caller thread is not needed: calls are serialized by
 * the owner (the location service holds its write lock while writing).
 */
#ifndef GW_STORE_H
#define GW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "loc.h"

struct store;

/* Open (create) the location database at path.  legacy (or NULL): a database
 * that may still hold a bindings table from before; its rows move to path at
 * the first open. */
int store_open(struct store **out, const char *path, const char *legacy, char *err,
	       size_t errlen);
void store_close(struct store *st);

/* The database's message for the last failure. */
const char *store_error(struct store *st);
int store_begin(struct store *st);
/* BEGIN without waiting: -EBUSY when another connection holds the write lock. */
int store_try_begin(struct store *st);
int store_commit(struct store *st);
/* The WAL has grown enough to be copied back into the database (which syncs). */
bool store_wants_checkpoint(const struct store *st);
void store_checkpoint(struct store *st);
void store_rollback(struct store *st);
int store_binding_put(struct store *st, const struct loc_contact *c);
int store_binding_delete(struct store *st, const char *aor, const char *uri);
int store_binding_delete_expired(struct store *st, time_t now);
/* Calls cb for each stored binding not expired at now. */
int store_binding_each(struct store *st, time_t now,
		       int (*cb)(const struct loc_contact *, void *), void *arg);

#endif
