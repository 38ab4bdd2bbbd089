/*
 * pg_pool.c - the PostgreSQL backend's bounded connection pool.
 *
 * One pool per connection string in the process, shared by every handle
 * opened on it (a greenwichd has one per SIP worker, one for presence and one
 * for the location writer).  A handle borrows a connection for one statement,
 * or from BEGIN to COMMIT, so the handles need not have a connection each;
 * at most `size` are open, and a thread that needs one while all are lent
 * waits for the next to come back.  A connection that broke is closed when
 * it comes back; the next one is opened anew, which with several hosts and
 * target_session_attrs=read-write finds the current primary.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define POOL_MAX 64

struct pg_pool {
	struct pg_pool *next;
	char *conninfo;
	int size;
	int refs;
	int open; /* connections open, idle or lent */
	struct pg_conn *idle[POOL_MAX];
	int nidle;
	bool migrated[2]; /* per part: the schema was brought up to date */
	pthread_cond_t cv;
};

static pthread_mutex_t pools_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pg_pool *pools;

struct pg_pool *
pg_pool_get(const char *conninfo, int size)
{
	struct pg_pool *p;

	if (size < 1)
		size = 1;
	if (size > POOL_MAX)
		size = POOL_MAX;
	pthread_mutex_lock(&pools_mu);
	for (p = pools; p; p = p->next)
		if (strcmp(p->conninfo, conninfo) == 0)
			break;
	if (p == NULL && (p = calloc(1, sizeof(*p))) != NULL) {
		p->conninfo = strdup(conninfo);
		if (p->conninfo == NULL) {
			free(p);
			p = NULL;
		} else {
			p->size = size;
			pthread_cond_init(&p->cv, NULL);
			p->next = pools;
			pools = p;
		}
	}
	if (p != NULL)
		p->refs++;
	pthread_mutex_unlock(&pools_mu);
	return p;
}

void
pg_pool_release(struct pg_pool *pool)
{
	struct pg_pool **pp;

	if (pool == NULL)
		return;
	pthread_mutex_lock(&pools_mu);
	if (--pool->refs > 0) {
		pthread_mutex_unlock(&pools_mu);
		return;
	}
	for (pp = &pools; *pp; pp = &(*pp)->next)
		if (*pp == pool) {
			*pp = pool->next;
			break;
		}
	pthread_mutex_unlock(&pools_mu);
	for (int i = 0; i < pool->nidle; i++) {
		PQfinish(pool->idle[i]->c);
		free(pool->idle[i]);
	}
	pthread_cond_destroy(&pool->cv);
	free(pool->conninfo);
	free(pool);
}

bool
pg_pool_migrated(struct pg_pool *pool, enum gwstore_part part, bool set)
{
	bool was;

	pthread_mutex_lock(&pools_mu);
	was = pool->migrated[part];
	if (set)
		pool->migrated[part] = true;
	pthread_mutex_unlock(&pools_mu);
	return was;
}

static void
msg_copy(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg && *msg ? msg : "PostgreSQL: unknown error");
	err[strcspn(err, "\n")] = '\0';
}

/* The server's notices ("relation ... already exists, skipping" from the
 * migrations) are not errors; libpq would print them on stderr. */
static void
notice_drop(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* A new connection; NULL with err set. */
static struct pg_conn *
conn_open(const char *conninfo, char *err, size_t errlen)
{
	struct pg_conn *pc;
	/* the connection string's own settings come after, so they win */
	static const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname",
					   NULL};
	const char *vals[] = {"5", "greenwich", conninfo, NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		msg_copy(err, errlen, c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return NULL;
	}
	pc = calloc(1, sizeof(*pc));
	if (pc == NULL) {
		msg_copy(err, errlen, "out of memory");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, notice_drop, NULL);
	pc->c = c;
	return pc;
}

struct pg_conn *
pg_conn_take(struct pg_pool *pool, char *err, size_t errlen)
{
	struct pg_conn *c = NULL;

	pthread_mutex_lock(&pools_mu);
	while (pool->nidle == 0 && pool->open >= pool->size)
		pthread_cond_wait(&pool->cv, &pools_mu);
	if (pool->nidle > 0) {
		c = pool->idle[--pool->nidle];
		pthread_mutex_unlock(&pools_mu);
		return c;
	}
	pool->open++;
	pthread_mutex_unlock(&pools_mu);
	c = conn_open(pool->conninfo, err, errlen);
	if (c == NULL) {
		pthread_mutex_lock(&pools_mu);
		pool->open--;
		pthread_cond_signal(&pool->cv);
		pthread_mutex_unlock(&pools_mu);
	}
	return c;
}

void
pg_conn_give(struct pg_pool *pool, struct pg_conn *conn)
{
	bool broken =
	    PQstatus(conn->c) != CONNECTION_OK || PQtransactionStatus(conn->c) != PQTRANS_IDLE;

	if (broken) {
		PQfinish(conn->c);
		free(conn);
	}
	pthread_mutex_lock(&pools_mu);
	if (broken)
		pool->open--;
	else
		pool->idle[pool->nidle++] = conn;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pools_mu);
}
