/*
 * ad_async.c - the worker threads (each with its own LDAP connection), completions
 * through an eventfd drained by ad_dispatch(), and the lookups built on them.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ad_ctx.h"

void
ad_job_free(struct ad_job *job)
{
	if (job == NULL)
		return;
	free((char *)job->query.value);
	free(job->key);
	ad_user_free(job->user);
	ad_user_list_free(job->users, job->count);
	free(job);
}

static struct ad_job *
job_alloc(const struct ad_query *query, char *key)
{
	struct ad_job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		return NULL;
	job->key = key;
	if (query == NULL) {
		job->list = true;
		return job;
	}
	job->query.type = query->type;
	job->query.value = strdup(query->value);
	if (job->query.value == NULL) {
		job->key = NULL;
		ad_job_free(job);
		job = NULL;
	}
	return job;
}

/*
 * The last known answer for @key, used while no DC answers: 1 (*statusp, *userp set) or
 * 0 when there is none young enough. Counted as a stale answer.
 */
static int
stale_answer(struct ad_ctx *ctx, const char *key, int *statusp, struct ad_user **userp)
{
	int64_t max_age = (int64_t)ctx->cfg.cache_offline_max_age * 1000;
	struct ad_user *u = NULL;
	int hit = ad_cache_get_stale(ctx->cache, key, ad_now_ms(), max_age, &u);

	if (hit <= 0)
		return 0;
	/* the account may have expired since the DC said so */
	if (u != NULL && u->account_expires != 0 && u->account_expires <= time(NULL))
		u->flags |= AD_USER_EXPIRED;
	*statusp = u != NULL ? 0 : -AD_ERR_NOT_FOUND;
	*userp = u;
	pthread_mutex_lock(&ctx->lock);
	ctx->stale++;
	pthread_mutex_unlock(&ctx->lock);
	return 1;
}

/* Whether the DCs answer: counts each change to offline. */
static void
offline_set(struct ad_ctx *ctx, bool offline)
{
	pthread_mutex_lock(&ctx->lock);
	if (offline && !ctx->offline)
		ctx->offline_count++;
	ctx->offline = offline;
	pthread_mutex_unlock(&ctx->lock);
}

static void
job_run(struct ad_ctx *ctx, struct ad_conn *conn, struct ad_job *job)
{
	if (job->list) {
		job->status = ad_conn_list(conn, &job->users, &job->count, job->reason);
		return;
	}
	job->status = ad_conn_lookup(conn, &job->query, &job->user, job->reason);
	offline_set(ctx, job->status == -AD_ERR_UNAVAILABLE);
	if (job->status == 0 || job->status == -AD_ERR_NOT_FOUND) {
		ad_cache_put_user(ctx->cache, job->key, job->user, ad_now_ms());
		if (ctx->store != NULL)
			ad_store_put(ctx->store, job->key, job->user);
	} else if (job->status == -AD_ERR_UNAVAILABLE &&
		   stale_answer(ctx, job->key, &job->status, &job->user) && job->status != 0) {
		ad_reason_set(job->reason, "%s: %s (last known answer, no DC answers)",
			      job->query.value, ad_strerror(job->status));
	}
}

/* Called with the lock held. */
static void
job_finish(struct ad_ctx *ctx, struct ad_job *job)
{
	uint64_t one = 1;

	if (job->cb == NULL) {
		job->done = true;
		pthread_cond_broadcast(&ctx->done_cond);
		return;
	}
	*ctx->done_tail = job;
	ctx->done_tail = &job->next;
	if (write(ctx->efd, &one, sizeof(one)) < 0) {
		/* The counter is saturated: the descriptor is readable anyway. */
	}
}

static void *
worker_main(void *arg)
{
	struct ad_ctx *ctx = arg;
	struct ad_conn *conn = ad_conn_alloc(ctx);
	struct ad_job *job;

	pthread_mutex_lock(&ctx->lock);
	while (!ctx->stopping) {
		if (ctx->todo == NULL) {
			pthread_cond_wait(&ctx->work_cond, &ctx->lock);
			continue;
		}
		job = ctx->todo;
		ctx->todo = job->next;
		if (ctx->todo == NULL)
			ctx->todo_tail = &ctx->todo;
		job->next = NULL;
		pthread_mutex_unlock(&ctx->lock);
		if (conn != NULL) {
			job_run(ctx, conn, job);
		} else {
			job->status = -ENOMEM;
			ad_reason_set(job->reason, "%s", strerror(ENOMEM));
		}
		pthread_mutex_lock(&ctx->lock);
		job_finish(ctx, job);
	}
	pthread_mutex_unlock(&ctx->lock);
	ad_conn_free(conn);
	return NULL;
}

int
ad_workers_start(struct ad_ctx *ctx, char *reason)
{
	int i, err;

	ctx->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctx->efd < 0) {
		err = errno;
		ad_reason_set(reason, "eventfd: %s", strerror(err));
		return -err;
	}
	ctx->threads = calloc((size_t)ctx->cfg.workers, sizeof(*ctx->threads));
	if (ctx->threads == NULL)
		return -ENOMEM;
	for (i = 0; i < ctx->cfg.workers; i++) {
		err = pthread_create(&ctx->threads[i], NULL, worker_main, ctx);
		if (err != 0) {
			ad_reason_set(reason, "pthread_create: %s", strerror(err));
			return -err;
		}
		ctx->nthreads++;
	}
	return 0;
}

static void
job_list_free(struct ad_job *job)
{
	struct ad_job *next;

	for (; job != NULL; job = next) {
		next = job->next;
		ad_job_free(job);
	}
}

void
ad_workers_stop(struct ad_ctx *ctx)
{
	int i;

	pthread_mutex_lock(&ctx->lock);
	ctx->stopping = true;
	pthread_cond_broadcast(&ctx->work_cond);
	pthread_mutex_unlock(&ctx->lock);
	for (i = 0; i < ctx->nthreads; i++)
		pthread_join(ctx->threads[i], NULL);
	free(ctx->threads);
	ctx->threads = NULL;
	ctx->nthreads = 0;
	job_list_free(ctx->todo);
	job_list_free(ctx->done);
	ctx->todo = ctx->done = NULL;
}

void
ad_job_queue(struct ad_ctx *ctx, struct ad_job *job)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->misses++;
	*ctx->todo_tail = job;
	ctx->todo_tail = &job->next;
	pthread_cond_signal(&ctx->work_cond);
	pthread_mutex_unlock(&ctx->lock);
}

int
ad_fd(const struct ad_ctx *ctx)
{
	return ctx->efd;
}

int
ad_dispatch(struct ad_ctx *ctx)
{
	struct ad_job *job, *next;
	uint64_t n;
	int count = 0;

	if (read(ctx->efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing signalled; the queue is checked anyway. */
	}
	pthread_mutex_lock(&ctx->lock);
	job = ctx->done;
	ctx->done = NULL;
	ctx->done_tail = &ctx->done;
	pthread_mutex_unlock(&ctx->lock);
	for (; job != NULL; job = next) {
		next = job->next;
		job->cb(job->status, job->user, job->status ? job->reason : "", job->arg);
		job->user = NULL;
		ad_job_free(job);
		count++;
	}
	return count;
}

/*
 * Answers from the cache, or while the DCs are down from the last known answer or else
 * fails fast. 1 when answered
 * (*statusp, *userp, reason set), 0 when a worker must do the lookup.
 */
static int
lookup_quick(struct ad_ctx *ctx, const struct ad_query *query, const char *key, int *statusp,
	     struct ad_user **userp, char *reason)
{
	int hit = ad_cache_get(ctx->cache, key, ad_now_ms(), userp);

	if (hit != 0) {
		*statusp = hit < 0 ? hit : *userp != NULL ? 0 : -AD_ERR_NOT_FOUND;
		if (*statusp != 0)
			ad_reason_set(reason, "%s: %s (cached)", query->value,
				      ad_strerror(*statusp));
		pthread_mutex_lock(&ctx->lock);
		ctx->hits++;
		pthread_mutex_unlock(&ctx->lock);
		return 1;
	}
	if (!ad_dcs_down(ctx->dcs))
		return 0;
	if (stale_answer(ctx, key, statusp, userp)) {
		if (*statusp != 0)
			ad_reason_set(reason, "%s: %s (last known answer, no DC answers)",
				      query->value, ad_strerror(*statusp));
		return 1;
	}
	*statusp = -AD_ERR_UNAVAILABLE;
	ad_reason_set(reason, "no domain controller answered recently");
	pthread_mutex_lock(&ctx->lock);
	ctx->fail_fast++;
	pthread_mutex_unlock(&ctx->lock);
	return 1;
}

static int
query_check(const struct ad_query *query)
{
	if (query == NULL || query->value == NULL || query->value[0] == '\0' ||
	    (query->type != AD_QUERY_SIP_URI && query->type != AD_QUERY_SAM &&
	     query->type != AD_QUERY_UPN && query->type != AD_QUERY_ANY))
		return -EINVAL;
	return 0;
}

int
ad_lookup_send(struct ad_ctx *ctx, const struct ad_query *query, ad_lookup_fn *cb, void *arg)
{
	char reason[AD_REASON_LEN] = "", *key;
	struct ad_user *user = NULL;
	struct ad_job *job;
	int status;

	if (cb == NULL || query_check(query) < 0)
		return -EINVAL;
	key = ad_cache_key(query);
	if (key == NULL)
		return -ENOMEM;
	if (lookup_quick(ctx, query, key, &status, &user, reason)) {
		free(key);
		cb(status, user, status ? reason : "", arg);
		return AD_LOOKUP_DONE;
	}
	job = job_alloc(query, key);
	if (job == NULL) {
		free(key);
		return -ENOMEM;
	}
	job->cb = cb;
	job->arg = arg;
	ad_job_queue(ctx, job);
	return 0;
}

/* Queues a blocking job and waits for it. */
static void
job_wait(struct ad_ctx *ctx, struct ad_job *job)
{
	ad_job_queue(ctx, job);
	pthread_mutex_lock(&ctx->lock);
	while (!job->done)
		pthread_cond_wait(&ctx->done_cond, &ctx->lock);
	pthread_mutex_unlock(&ctx->lock);
}

int
ad_user_lookup(struct ad_ctx *ctx, const struct ad_query *query, struct ad_user **userp,
	       char *reason)
{
	struct ad_job *job;
	char *key;
	int status;

	*userp = NULL;
	if (query_check(query) < 0)
		return -EINVAL;
	key = ad_cache_key(query);
	if (key == NULL)
		return -ENOMEM;
	if (lookup_quick(ctx, query, key, &status, userp, reason)) {
		free(key);
		return status;
	}
	job = job_alloc(query, key);
	if (job == NULL) {
		free(key);
		return -ENOMEM;
	}
	job_wait(ctx, job);
	status = job->status;
	ad_reason_set(reason, "%s", status ? job->reason : "");
	*userp = job->user;
	job->user = NULL;
	ad_job_free(job);
	return status;
}

int
ad_user_list(struct ad_ctx *ctx, struct ad_user ***usersp, size_t *countp, char *reason)
{
	struct ad_job *job = job_alloc(NULL, NULL);
	int status;

	if (job == NULL)
		return -ENOMEM;
	job_wait(ctx, job);
	status = job->status;
	ad_reason_set(reason, "%s", status ? job->reason : "");
	*usersp = job->users;
	*countp = job->count;
	job->users = NULL;
	job->count = 0;
	ad_job_free(job);
	return status;
}
