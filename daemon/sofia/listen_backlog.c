/*
 * listen_backlog.c - room for a crowd of clients connecting at once.
 *
 * Sofia listens on its TCP and TLS sockets with TPTAG_QUEUESIZE as the
 * backlog (64 by default), and the same setting sizes each connection's
 * queue of messages waiting to be sent, so raising it would cost every busy
 * connection.  64 pending connections is far too few when thousands of
 * signed-in clients come back together (after a restart or a network
 * outage): the kernel drops the SYNs over it, and each such client waits a
 * second or more before trying again.  greenwichd provides listen(2): for
 * Sofia's calls the backlog is at least LISTEN_BACKLOG (the kernel still caps
 * it at net.core.somaxconn, 4096 by default).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sofia_code.h"

enum { LISTEN_BACKLOG = 4096 };

int
listen(int fd, int backlog)
{
	if (backlog < LISTEN_BACKLOG && sofia_code_contains(__builtin_return_address(0)))
		backlog = LISTEN_BACKLOG;
	return (int)syscall(SYS_listen, fd, backlog);
}
