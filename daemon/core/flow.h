/*
 * flow.h - the connections (TCP/TLS) clients registered over, per worker.
 *
 * A binding remembers (worker, flow id); the owning worker maps the id back
 * to its Sofia transport to reach the client over the same connection, as
 * RFC 5626 asks for clients behind NAT.
 */
#ifndef GW_FLOW_H
#define GW_FLOW_H

#include <stdint.h>
#include <time.h>

#include <sofia-sip/tport.h>

struct flow_table;

struct flow_table *flow_table_alloc(void);
void flow_table_free(struct flow_table *ft);
/* The id of tp, registering it (with a reference) when new. */
uint64_t flow_id(struct flow_table *ft, tport_t *tp);
/* The live transport of id, or NULL when that connection is gone. */
tport_t *flow_get(struct flow_table *ft, uint64_t id);
/* Call fn for every connection in the table (the control socket's listing). */
typedef void flow_each_fn(uint64_t id, tport_t *tp, void *arg);
void flow_each(struct flow_table *ft, flow_each_fn *fn, void *arg);
/* Forget closed connections; returns how many. */
int flow_prune(struct flow_table *ft);

/* flow_unbind.c: on w's thread, aor's bindings made over connection flow of w go
 * (asynchronously; presence hears of it once they are gone). */
struct worker;
void flow_unbind(struct worker *w, const char *aor, uint64_t flow, time_t now);

#endif
