/*
 * wait_audit.c - a watch on the descriptors registered in Sofia's event loops.
 *
 * Sofia's epoll port (su_epoll_port.c) keys a registration by an index it
 * stores in the kernel's epoll entry; what a callback is handed is the wait
 * object (descriptor) and argument stored with that index.  It trusts its
 * callers to deregister a descriptor before closing it, to change the events
 * of an index only with that index's own descriptor, and to use a loop only
 * from its thread; its transport layer (tport.c) asserts the result, e.g.
 * tport_wakeup_pri's "w->fd == self->tp_socket".  Issue 18: greenwichd once
 * died on that assertion and it was never reproduced.
 *
 * greenwichd provides su_root_register(), su_root_deregister(),
 * su_root_eventmask() and su_root_destroy() itself: each calls Sofia's and
 * keeps a shadow of every registration (loop, index, descriptor, the socket's
 * inode then, callback, argument, who registered it, the loop's thread).  It
 * logs, as event=wait-anomaly with a kind, whatever breaks those rules:
 *   registered-twice        a descriptor registered while a registration of
 *                           the same number lives (it was closed under Sofia
 *                           and the number reused),
 *   closed-while-registered close() of a descriptor still registered
 *                           (greenwichd's close(), accept_guard.c, reports it),
 *   eventmask-other-socket  events of an index changed with another descriptor
 *                           (that would wire one socket's events to another
 *                           registration): refused, EBADF,
 *   not-registered          deregister or eventmask of an index not registered,
 *   foreign-thread          a loop used from another thread than its own.
 * On SIGABRT (an assertion in Sofia) it writes every registration to stderr
 * with the inode its descriptor has now next to the one it had when
 * registered, then lets the abort go on: the next occurrence says which descriptor changed
 * under which registration.  The cost is one mutex and an array store per
 * registration change; dispatching events is not touched.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sofia-sip/su_wait.h>

#include "log.h"
#include "wait_audit.h"

#define MAX_ROOTS 64
#define LOG_FREELY 100 /* anomalies logged one by one; then one line a minute */

struct reg {
	bool live;
	int fd;
	unsigned long ino; /* the descriptor's inode when registered (0: unknown) */
	su_wakeup_f cb;
	void *arg;
	const void *by; /* return address of the su_root_register() call */
};

struct loop {
	su_root_t *root;
	pthread_t owner; /* the thread that registered first: the loop's own */
	int cap;
	struct reg *v; /* by index */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct loop loops[MAX_ROOTS];
/* by descriptor: (loop slot + 1) << 24 | index of the live registration, or 0 */
static uint32_t *by_fd;
static size_t nfds;
static atomic_ulong anomalies;
static time_t logged_at;

static unsigned long
inode_of(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

static const char *
sym(const void *p, char *buf, size_t len)
{
	Dl_info info;

	if (p != NULL && dladdr(p, &info) != 0 && info.dli_sname != NULL)
		snprintf(buf, len, "%s+%#lx", info.dli_sname,
			 (unsigned long)((const char *)p - (const char *)info.dli_saddr));
	else
		snprintf(buf, len, "%p", p);
	return buf;
}

/* SIGABRT: every registration, to stderr (the journal under systemd; greenwichd's
 * log in the tests).  No lock and no allocation: the abort may come from inside
 * malloc or with a lock held. */
static void
dump_all(int sig)
{
	char line[512], a[96], b[96];

	(void)sig;
	for (int s = 0; s < MAX_ROOTS; s++) {
		struct loop *l = &loops[s];
		for (int i = 0; l->root && i < l->cap; i++) {
			struct reg *r = &l->v[i];
			if (!r->live)
				continue;
			int n = snprintf(line, sizeof(line),
					 "event=wait-audit-dump loop=%p index=%d fd=%d inode=%lu "
					 "inode-now=%lu callback=%s arg=%p registered-by=%s\n",
					 (void *)l->root, i, r->fd, r->ino, inode_of(r->fd),
					 sym((const void *)r->cb, a, sizeof(a)), r->arg,
					 sym(r->by, b, sizeof(b)));
			size_t len = n < 0                      ? 0
				     : (size_t)n < sizeof(line) ? (size_t)n
								: sizeof(line) - 1;
			if (write(2, line, len) < 0)
				return;
		}
	}
}

__attribute__((constructor)) static void
audit_init(void)
{
	struct rlimit rl;
	struct sigaction sa;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		nfds = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20) ? (1u << 20)
										: rl.rlim_cur;
	by_fd = calloc(nfds, sizeof(*by_fd));
	if (by_fd == NULL)
		nfds = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = dump_all;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGABRT, &sa, NULL);
}

unsigned long
wait_audit_anomalies(void)
{
	return atomic_load(&anomalies);
}

/* Counts an anomaly; true when it should be logged (the caller logs it after
 * unlocking: logging may close descriptors, and close() comes back here). */
static bool
anomaly(void)
{
	unsigned long n = atomic_fetch_add(&anomalies, 1) + 1;
	time_t now = time(NULL);

	if (n <= LOG_FREELY || now - logged_at >= 60) {
		logged_at = now;
		return true;
	}
	return false;
}

/* The slot of root (created when asked), or NULL. */
static struct loop *
loop_of(su_root_t *root, bool create)
{
	struct loop *free_slot = NULL;

	for (int s = 0; s < MAX_ROOTS; s++) {
		if (loops[s].root == root)
			return &loops[s];
		if (loops[s].root == NULL && free_slot == NULL)
			free_slot = &loops[s];
	}
	if (!create || free_slot == NULL)
		return NULL;
	free_slot->root = root;
	free_slot->owner = pthread_self();
	return free_slot;
}

static struct reg *
reg_at(struct loop *l, int index, bool grow)
{
	if (index <= 0)
		return NULL;
	if (index >= l->cap) {
		if (!grow)
			return NULL;
		int cap = l->cap ? l->cap : 64;
		while (cap <= index)
			cap *= 2;
		struct reg *v = realloc(l->v, (size_t)cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		memset(v + l->cap, 0, (size_t)(cap - l->cap) * sizeof(*v));
		l->v = v, l->cap = cap;
	}
	return &l->v[index];
}

static uint32_t
pack(struct loop *l, int index)
{
	return (uint32_t)(l - loops + 1) << 24 | (uint32_t)index;
}

static struct reg *
unpack(uint32_t k, su_root_t **root, int *index)
{
	struct loop *l = &loops[(k >> 24) - 1];

	*root = l->root;
	*index = (int)(k & 0xffffff);
	return *index < l->cap ? &l->v[*index] : NULL;
}

static void
clear_fd(struct loop *l, int index, int fd)
{
	if (fd >= 0 && (size_t)fd < nfds && by_fd[fd] == pack(l, index))
		by_fd[fd] = 0;
}

int
su_root_register(su_root_t *root, su_wait_t *wait, su_wakeup_f cb, su_wakeup_arg_t *arg,
		 int priority)
{
	static int (*real)(su_root_t *, su_wait_t *, su_wakeup_f, su_wakeup_arg_t *, int);
	char msg[400] = "", a[96], b[96];

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "su_root_register");
	if (real == NULL)
		return errno = ENOSYS, -1;
	int index = real(root, wait, cb, arg, priority);
	if (index <= 0 || wait == NULL || index > 0xffffff)
		return index;
	int fd = wait->fd;
	unsigned long ino = inode_of(fd);
	pthread_mutex_lock(&mu);
	struct loop *l = loop_of(root, true);
	struct reg *r = l ? reg_at(l, index, true) : NULL;
	if (l && !pthread_equal(l->owner, pthread_self()) && anomaly())
		snprintf(msg, sizeof(msg),
			 "kind=foreign-thread call=register loop=%p index=%d fd=%d", (void *)root,
			 index, fd);
	if (fd >= 0 && (size_t)fd < nfds && by_fd[fd] != 0) {
		su_root_t *oroot;
		int oindex;
		struct reg *o = unpack(by_fd[fd], &oroot, &oindex);
		if (o && o->live && o->fd == fd && anomaly())
			snprintf(msg, sizeof(msg),
				 "kind=registered-twice fd=%d loop=%p index=%d inode=%lu "
				 "callback=%s, while loop=%p index=%d inode=%lu callback=%s lives",
				 fd, (void *)root, index, ino, sym((const void *)cb, a, sizeof(a)),
				 (void *)oroot, oindex, o->ino,
				 sym((const void *)o->cb, b, sizeof(b)));
	}
	if (r) {
		r->live = true, r->fd = fd, r->ino = ino, r->cb = cb, r->arg = arg;
		r->by = __builtin_return_address(0);
		if (fd >= 0 && (size_t)fd < nfds)
			by_fd[fd] = pack(l, index);
	}
	pthread_mutex_unlock(&mu);
	if (msg[0])
		log_warnx("event=wait-anomaly %s", msg);
	return index;
}

/* Under mu: the live registration index of root, or NULL; what is wrong with the
 * call goes to msg. */
static struct reg *
lookup(su_root_t *root, int index, const char *call, int fd, char *msg, size_t len,
       struct loop **lp)
{
	struct loop *l = loop_of(root, false);
	struct reg *r = l ? reg_at(l, index, false) : NULL;

	if (l && !pthread_equal(l->owner, pthread_self()) && anomaly())
		snprintf(msg, len, "kind=foreign-thread call=%s loop=%p index=%d fd=%d", call,
			 (void *)root, index, fd);
	else if (index > 0 && l && (r == NULL || !r->live) && anomaly())
		snprintf(msg, len, "kind=not-registered call=%s loop=%p index=%d fd=%d", call,
			 (void *)root, index, fd);
	*lp = l;
	return r && r->live ? r : NULL;
}

int
su_root_deregister(su_root_t *root, int index)
{
	static int (*real)(su_root_t *, int);
	char msg[200] = "";
	struct loop *l;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "su_root_deregister");
	if (real == NULL)
		return errno = ENOSYS, -1;
	pthread_mutex_lock(&mu);
	struct reg *r = lookup(root, index, "deregister", -1, msg, sizeof(msg), &l);
	if (r) {
		clear_fd(l, index, r->fd);
		r->live = false;
	}
	pthread_mutex_unlock(&mu);
	if (msg[0])
		log_warnx("event=wait-anomaly %s", msg);
	return real(root, index);
}

int
su_root_eventmask(su_root_t *root, int index, int socket, int events)
{
	static int (*real)(su_root_t *, int, int, int);
	char msg[300] = "";
	struct loop *l;
	bool refuse = false;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "su_root_eventmask");
	if (real == NULL)
		return errno = ENOSYS, -1;
	pthread_mutex_lock(&mu);
	struct reg *r = lookup(root, index, "eventmask", socket, msg, sizeof(msg), &l);
	if (r && r->fd != socket) {
		refuse = true;
		if (anomaly())
			snprintf(
			    msg, sizeof(msg),
			    "kind=eventmask-other-socket loop=%p index=%d fd=%d registered-fd=%d "
			    "(refused)",
			    (void *)root, index, socket, r->fd);
	}
	pthread_mutex_unlock(&mu);
	if (msg[0])
		log_warnx("event=wait-anomaly %s", msg);
	if (refuse)
		return errno = EBADF, -1;
	return real(root, index, socket, events);
}

void
su_root_destroy(su_root_t *root)
{
	static void (*real)(su_root_t *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "su_root_destroy");
	pthread_mutex_lock(&mu);
	struct loop *l = loop_of(root, false);
	if (l) {
		for (int i = 0; i < l->cap; i++)
			if (l->v[i].live)
				clear_fd(l, i, l->v[i].fd);
		free(l->v);
		memset(l, 0, sizeof(*l));
	}
	pthread_mutex_unlock(&mu);
	if (real)
		real(root);
}

void
wait_audit_closing(int fd, const void *caller)
{
	char msg[300] = "", a[96], b[96];

	if (fd < 0 || (size_t)fd >= nfds || __atomic_load_n(&by_fd[fd], __ATOMIC_RELAXED) == 0)
		return;
	pthread_mutex_lock(&mu);
	if (by_fd[fd] != 0) {
		su_root_t *root;
		int index;
		struct reg *r = unpack(by_fd[fd], &root, &index);
		if (r && r->live && r->fd == fd && anomaly())
			snprintf(msg, sizeof(msg),
				 "kind=closed-while-registered fd=%d loop=%p index=%d callback=%s "
				 "closed-by=%s",
				 fd, (void *)root, index, sym((const void *)r->cb, a, sizeof(a)),
				 sym(caller, b, sizeof(b)));
	}
	pthread_mutex_unlock(&mu);
	if (msg[0])
		log_warnx("event=wait-anomaly %s", msg);
}
