/* helpdesk-router: configuration file. */
#ifndef HD_CONF_H
#define HD_CONF_H

#include "operators.h"

#define HD_MAX_LISTEN 4

struct hd_listen {
	int transport; /* enum gwp_transport */
	char host[64];
	unsigned port;
};

struct hd_conf {
	char domain[128];
	char realm[128];  /* Digest realm of operator REGISTERs */
	char service[64]; /* user part of the help-desk address */
	struct hd_listen listen[HD_MAX_LISTEN];
	size_t n_listen;
	unsigned timeout_s; /* how long an operator may ring */
	char tls_cert[256];
	char tls_key[256];
};

/* Read a config file; operators are added to t. Returns 0, or -1 with a
 * message naming the file and line in err. */
int hd_conf_load(struct hd_conf *c, struct hd_table *t, const char *path, char *err, size_t errlen);

#endif
