/*
 * accept_guard.h - what greenwichd does in accept() (accept_guard.c): running out
 * of descriptors degrades and recovers, and no client address holds more than its
 * share of TCP/TLS connections.
 */
#ifndef GW_ACCEPT_GUARD_H
#define GW_ACCEPT_GUARD_H

/* At most `per_source` TCP/TLS connections from one client address at once
 * ([limits] connections-per-source); 0 lifts the cap.  Any thread, any time. */
void accept_guard_configure(int per_source);

struct accept_guard_counts {
	unsigned long connections; /* TCP/TLS connections open now */
	unsigned long sources;     /* client addresses they come from */
	unsigned long refused;     /* refused so far: over the cap, or no descriptor */
};
void accept_guard_counts(struct accept_guard_counts *out);

#endif
