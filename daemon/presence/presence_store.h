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

/* Writes: queued for the presence jobs' thread with a remote store (0: queued;
 * a failure is logged there), made at once with a local one (0 or -errno). */
int pres_store_pub_put(struct presence *ps, const struct pres_pub *p);
int pres_store_pub_delete(struct presence *ps, const char *etag);
/* Reads at start (before any request): cb gets each live publication; 0 or -errno. */
int pres_store_pub_each(struct gwstore *st, time_t now,
			int (*cb)(const struct pres_pub *, void *), void *arg);

/* Insert (s->id == 0: a new random id is set) or update a subscription. */
int pres_store_sub_put(struct presence *ps, struct pres_sub *s);
/* id 0: never stored, nothing to do. */
int pres_store_sub_delete(struct presence *ps, int64_t id);
/* cb gets each live subscription, freshly allocated, and owns it. */
int pres_store_sub_each(struct gwstore *st, time_t now, int (*cb)(struct pres_sub *, void *),
			void *arg);

#endif
