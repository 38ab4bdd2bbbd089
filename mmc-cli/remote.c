/*
 * remote.c - `server ... --front-end ID`: a control command for another front
 * end of the pool, relayed through the store (table control_requests; the
 * front end's pool thread runs it with the control socket's own handler and
 * writes the reply back; see docs/DESIGN.md, "The pool").  The PostgreSQL role
 * of [store] conninfo is what authorises it, as for `pool status`.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gwconf.h"
#include "gwstore.h"
#include "mmc.h"

/* Which commands another front end runs (greenwichd decides too: control_remote_allowed). */
bool
mmc_remote_allowed(const char *cmd)
{
	static const char *const allowed[] = {"status", "registrations", "connections",
					      "reload", "loglevel",      "flush-cache"};

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(cmd, allowed[i]) == 0)
			return true;
	return false;
}

/* This host's front-end id: [pool] id, else the host name (as greenwichd's). */
void
mmc_front_end_self(const struct mmc *m, char *buf, size_t len)
{
	if (m->conf && m->conf->pool_id[0])
		snprintf(buf, len, "%s", m->conf->pool_id);
	else if (gethostname(buf, len) < 0)
		snprintf(buf, len, "greenwich");
	buf[len - 1] = '\0';
}

struct found {
	const char *id;
	bool hit;
	int64_t age;
	char known[400];
};

static int
fe_row(const struct gwstore_frontend *fe, void *arg)
{
	struct found *f = arg;
	size_t n = strlen(f->known);

	if (strcmp(fe->id, f->id) == 0) {
		f->hit = true;
		f->age = fe->age;
	}
	snprintf(f->known + n, sizeof(f->known) - n, "%s%s", n ? ", " : "", fe->id);
	return 0;
}

/* Read the target's row: MMC_EXIT_OK with f filled, or the error printed. */
static int
frontend_find(struct gwstore *st, struct found *f, bool quiet)
{
	f->hit = false;
	f->known[0] = '\0';
	if (gwstore_frontend_each(st, fe_row, f) < 0)
		return quiet ? MMC_EXIT_FAIL
			     : mmc_fail(MMC_EXIT_FAIL, "cannot read the front ends: %s",
					gwstore_error(st));
	return MMC_EXIT_OK;
}

static void
requester(char *buf, size_t len)
{
	const struct passwd *pw = getpwuid(getuid());
	char host[128] = "";

	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "?");
	snprintf(buf, len, "%s@%s", pw ? pw->pw_name : "?", host);
}

static int
store_failed(const struct mmc *m, struct gwstore *st, const char *what)
{
	const char *e = gwstore_error(st);

	/* a role without rights on the table: say which rights are missing */
	if (strstr(e, "permission denied"))
		return mmc_fail(MMC_EXIT_AUTH,
				"cannot %s front end %s: %s (the PostgreSQL role of [store] "
				"conninfo needs SELECT, INSERT and DELETE on control_requests)",
				what, m->front_end, e);
	return mmc_fail(MMC_EXIT_FAIL, "cannot %s front end %s: %s", what, m->front_end, e);
}

static void
on_reply(const char *chan, const char *payload, void *arg)
{
	(void)chan;
	(void)payload;
	*(bool *)arg = true; /* any news: look at the row */
}

/* Ask the pool: m->front_end runs req.  *line gets its reply line. */
static int
relay(struct mmc *m, struct gwstore *st, json_object *req, char **line, bool quiet)
{
	static const char *const chans[] = {GWSTORE_CHANNEL_CONTROL_REPLY};
	struct gwstore_listener *l = NULL;
	struct found f = {.id = m->front_end};
	char who[300], err[600];
	int64_t id = 0;
	bool taken = false;
	int ret;

	if ((ret = frontend_find(st, &f, quiet)) != MMC_EXIT_OK)
		return ret;
	if (!f.hit)
		return quiet ? MMC_EXIT_NOTFOUND
			     : mmc_fail(MMC_EXIT_NOTFOUND,
					"no front end %s in the pool (front ends: %s)",
					m->front_end, f.known[0] ? f.known : "none");
	if (f.age >= m->conf->pool_dead_after)
		return quiet
			   ? MMC_EXIT_UNREACHABLE
			   : mmc_fail(MMC_EXIT_UNREACHABLE,
				      "front end %s is down (last heartbeat %lld s ago): not asked",
				      m->front_end, (long long)f.age);
	/* listen before asking: the reply may come at once */
	if (gwstore_listener_open(&l, m->conf, chans, 1, err, sizeof(err)) < 0)
		return quiet ? MMC_EXIT_FAIL
			     : mmc_fail(MMC_EXIT_FAIL, "cannot ask front end %s: %s", m->front_end,
					err);
	requester(who, sizeof(who));
	if (gwstore_control_ask(st, m->front_end,
				json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), who,
				m->fe_timeout, &id) < 0) {
		gwstore_listener_close(l);
		return quiet ? MMC_EXIT_FAIL : store_failed(m, st, "ask");
	}
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = MMC_EXIT_FAIL;
	for (;;) {
		bool news = false;
		int rc = gwstore_control_reply(st, id, &taken, line);
		if (rc == 0 && *line) {
			ret = MMC_EXIT_OK;
			break;
		}
		if (rc < 0) {
			if (!quiet)
				store_failed(m, st, "hear from");
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = (long)m->fe_timeout * 1000 -
			    ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			ret = MMC_EXIT_UNREACHABLE;
			break;
		}
		/* a notification wakes us; without one, look again within 500 ms */
		gwstore_listener_wait(l, left < 500 ? (int)left : 500, on_reply, &news);
	}
	/* ours alone: answered, or given up (then it can no longer run: gone); whether a
	 * front end had claimed it is known for sure only now */
	if (gwstore_control_delete(st, id, &taken) < 0 && ret == MMC_EXIT_UNREACHABLE)
		taken = true; /* cannot tell: say it may have run */
	gwstore_listener_close(l);
	if (ret == MMC_EXIT_UNREACHABLE && !quiet) {
		char hb[64] = "no heartbeat recorded";
		if (frontend_find(st, &f, true) == MMC_EXIT_OK && f.hit)
			snprintf(hb, sizeof(hb), "last heartbeat %lld s ago", (long long)f.age);
		if (taken)
			mmc_fail(ret,
				 "front end %s took the request but did not answer within %d s "
				 "(%s): it may have run",
				 m->front_end, m->fe_timeout, hb);
		else
			mmc_fail(ret, "front end %s did not answer within %d s (%s)", m->front_end,
				 m->fe_timeout, hb);
	}
	return ret;
}

int
mmc_remote_call(struct mmc *m, json_object *req, char **line, bool quiet)
{
	struct gwstore *st = NULL;
	char err[600];
	int ret;

	*line = NULL;
	if (gwstore_open_conf(&st, m->conf, GWSTORE_LOCATION, err, sizeof(err)) < 0)
		return quiet ? MMC_EXIT_FAIL
			     : mmc_fail(MMC_EXIT_FAIL, "cannot open the store: %s", err);
	ret = relay(m, st, req, line, quiet);
	gwstore_close(st);
	return ret;
}
