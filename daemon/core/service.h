/*
 * service.h - what the SIP workers run, registered at start.
 *
 * core/ knows no service by name: the registrar, proxy, presence, sign-in,
 * directory and control socket each describe themselves with a struct
 * gw_service, main.c adds them in order, and a worker attaches them when it
 * starts, ticks them every second, hands them the cross-worker messages of
 * their kinds and detaches them (in reverse order) when it stops.  The
 * request pipeline registers itself as the intake.  This keeps the
 * dependencies of daemon/ pointing one way: each folder calls only the
 * folders below it (build-aux/check-layers.sh), and anything a lower layer
 * must make happen above it goes through this table.
 */
#ifndef GW_SERVICE_H
#define GW_SERVICE_H

#include <stdbool.h>
#include <time.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

struct gwd;
struct worker;
struct handoff;

struct gw_service {
	const char *name;
	bool worker0;           /* runs on worker 0 only (it owns TCP, TLS and the sign-ins) */
	unsigned handoff_kinds; /* (1u << HANDOFF_*) of the kinds handoff() receives */
	/* On the worker's thread after its listeners are up: 0, or -1 with w->w_error set. */
	int (*attach)(struct worker *w);
	/* On the worker's thread when it stops, in reverse order of attach. */
	void (*detach)(struct worker *w);
	/* Every second on the worker's thread. */
	void (*tick)(struct worker *w, time_t now);
	/* A cross-worker message of one of handoff_kinds; core frees h afterwards. */
	void (*handoff)(struct worker *w, struct handoff *h);
	/* The bindings of aor changed (registered, removed, signed out), from any worker. */
	void (*bindings_changed)(struct worker *w, const char *aor);
	/* On worker 0: another front end of the pool (or greenwich-mmc) changed the
	 * store; channel is the store's notification channel (GWSTORE_CHANNEL_*),
	 * payload what it carried.  channel NULL: notifications may have been lost
	 * (the pool's listening connection was lost), read everything again. */
	void (*store_changed)(struct worker *w, const char *channel, const char *payload);
};

/* The request pipeline: where every message the workers receive goes. */
struct gw_intake {
	nta_message_f *request; /* every request outside a transaction, and stray responses */
	msg_mclass_t const *(*mclass)(bool tls); /* the message class intake parses with */
	/* Carry on with a request a sign-in held back (worker 0, w_auth_* set). */
	void (*resume)(struct worker *w, msg_t *msg, sip_t *sip);
};

/* Add s (kept by reference) before the workers start.  0 or -ENOSPC. */
int gwd_service_add(struct gwd *g, const struct gw_service *s);
/* Tell every service that the bindings of aor changed. */
void gwd_bindings_changed(struct worker *w, const char *aor);
/* Tell every service a notification of the store (see store_changed). */
void gwd_store_changed(struct worker *w, const char *channel, const char *payload);
/* Give a request held back by a sign-in back to the pipeline. */
void gwd_resume(struct worker *w, msg_t *msg, sip_t *sip);

/* worker.c calls these on its own thread. */
int gwd_services_attach(struct worker *w);
void gwd_services_detach(struct worker *w);
void gwd_services_tick(struct worker *w, time_t now);
/* true when a service took h (core frees it afterwards) */
bool gwd_services_handoff(struct worker *w, struct handoff *h);

#endif
