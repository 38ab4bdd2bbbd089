/*
 * presence_store.h - durable presence state: publications and subscriptions
 * (here), authorization and contact lists (presence_lists.h), in their own
 * tables of the server's SQLite database, through a connection of their own.
 */
#ifndef GW_PRESENCE_STORE_H
#define GW_PRESENCE_STORE_H

#include <stdint.h>
#include <time.h>

#include "presence_int.h"
#include "presence_lists.h"

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

#endif
