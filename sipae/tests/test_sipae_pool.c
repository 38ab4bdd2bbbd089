/*
 * test_sipae_pool.c - the thread pool: every job runs once with its completion
 * on a pool thread, work happens in parallel, a full queue says -EAGAIN, and
 * stop finishes what was queued.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "gwsipae.h"

struct counter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int ran, done, running, max_running;
	int gate; /* jobs wait while 0 */
	pthread_t main_thread;
	int done_on_main;
};

static void
job(void *arg)
{
	struct counter *c = arg;

	pthread_mutex_lock(&c->mu);
	c->running++;
	if (c->running > c->max_running)
		c->max_running = c->running;
	pthread_cond_broadcast(&c->cv);
	while (!c->gate)
		pthread_cond_wait(&c->cv, &c->mu);
	c->running--;
	c->ran++;
	pthread_mutex_unlock(&c->mu);
}

static void
job_done(void *arg)
{
	struct counter *c = arg;

	pthread_mutex_lock(&c->mu);
	c->done++;
	if (pthread_equal(pthread_self(), c->main_thread))
		c->done_on_main++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void
counter_init(struct counter *c, int gate)
{
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->ran = c->done = c->running = c->max_running = c->done_on_main = 0;
	c->gate = gate;
	c->main_thread = pthread_self();
}

static void
open_gate(struct counter *c)
{
	pthread_mutex_lock(&c->mu);
	c->gate = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void
test_runs_all(void **state)
{
	struct sipae_pool *p;
	struct counter c;
	int i;

	(void)state;
	counter_init(&c, 1);
	assert_int_equal(sipae_pool_start(&p, 4, 1000), 0);
	for (i = 0; i < 500; i++)
		assert_int_equal(sipae_pool_run(p, job, job_done, &c), 0);
	sipae_pool_stop(p); /* finishes the queue first */
	assert_int_equal(c.ran, 500);
	assert_int_equal(c.done, 500);
	assert_int_equal(c.done_on_main, 0);
}

static void
test_parallel_and_full(void **state)
{
	struct sipae_pool *p;
	struct counter c;
	int i;

	(void)state;
	counter_init(&c, 0);
	assert_int_equal(sipae_pool_start(&p, 3, 2), 0);
	/* one job per worker, each taken before the next is queued: all run at once */
	for (i = 0; i < 3; i++) {
		assert_int_equal(sipae_pool_run(p, job, job_done, &c), 0);
		pthread_mutex_lock(&c.mu);
		while (c.running < i + 1)
			pthread_cond_wait(&c.cv, &c.mu);
		pthread_mutex_unlock(&c.mu);
	}
	assert_int_equal(c.max_running, 3);
	assert_int_equal(sipae_pool_run(p, job, job_done, &c), 0);
	assert_int_equal(sipae_pool_run(p, job, NULL, &c), 0);
	assert_int_equal(sipae_pool_run(p, job, job_done, &c), -EAGAIN);
	open_gate(&c);
	sipae_pool_stop(p);
	assert_int_equal(c.ran, 5);
	assert_int_equal(c.done, 4);
}

static void
test_bad_args(void **state)
{
	struct sipae_pool *p = (struct sipae_pool *)&p;

	(void)state;
	assert_int_equal(sipae_pool_start(&p, 0, 10), -EINVAL);
	assert_null(p);
	assert_int_equal(sipae_pool_start(&p, 2, 0), -EINVAL);
	assert_int_equal(sipae_pool_start(&p, 1, 1), 0);
	assert_int_equal(sipae_pool_run(p, NULL, NULL, NULL), -EINVAL);
	sipae_pool_stop(p);
	sipae_pool_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runs_all),
	    cmocka_unit_test(test_parallel_and_full),
	    cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
