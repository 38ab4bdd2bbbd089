/*
 * overload_signs.c - a worker's busy share and the retransmission rule.
 *
 * Retransmissions say the worker is behind only while its thread was busy:
 * running, or runnable and waiting for a core (/proc/thread-self/schedstat),
 * OVERLOAD_BUSY_PCT of the interval or more.  A thread that neither ran nor
 * waited that long answered what it received: its clients repeat for other
 * reasons (answers lost at the client's socket, a client slow elsewhere; the
 * disk has signs of its own in overload.c), and refusing requests would not
 * help them.  Without schedstat only the thread's CPU time is known, which
 * does not see a thread kept from a core (above the peak on a loaded machine
 * the workers showed 20-31 %), so then a higher share of retransmissions
 * counts whether busy or not.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "overload_signs.h"

/* Retransmissions per interval: an absolute floor, and a share of the
 * requests while busy, and while not busy as far as the CPU time tells. */
#define RETRY_FLOOR 20
#define RETRY_PER_MILLE 20
#define RETRY_CPU_ONLY_PER_MILLE 100

int
overload_sched_open(void)
{
	return open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
}

bool
overload_sched_times(int fd, long long *run_ns, long long *wait_ns)
{
	char buf[96];
	ssize_t n;

	if (fd < 0 || (n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return false;
	buf[n] = '\0';
	return sscanf(buf, "%lld %lld", run_ns, wait_ns) == 2;
}

bool
overload_retries_over(unsigned long requests, unsigned long retries, long busy_pct, long wait_pct)
{
	bool busy = busy_pct >= OVERLOAD_BUSY_PCT;

	if (!busy && wait_pct >= 0)
		return false;
	unsigned long per_mille = busy ? RETRY_PER_MILLE : RETRY_CPU_ONLY_PER_MILLE;
	return retries > RETRY_FLOOR && retries * 1000 > requests * per_mille;
}
