/*
 * pg_int.h - the PostgreSQL backend's handle, its connection pool and its
 * statements, shared by the backend's files (pg_open.c opens and runs
 * statements, pg_pool.c keeps the connections, the others hold the tables).
 */
#ifndef GW_PG_INT_H
#define GW_PG_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store_backend.h"

/* Every statement of the backend, prepared on each connection as it opens. */
enum pg_q {
	Q_BIND_PUT,
	Q_BIND_DELETE,
	Q_BIND_EXPIRE,
	Q_BIND_EACH,
	Q_BIND_AOR,
	Q_PUB_PUT,
	Q_PUB_DELETE,
	Q_PUB_EACH,
	Q_PUB_AOR,
	Q_SUB_INSERT,
	Q_SUB_UPDATE,
	Q_SUB_ADD,
	Q_SUB_DELETE,
	Q_SUB_EACH,
	Q_ACL_GET,
	Q_ACL_PUT,
	Q_ACL_DELETE,
	Q_ACL_EACH,
	Q_DELTA_BUMP,
	Q_DELTA,
	Q_CONTACT_PUT,
	Q_CONTACT_DELETE,
	Q_CONTACT_HAS,
	Q_CONTACTS_EACH,
	Q_GROUP_ADD,
	Q_GROUP_RENAME,
	Q_GROUP_FIND,
	Q_GROUP_NAME,
	Q_GROUP_DELETE,
	Q_GROUPS_EACH,
	Q_OWNERS,
	Q_ACCOUNT_GET,
	Q_ACCOUNT_PUT,
	Q_ACCOUNT_REMOVE,
	Q_ACCOUNT_EACH,
	Q_FE_BEAT,
	Q_FE_REMOVE,
	Q_FE_EACH,
	Q_NOTIFY,
	Q_CTL_ASK,
	Q_CTL_STALE,
	Q_CTL_TAKE,
	Q_CTL_ANSWER,
	Q_CTL_REPLY,
	Q_CTL_DELETE,
	Q_CTL_PURGE,
	Q_COUNT
};

/* pg_sql.c: the SQL of each statement. */
extern const char *const pg_sql[Q_COUNT];

/* pg_pool.c: at most size connections per conninfo in this process, shared
 * by every handle; a thread that needs one while all are busy waits. */
struct pg_pool;
struct pg_conn {
	PGconn *c;
	uint64_t prepared; /* bit q: statement q is prepared on c */
};
_Static_assert(Q_COUNT <= 64, "a bit per statement");
struct pg_pool *pg_pool_get(const char *conninfo, int size);
void pg_pool_release(struct pg_pool *pool);
/* A connection, opened when none is idle; NULL with err set when the
 * database cannot be reached.  Statements are prepared on it as first used. */
struct pg_conn *pg_conn_take(struct pg_pool *pool, char *err, size_t errlen);
/* Hand a connection back; a broken one is closed (the next take reconnects,
 * to whichever host is the primary then). */
void pg_conn_give(struct pg_pool *pool, struct pg_conn *conn);
/* The first handle of each part of a pool brings the schema up to date. */
bool pg_pool_migrated(struct pg_pool *pool, enum gwstore_part part, bool set);

struct pg_store {
	struct gwstore base;
	struct pg_pool *pool;
	struct pg_conn *tx; /* held from begin to commit or rollback */
	char err[512];
};

static inline struct pg_store *
pgs(struct gwstore *st)
{
	return (struct pg_store *)st;
}

/* Run statement q with n text parameters (NULL: SQL NULL).  The result (to
 * PQclear) or NULL with the handle's error set.  Outside a transaction a
 * statement whose connection broke runs once more on a fresh connection. */
PGresult *pg_run(struct pg_store *st, enum pg_q q, int n, const char *const *vals);
/* The same for a statement that returns no rows: 0 or -EIO. */
int pg_exec(struct pg_store *st, enum pg_q q, int n, const char *const *vals);
/* Column c of row r ("" for NULL); as a number. */
const char *pg_col(const PGresult *r, int row, int c);
int64_t pg_int(const PGresult *r, int row, int c);

/* A number as a statement parameter. */
struct pg_num {
	char s[24];
};
const char *pg_num(struct pg_num *n, int64_t v);

/* pg_bindings.c */
int pg_binding_put(struct gwstore *st, const struct gwstore_binding *b);
int pg_binding_delete(struct gwstore *st, const char *aor, const char *uri);
int pg_binding_expire(struct gwstore *st, time_t now);
int pg_binding_each(struct gwstore *st, time_t now,
		    int (*cb)(const struct gwstore_binding *, void *), void *arg);
int pg_binding_aor(struct gwstore *st, const char *aor, time_t now,
		   int (*cb)(const struct gwstore_binding *, void *), void *arg);

/* pg_presence.c */
int pg_pub_put(struct gwstore *st, const struct gwstore_pub *p);
int pg_pub_delete(struct gwstore *st, const char *etag);
int pg_pub_each(struct gwstore *st, const char *aor, time_t now,
		int (*cb)(const struct gwstore_pub *, void *), void *arg);
int pg_sub_put(struct gwstore *st, const struct gwstore_sub *s, int64_t *id);
int pg_sub_add(struct gwstore *st, const struct gwstore_sub *s);
int pg_sub_delete(struct gwstore *st, int64_t id);
int pg_sub_each(struct gwstore *st, time_t now, int (*cb)(const struct gwstore_sub *, void *),
		void *arg);

/* pg_lists.c */
int pg_acl_get(struct gwstore *st, const char *owner, const char *watcher, char *rule, size_t len);
int pg_acl_set(struct gwstore *st, const char *owner, const char *watcher, const char *rule);
int pg_acl_each(struct gwstore *st, const char *owner,
		void (*cb)(const char *watcher, const char *rule, void *), void *arg);
int pg_contact_set(struct gwstore *st, const char *owner, const char *uri, const char *name,
		   const char *groups, int subscribed);
int pg_contact_delete(struct gwstore *st, const char *owner, const char *uri);
bool pg_contact_has(struct gwstore *st, const char *owner, const char *uri);
int pg_contacts_each(struct gwstore *st, const char *owner,
		     void (*cb)(const char *uri, const char *name, const char *groups,
				int subscribed, void *),
		     void *arg);
int pg_group_set(struct gwstore *st, const char *owner, int64_t *id, const char *name);
int64_t pg_group_find(struct gwstore *st, const char *owner, const char *name);
int pg_group_name(struct gwstore *st, const char *owner, int64_t id, char *name, size_t len);
int pg_group_delete(struct gwstore *st, const char *owner, int64_t id);
int pg_groups_each(struct gwstore *st, const char *owner,
		   void (*cb)(int64_t id, const char *name, void *), void *arg);
int64_t pg_delta(struct gwstore *st, const char *owner);
int pg_owners_each(struct gwstore *st, void (*cb)(const char *owner, void *), void *arg);

/* pg_accounts.c */
int pg_account_get(struct gwstore *st, const char *aor, struct gwstore_account *acct);
int pg_account_put(struct gwstore *st, const struct gwstore_account *acct);
int pg_account_remove(struct gwstore *st, const char *aor);
int pg_account_each(struct gwstore *st, int (*cb)(const struct gwstore_account *, void *),
		    void *arg);

/* pg_control.c */
int pg_control_ask(struct gwstore *st, const char *frontend, const char *request,
		   const char *requester, int ttl, int64_t *id);
int pg_control_take(struct gwstore *st, const char *frontend,
		    void (*cb)(const struct gwstore_control *, void *), void *arg);
int pg_control_answer(struct gwstore *st, int64_t id, const char *reply);
int pg_control_reply(struct gwstore *st, int64_t id, bool *taken, char **reply);
int pg_control_delete(struct gwstore *st, int64_t id, bool *taken);
int pg_control_purge(struct gwstore *st);

/* pg_frontends.c */
int pg_frontend_beat(struct gwstore *st, const struct gwstore_frontend *fe);
int pg_frontend_remove(struct gwstore *st, const char *id);
int pg_frontend_each(struct gwstore *st, int (*cb)(const struct gwstore_frontend *, void *),
		     void *arg);
int pg_notify(struct gwstore *st, const char *channel, const char *payload);

#endif
