/*
 * addr_count.h - how many of something each client address holds now (TCP/TLS
 * connections, requests waiting for worker 0, a worker's proxied requests in
 * progress), so that one address can be held to its share.  Thread safe.
 */
#ifndef GW_ADDR_COUNT_H
#define GW_ADDR_COUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

struct addr_count;
struct addr_entry; /* one address with something held; valid while it holds any */

struct addr_count *addr_count_alloc(void);
void addr_count_free(struct addr_count *ac);
/* One more for sa's source (source_net.h: an IPv4 address, an internal IPv6
 * address, a remote IPv6 address's /64; the port does not count), unless it
 * holds `limit` already (0: no limit).  The entry to give back with addr_count_put(),
 * or NULL: over the limit (*over set), or not an IP address or no memory (*over
 * clear: not counted, let it through). */
struct addr_entry *addr_count_take(struct addr_count *ac, const struct sockaddr *sa, unsigned limit,
				   bool *over);
void addr_count_put(struct addr_count *ac, struct addr_entry *e);
/* True when sa's address holds something and was last due `every` seconds or more
 * before now (or never): to log its refusals at most once in that time. */
bool addr_count_due(struct addr_count *ac, const struct sockaddr *sa, time_t now, time_t every);
/* Held in all, and by how many addresses. */
void addr_count_totals(struct addr_count *ac, unsigned long *held, unsigned long *addresses);
/* The source of sa as text ("192.0.2.1", "2001:db8::1", "2001:db8:1:2::/64"). */
void addr_count_text(const struct sockaddr *sa, char *out, size_t len);

#endif
