/*
 * reuseport.c - let every SIP worker bind the same UDP port.
 *
 * Each worker owns a Sofia nta agent, and Sofia opens and binds its sockets
 * itself without a way to ask for SO_REUSEPORT.  greenwichd therefore
 * provides bind(2): while reuseport_enabled is set, a socket gets
 * SO_REUSEPORT before the real bind, and the kernel then spreads incoming
 * datagrams over the workers' sockets.  main.c first checks, without the
 * option, that no other process holds the ports, so two servers never share
 * a port by accident.
 */
#include "config.h"

#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "reuseport.h"

static atomic_int reuseport_enabled;

void
reuseport_set(bool on)
{
	atomic_store(&reuseport_enabled, on ? 1 : 0);
}

int
bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (atomic_load(&reuseport_enabled)) {
		int one = 1;
		int type = 0;
		socklen_t tl = sizeof(type);
		/* a burst of answers (a PUBLISH fanned out to 1,000 watchers answering at
		 * once) overflows the default 208 KiB: ask for 4 MiB (capped by the
		 * kernel's net.core.rmem_max) */
		int rcvbuf = 4 << 20;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM) {
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		}
	}
	return (int)syscall(SYS_bind, fd, addr, len);
}
