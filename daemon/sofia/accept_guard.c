/*
 * accept_guard.c - running out of descriptors degrades, and recovers by itself.
 *
 * When accept() fails with EMFILE or ENFILE, the pending connection stays in
 * the listener's queue, the listener stays readable, and Sofia's event loop
 * calls accept() again at once: one core spins and the log fills with the
 * same error, while nothing frees a descriptor.  greenwichd provides accept()
 * itself: on those errors it gives up a descriptor kept in reserve, accepts
 * the waiting connection and closes it at once (that client sees its
 * connection refused), then takes the reserve back.  The listener is quiet
 * again until the next client, and a line is logged at most once a minute.
 * Connections already open are not touched; as they close, accepting works
 * again as before.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int reserve = -1;
static time_t logged;
static atomic_ulong shed;

__attribute__((constructor)) static void
reserve_open(void)
{
	reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
shed_one(int (*real)(int, struct sockaddr *, socklen_t *), int fd, int err)
{
	time_t now = time(NULL);

	pthread_mutex_lock(&lock);
	if (reserve >= 0) {
		close(reserve);
		int c = real(fd, NULL, NULL);
		if (c >= 0) {
			close(c);
			atomic_fetch_add(&shed, 1);
		}
		reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (now - logged >= 60) {
		logged = now;
		log_warnx("event=accept-failed reason=\"%s\" refused=%lu (new connections are "
			  "refused until descriptors are free)",
			  err == EMFILE ? "too many open files" : "system file table full",
			  (unsigned long)atomic_load(&shed));
	}
	pthread_mutex_unlock(&lock);
}

int
accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	static int (*real)(int, struct sockaddr *, socklen_t *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "accept");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	int s = real(fd, addr, len);
	if (s < 0 && (errno == EMFILE || errno == ENFILE)) {
		int err = errno;
		shed_one(real, fd, err);
		errno = err;
	}
	return s;
}
