/*
 * presence_store.h - durable presence state: publications and subscriptions
 * between the presence service's structures and the store's rows
 * (libgwstore); authorization and contact lists go to gwstore.h directly.
 */
#ifndef GW_PRESENCE_STORE_H
#define GW_PRESENCE_STORE_H

#include <stdint.h>
#include <time.h>

#include "gwstore.h"
#include "presence_int.h"

int pres_store_pub_put(struct gwstore *st, const struct pres_pub *p);
int pres_store_pub_delete(struct gwstore *st, const char *etag);
/* cb gets each live publication; 0 or -errno. */
int pres_store_pub_each(struct gwstore *st, time_t now,
			int (*cb)(const struct pres_pub *, void *), void *arg);

/* Insert (s->id == 0, sets it) or update a subscription. */
int pres_store_sub_put(struct gwstore *st, struct pres_sub *s);
int pres_store_sub_delete(struct gwstore *st, int64_t id);
/* cb gets each live subscription, freshly allocated, and owns it. */
int pres_store_sub_each(struct gwstore *st, time_t now, int (*cb)(struct pres_sub *, void *),
			void *arg);

#endif
