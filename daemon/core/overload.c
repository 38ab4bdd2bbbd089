/*
 * overload.c - when to answer 503, decided per worker.
 *
 * The shed level goes from 0 (accept everything) to LEVEL_ALL (refuse every
 * new request).  Each interval that shows this worker overloaded raises it by
 * two; each calm one lowers it by one.  Every sign is the worker's own:
 *
 *  - its registrations waiting for the disk beyond its share of
 *    LOC_QUEUE_HIGH count at once;
 *  - the retransmissions it received (nta's, and the REGISTERs its registrar
 *    saw again), when its thread was busy, running or waiting for a core
 *    (overload_signs.c: a worker that was neither is not what makes its
 *    clients repeat, and refusing its requests would not help);
 *  - its own timer running late (the thread was not running: the machine
 *    descheduled it, or one callback took that long): the retransmissions
 *    that follow are the clients' answer to that pause, one wave (T1 =
 *    500 ms) the worker absorbs without help, so for GRACE_MS after a late
 *    tick they count only when they go on for WAVE_TICKS intervals in a row.
 *
 * A worker never counts another worker's retransmissions: with two workers at
 * a normal rate, one's repeats made the other, idle, shed.
 *
 * Separately, while the location writer stalls (STALL_MS), every worker
 * refuses a REGISTER that carries no credentials: what it would start now
 * would only wait behind the stall.  That is the request's own resource, not
 * the worker's load, so it needs no sign from other workers (per-worker
 * counting once failed t-overload for lack of it: a second wave of new
 * registrations came to a worker that had seen no retransmission yet).
 *
 * Below LEVEL_ALL only requests that carry no credentials are refused: a
 * REGISTER that already answered a challenge is cheaper to finish than to
 * send round again.  Requests inside a dialog, ACK and CANCEL are never
 * refused.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/su_tag.h>

#include "gwd.h"
#include "loc.h"
#include "log.h"
#include "overload.h"
#include "overload_signs.h"
#include "sip.h"

#define INTERVAL_MS 100
#define LEVEL_ALL 8
/* Registrations waiting for the disk, over every worker (each has its share). */
#define LOC_QUEUE_HIGH 4000
/* The location writer has not moved on for this long (T1): the disk stalls. */
#define STALL_MS 500
/* A tick this much later than due: the worker was not running meanwhile. */
#define LATE_MS 100
/* After a late tick, for this long, retransmissions count only after
 * WAVE_TICKS overloaded intervals in a row. */
#define GRACE_MS 1000
#define WAVE_TICKS 3

struct overload {
	struct worker *w;
	su_timer_t *timer;
	usize_t requests;
	usize_t retries;
	unsigned long reg_seen;    /* REGISTERs its registrar saw again */
	unsigned long reg_retries; /* reg_seen at the last tick */
	atomic_long reg_waiting;   /* its REGISTERs waiting for the disk (the
				    * writer thread counts them out) */
	unsigned level;
	bool stalled;  /* the location writer stalls: new REGISTERs refused */
	bool shedding; /* level > 0 or stalled: logged when it starts and ends */
	unsigned turn;
	unsigned long shed;
	su_time_t last;     /* when the timer last ran */
	unsigned grace;     /* intervals left after a late tick */
	unsigned streak;    /* intervals in a row with too many retransmissions */
	unsigned long late; /* late ticks (the log of the next overload tells) */
	/* the last interval, for the log line that says why shedding began */
	usize_t dreq, dretry;
	size_t queued;
	long stall_ms;
	long busy_pct; /* running or waiting to run, share of the interval */
	long wait_pct; /* of which waiting for a core (-1: not known) */
	int sched_fd;  /* /proc/thread-self/schedstat, or -1 */
	long long run_ns, wait_ns;
	struct timespec cpu; /* without schedstat */
};

/* busy_pct and wait_pct of the interval that lasted wall ms */
static void
busy_measure(struct overload *o, su_duration_t wall)
{
	long long run, wait;

	if (overload_sched_times(o->sched_fd, &run, &wait)) {
		long long used = (run - o->run_ns) + (wait - o->wait_ns);
		o->busy_pct = wall > 0 ? (long)(used / 10000 / wall) : 0;
		o->wait_pct = wall > 0 ? (long)((wait - o->wait_ns) / 10000 / wall) : 0;
		o->run_ns = run;
		o->wait_ns = wait;
		return;
	}
	struct timespec cpu;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	long used_ms =
	    (long)(cpu.tv_sec - o->cpu.tv_sec) * 1000 + (cpu.tv_nsec - o->cpu.tv_nsec) / 1000000;
	o->cpu = cpu;
	o->busy_pct = wall > 0 ? used_ms * 100 / wall : 0;
	o->wait_pct = -1;
}

static bool
interval_overloaded(struct overload *o)
{
	usize_t req = 0, retry = 0;
	bool over;

	nta_agent_get_stats(o->w->w_agent, NTATAG_S_RECV_REQUEST_REF(req),
			    NTATAG_S_RECV_RETRY_REF(retry), TAG_END());
	usize_t dreq = req - o->requests;
	usize_t dretry = retry - o->retries + (o->reg_seen - o->reg_retries);
	if (overload_retries_over(dreq, dretry, o->busy_pct, o->wait_pct))
		o->streak++;
	else
		o->streak = 0;
	over = o->streak > 0 && (o->grace == 0 || o->streak >= WAVE_TICKS);
	o->dreq = dreq;
	o->dretry = dretry;
	long waiting = atomic_load_explicit(&o->reg_waiting, memory_order_relaxed);
	o->queued = waiting > 0 ? (size_t)waiting : 0;
	o->stall_ms = loc_stall_ms(o->w->w_gwd->loc);
	o->stalled = o->stall_ms >= STALL_MS;
	int nw = o->w->w_gwd->nworkers_planned;
	size_t nworkers = nw > 0 ? (size_t)nw : 1;
	/* a stall alone refuses only new REGISTERs (overload_shed): a MESSAGE or a
	 * SERVICE does not wait for the location writer */
	if (o->queued > LOC_QUEUE_HIGH / nworkers)
		over = true;
	o->requests = req;
	o->retries = retry;
	o->reg_retries = o->reg_seen;
	return over;
}

static void
overload_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct overload *o = (struct overload *)arg;

	(void)magic;
	(void)t;
	su_time_t now = su_now();
	su_duration_t wall = su_duration(now, o->last);
	busy_measure(o, wall);
	if (wall > INTERVAL_MS + LATE_MS) {
		o->grace = GRACE_MS / INTERVAL_MS;
		o->late++;
	} else if (o->grace > 0) {
		o->grace--;
	}
	o->last = now;
	if (interval_overloaded(o))
		o->level = o->level + 2 > LEVEL_ALL ? LEVEL_ALL : o->level + 2;
	else if (o->level > 0)
		o->level--;
	bool shedding = o->level > 0 || o->stalled;
	char waiting[24] = "unknown";
	if (o->wait_pct >= 0)
		snprintf(waiting, sizeof(waiting), "%ld%%", o->wait_pct);
	if (!o->shedding && shedding)
		/* scope=register: only new REGISTERs, behind the stalled disk */
		log_warnx("event=overload worker=%d action=shedding scope=%s requests=%zu "
			  "retransmissions=%zu queued=%zu busy=%ld%% waiting=%s late-ticks=%lu "
			  "store-stall=%ldms",
			  o->w->w_id, o->level > 0 ? "all" : "register", (size_t)o->dreq,
			  (size_t)o->dretry, o->queued, o->busy_pct, waiting, o->late, o->stall_ms);
	else if (o->shedding && !shedding) {
		log_notice("event=overload-end worker=%d refused=%lu", o->w->w_id, o->shed);
		o->shed = 0;
	}
	o->shedding = shedding;
}

int
overload_alloc(struct overload **out, struct worker *w)
{
	struct overload *o = calloc(1, sizeof(*o));

	*out = NULL;
	if (o == NULL)
		return -ENOMEM;
	o->w = w;
	o->timer = su_timer_create(su_root_task(w->w_root), INTERVAL_MS);
	if (o->timer == NULL) {
		free(o);
		return -ENOMEM;
	}
	/* called on the worker's own thread */
	o->sched_fd = overload_sched_open();
	interval_overloaded(o);
	o->streak = 0;
	o->stalled = false;
	o->last = su_now();
	busy_measure(o, 0);
	su_timer_set_for_ever(o->timer, overload_cb, (su_timer_arg_t *)o);
	*out = o;
	return 0;
}

void
overload_free(struct overload *o)
{
	if (o == NULL)
		return;
	su_timer_destroy(o->timer);
	if (o->sched_fd >= 0)
		close(o->sched_fd);
	free(o);
}

static bool
sheddable(const sip_t *sip, unsigned level)
{
	sip_method_t m = sip->sip_request->rq_method;

	bool creds = sip->sip_authorization || sip->sip_proxy_authorization;

	if (m == sip_method_ack || m == sip_method_cancel || sip->sip_to->a_tag)
		return false;
	/* a REGISTER with credentials may be the retransmission of one already queued
	 * for the disk: refusing it would contradict the 200 the original will get */
	if (m == sip_method_register && creds)
		return false;
	return level >= LEVEL_ALL || !creds;
}

enum gw_verdict
overload_shed(struct worker *w, msg_t *msg, sip_t *sip)
{
	struct overload *o = w->w_load;

	if (o == NULL)
		return GW_PASS;
	/* a new registration would only wait behind the stalled disk (asked again
	 * now: the writer may have moved on since the last tick) */
	if (o->stalled && sip->sip_request->rq_method == sip_method_register &&
	    !sip->sip_authorization && !sip->sip_to->a_tag &&
	    loc_stall_ms(w->w_gwd->loc) >= STALL_MS) {
		overload_refuse(w, msg);
		return GW_TAKEN;
	}
	if (o->level == 0 || !sheddable(sip, o->level))
		return GW_PASS;
	if (o->level < LEVEL_ALL && o->turn++ % LEVEL_ALL >= o->level)
		return GW_PASS;
	overload_refuse(w, msg);
	return GW_TAKEN;
}

void
overload_refuse(struct worker *w, msg_t *msg)
{
	struct overload *o = w->w_load;

	if (o)
		o->shed++;
	atomic_fetch_add(&w->w_gwd->stats.rejected, 1);
	nta_msg_treply(w->w_agent, msg, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("1"),
		       TAG_END());
}

void
overload_register_repeated(struct worker *w)
{
	if (w->w_load)
		w->w_load->reg_seen++;
}

void
overload_register_waiting(struct worker *w, int delta)
{
	struct overload *o = w->w_load;

	if (o != NULL)
		atomic_fetch_add_explicit(&o->reg_waiting, delta, memory_order_relaxed);
}

size_t
overload_bound(struct worker *w, size_t bound)
{
	struct overload *o = w->w_load;

	return o && o->level > 0 ? bound / 4 : bound;
}
