/* helpdesk-router: routing and event callbacks given to libgreenwich-proxy. */
#ifndef HD_ROUTER_H
#define HD_ROUTER_H

#include <greenwich/proxy.h>

#include "hdconf.h"
#include "operators.h"

struct hd_router {
	struct hd_conf conf;
	struct hd_table table;
};

void hd_route(void *arg, gwp_request *req);
void hd_event(void *arg, const gwp_event *ev);

#endif
