/*
 * presence_jobs.c - the presence service's store work, off worker 0.
 *
 * Worker 0 owns every TCP and TLS connection, so it must never wait on the
 * network.  With a remote store (PostgreSQL) every read and write of the
 * presence service is a job: worker 0 queues it and goes on; a thread of
 * the service's own, with its own store handle, runs the jobs one at a time
 * in the order they were queued (a read sees every write queued before it),
 * and hands each back to worker 0 through its mailbox when it has a result
 * to act on (an answer to send, a document to notify).  With SQLite (a local
 * file) a job runs at once on worker 0, as before: nothing to wait for.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "gwd.h"
#include "gwstore.h"
#include "log.h"
#include "mailbox.h"
#include "presence_int.h"
#include "presence_jobs.h"

struct pres_jobs {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pres_job *head, **tail;
	bool stop;
	struct gwstore *st;
	struct mailbox *mbox; /* worker 0's */
	size_t queued;
};

/* On worker 0: the job's result. */
static void
job_back(struct mailbox_item *item)
{
	struct pres_job *j = (struct pres_job *)item;
	struct presence *ps = presence_get();

	if (ps && j->done)
		j->done(j, ps);
	j->free(j);
}

static void *
jobs_main(void *arg)
{
	struct pres_jobs *q = arg;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->head == NULL && !q->stop)
			pthread_cond_wait(&q->cv, &q->mu);
		struct pres_job *j = q->head;
		if (j == NULL)
			break; /* stopping, and everything queued ran */
		q->head = j->next;
		if (q->head == NULL)
			q->tail = &q->head;
		q->queued--;
		pthread_mutex_unlock(&q->mu);
		j->rc = j->run(j, q->st);
		if (j->rc < 0)
			log_warnx("event=store-failed service=presence reason=\"%s\"",
				  gwstore_error(q->st));
		j->item.fn = job_back;
		mailbox_post(q->mbox, &j->item);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int
pres_jobs_start(struct presence *ps, char *err, size_t errlen)
{
	struct pres_jobs *q;

	ps->jobs = NULL;
	if (gwstore_is_local(ps->st))
		return 0;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	if (gwstore_open_conf(&q->st, ps->w->w_gwd->conf, GWSTORE_STATE, err, errlen) < 0) {
		free(q);
		return -EIO;
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->tail = &q->head;
	q->mbox = ps->w->w_mbox;
	if (pthread_create(&q->thread, NULL, jobs_main, q) != 0) {
		gwstore_close(q->st);
		free(q);
		return -EAGAIN;
	}
	ps->jobs = q;
	return 0;
}

void
pres_jobs_stop(struct presence *ps)
{
	struct pres_jobs *q = ps->jobs;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL); /* what was queued is written first */
	gwstore_close(q->st);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
	ps->jobs = NULL;
}

int
pres_job_submit(struct presence *ps, struct pres_job *j)
{
	struct pres_jobs *q = ps->jobs;

	if (q == NULL) {
		/* a local store: at once, on worker 0 */
		j->rc = j->run(j, ps->st);
		int rc = j->rc;
		if (j->done)
			j->done(j, ps);
		j->free(j);
		return rc;
	}
	j->next = NULL;
	mailbox_expect(ps->w->w_mbox);
	pthread_mutex_lock(&q->mu);
	*q->tail = j;
	q->tail = &j->next;
	q->queued++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

size_t
pres_jobs_queued(struct presence *ps)
{
	size_t n = 0;

	if (ps->jobs) {
		pthread_mutex_lock(&ps->jobs->mu);
		n = ps->jobs->queued;
		pthread_mutex_unlock(&ps->jobs->mu);
	}
	return n;
}
