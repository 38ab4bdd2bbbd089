/*
 * overload_signs.h - what a worker's last interval says about its load
 * (overload_signs.c): its thread's time on a core and waiting for one, and
 * whether its clients' retransmissions count as a sign of overload.
 */
#ifndef GW_OVERLOAD_SIGNS_H
#define GW_OVERLOAD_SIGNS_H

#include <stdbool.h>

/* A share of the interval (percent) from which the thread counts as busy. */
#define OVERLOAD_BUSY_PCT 80

/* The calling thread's schedstat, for overload_sched_times (-1 when the
 * kernel has none). */
int overload_sched_open(void);
/* Nanoseconds the thread ran and waited runnable for a core, since it began;
 * false when fd is -1 or unreadable. */
bool overload_sched_times(int fd, long long *run_ns, long long *wait_ns);

/* Do `retries` retransmissions among `requests` requests in one interval say
 * the worker itself is overloaded?  busy_pct: the interval's share that the
 * thread ran or waited to run; wait_pct: of which waiting (-1 when not known:
 * busy_pct is then its CPU time alone). */
bool overload_retries_over(unsigned long requests, unsigned long retries, long busy_pct,
			   long wait_pct);

#endif
