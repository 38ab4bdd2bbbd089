/*
 * pool_hop.h - the X-Greenwich-Pool header's text: what a front end writes on a
 * hop to another front end and what the receiving one reads before it checks
 * the signature.  Anyone can send this header, so its reader takes any bytes.
 *
 *   fe=<front end id>;ts=<unix time>;user=<signed-in user>;mac=<64 hex digits>
 */
#ifndef GW_POOL_HOP_H
#define GW_POOL_HOP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct pool_hop {
	char fe[40];
	char ts[24];
	char mac[80];
};

/* The fields of value (each once or the first of each; names without regard
 * to case): fe, ts and mac into h, user into user (userlen bytes).  0, or
 * -EINVAL when one is missing or longer than its room. */
int pool_hop_parse(const char *value, struct pool_hop *h, char *user, size_t userlen);
/* The hop's time ts (decimal) is within window seconds of now, either way. */
bool pool_hop_fresh(const char *ts, time_t now, int window);

#endif
