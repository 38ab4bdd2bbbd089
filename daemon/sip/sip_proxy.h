/*
 * sip_proxy.h - the proxy: requests routed to their targets, and what comes back.
 */
#ifndef GW_SIP_PROXY_H
#define GW_SIP_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

struct worker;

void sip_proxy_handle(struct worker *w, msg_t *msg, sip_t *sip);
/* ACK for a 2xx, and other requests forwarded without a transaction. */
void sip_proxy_stateless(struct worker *w, msg_t *msg, sip_t *sip);
/* A response that matches no transaction of ours (a late 2xx). */
void sip_proxy_stray_response(struct worker *w, msg_t *msg, sip_t *sip);
void sip_proxy_cancel(struct worker *w, msg_t *msg, sip_t *sip);

/* The service for the workers' table (service.h): worker 0 takes the requests
 * other workers hand over; at stop, calls in progress are answered 503. */
struct gw_service;
extern const struct gw_service sip_proxy_service;

#endif
