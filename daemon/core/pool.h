/*
 * pool.h - front ends that know each other: several greenwichd sharing one
 * PostgreSQL store ([pool] secret-file set).
 *
 * Each front end records itself in the store (id, address, version, load)
 * and beats every [pool] heartbeat seconds; it reads the others' rows at the
 * same time and takes out one whose heartbeat is older than [pool] dead-after
 * (its users get 480 until they register elsewhere).  A binding records the
 * front end that holds its flow; a front end learns the others' bindings
 * from the store's gw_bindings notifications, on this module's thread, and
 * hands the others (gw_presence, gw_lists) to the services on worker 0
 * (service.h, store_changed).
 *
 * A request for a user whose flow another front end holds goes there over
 * TCP, or TLS ([pool] transport, the other's certificate verified), with an
 * X-Greenwich-Pool header: the sending front end's id, the time,
 * the user it authenticated, and an HMAC-SHA256 (the pool's shared secret)
 * over those and the request's Call-ID, CSeq, From tag and Request-URI.  The
 * receiving front end checks it, delivers only over its own flows, and does
 * not authenticate or decide the policy again; a header it cannot verify, or
 * one it has taken before (a replay), is refused with 403.
 *
 * greenwich-mmc's `server ... --front-end ID` reaches a front end through the
 * store (table control_requests, channel gw_control): this module's thread
 * claims the requests for this front end, runs each through the handler the
 * control socket registered (pool_set_control), and writes the reply back.  A
 * request whose time passed before it was seen is dropped unrun.
 */
#ifndef GW_POOL_H
#define GW_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/sip.h>

struct gwd;
struct worker;

#define POOL_HEADER "X-Greenwich-Pool"
/* A hop older (or newer) than this many seconds is refused; within it, one
 * taken before is refused too (pool_replay.h). */
#define POOL_HOP_WINDOW 30

/* Before the workers start: join the pool (nothing to do outside one).
 * 0, or -1 with err set. */
int pool_start(struct gwd *g, char *err, size_t errlen);
/* Once the workers run: the thread that beats and follows the others. */
int pool_run(struct gwd *g);
void pool_stop(struct gwd *g);
bool pool_enabled(const struct gwd *g);
/* The handler of control requests relayed through the store: request (the
 * control socket's JSON line) in, its reply line out (malloc'd; NULL: out of
 * memory).  Set before pool_run; core never includes control/. */
typedef char *(*pool_control_fn)(struct gwd *g, long long id, const char *request,
				 const char *requester, const char *role);
void pool_set_control(struct gwd *g, pool_control_fn fn);
/* The front ends speak to one another over TLS ([pool] transport). */
bool pool_tls(const struct gwd *g);
/* This front end's id, or NULL outside a pool. */
const char *pool_self(const struct gwd *g);
/* Where front end id is reached (host:port): 0; -EHOSTDOWN when its heartbeat
 * stopped; -ENOENT when no such front end is known. */
int pool_frontend_addr(struct gwd *g, const char *id, char *out, size_t len);
/* The value of X-Greenwich-Pool for a request (as it will be sent) that user
 * sent.  0 or -errno. */
int pool_hop_sign(struct gwd *g, const sip_t *sip, const char *user, char *out, size_t len);
/* The request's X-Greenwich-Pool: 0 none; 1 a hop of the pool, *user set to
 * the user the sending front end authenticated; -1 present but not to be
 * trusted (*why says why). */
int pool_hop_verify(struct gwd *g, const sip_t *sip, char *user, size_t len, const char **why);

#endif
