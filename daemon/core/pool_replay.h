/*
 * pool_replay.h - the hops between front ends a front end has already taken,
 * so that a captured hop cannot be delivered twice.
 *
 * A hop's X-Greenwich-Pool carries a time and an HMAC over it and the request;
 * the receiving front end takes a hop whose time is within POOL_HOP_WINDOW
 * seconds of its own clock.  Within that window the same header on the same
 * request would verify again: this table remembers the MAC of every hop taken
 * for at least twice the window, and a MAC seen before is a replay.
 */
#ifndef GW_POOL_REPLAY_H
#define GW_POOL_REPLAY_H

#include <stdbool.h>
#include <time.h>

struct hop_seen;

/* A table for hops of window seconds.  NULL without memory. */
struct hop_seen *hop_seen_new(int window);
void hop_seen_free(struct hop_seen *hs);
/* The hop whose MAC (64 hex digits, already verified) arrived at now:
 * 0 the first time (it is remembered), -EALREADY when it was seen before,
 * -ENOMEM when it cannot be remembered (refuse it: it could not be told from
 * a replay later). */
int hop_seen_take(struct hop_seen *hs, const char *mac, time_t now);

#endif
