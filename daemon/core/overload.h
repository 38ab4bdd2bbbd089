/*
 * overload.h - load shedding of a SIP worker.
 *
 * Every 100 ms the worker looks at what says that it, itself, is falling
 * behind: clients retransmitting requests it has not answered yet (absorbed
 * by its nta agent, or seen again by its stateless registrar), how busy its
 * thread was, its registrations waiting to be written and whether the disk
 * stalls them.  While that lasts it answers a growing share of new requests
 * with 503 and Retry-After, statelessly, before any other work, so that what
 * it accepts it finishes in time and no retransmission backlog builds up;
 * the share falls again as the signs go away.  While the location writer
 * stalls, every worker also refuses new (uncredentialed) REGISTERs.
 */
#ifndef GW_OVERLOAD_H
#define GW_OVERLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/sip.h>

#include "sip.h"

struct worker;
struct overload;

int overload_alloc(struct overload **out, struct worker *w);
void overload_free(struct overload *o);
/* For a request outside a transaction: GW_TAKEN when it was answered 503. */
enum gw_verdict overload_shed(struct worker *w, msg_t *msg, sip_t *sip);
/* Answer a new request 503 with Retry-After, statelessly (counted as shed). */
void overload_refuse(struct worker *w, msg_t *msg);
/* The registrar on worker w saw a REGISTER again that it had applied (a
 * client retransmitting): counted for w alone. */
void overload_register_repeated(struct worker *w);
/* One of w's REGISTERs began (+1) or ended (-1) waiting for the disk; the
 * end may be counted on the location writer's thread. */
void overload_register_waiting(struct worker *w, int delta);
/* A bound on work in progress: a quarter of it while the worker sheds load. */
size_t overload_bound(struct worker *w, size_t bound);

#endif
