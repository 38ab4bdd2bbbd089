/*
 * gwstore.h - libgwstore: the durable tables greenwichd and greenwich-mmc
 * share (location bindings, presence publications and subscriptions, contact
 * lists, authorization rules, local Digest accounts), behind one interface.
 *
 * Two backends implement it: SQLite (the embedded default of a single
 * server: files under the state directory) and PostgreSQL (libpq; one
 * database several servers can share).  Which one is [store] backend.
 *
 * A handle (struct gwstore) is used by one thread at a time.  Opening one
 * prepares the database: the schema version is read and every migration the
 * database lacks is applied; a database made by a newer Greenwich is refused.
 *
 * Strings in the records passed to callbacks live until the callback returns.
 * Functions return 0 or -errno (-ENOENT: no such row; -EIO: the database
 * failed, gwstore_error says how; -EBUSY: see gwstore_begin).
 */
#ifndef GW_GWSTORE_H
#define GW_GWSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct gw_conf;

enum gwstore_backend {
	GWSTORE_SQLITE = 0,
	GWSTORE_POSTGRESQL,
};

/* Which tables a handle serves.  SQLite keeps the bindings in a file of their
 * own (location.db: their writes would otherwise drop the page caches of every
 * reader of the rest); PostgreSQL keeps everything in one database. */
enum gwstore_part {
	GWSTORE_LOCATION = 0, /* bindings */
	GWSTORE_STATE,        /* presence, contact lists, ACLs, local accounts */
};

struct gwstore_params {
	enum gwstore_backend backend;
	const char *state_dir; /* SQLite: greenwich.db and location.db live here */
	const char *conninfo;  /* PostgreSQL: a libpq connection string or URI */
	int pool_size;         /* PostgreSQL: connections of this process at most */
	/* SQLite: location.db is opened for this handle alone (locking_mode
	 * EXCLUSIVE: no file locks or shared-memory index per commit; no other
	 * process may open the file meanwhile).  true: shared, as every other
	 * file is (unit tests that look at the file from a second connection). */
	bool location_shared;
};

struct gwstore;

/* Open a handle on part; err gets a message naming the database on failure. */
int gwstore_open(struct gwstore **out, const struct gwstore_params *p, enum gwstore_part part,
		 char *err, size_t errlen);
/* The same with the parameters of greenwich.conf ([store], state-directory). */
int gwstore_open_conf(struct gwstore **out, const struct gw_conf *c, enum gwstore_part part,
		      char *err, size_t errlen);
void gwstore_close(struct gwstore *st);
/* What --check-config asks without changing anything: can the database be
 * reached, and is its schema one this build knows?  0 (note says what was
 * found), -EIO (unreachable, refused: err says why) or -EPROTO (a schema
 * newer than this build).  SQLite: nothing to reach, 0. */
int gwstore_check_conf(const struct gw_conf *c, char *note, size_t notelen, char *err,
		       size_t errlen);
/* "sqlite" or "postgresql"; -EINVAL for another name. */
int gwstore_backend_parse(const char *name, enum gwstore_backend *out);
const char *gwstore_backend_name(enum gwstore_backend b);
/* The database's message for the last failure. */
const char *gwstore_error(struct gwstore *st);
/* The database is on this machine (SQLite): a commit costs no network round
 * trip, so a SIP worker may commit its own change (loc_writer_commit_here). */
bool gwstore_is_local(const struct gwstore *st);
/* The schema version this build writes. */
int gwstore_schema_version(enum gwstore_part part);

/* Transactions (the location writer's group commit).  wait false: -EBUSY at
 * once when another connection holds the write lock. */
int gwstore_begin(struct gwstore *st, bool wait);
int gwstore_commit(struct gwstore *st);
void gwstore_rollback(struct gwstore *st);
/* Housekeeping the writer thread does outside any commit (SQLite: copy a long
 * WAL back into the database, the one step that syncs). */
bool gwstore_wants_checkpoint(const struct gwstore *st);
void gwstore_checkpoint(struct gwstore *st);

/* Location bindings (GWSTORE_LOCATION). */
struct gwstore_binding {
	const char *aor;
	const char *uri;
	const char *call_id;
	uint32_t cseq;
	int64_t expires; /* absolute time */
	int q;           /* q-value times 1000; -1: none */
	const char *path;
	const char *instance;
	const char *user_agent;
	const char *transport;
	const char *addr;
	const char *frontend; /* [pool] id of the front end holding its flow; NULL or "": none */
};
int gwstore_binding_put(struct gwstore *st, const struct gwstore_binding *b);
int gwstore_binding_delete(struct gwstore *st, const char *aor, const char *uri);
int gwstore_binding_expire(struct gwstore *st, time_t now);
/* cb gets each binding not expired at now; a non-zero return stops the walk. */
int gwstore_binding_each(struct gwstore *st, time_t now,
			 int (*cb)(const struct gwstore_binding *, void *), void *arg);
/* The same for one AOR's bindings. */
int gwstore_binding_aor(struct gwstore *st, const char *aor, time_t now,
			int (*cb)(const struct gwstore_binding *, void *), void *arg);

/* Presence publications (GWSTORE_STATE). */
struct gwstore_pub {
	const char *etag;
	const char *aor;
	int64_t expires;
	uint64_t seq;
	int source;
	bool open;
	int activity;
	const char *note;
	const char *call_id;
	uint32_t cseq;
	const char *frontend; /* [pool] id of the front end that took it; NULL or "": none */
};
int gwstore_pub_put(struct gwstore *st, const struct gwstore_pub *p);
int gwstore_pub_delete(struct gwstore *st, const char *etag);
/* cb gets each live publication; its non-zero return ends the walk and is returned. */
int gwstore_pub_each(struct gwstore *st, time_t now, int (*cb)(const struct gwstore_pub *, void *),
		     void *arg);
/* The same for one AOR's publications. */
int gwstore_pub_aor(struct gwstore *st, const char *aor, time_t now,
		    int (*cb)(const struct gwstore_pub *, void *), void *arg);

/* Presence subscriptions (GWSTORE_STATE). */
struct gwstore_sub {
	int64_t id;
	int event;
	const char *presentity;
	const char *watcher;
	const char *call_id;
	const char *local;
	const char *remote;
	const char *contact;
	const char *route; /* "" for none */
	uint32_t rseq;
	uint32_t lseq;
	int64_t expires;
	int flags;
	const char *transport;
	const char *addr;
	const char *frontend; /* [pool] id of the front end holding its dialog; NULL or "": none */
};
/* s->id 0 inserts and sets *id; else the subscription's dialog state is updated. */
int gwstore_sub_put(struct gwstore *st, const struct gwstore_sub *s, int64_t *id);
/* Insert s under the id the caller chose (s->id > 0, unique: the presence
 * service picks random ones, so that it need not wait for the database to
 * learn one); nothing happens when that id is stored already. */
int gwstore_sub_add(struct gwstore *st, const struct gwstore_sub *s);
int gwstore_sub_delete(struct gwstore *st, int64_t id);
int gwstore_sub_each(struct gwstore *st, time_t now, int (*cb)(const struct gwstore_sub *, void *),
		     void *arg);

/* Authorization rules ("allow"/"block") an owner keeps for watchers. */
int gwstore_acl_get(struct gwstore *st, const char *owner, const char *watcher, char *rule,
		    size_t len);
/* rule NULL removes it. */
int gwstore_acl_set(struct gwstore *st, const char *owner, const char *watcher, const char *rule);
int gwstore_acl_each(struct gwstore *st, const char *owner,
		     void (*cb)(const char *watcher, const char *rule, void *), void *arg);

/* Server-stored contact lists; each change bumps the owner's deltaNum. */
int gwstore_contact_set(struct gwstore *st, const char *owner, const char *uri, const char *name,
			const char *groups, int subscribed);
int gwstore_contact_delete(struct gwstore *st, const char *owner, const char *uri);
bool gwstore_contact_has(struct gwstore *st, const char *owner, const char *uri);
int gwstore_contacts_each(struct gwstore *st, const char *owner,
			  void (*cb)(const char *uri, const char *name, const char *groups,
				     int subscribed, void *),
			  void *arg);
/* id 0 adds a group (ids start at 2: 1 is every list's default group) and sets *id. */
int gwstore_group_set(struct gwstore *st, const char *owner, int64_t *id, const char *name);
/* The id of owner's group called name, 0 when none. */
int64_t gwstore_group_find(struct gwstore *st, const char *owner, const char *name);
int gwstore_group_name(struct gwstore *st, const char *owner, int64_t id, char *name, size_t len);
int gwstore_group_delete(struct gwstore *st, const char *owner, int64_t id);
int gwstore_groups_each(struct gwstore *st, const char *owner,
			void (*cb)(int64_t id, const char *name, void *), void *arg);
/* The owner's deltaNum (1 before any change). */
int64_t gwstore_delta(struct gwstore *st, const char *owner);
/* Every user who keeps a contact list or an authorization rule, in order. */
int gwstore_owners_each(struct gwstore *st, void (*cb)(const char *owner, void *), void *arg);

/* Local (non-domain) Digest accounts: only the HA1 values, never the password. */
struct gwstore_account {
	char aor[256];   /* user@domain */
	char realm[128]; /* the Digest realm the HA1 values were made for */
	char ha1_md5[65];
	char ha1_sha256[65];
};
/* 0 when found, -ENOENT when not.  The AOR is matched without regard to case. */
int gwstore_account_get(struct gwstore *st, const char *aor, struct gwstore_account *acct);
/* Add or replace an account; the password is hashed here and not kept.
 * -EINVAL for an AOR that is not user@domain. */
int gwstore_account_set(struct gwstore *st, const char *aor, const char *realm,
			const char *password);
int gwstore_account_remove(struct gwstore *st, const char *aor);
/* cb gets each account in AOR order; a non-zero return stops the walk. */
int gwstore_account_each(struct gwstore *st, int (*cb)(const struct gwstore_account *, void *),
			 void *arg);
/* A number that changes whenever an account is set or removed.  SQLite: kept
 * in the file (its user_version), so that greenwichd notices greenwich-mmc's
 * changes without reading the accounts; PostgreSQL: -EOPNOTSUPP (the
 * gw_accounts channel tells instead). */
int gwstore_accounts_version(struct gwstore *st, int64_t *out);

/* The front ends of a pool (GWSTORE_LOCATION).  Each greenwichd records
 * itself and beats every few seconds; times are the database's clock, so the
 * front ends' clocks need not agree. */
struct gwstore_frontend {
	const char *id;      /* [pool] id */
	const char *address; /* host:port the other front ends send to */
	const char *version; /* the Greenwich version it runs */
	int64_t started;     /* read: when it started (Unix time, the database's clock);
				write: non-zero on the first beat after a start */
	int64_t age;         /* seconds since its last heartbeat (read only) */
	int64_t load;        /* requests it received in its last interval, per second */
	int64_t bindings;    /* bindings whose flows it holds */
};
/* Record fe (a new row, or a heartbeat of the existing one: now). */
int gwstore_frontend_beat(struct gwstore *st, const struct gwstore_frontend *fe);
int gwstore_frontend_remove(struct gwstore *st, const char *id);
/* cb gets every front end, by id; a non-zero return stops the walk. */
int gwstore_frontend_each(struct gwstore *st, int (*cb)(const struct gwstore_frontend *, void *),
			  void *arg);

/* Control requests relayed to another front end of a pool (greenwich-mmc
 * `server ... --front-end ID`; GWSTORE_LOCATION, PostgreSQL only: SQLite
 * returns -EOPNOTSUPP).  A request is the control socket's JSON line; its
 * reply is the line the control socket would have written.  Times are the
 * database's clock. */
struct gwstore_control {
	int64_t id;
	const char *request;   /* {"cmd":...} */
	const char *requester; /* user@host, as greenwich-mmc says */
	const char *role;      /* the PostgreSQL role that inserted it */
	bool expired;          /* its time passed before it was taken: deleted, not to run */
};
/* Insert a request for front end frontend, to be taken within ttl seconds, and
 * tell it (GWSTORE_CHANNEL_CONTROL) once inserted.  *id: the row. */
int gwstore_control_ask(struct gwstore *st, const char *frontend, const char *request,
			const char *requester, int ttl, int64_t *id);
/* Front end frontend's side: cb gets every request whose time passed unseen
 * (expired set: deleted, never to be run) and then every one still in time,
 * each claimed by this call alone (a request is given to one call once). */
int gwstore_control_take(struct gwstore *st, const char *frontend,
			 void (*cb)(const struct gwstore_control *, void *), void *arg);
/* Write the reply of request id and tell the asker (GWSTORE_CHANNEL_CONTROL_REPLY). */
int gwstore_control_answer(struct gwstore *st, int64_t id, const char *reply);
/* The asker's side: *reply (malloc'd) once answered, else NULL; *taken when a
 * front end has claimed it.  -ENOENT: no such row. */
int gwstore_control_reply(struct gwstore *st, int64_t id, bool *taken, char **reply);
/* Delete request id; *taken (when not NULL): a front end had claimed it by then. */
int gwstore_control_delete(struct gwstore *st, int64_t id, bool *taken);
/* Delete every request more than a minute past its time (an asker that died). */
int gwstore_control_purge(struct gwstore *st);

/* Tell every listener of channel (other processes sharing the database)
 * payload, once the current transaction commits (at once outside one).
 * SQLite: nothing to tell (one process owns the files), 0. */
int gwstore_notify(struct gwstore *st, const char *channel, const char *payload);
/* The channels Greenwich uses (payload: the AOR concerned). */
#define GWSTORE_CHANNEL_ACCOUNTS "gw_accounts" /* a local account was set or removed */
#define GWSTORE_CHANNEL_BINDINGS "gw_bindings" /* an AOR's bindings changed */
#define GWSTORE_CHANNEL_PRESENCE "gw_presence" /* an AOR's publications changed */
#define GWSTORE_CHANNEL_LISTS "gw_lists"       /* an owner's contact list or ACL changed */
#define GWSTORE_CHANNEL_CONTROL "gw_control"   /* a control request: id<TAB>front end */
#define GWSTORE_CHANNEL_CONTROL_REPLY "gw_control_reply" /* its reply is written: id */

/* Listening to those channels: one connection of its own, on one thread.
 * -EOPNOTSUPP for SQLite. */
struct gwstore_listener;
int gwstore_listener_open(struct gwstore_listener **out, const struct gw_conf *c,
			  const char *const *channels, size_t n, char *err, size_t errlen);
/* Wait up to timeout_ms and give cb every notification that came, in order.
 * After a (re)connection cb gets channel NULL first: notifications sent while
 * it was away are lost, read the state anew.  0, or -EIO (the database is out
 * of reach; the next call tries again). */
int gwstore_listener_wait(struct gwstore_listener *l, int timeout_ms,
			  void (*cb)(const char *channel, const char *payload, void *), void *arg);
const char *gwstore_listener_error(const struct gwstore_listener *l);
void gwstore_listener_close(struct gwstore_listener *l);

/* A URI as clients write it (sip:bob@x, <sip:bob@x>, bob@x) to user@host, host
 * in lower case: how the lists name users. */
void gwstore_uri_norm(char *out, size_t len, const char *in);

#endif
