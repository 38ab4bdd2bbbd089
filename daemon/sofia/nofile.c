/*
 * nofile.c - greenwichd takes every descriptor it is allowed: the soft limit
 * on open files is raised to the hard one before anything is sized by it
 * (accept_guard.c and wait_audit.c size their tables by descriptor at start).
 * A TLS connection is a descriptor, and a shell's soft limit is often 1,024
 * under a hard one of 524,288 (systemd's default for a login session): without
 * this greenwichd would refuse the 1,000th client started by hand, though the
 * packaged unit (LimitNOFILE=65536, both limits) does not need it.  Nothing in
 * greenwichd uses select(), whose sets stop at 1,024 (Sofia's loop is epoll).
 * Runs as a constructor of high priority: before the default ones.
 */
#include "config.h"

#include <sys/resource.h>

__attribute__((constructor(101))) static void
nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}
