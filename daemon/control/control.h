/*
 * control.h - greenwichd's control socket: the live state and the actions of
 * greenwich-mmc's `server` commands.
 *
 * A Unix stream socket ([server] control-socket), mode 0660, group
 * greenwich-admins when that group exists.  One JSON object per line each
 * way: {"cmd":"status"} -> {"ok":true,...} or {"ok":false,"code":...,
 * "error":...}.  A thread of its own serves it, so a slow client never holds
 * up a SIP worker; what only worker 0 knows (its connections) is asked for
 * through worker 0's control pipe.
 */
#ifndef GW_CONTROL_H
#define GW_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

struct gwd;
struct worker;
struct handoff;

/* Open the socket and start its thread.  A socket that cannot be opened is
 * logged and left out (the SIP service runs on); -1 only when the thread
 * cannot start, with the reason in err. */
int control_start(struct gwd *g, char *err, size_t errlen);
/* Stop the thread, remove the socket (when it is still ours). */
void control_stop(struct gwd *g);

/* Worker side of a HANDOFF_QUERY: answer it in the worker's own thread. */
void control_query_run(struct worker *w, struct handoff *h);
/* The service for the workers' table (service.h): runs HANDOFF_QUERY. */
struct gw_service;
extern const struct gw_service control_service;

/* A request relayed through the store from another host (greenwich-mmc
 * `server ... --front-end`, core/pool.c): checked against
 * control_remote_allowed, logged, run as the socket runs it; the reply line
 * (malloc'd).  A pool_control_fn. */
char *control_remote(struct gwd *g, long long id, const char *request, const char *requester,
		     const char *role);
/* The commands another front end's greenwich-mmc may run here: those that read
 * (status, registrations, connections) and reload, loglevel, flush-cache;
 * not signout (it ends users' sessions) nor the internal ones. */
bool control_remote_allowed(const char *cmd);

/* control_cmd.c: one request -> one reply (a new object). */
json_object *control_execute(struct gwd *g, json_object *req, double rate);
/* {"ok":false,"code":code,"error":msg} */
json_object *control_reply_err(const char *code, const char *msg);
/* Ask worker 0 for its connections (waits at most a few seconds). */
json_object *control_connections(struct gwd *g);

#endif
