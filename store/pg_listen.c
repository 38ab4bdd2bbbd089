/*
 * pg_listen.c - notifications between the processes of a pool (PostgreSQL
 * LISTEN/NOTIFY), read on a connection of their own.
 *
 * A listener is one libpq connection outside the pool (a LISTEN holds its
 * connection for as long as it listens), owned by one thread that waits on
 * its socket.  PostgreSQL delivers a notification once the transaction that
 * sent it commits, in commit order, to every connection listening on its
 * channel.  What is sent while a listener is not connected is lost: after
 * every (re)connection the listener reports a resynchronisation (channel
 * NULL), and its owner reads the state anew.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_backend.h"

#define LISTEN_MAX 8

struct gwstore_listener {
	char *conninfo;
	PGconn *c;
	char chans[LISTEN_MAX][64];
	size_t n;
	char err[256];
};

static void
notice_drop(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void
err_copy(struct gwstore_listener *l, const char *msg)
{
	snprintf(l->err, sizeof(l->err), "%s", msg && *msg ? msg : "PostgreSQL: unknown error");
	l->err[strcspn(l->err, "\n")] = '\0';
}

/* Connect and LISTEN on every channel: 0, or -EIO with l->err set. */
static int
listener_connect(struct gwstore_listener *l)
{
	static const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname",
					   NULL};
	const char *vals[] = {"5", "greenwich-listen", l->conninfo, NULL};
	char sql[128];

	PQfinish(l->c);
	l->c = PQconnectdbParams(keys, vals, 1);
	if (l->c == NULL || PQstatus(l->c) != CONNECTION_OK) {
		err_copy(l, l->c ? PQerrorMessage(l->c) : "out of memory");
		PQfinish(l->c);
		l->c = NULL;
		return -EIO;
	}
	PQsetNoticeProcessor(l->c, notice_drop, NULL);
	for (size_t i = 0; i < l->n; i++) {
		/* channel names are ours (identifiers, no quoting needed) */
		snprintf(sql, sizeof(sql), "LISTEN %s", l->chans[i]);
		PGresult *r = PQexec(l->c, sql);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			err_copy(l, PQresultErrorMessage(r));
		PQclear(r);
		if (!ok) {
			PQfinish(l->c);
			l->c = NULL;
			return -EIO;
		}
	}
	return 0;
}

int
gwstore_pg_listener_open(struct gwstore_listener **out, const char *conninfo,
			 const char *const *chans, size_t n, char *err, size_t errlen)
{
	struct gwstore_listener *l;

	*out = NULL;
	if (n > LISTEN_MAX)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (l == NULL || (l->conninfo = strdup(conninfo)) == NULL) {
		free(l);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		snprintf(l->chans[i], sizeof(l->chans[i]), "%s", chans[i]);
	l->n = n;
	if (listener_connect(l) < 0) {
		snprintf(err, errlen, "PostgreSQL: %s", l->err);
		gwstore_listener_close(l);
		return -EIO;
	}
	*out = l;
	return 0;
}

int
gwstore_listener_wait(struct gwstore_listener *l, int timeout_ms,
		      void (*cb)(const char *chan, const char *payload, void *), void *arg)
{
	struct pollfd pfd = {.events = POLLIN};
	PGnotify *nt;

	if (l->c == NULL || PQstatus(l->c) != CONNECTION_OK) {
		if (listener_connect(l) < 0) {
			poll(NULL, 0, timeout_ms); /* the next call tries again */
			return -EIO;
		}
		cb(NULL, NULL, arg); /* what was sent meanwhile is lost */
	}
	pfd.fd = PQsocket(l->c);
	if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
		return -EIO;
	if (!PQconsumeInput(l->c)) {
		err_copy(l, PQerrorMessage(l->c));
		PQfinish(l->c);
		l->c = NULL;
		return -EIO;
	}
	while ((nt = PQnotifies(l->c)) != NULL) {
		cb(nt->relname, nt->extra, arg);
		PQfreemem(nt);
	}
	return 0;
}

const char *
gwstore_listener_error(const struct gwstore_listener *l)
{
	return l->err;
}

void
gwstore_listener_close(struct gwstore_listener *l)
{
	if (l == NULL)
		return;
	PQfinish(l->c);
	free(l->conninfo);
	free(l);
}
