/* helpdesk-router: routing and event callbacks given to libgreenwich-proxy. */
#ifndef HD_ROUTER_H
#define HD_ROUTER_H

#include <greenwich/proxy.h>

#include "hdconf.h"
#include "operators.h"

/* A load taken when a call is routed, before its TRYING event arrives: in
 * embedded mode the next call may be routed before that event is
 * dispatched, so the choice must count at once. */
struct hd_reservation {
	struct hd_reservation *next;
	char *call_id;
	char *contact;
};

struct hd_router {
	struct hd_conf conf;
	struct hd_table table;
	struct hd_reservation *reserved;
};

void hd_router_free(struct hd_router *r);

void hd_route(void *arg, gwp_request *req);
void hd_event(void *arg, const gwp_event *ev);
int hd_auth(void *arg, const char *username, const char *realm, char *ha1, size_t ha1_size);

#endif
