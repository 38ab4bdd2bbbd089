/*
 * presence.h - the presence service (SIMPLE: PUBLISH, SUBSCRIBE/NOTIFY,
 * watcher info, authorization lists, the legacy Microsoft events) as seen
 * from the rest of greenwichd.  Private to daemon/.
 *
 * All presence state lives on worker 0 and is touched by its thread only;
 * other workers hand presence requests and registration changes over.
 */
#ifndef GW_PRESENCE_H
#define GW_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

struct worker;
struct gw_service;

/* True when the request belongs to the presence service (PUBLISH, SERVICE,
 * SUBSCRIBE for one of our event packages). */
bool presence_claims(struct worker *w, const sip_t *sip);
/* Serve a claimed request; any worker (others hand it to worker 0).
 * tp: the UDP transport to answer on for a request handed over, or NULL. */
void presence_request(struct worker *w, msg_t *msg, sip_t *sip, tport_t *tp);
/* The service for the workers' table (service.h): on worker 0 it loads the
 * store and starts the timers, hears of changed bindings from any worker, and
 * drops its dialogs and transactions before the agent goes. */
extern const struct gw_service presence_service;
/* On every worker: sends the NOTIFYs worker 0 hands it for the watchers whose
 * address the kernel gives that worker (presence_fanout.c). */
extern const struct gw_service fanout_service;

/* The console changed aor's contact list (contacts) or authorization list in the
 * database: worker 0 sends the new list, or re-evaluates aor's watchers and
 * notifies them.  Any thread; 0 or -errno. */
struct gwd;
int presence_lists_changed(struct gwd *g, const char *aor, bool contacts);

/* Worker 0 thread: aor's composed status (online or not, activity, note), as its
 * watchers see it before authorization; false when the service does not run. */
bool presence_status(const char *aor, bool *open, const char **activity, char *note, size_t len);

#endif
