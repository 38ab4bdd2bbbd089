/*
 * accept_guard.c - what greenwichd does in accept(): out of descriptors it degrades
 * and recovers by itself, and no client address holds more connections than its share.
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
 *
 * Per address: every accepted TCP/TLS connection is counted against its
 * client's address until its descriptor is closed (greenwichd provides close()
 * too, which looks the descriptor up in a table indexed by descriptor: one
 * load for every descriptor that is no accepted connection).  A connection
 * beyond [limits] connections-per-source from the same address is closed at
 * once, and Sofia is told the accept was aborted; one line a minute says so.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "accept_guard.h"
#include "addr_count.h"
#include "log.h"
#include "wait_audit.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int reserve = -1;
static time_t logged, cap_logged;
static atomic_ulong shed;
static atomic_int per_source;

static struct addr_count *conns;
/* by descriptor: the address an accepted connection counts against, or NULL */
static _Atomic(struct addr_entry *) *by_fd;
static size_t nfds;

__attribute__((constructor)) static void
reserve_open(void)
{
	struct rlimit rl;

	reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* the table covers every descriptor this process may have; the limit is set
	 * before start (systemd's LimitNOFILE, ulimit) */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		nfds = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20) ? (1u << 20)
										: rl.rlim_cur;
	by_fd = calloc(nfds, sizeof(*by_fd));
	conns = addr_count_alloc();
	if (by_fd == NULL || conns == NULL)
		nfds = 0;
}

void
accept_guard_configure(int n)
{
	atomic_store(&per_source, n);
}

void
accept_guard_counts(struct accept_guard_counts *out)
{
	addr_count_totals(conns, &out->connections, &out->sources);
	out->refused = atomic_load(&shed);
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

/* Count the accepted connection s against its address: 0, or -1 when it was over
 * the cap (then it is closed). */
static int
admit(int (*real_close)(int), int s, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int cap = atomic_load(&per_source);
	bool over;

	if (s < 0 || (size_t)s >= nfds)
		return 0;
	if (addr != NULL && len <= sizeof(ss) && len >= sizeof(sa_family_t))
		memcpy(&ss, addr, len);
	else if (getpeername(s, (struct sockaddr *)&ss, &sl) < 0)
		return 0;
	struct addr_entry *e =
	    addr_count_take(conns, (struct sockaddr *)&ss, cap > 0 ? (unsigned)cap : 0, &over);
	if (over) {
		char text[64];
		time_t now = time(NULL);
		atomic_fetch_add(&shed, 1);
		pthread_mutex_lock(&lock);
		if (now - cap_logged >= 60) {
			cap_logged = now;
			addr_count_text((struct sockaddr *)&ss, text, sizeof(text));
			log_notice("event=connection-refused source=%s limit=%d reason=\"too many "
				   "connections from this address\" refused=%lu",
				   text, cap, (unsigned long)atomic_load(&shed));
		}
		pthread_mutex_unlock(&lock);
		real_close(s);
		return -1;
	}
	atomic_store(&by_fd[s], e); /* NULL: not an IP connection, not counted */
	return 0;
}

static int (*real_close_fn)(int);

static int (*real_close(void))(int)
{
	if (real_close_fn == NULL)
		*(void **)&real_close_fn = dlsym(RTLD_NEXT, "close");
	return real_close_fn;
}

int
close(int fd)
{
	int (*real)(int) = real_close();

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	wait_audit_closing(fd, __builtin_return_address(0));
	if (fd >= 0 && (size_t)fd < nfds && atomic_load(&by_fd[fd]) != NULL) {
		struct addr_entry *e = atomic_exchange(&by_fd[fd], NULL);
		if (e != NULL) /* NULL: another close() of the same number got there first */
			addr_count_put(conns, e);
	}
	return real(fd);
}

int
accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	static int (*real)(int, struct sockaddr *, socklen_t *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "accept");
	if (real == NULL || real_close() == NULL) {
		errno = ENOSYS;
		return -1;
	}
	int s = real(fd, addr, len);
	if (s < 0 && (errno == EMFILE || errno == ENFILE)) {
		int err = errno;
		shed_one(real, fd, err);
		errno = err;
	}
	if (s >= 0 && admit(real_close_fn, s, addr, len ? *len : 0) < 0) {
		errno = ECONNABORTED;
		return -1;
	}
	return s;
}
