/*
 * store_backend.h - what a backend of libgwstore implements: one table of
 * operations.  Private to store/: callers use gwstore.h.
 *
 * A backend's handle begins with struct gwstore (its ops), so that the
 * functions of gwstore.h dispatch through it.  Every operation is mandatory.
 */
#ifndef GW_STORE_BACKEND_H
#define GW_STORE_BACKEND_H

#include "gwstore.h"

struct gwstore_ops {
	const char *name;
	bool local;
	void (*close)(struct gwstore *st);
	const char *(*error)(struct gwstore *st);

	int (*begin)(struct gwstore *st, bool wait);
	int (*commit)(struct gwstore *st);
	void (*rollback)(struct gwstore *st);
	bool (*wants_checkpoint)(const struct gwstore *st);
	void (*checkpoint)(struct gwstore *st);

	int (*binding_put)(struct gwstore *st, const struct gwstore_binding *b);
	int (*binding_delete)(struct gwstore *st, const char *aor, const char *uri);
	int (*binding_expire)(struct gwstore *st, time_t now);
	int (*binding_each)(struct gwstore *st, time_t now,
			    int (*cb)(const struct gwstore_binding *, void *), void *arg);
	int (*binding_aor)(struct gwstore *st, const char *aor, time_t now,
			   int (*cb)(const struct gwstore_binding *, void *), void *arg);

	int (*pub_put)(struct gwstore *st, const struct gwstore_pub *p);
	int (*pub_delete)(struct gwstore *st, const char *etag);
	/* aor NULL: every AOR's */
	int (*pub_each)(struct gwstore *st, const char *aor, time_t now,
			int (*cb)(const struct gwstore_pub *, void *), void *arg);
	int (*sub_put)(struct gwstore *st, const struct gwstore_sub *s, int64_t *id);
	int (*sub_add)(struct gwstore *st, const struct gwstore_sub *s);
	int (*sub_delete)(struct gwstore *st, int64_t id);
	int (*sub_each)(struct gwstore *st, time_t now,
			int (*cb)(const struct gwstore_sub *, void *), void *arg);

	int (*acl_get)(struct gwstore *st, const char *owner, const char *watcher, char *rule,
		       size_t len);
	int (*acl_set)(struct gwstore *st, const char *owner, const char *watcher,
		       const char *rule);
	int (*acl_each)(struct gwstore *st, const char *owner,
			void (*cb)(const char *watcher, const char *rule, void *), void *arg);
	int (*contact_set)(struct gwstore *st, const char *owner, const char *uri, const char *name,
			   const char *groups, int subscribed);
	int (*contact_delete)(struct gwstore *st, const char *owner, const char *uri);
	bool (*contact_has)(struct gwstore *st, const char *owner, const char *uri);
	int (*contacts_each)(struct gwstore *st, const char *owner,
			     void (*cb)(const char *uri, const char *name, const char *groups,
					int subscribed, void *),
			     void *arg);
	int (*group_set)(struct gwstore *st, const char *owner, int64_t *id, const char *name);
	int64_t (*group_find)(struct gwstore *st, const char *owner, const char *name);
	int (*group_name)(struct gwstore *st, const char *owner, int64_t id, char *name,
			  size_t len);
	int (*group_delete)(struct gwstore *st, const char *owner, int64_t id);
	int (*groups_each)(struct gwstore *st, const char *owner,
			   void (*cb)(int64_t id, const char *name, void *), void *arg);
	int64_t (*delta)(struct gwstore *st, const char *owner);
	int (*owners_each)(struct gwstore *st, void (*cb)(const char *owner, void *), void *arg);

	int (*account_get)(struct gwstore *st, const char *aor, struct gwstore_account *acct);
	/* the HA1 values are made by the caller (store.c) */
	int (*account_put)(struct gwstore *st, const struct gwstore_account *acct);
	int (*account_remove)(struct gwstore *st, const char *aor);
	int (*account_each)(struct gwstore *st, int (*cb)(const struct gwstore_account *, void *),
			    void *arg);
	/* NULL: the backend keeps no such counter (gwstore_accounts_version) */
	int (*accounts_version)(struct gwstore *st, int64_t *out);

	int (*frontend_beat)(struct gwstore *st, const struct gwstore_frontend *fe);
	int (*frontend_remove)(struct gwstore *st, const char *id);
	int (*frontend_each)(struct gwstore *st, int (*cb)(const struct gwstore_frontend *, void *),
			     void *arg);
	int (*notify)(struct gwstore *st, const char *channel, const char *payload);

	/* NULL: no relay of control requests (SQLite: one server) */
	int (*control_ask)(struct gwstore *st, const char *frontend, const char *request,
			   const char *requester, int ttl, int64_t *id);
	int (*control_take)(struct gwstore *st, const char *frontend,
			    void (*cb)(const struct gwstore_control *, void *), void *arg);
	int (*control_answer)(struct gwstore *st, int64_t id, const char *reply);
	int (*control_reply)(struct gwstore *st, int64_t id, bool *taken, char **reply);
	int (*control_delete)(struct gwstore *st, int64_t id, bool *taken);
	int (*control_purge)(struct gwstore *st);
};

struct gwstore {
	const struct gwstore_ops *ops;
	enum gwstore_part part;
};

/* The schema versions both backends write (their migrations reach it). */
/* pg_check.c: gwstore_check for PostgreSQL. */
int gwstore_pg_check(const char *conninfo, char *note, size_t notelen, char *err, size_t errlen);

#define GWSTORE_LOCATION_VERSION 3
#define GWSTORE_STATE_VERSION 2

/* Each backend's opener. */
int gwstore_sqlite_open(struct gwstore **out, const struct gwstore_params *p,
			enum gwstore_part part, char *err, size_t errlen);
int gwstore_pg_open(struct gwstore **out, const struct gwstore_params *p, enum gwstore_part part,
		    char *err, size_t errlen);
/* pg_listen.c */
int gwstore_pg_listener_open(struct gwstore_listener **out, const char *conninfo,
			     const char *const *chans, size_t n, char *err, size_t errlen);

#endif
