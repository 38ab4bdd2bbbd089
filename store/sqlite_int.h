/*
 * sqlite_int.h - the SQLite backend's handle and its helpers, shared by the
 * backend's files (sqlite_open.c opens; the others hold the tables' SQL).
 */
#ifndef GW_SQLITE_INT_H
#define GW_SQLITE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store_backend.h"

#define SQ_STMT_MAX 64

struct sq_store {
	struct gwstore base;
	sqlite3 *db;
	int wal_pages; /* in the WAL after the last commit (location only) */
	/* tests: while this file exists the database acts as locked by another
	 * process (GW_TEST_LOCATION_HOLD; location.db is exclusive) */
	char *hold;
	bool held; /* the last begin failed because of it */
	/* statements prepared once per handle, found by their SQL text's address */
	struct {
		const char *sql;
		sqlite3_stmt *s;
	} stmt[SQ_STMT_MAX];
	int nstmt;
};

static inline struct sq_store *
sq(struct gwstore *st)
{
	return (struct sq_store *)st;
}

/* The prepared statement of sql with the arguments fmt describes bound
 * (s text, i int64), or NULL.  Hand it back with sq_done. */
sqlite3_stmt *sq_stmt(struct sq_store *st, const char *sql, const char *fmt, ...);
void sq_done(sqlite3_stmt *s);
/* Run a statement that returns no rows: 0 or -EIO. */
int sq_exec(struct sq_store *st, const char *sql, const char *fmt, ...);
/* Column i as text ("" for NULL). */
const char *sq_col(sqlite3_stmt *s, int i);
/* Hand each row of s (from sq_stmt) to row(s, arg) until it returns non-zero,
 * then sq_done(s): row's non-zero return, 0 when the rows ran out, -EIO when s
 * is NULL or a step failed. */
int sq_rows(sqlite3_stmt *s, int (*row)(sqlite3_stmt *s, void *arg), void *arg);
/* Column 0 of the first row of sql (arguments as sq_stmt), into *num as an
 * integer and into text as text (truncated to len), each unless NULL: 0,
 * -ENOENT when there is no row, or -EIO. */
int sq_first(struct sq_store *st, int64_t *num, char *text, size_t len, const char *sql,
	     const char *fmt, ...);

/* sqlite_bindings.c */
int sq_binding_put(struct gwstore *st, const struct gwstore_binding *b);
int sq_binding_delete(struct gwstore *st, const char *aor, const char *uri);
int sq_binding_expire(struct gwstore *st, time_t now);
int sq_binding_each(struct gwstore *st, time_t now,
		    int (*cb)(const struct gwstore_binding *, void *), void *arg);
int sq_binding_aor(struct gwstore *st, const char *aor, time_t now,
		   int (*cb)(const struct gwstore_binding *, void *), void *arg);
/* Bindings kept in legacy (greenwich.db before location.db) move here once. */
int sq_binding_legacy_move(struct sq_store *st, const char *legacy);

/* sqlite_presence.c */
int sq_pub_put(struct gwstore *st, const struct gwstore_pub *p);
int sq_pub_delete(struct gwstore *st, const char *etag);
int sq_pub_each(struct gwstore *st, const char *aor, time_t now,
		int (*cb)(const struct gwstore_pub *, void *), void *arg);
int sq_sub_put(struct gwstore *st, const struct gwstore_sub *s, int64_t *id);
int sq_sub_add(struct gwstore *st, const struct gwstore_sub *s);
int sq_sub_delete(struct gwstore *st, int64_t id);
int sq_sub_each(struct gwstore *st, time_t now, int (*cb)(const struct gwstore_sub *, void *),
		void *arg);

/* sqlite_lists.c */
int sq_acl_get(struct gwstore *st, const char *owner, const char *watcher, char *rule, size_t len);
int sq_acl_set(struct gwstore *st, const char *owner, const char *watcher, const char *rule);
int sq_acl_each(struct gwstore *st, const char *owner,
		void (*cb)(const char *watcher, const char *rule, void *), void *arg);
int sq_contact_set(struct gwstore *st, const char *owner, const char *uri, const char *name,
		   const char *groups, int subscribed);
int sq_contact_delete(struct gwstore *st, const char *owner, const char *uri);
bool sq_contact_has(struct gwstore *st, const char *owner, const char *uri);
int sq_contacts_each(struct gwstore *st, const char *owner,
		     void (*cb)(const char *uri, const char *name, const char *groups,
				int subscribed, void *),
		     void *arg);
int sq_group_set(struct gwstore *st, const char *owner, int64_t *id, const char *name);
int64_t sq_group_find(struct gwstore *st, const char *owner, const char *name);
int sq_group_name(struct gwstore *st, const char *owner, int64_t id, char *name, size_t len);
int sq_group_delete(struct gwstore *st, const char *owner, int64_t id);
int sq_groups_each(struct gwstore *st, const char *owner,
		   void (*cb)(int64_t id, const char *name, void *), void *arg);
int64_t sq_delta(struct gwstore *st, const char *owner);
int sq_owners_each(struct gwstore *st, void (*cb)(const char *owner, void *), void *arg);

/* sqlite_accounts.c */
int sq_account_get(struct gwstore *st, const char *aor, struct gwstore_account *acct);
int sq_account_put(struct gwstore *st, const struct gwstore_account *acct);
int sq_account_remove(struct gwstore *st, const char *aor);
int sq_account_each(struct gwstore *st, int (*cb)(const struct gwstore_account *, void *),
		    void *arg);
int sq_accounts_version(struct gwstore *st, int64_t *out);

/* sqlite_frontends.c */
int sq_frontend_beat(struct gwstore *st, const struct gwstore_frontend *fe);
int sq_frontend_remove(struct gwstore *st, const char *id);
int sq_frontend_each(struct gwstore *st, int (*cb)(const struct gwstore_frontend *, void *),
		     void *arg);
int sq_notify(struct gwstore *st, const char *channel, const char *payload);

#endif
