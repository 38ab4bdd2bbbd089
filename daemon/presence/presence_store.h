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
 * a failure is logged there), made at once with a local one (0 or -errno).
 * In a pool each is told to the other front ends (gw_presence). */
/* Someone waiting for a publication's write: done on worker 0 once the write
 * is committed (rc 0) or failed (rc < 0), not once the service stopped; free
 * always, last.  With a local store both run before pres_store_pub_put returns. */
struct pres_pub_wait {
	void (*done)(struct presence *ps, int rc, struct pres_pub_wait *wait);
	void (*free)(struct pres_pub_wait *wait);
};
/* Write p, in place of the publication replaces (its previous entity tag;
 * NULL or "": none) in one transaction; wait (or NULL) is told when it is
 * durable, and is freed whatever happens (even when this fails). */
int pres_store_pub_put(struct presence *ps, const struct pres_pub *p, const char *replaces,
		       struct pres_pub_wait *wait);
int pres_store_pub_delete(struct presence *ps, const struct pres_pub *p);
/* Reads at start (before any request): cb gets each live publication, foreign
 * set when a front end other than self wrote it; 0 or -errno. */
int pres_store_pub_each(struct gwstore *st, const char *self, time_t now,
			int (*cb)(const struct pres_pub *, void *), void *arg);
/* Read the other front ends' publications of aor (NULL: of everyone) again,
 * as a job; worker 0 then puts them in place of the ones it had
 * (pres_pub_foreign_set).  0 or -errno. */
int pres_store_pub_reload(struct presence *ps, const char *aor);

/* Insert (s->id == 0: a new random id is set) or update a subscription. */
int pres_store_sub_put(struct presence *ps, struct pres_sub *s);
/* id 0: never stored, nothing to do. */
int pres_store_sub_delete(struct presence *ps, int64_t id);
/* cb gets each live subscription, freshly allocated, and owns it. */
int pres_store_sub_each(struct gwstore *st, time_t now, int (*cb)(struct pres_sub *, void *),
			void *arg);

#endif
