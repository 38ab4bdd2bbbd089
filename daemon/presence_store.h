/*
 * presence_store.h - durable presence state: publications, subscriptions,
 * authorization lists and server-stored contact lists, in their own tables
 * of the server's SQLite database, through a connection of their own.
 */
#ifndef GW_PRESENCE_STORE_H
#define GW_PRESENCE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "presence_int.h"

struct pres_store;

int pres_store_open(struct pres_store **out, const char *path, char *err, size_t errlen);
void pres_store_close(struct pres_store *st);

int pres_store_pub_put(struct pres_store *st, const struct pres_pub *p);
int pres_store_pub_delete(struct pres_store *st, const char *etag);
/* cb gets each live publication; 0 or -errno. */
int pres_store_pub_each(struct pres_store *st, time_t now,
			int (*cb)(const struct pres_pub *, void *), void *arg);

/* Insert (s->id == 0, sets it) or update a subscription. */
int pres_store_sub_put(struct pres_store *st, struct pres_sub *s);
int pres_store_sub_delete(struct pres_store *st, int64_t id);
/* cb gets each live subscription, freshly allocated, and owns it. */
int pres_store_sub_each(struct pres_store *st, time_t now, int (*cb)(struct pres_sub *, void *),
			void *arg);

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
int pres_store_group_delete(struct pres_store *st, const char *owner, int64_t id);
int64_t pres_store_delta(struct pres_store *st, const char *owner);
int pres_store_groups_each(struct pres_store *st, const char *owner,
			   void (*cb)(int64_t id, const char *name, void *), void *arg);
int pres_store_contacts_each(struct pres_store *st, const char *owner,
			     void (*cb)(const char *uri, const char *name, const char *groups,
					int subscribed, void *),
			     void *arg);

#endif
