/*
 * presence_lists.h - the presence tables users and the administrator edit
 * (authorization lists, server-stored contact lists) and the database
 * connection of the presence service.  No Sofia-SIP here: greenwich-mmc uses
 * it too.
 */
#ifndef GW_PRESENCE_LISTS_H
#define GW_PRESENCE_LISTS_H

#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

struct pres_store {
	sqlite3 *db;
};

int pres_store_open(struct pres_store **out, const char *path, char *err, size_t errlen);
void pres_store_close(struct pres_store *st);

static inline sqlite3 *
pres_store_db(struct pres_store *st)
{
	return st->db;
}

/* SQL helpers: fmt describes the arguments, s text, i int64. */
sqlite3_stmt *pres_sql_stmt_v(struct pres_store *st, const char *sql, const char *fmt,
			      va_list ap);
sqlite3_stmt *pres_sql_stmt(struct pres_store *st, const char *sql, const char *fmt, ...);
/* A statement that returns no rows: 0 or -EIO. */
int pres_sql_exec(struct pres_store *st, const char *sql, const char *fmt, ...);
/* Column i as text ("" for NULL). */
const char *pres_sql_col(sqlite3_stmt *s, int i);

/* The rule ("allow"/"block") owner keeps for watcher; -ENOENT when none. */
int pres_store_acl_get(struct pres_store *st, const char *owner, const char *watcher, char *rule,
		       size_t len);
/* rule NULL removes it. */
int pres_store_acl_set(struct pres_store *st, const char *owner, const char *watcher,
		       const char *rule);

/* Server-stored contact lists (each change bumps the owner's deltaNum). */
int pres_store_contact_set(struct pres_store *st, const char *owner, const char *uri,
			   const char *name, const char *groups, int subscribed);
int pres_store_contact_delete(struct pres_store *st, const char *owner, const char *uri);
/* id 0 adds a group and returns its new id through *id. */
int pres_store_group_set(struct pres_store *st, const char *owner, int64_t *id, const char *name);
/* The id of owner's group called name, 0 when none. */
int64_t pres_store_group_find(struct pres_store *st, const char *owner, const char *name);
int pres_store_group_delete(struct pres_store *st, const char *owner, int64_t id);
int64_t pres_store_delta(struct pres_store *st, const char *owner);
int pres_store_groups_each(struct pres_store *st, const char *owner,
			   void (*cb)(int64_t id, const char *name, void *), void *arg);
int pres_store_contacts_each(struct pres_store *st, const char *owner,
			     void (*cb)(const char *uri, const char *name, const char *groups,
					int subscribed, void *),
			     void *arg);

/* A URI as clients write it (sip:bob@x, <sip:bob@x>, bob@x) to user@host, host in
 * lower case: how the lists name users. */
void pres_uri_norm(char *out, size_t len, const char *in);

/* The console's views: each rule of owner's; a group's name (-ENOENT); a contact. */
int pres_store_acl_each(struct pres_store *st, const char *owner,
			void (*cb)(const char *watcher, const char *rule, void *), void *arg);
int pres_store_group_name(struct pres_store *st, const char *owner, int64_t id, char *name,
			  size_t len);
bool pres_store_contact_has(struct pres_store *st, const char *owner, const char *uri);

#endif
