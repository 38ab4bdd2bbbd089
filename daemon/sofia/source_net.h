/*
 * source_net.h - where a client address comes from: the internal networks
 * ([policy] internal-networks), and what one "source" is for every
 * per-source limit (connections, hand-overs, calls, subscriptions, failed
 * sign-ins).
 *
 * An IPv4 address is one source.  An IPv6 address outside the internal
 * networks is counted with its whole /64: a host on the Internet is given a
 * /64 (RFC 6177) and may send from any address in it, so counting each
 * address would let one host multiply every per-source limit by 2^64.  An
 * internal IPv6 address is its own source: one office LAN is one /64 with
 * every desk in it.
 *
 * The networks are set once at start, before any worker runs, and only read
 * afterwards (no lock).
 */
#ifndef GW_SOURCE_NET_H
#define GW_SOURCE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* The internal networks, as "10.0.0.0/8", "fd00::/8", "192.0.2.7" (n of them).
 * -EINVAL with the bad one's index in *bad; the networks set before stay. */
int source_net_set(const char *const *cidrs, size_t n, size_t *bad);
void source_net_clear(void);

/* Is sa (IPv4, IPv6 or IPv4 mapped into IPv6) in an internal network? */
bool source_net_internal(const struct sockaddr *sa);

/* sa's source as 16 bytes (IPv4 mapped into IPv6; a remote IPv6 address with
 * its last 64 bits cleared).  False when sa is not an IP address. */
bool source_net_key(const struct sockaddr *sa, unsigned char key[16]);

/* The same for an address written as text ("192.0.2.1", "2001:db8::1",
 * "[2001:db8::1]"; no port).  False when it does not parse. */
bool source_net_key_text(const char *addr, unsigned char key[16]);

/* That address itself as 16 bytes (IPv4 mapped into IPv6), not its source. */
bool source_net_addr_text(const char *addr, unsigned char a[16]);

/* sa's source as text, for logs and per-source tables: "192.0.2.1",
 * "2001:db8::1" (internal) or "2001:db8:1:2::/64"; "?" when not an address. */
void source_net_text(const struct sockaddr *sa, char *out, size_t len);

/* The same for an address written as text; a text that does not parse is
 * copied as it is. */
void source_net_text_of(const char *addr, char *out, size_t len);

#endif
