/*
 * ctl.c - greenwich-mmc's side of greenwichd's control socket: one JSON request
 * per line, one JSON reply per line (see daemon/control/control.h).
 *
 * The socket is --socket PATH, else $GREENWICH_CONTROL_SOCKET, else [server]
 * control-socket of the configuration.  With --front-end ID naming another
 * front end of the pool, the request goes through the store instead (remote.c)
 * and its reply is handled here the same way.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mmc.h"

#define CTL_TIMEOUT_MS 10000
#define CTL_REPLY_MAX (16 << 20)

const char *
mmc_ctl_path(const struct mmc *m)
{
	const char *env = getenv("GREENWICH_CONTROL_SOCKET");

	if (m->socket_path)
		return m->socket_path;
	if (env && env[0])
		return env;
	return m->conf ? m->conf->control_socket : "/run/greenwich/control.sock";
}

/* An error: on stderr, and with --json also as {"error":..,"exit":..} on stdout. */
int
mmc_fail(int code, const char *fmt, ...)
{
	char msg[800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (mmc_quiet)
		return code; /* completion asks on the side: its failures are not the user's */
	mmc_err("%s", msg);
	if (mmc_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "error", json_object_new_string(msg));
		json_object_object_add(o, "exit", json_object_new_int(code));
		mmc_json_print(o);
	}
	return code;
}

static int
ctl_connect(const char *path, bool quiet)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return quiet ? -MMC_EXIT_USAGE
			     : -mmc_fail(MMC_EXIT_USAGE, "control socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -MMC_EXIT_FAIL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	close(fd);
	if (quiet)
		return -MMC_EXIT_FAIL;
	if (e == ENOENT || e == ENOTDIR) {
		/* no directory for the socket: greenwichd cannot have made it there */
		const char *slash = strrchr(path, '/');
		char dir[sizeof(sa.sun_path)];
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
			 slash ? path : ".");
		if (dir[0] != '\0' && access(dir, F_OK) < 0)
			return -mmc_fail(
			    MMC_EXIT_UNREACHABLE,
			    "no control socket at %s: %s does not exist (greenwichd, if it "
			    "runs, has another [server] control-socket or none: see "
			    "event=control-disabled in its log)",
			    path, dir);
		return -mmc_fail(MMC_EXIT_UNREACHABLE,
				 "greenwichd is not running (no control socket at %s)", path);
	}
	if (e == ECONNREFUSED)
		return -mmc_fail(
		    MMC_EXIT_UNREACHABLE,
		    "greenwichd is not running (control socket %s refuses connections: "
		    "left by a greenwichd that ended)",
		    path);
	if (e == EACCES || e == EPERM)
		return -mmc_fail(
		    MMC_EXIT_AUTH,
		    "permission denied: add yourself to greenwich-admins (control socket %s)",
		    path);
	return -mmc_fail(MMC_EXIT_UNREACHABLE, "cannot reach greenwichd at %s: %s", path,
			 strerror(e));
}

static int
send_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One line from fd into a malloc'd string, or NULL. */
static char *
read_line(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, CTL_TIMEOUT_MS) != 1)
			break;
		if (len + 1 >= cap) {
			char *nb = cap < CTL_REPLY_MAX ? realloc(buf, cap * 2) : NULL;
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		char *nl = strchr(buf, '\n');
		if (nl) {
			*nl = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

/* The exit code for a reply with "ok": false, its error printed. */
static int
reply_error(json_object *reply, const char *who)
{
	json_object *code = NULL, *msg = NULL;
	const char *c;

	json_object_object_get_ex(reply, "code", &code);
	json_object_object_get_ex(reply, "error", &msg);
	c = code ? json_object_get_string(code) : "failed";
	int rc = !strcmp(c, "not-found")     ? MMC_EXIT_NOTFOUND
		 : !strcmp(c, "bad-request") ? MMC_EXIT_USAGE
		 : !strcmp(c, "refused")     ? MMC_EXIT_REFUSED
					     : MMC_EXIT_FAIL;
	return mmc_fail(rc, "%s: %s", who, msg ? json_object_get_string(msg) : "request failed");
}

/* --front-end: 1 to relay through the store, 0 for this host's own greenwichd
 * (its socket), or -(exit code) with the error printed. */
static int
front_end_route(struct mmc *m, json_object *req, bool quiet)
{
	json_object *v = NULL;
	const char *cmd;
	char self[128];

	if (m->front_end == NULL)
		return 0;
	mmc_front_end_self(m, self, sizeof(self));
	if (strcmp(m->front_end, self) == 0)
		return 0;
	if (m->conf == NULL || strcmp(m->conf->store_backend, "postgresql") != 0)
		return quiet
			   ? -MMC_EXIT_NOTFOUND
			   : -mmc_fail(MMC_EXIT_NOTFOUND,
				       "no front end %s: this is a single server on SQLite (front "
				       "end %s), not a pool on PostgreSQL",
				       m->front_end, self);
	json_object_object_get_ex(req, "cmd", &v);
	cmd = v ? json_object_get_string(v) : "";
	if (!mmc_remote_allowed(cmd))
		return quiet ? -MMC_EXIT_REFUSED
			     : -mmc_fail(MMC_EXIT_REFUSED,
					 "server %s is not allowed on another front end: run it on "
					 "%s's host (or with --socket there)",
					 !strcmp(cmd, "signout") ? "sign-out" : cmd, m->front_end);
	return 1;
}

static int
call(struct mmc *m, json_object *req, json_object **replyp, bool quiet)
{
	const char *path = mmc_ctl_path(m);
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	int route = front_end_route(m, req, quiet), fd = -1, ret = MMC_EXIT_FAIL;
	char *line = NULL, who[200];
	json_object *reply = NULL, *ok = NULL;

	*replyp = NULL;
	snprintf(who, sizeof(who), "greenwichd");
	if (route < 0) {
		ret = -route;
		goto done;
	}
	if (route == 1) {
		snprintf(who, sizeof(who), "greenwichd on %s", m->front_end);
		ret = mmc_remote_call(m, req, &line, quiet);
		if (ret != MMC_EXIT_OK)
			goto done;
		ret = MMC_EXIT_FAIL;
		if ((reply = json_tokener_parse(line)) == NULL) {
			if (!quiet)
				mmc_fail(MMC_EXIT_FAIL,
					 "front end %s answered something else than "
					 "JSON",
					 m->front_end);
			goto done;
		}
	} else {
		fd = ctl_connect(path, quiet);
		if (fd < 0) {
			ret = -fd;
			goto done;
		}
		if (send_all(fd, s, strlen(s)) < 0 || send_all(fd, "\n", 1) < 0 ||
		    (line = read_line(fd)) == NULL || (reply = json_tokener_parse(line)) == NULL) {
			if (!quiet)
				mmc_fail(MMC_EXIT_FAIL, "greenwichd did not answer on %s", path);
			goto done;
		}
	}
	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
		ret = quiet ? MMC_EXIT_FAIL : reply_error(reply, who);
		json_object_put(reply);
		goto done;
	}
	json_object_object_del(reply, "ok");
	*replyp = reply;
	ret = MMC_EXIT_OK;
done:
	if (fd >= 0)
		close(fd);
	free(line);
	json_object_put(req);
	return ret;
}

/* Send req (consumed); on MMC_EXIT_OK *replyp holds the reply without "ok". */
int
mmc_ctl_call(struct mmc *m, json_object *req, json_object **replyp)
{
	return call(m, req, replyp, false);
}

/* The same without messages, for optional extras (a user's devices in `users show`). */
int
mmc_ctl_try(struct mmc *m, json_object *req, json_object **replyp)
{
	return call(m, req, replyp, true);
}

/* {"cmd": cmd, key: value} (key may be NULL). */
json_object *
mmc_ctl_req(const char *cmd, const char *key, const char *value)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	if (key)
		json_object_object_add(o, key, json_object_new_string(value));
	return o;
}
