/*
 * ad_ctx.h - the libgwad context (ad_ctx.c: setup; ad_async.c: workers and completions).
 */
#ifndef AD_CTX_H
#define AD_CTX_H

#include "ad_private.h"

/* A lookup or listing handed to a worker. */
struct ad_job {
	struct ad_job *next;
	bool list;             /* a listing, else a lookup */
	struct ad_query query; /* value points into the job's own copy */
	char *key;             /* cache key of a lookup */
	ad_lookup_fn *cb;      /* asynchronous completion, or NULL for a blocking call */
	void *arg;
	bool done; /* blocking call: the worker has finished */
	int status;
	struct ad_user *user;
	struct ad_user **users;
	size_t count;
	char reason[AD_REASON_LEN];
};

struct ad_ctx {
	struct ad_config cfg; /* strings below are the context's own copies */
	char *strs[8];
	char **servers;
	struct ad_krb5 *krb;
	struct ad_dcs *dcs;
	struct ad_cache *cache;
	struct ad_store *store;   /* the cache on disk, or NULL */
	pthread_mutex_t lock;     /* the queues, the stats, group_sid, offline */
	pthread_cond_t work_cond; /* a job was queued, or stopping */
	pthread_cond_t done_cond; /* a blocking job finished */
	struct ad_job *todo, **todo_tail;
	struct ad_job *done, **done_tail;
	bool stopping;
	pthread_t *threads;
	int nthreads;
	int efd;
	char group_sid[200];
	uint64_t hits, misses, fail_fast, stale, offline_count;
	bool offline; /* the last DC contact failed */
	int loaded;   /* answers loaded from the cache file */
};

/* Starts the workers. */
int ad_workers_start(struct ad_ctx *ctx, char *reason);

/* Stops them and frees the queued jobs. */
void ad_workers_stop(struct ad_ctx *ctx);

/* Queues a job for the workers. */
void ad_job_queue(struct ad_ctx *ctx, struct ad_job *job);

void ad_job_free(struct ad_job *job);

#endif /* AD_CTX_H */
