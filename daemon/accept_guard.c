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

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "accept_guard.h"
#include "log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int reserve = -1;
static time_t logged, cap_logged;
static atomic_ulong shed;
static atomic_int per_source;

/* One client address with connections open. */
struct source {
	unsigned char addr[16]; /* IPv4 mapped into IPv6 */
	unsigned n;		/* connections open */
	struct source *next;
};

#define SOURCE_BUCKETS 1024

static struct source *sources[SOURCE_BUCKETS];
static unsigned long nsources, nconns;
/* by descriptor: the source an accepted connection counts against, or NULL */
static _Atomic(struct source *) *by_fd;
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
	if (by_fd == NULL)
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
	pthread_mutex_lock(&lock);
	out->connections = nconns;
	out->sources = nsources;
	pthread_mutex_unlock(&lock);
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

static bool
source_key(const struct sockaddr_storage *ss, unsigned char key[16])
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (ss->ss_family == AF_INET) {
		memcpy(key, mapped, 12);
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		return true;
	}
	return false; /* the control socket (AF_UNIX) is not counted */
}

static unsigned
bucket_of(const unsigned char key[16])
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % SOURCE_BUCKETS;
}

static struct source *
source_get_locked(const unsigned char key[16])
{
	unsigned b = bucket_of(key);
	struct source *s;

	for (s = sources[b]; s; s = s->next)
		if (memcmp(s->addr, key, 16) == 0)
			return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->addr, key, 16);
	s->next = sources[b];
	sources[b] = s;
	nsources++;
	return s;
}

static void
source_put_locked(struct source *s)
{
	nconns--;
	if (--s->n > 0)
		return;
	for (struct source **pp = &sources[bucket_of(s->addr)]; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	nsources--;
	free(s);
}

static void
refused_log_locked(const unsigned char key[16], unsigned limit)
{
	char text[INET6_ADDRSTRLEN];
	time_t now = time(NULL);

	if (now - cap_logged < 60)
		return;
	cap_logged = now;
	if (memcmp(key, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		inet_ntop(AF_INET, key + 12, text, sizeof(text));
	else
		inet_ntop(AF_INET6, key, text, sizeof(text));
	log_notice("event=connection-refused source=%s limit=%u reason=\"too many connections "
		   "from this address\" refused=%lu",
		   text, limit, (unsigned long)atomic_load(&shed));
}

/* Count the accepted connection s against its address: 0, or -1 when it was over
 * the cap (then it is closed). */
static int
admit(int (*real_close)(int), int s, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned char key[16];
	int cap = atomic_load(&per_source);

	if (s < 0 || (size_t)s >= nfds)
		return 0;
	if (addr != NULL && len <= sizeof(ss) && len >= sizeof(sa_family_t))
		memcpy(&ss, addr, len);
	else if (getpeername(s, (struct sockaddr *)&ss, &sl) < 0)
		return 0;
	if (!source_key(&ss, key))
		return 0;
	pthread_mutex_lock(&lock);
	struct source *src = source_get_locked(key);
	if (src == NULL) {
		pthread_mutex_unlock(&lock);
		return 0;
	}
	if (cap > 0 && src->n >= (unsigned)cap) {
		atomic_fetch_add(&shed, 1);
		refused_log_locked(key, (unsigned)cap); /* src->n > 0: it was there before */
		pthread_mutex_unlock(&lock);
		real_close(s);
		return -1;
	}
	src->n++;
	nconns++;
	atomic_store(&by_fd[s], src);
	pthread_mutex_unlock(&lock);
	return 0;
}

static int (*real_close_fn)(int);

static int (*
real_close(void))(int)
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
	if (fd >= 0 && (size_t)fd < nfds && atomic_load(&by_fd[fd]) != NULL) {
		pthread_mutex_lock(&lock);
		struct source *s = atomic_exchange(&by_fd[fd], NULL);
		if (s != NULL)
			source_put_locked(s);
		pthread_mutex_unlock(&lock);
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
