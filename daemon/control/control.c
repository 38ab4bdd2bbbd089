/*
 * control.c - the control socket: its file, its thread, the line protocol.
 *
 * The thread polls the listening socket, up to CTL_CLIENTS clients and a stop
 * pipe, and wakes once a second to sample the request counter for the
 * requests-per-second figure.  Replies are written with a send timeout, so a
 * client that stops reading costs this thread at most a few seconds and never
 * a SIP worker anything.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "gwd.h"
#include "log.h"

#define CTL_CLIENTS 8
#define CTL_LINE_MAX 8192
#define CTL_SAMPLES 11 /* one a second: the rate over the last 10 s */
#define CTL_GROUP "greenwich-admins"

struct ctl_client {
	int fd;
	size_t len;
	char buf[CTL_LINE_MAX];
};

struct control {
	struct gwd *g;
	pthread_t thread;
	int listen_fd;
	int stop[2];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the socket file we made, so we only ever remove ours */
	ino_t ino;
	struct ctl_client clients[CTL_CLIENTS];
	pthread_mutex_t mu; /* the samples: the pool's thread reads them too (control_remote) */
	struct {
		double t;
		unsigned long n;
	} samples[CTL_SAMPLES];
	size_t nsamples, next;
};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sample(struct control *c)
{
	pthread_mutex_lock(&c->mu);
	c->samples[c->next].t = now_mono();
	c->samples[c->next].n = atomic_load(&c->g->stats.requests);
	c->next = (c->next + 1) % CTL_SAMPLES;
	if (c->nsamples < CTL_SAMPLES)
		c->nsamples++;
	pthread_mutex_unlock(&c->mu);
}

/* Requests per second between the oldest sample (at most 10 s old) and now. */
static double
rate(struct control *c)
{
	pthread_mutex_lock(&c->mu);
	size_t oldest = c->nsamples < CTL_SAMPLES ? 0 : c->next;
	double t = now_mono(), dt = t - c->samples[oldest].t, r = 0.0;
	unsigned long n = atomic_load(&c->g->stats.requests);

	if (c->nsamples > 0 && dt >= 0.5)
		r = (double)(n - c->samples[oldest].n) / dt;
	pthread_mutex_unlock(&c->mu);
	return r;
}

/* A socket file left by a greenwichd that died is removed; a live one, or
 * anything that is not a socket, is left alone. */
static int
stale_remove(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s is in use by another greenwichd", path);
		return -EADDRINUSE;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (unlink(path) < 0)
		return -errno;
	log_notice("event=control-stale-removed path=%s", path);
	return 0;
}

/* Group greenwich-admins when it exists (and we may use it), mode 0660. */
static void
socket_perms(const char *path)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrnam_r(CTL_GROUP, &gr, buf, sizeof(buf), &res) == 0 && res != NULL &&
	    chown(path, (uid_t)-1, res->gr_gid) < 0)
		log_warnx("event=control-group path=%s group=" CTL_GROUP " reason=\"%s\"", path,
			  strerror(errno));
	if (chmod(path, 0660) < 0)
		log_warnx("event=control-mode path=%s reason=\"%s\"", path, strerror(errno));
}

static int
socket_open(struct control *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control-socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	c->listen_fd = -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(c->path, sizeof(c->path), "%s", path);
	err[0] = '\0';
	rc = stale_remove(path, &sa, err, errlen);
	if (rc < 0)
		goto done;
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* created with the process umask: no group or other write access until chmod */
	if (c->listen_fd < 0 || bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(c->listen_fd, 16) < 0 || stat(path, &st) < 0) {
		rc = -errno;
		goto done;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	socket_perms(path);
done:
	if (rc < 0 && err[0] == '\0')
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	if (rc < 0 && c->listen_fd >= 0) {
		close(c->listen_fd);
		c->listen_fd = -1;
	}
	return rc;
}

static void
client_close(struct ctl_client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	cl->len = 0;
}

static void
client_accept(struct control *c)
{
	struct timeval tv = {.tv_sec = 3};
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (size_t i = 0; i < CTL_CLIENTS; i++)
		if (c->clients[i].fd < 0) {
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			c->clients[i].fd = fd;
			c->clients[i].len = 0;
			return;
		}
	static const char busy[] =
	    "{\"ok\":false,\"code\":\"busy\",\"error\":\"too many clients\"}\n";
	if (write(fd, busy, sizeof(busy) - 1) < 0)
		log_debug("event=control-busy");
	close(fd);
}

static int
reply_write(int fd, json_object *reply)
{
	const char *s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = write(fd, s + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return write(fd, "\n", 1) == 1 ? 0 : -1;
}

static int
line_handle(struct control *c, int fd, const char *line)
{
	json_object *req = json_tokener_parse(line), *reply;
	int ret;

	if (req == NULL || !json_object_is_type(req, json_type_object))
		reply = control_reply_err("bad-request", "not a JSON object");
	else
		reply = control_execute(c->g, req, rate(c));
	ret = reply_write(fd, reply);
	json_object_put(reply);
	json_object_put(req);
	return ret;
}

/* Read what is there; answer every complete line. */
static void
client_read(struct control *c, struct ctl_client *cl)
{
	ssize_t n = read(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len - 1);
	char *nl;

	if (n <= 0) {
		client_close(cl);
		return;
	}
	cl->len += (size_t)n;
	cl->buf[cl->len] = '\0';
	while (cl->fd >= 0 && (nl = strchr(cl->buf, '\n')) != NULL) {
		*nl = '\0';
		if (line_handle(c, cl->fd, cl->buf) < 0) {
			client_close(cl);
			return;
		}
		size_t used = (size_t)(nl + 1 - cl->buf);
		memmove(cl->buf, nl + 1, cl->len - used + 1);
		cl->len -= used;
	}
	if (cl->len >= sizeof(cl->buf) - 1) {
		json_object *r = control_reply_err("bad-request", "line too long");
		reply_write(cl->fd, r);
		json_object_put(r);
		client_close(cl);
	}
}

char *
control_remote(struct gwd *g, long long id, const char *request, const char *requester,
	       const char *role)
{
	json_object *req = json_tokener_parse(request), *reply, *v = NULL;
	const char *cmd = NULL;
	char who[200];
	char *s;

	log_value_buf(who, sizeof(who), requester);
	if (req && json_object_is_type(req, json_type_object) &&
	    json_object_object_get_ex(req, "cmd", &v) && json_object_is_type(v, json_type_string))
		cmd = json_object_get_string(v);
	if (cmd == NULL)
		reply = control_reply_err("bad-request", "not a JSON object with a \"cmd\"");
	else if (!control_remote_allowed(cmd)) {
		log_warnx("event=control-remote-refused id=%lld cmd=%s requester=%s role=%s", id,
			  log_value(cmd), who, log_value(role));
		reply = control_reply_err("refused", "not allowed from another front end: run it "
						     "on this front end's host");
	} else {
		log_notice("event=control-remote id=%lld cmd=%s requester=%s role=%s", id,
			   log_value(cmd), who, log_value(role));
		/* g->control is set before the pool's thread starts and freed after it
		 * stopped (main.c) */
		reply = control_execute(g, req, g->control ? rate(g->control) : 0.0);
	}
	s = strdup(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN));
	json_object_put(reply);
	json_object_put(req);
	return s;
}

static void *
control_main(void *arg)
{
	struct control *c = arg;
	struct pollfd p[CTL_CLIENTS + 2];
	double last = 0;

	for (;;) {
		size_t n = 0;
		p[n++] = (struct pollfd){.fd = c->stop[0], .events = POLLIN};
		p[n++] = (struct pollfd){.fd = c->listen_fd, .events = POLLIN};
		for (size_t i = 0; i < CTL_CLIENTS; i++)
			p[n++] = (struct pollfd){.fd = c->clients[i].fd, .events = POLLIN};
		if (now_mono() - last >= 1.0) {
			sample(c);
			last = now_mono();
		}
		if (poll(p, n, 1000) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN)
			client_accept(c);
		for (size_t i = 0; i < CTL_CLIENTS; i++)
			if (c->clients[i].fd >= 0 && p[i + 2].revents)
				client_read(c, &c->clients[i]);
	}
	for (size_t i = 0; i < CTL_CLIENTS; i++)
		client_close(&c->clients[i]);
	return NULL;
}

static void
control_free(struct control *c)
{
	struct stat st;

	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		if (stat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
			unlink(c->path);
	}
	if (c->stop[0] >= 0)
		close(c->stop[0]);
	if (c->stop[1] >= 0)
		close(c->stop[1]);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int
control_start(struct gwd *g, char *err, size_t errlen)
{
	struct control *c;
	char why[600];

	if (g->conf->control_socket[0] == '\0')
		return 0;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "control socket: out of memory");
		return -1;
	}
	c->g = g;
	pthread_mutex_init(&c->mu, NULL);
	c->stop[0] = c->stop[1] = -1;
	for (size_t i = 0; i < CTL_CLIENTS; i++)
		c->clients[i].fd = -1;
	if (socket_open(c, g->conf->control_socket, why, sizeof(why)) < 0) {
		log_warnx("event=control-disabled reason=\"%s\" (greenwich-mmc server commands "
			  "will not reach this server)",
			  why);
		control_free(c);
		return 0;
	}
	if (pipe2(c->stop, O_CLOEXEC) < 0 ||
	    pthread_create(&c->thread, NULL, control_main, c) != 0) {
		snprintf(err, errlen, "cannot start the control thread: %s", strerror(errno));
		control_free(c);
		return -1;
	}
	g->control = c;
	log_info("event=control-listening path=%s", c->path);
	return 0;
}

void
control_stop(struct gwd *g)
{
	struct control *c = g->control;

	if (c == NULL)
		return;
	if (write(c->stop[1], "q", 1) != 1)
		log_warnx("event=control-stop reason=\"%s\"", strerror(errno));
	pthread_join(c->thread, NULL);
	control_free(c);
	g->control = NULL;
}
