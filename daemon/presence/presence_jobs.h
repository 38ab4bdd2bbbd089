/*
 * presence_jobs.h - the presence service's store work, run off worker 0 when
 * the store is remote (presence_jobs.c).
 */
#ifndef GW_PRESENCE_JOBS_H
#define GW_PRESENCE_JOBS_H

#include <stddef.h>

#include "mailbox.h"

struct presence;
struct gwstore;

struct pres_job {
	struct mailbox_item item; /* first: the mailbox hands the job back */
	struct pres_job *next;
	int rc; /* what run returned */
	/* With the store (the jobs' thread, or worker 0 for a local store): 0 or -errno. */
	int (*run)(struct pres_job *j, struct gwstore *st);
	/* On worker 0 afterwards, or NULL; not called once the service stopped. */
	void (*done)(struct pres_job *j, struct presence *ps);
	/* Always, last. */
	void (*free)(struct pres_job *j);
};

int pres_jobs_start(struct presence *ps, char *err, size_t errlen);
/* Runs what is queued, then stops the thread. */
void pres_jobs_stop(struct presence *ps);
/* Queue j (a remote store; 0), or run it now (a local store; run's result). */
int pres_job_submit(struct presence *ps, struct pres_job *j);
size_t pres_jobs_queued(struct presence *ps);

#endif
