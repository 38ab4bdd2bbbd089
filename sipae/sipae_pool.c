/*
 * sipae_pool.c - a fixed set of threads for the calls that block on the DC
 * (sipae_ntlm_check), fed by a bounded queue: when it is full the caller is
 * told at once (-EAGAIN) and answers 503 rather than piling up work.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sipae_private.h"

struct sipae_job {
	void (*fn)(void *);
	void (*done)(void *);
	void *arg;
};

struct sipae_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sipae_job *q; /* ring of maxq jobs */
	int maxq, head, count;
	bool stopping;
	pthread_t *threads;
	int nthreads; /* started */
};

static void *
sipae_pool_worker(void *data)
{
	struct sipae_pool *p = data;
	struct sipae_job job;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->count == 0 && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->count == 0)
			break; /* stopping, and nothing left to do */
		job = p->q[p->head];
		p->head = (p->head + 1) % p->maxq;
		p->count--;
		pthread_mutex_unlock(&p->mu);
		job.fn(job.arg);
		if (job.done != NULL)
			job.done(job.arg);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
sipae_pool_start(struct sipae_pool **out, int nthreads, int maxq)
{
	struct sipae_pool *p = NULL;
	int ret = -EINVAL;

	*out = NULL;
	if (nthreads < 1 || nthreads > 256 || maxq < 1 || maxq > 1000000)
		goto done;
	ret = -ENOMEM;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		goto done;
	p->q = calloc((size_t)maxq, sizeof(*p->q));
	p->threads = calloc((size_t)nthreads, sizeof(*p->threads));
	p->maxq = maxq;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (p->q == NULL || p->threads == NULL)
		goto done;
	for (; p->nthreads < nthreads; p->nthreads++) {
		ret = -pthread_create(&p->threads[p->nthreads], NULL, sipae_pool_worker, p);
		if (ret < 0)
			goto done;
	}
	*out = p;
	p = NULL;
	ret = 0;
done:
	sipae_pool_stop(p);
	return ret;
}

int
sipae_pool_run(struct sipae_pool *p, void (*fn)(void *), void (*done)(void *), void *arg)
{
	int ret = 0;

	if (fn == NULL)
		return -EINVAL;
	pthread_mutex_lock(&p->mu);
	if (p->stopping) {
		ret = -ESHUTDOWN;
	} else if (p->count == p->maxq) {
		ret = -EAGAIN;
	} else {
		p->q[(p->head + p->count) % p->maxq] = (struct sipae_job){fn, done, arg};
		p->count++;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return ret;
}

void
sipae_pool_stop(struct sipae_pool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p->q);
	free(p);
}
