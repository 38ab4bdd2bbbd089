/*
 * notify.c - systemd's readiness protocol (sd_notify) without libsystemd:
 * one datagram to the socket named by $NOTIFY_SOCKET.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

int
notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;
	int fd, ret = 0;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return 0; /* not started by systemd */
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		ret = -1;
	close(fd);
	return ret;
}
