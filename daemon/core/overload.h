/*
 * overload.h - load shedding of a SIP worker.
 *
 * Every 100 ms the worker looks at what says it is falling behind: clients
 * retransmitting requests it has not answered yet (absorbed by nta, or seen
 * again by the stateless registrar) and the queue of registrations waiting
 * to be written.  While that lasts it answers a growing share of new
 * requests with 503 and Retry-After, statelessly, before any other work, so
 * that what it accepts it finishes in time and no retransmission backlog
 * builds up; the share falls again as the signs go away.
 */
#ifndef GW_OVERLOAD_H
#define GW_OVERLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/sip.h>

struct worker;
struct overload;

int overload_alloc(struct overload **out, struct worker *w);
void overload_free(struct overload *o);
/* For a request outside a transaction: true when it was answered 503. */
bool overload_shed(struct worker *w, msg_t *msg, sip_t *sip);
/* Answer a new request 503 with Retry-After, statelessly (counted as shed). */
void overload_refuse(struct worker *w, msg_t *msg);
/* A bound on work in progress: a quarter of it while the worker sheds load. */
size_t overload_bound(struct worker *w, size_t bound);

#endif
