/*
 * tport_ledger.c - who takes and releases each reference to each transport
 * (a test build only: ./configure --enable-tport-ledger).
 *
 * Issue 18's abort needs one tport_unref() too many on a transport (tport_refs.c);
 * which release it was in the field is not known.  This ledger records every
 * reference taken and released on every transport object, with the code that
 * did it, so that a run can say, per transport, what each caller took minus
 * what it released, and flag the moment a count goes where it must not.
 *
 * In the installed Sofia (a 2011 snapshot) a transport's count is its memory
 * home's: tport_ref() is su_home_ref(), tport_incref() calls tport_ref(),
 * tport_decref() calls tport_unref(), all through the library's PLT, so
 * providing tport_ref() here and tport_unref() in tport_refs.c sees every one of
 * them, Sofia's own and greenwichd's.  A connection (secondary) is made by
 * tport_alloc_secondary() with one reference, the one its master's tree holds,
 * and freed by tport_zap_secondary(), which takes it out of the tree and drops
 * that reference; when its users' last reference is released (count 2 -> 1)
 * tport_unref() arms its idle timer, which zaps it.  Both are provided here
 * too, to see each connection born and die.  Listeners and the master hold
 * their master's reference from the agent's creation until its destruction.
 *
 * Per transport: its count when first seen (the baseline: 1 for a connection
 * at birth, its tree's), the net of every caller since, and the count Sofia
 * has at each operation.  A connection zapped at its baseline with a net of
 * zero is freed there ("freed-clean"); one zapped while callers still hold
 * references ("zapped-held": a registration's flow, a transaction) is freed by
 * the release that brings it to zero ("freed-by-holder").  Either way it came
 * to zero exactly once, so at rest born = freed-clean + freed-by-holder +
 * live connections.  Flagged, logged at once (event=tport-ledger-flag
 * kind=...), kept for the dump and counted in the summary:
 *   negative     a release that takes a transport below its baseline: a
 *                listener or the master (the guard refuses it, refused=1), or
 *                a connection still in the tree, which Sofia then frees under
 *                the tree ("freed-in-tree"),
 *   untracked    Sofia's count differs from baseline + net (something changed
 *                it without tport_ref()/tport_unref()); resynced,
 *   unknown      a reference taken or released on a connection never seen
 *                born: its memory was freed and is used as a transport again,
 *   zap-unknown  a connection zapped twice, or one never seen born
 *                (tport_alloc_secondary() zaps what it could not finish).
 * The dump (SIGUSR2, main.c; and at exit, before the agents are destroyed)
 * writes the summary to the log and, when GREENWICH_TPORT_LEDGER names a
 * file, the summary, every live transport with its callers, the callers over
 * all transports and the flags to that file, replaced at once; its first line
 * is the machine-readable summary tests assert on ("summary key=value ...").
 * Callers are the return address of the call into Sofia's function and the
 * one before it (a call through tport_incref()/tport_decref() is charged to
 * their caller),
 * symbolised with dladdr() ("function+offset", "module+offset" without a
 * symbol, for addr2line).  One mutex; a backtrace per operation: test builds
 * only.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sofia-sip/su_alloc.h>
#include <sofia-sip/tport.h>

#include "log.h"
#include "tport_ledger.h"

#define CALLERS_PER_TP 24
#define MAX_CALLERS 512
#define MAX_FLAGS 64
#define LOG_FLAGS 100

/* Sofia's, not in its public headers */
tport_t *tport_alloc_secondary(void *pri, int socket, int accepted, char const **reason);
void tport_zap_secondary(tport_t *self);

struct site {
	const void *at, *via; /* return address of the call, and of the one before */
};

struct tally {
	struct site s;
	unsigned long taken, released;
};

struct entry {
	const void *tp;
	char kind;   /* 'm'aster, 'p'rimary (listener), 's'econdary (connection) */
	bool born;   /* seen in tport_alloc_secondary() */
	bool zapped; /* out of the tree; freed by its last holder's release */
	char name[64];
	long baseline, net, count; /* count: Sofia's after the last operation */
	unsigned ntally;
	struct tally t[CALLERS_PER_TP];
	unsigned long other_taken, other_released; /* callers past CALLERS_PER_TP */
};

struct flag {
	char text[400];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry *live;
static size_t nlive, caplive;
static struct tally callers[MAX_CALLERS];
static size_t ncallers;
static struct flag flags[MAX_FLAGS];
static size_t nflags;
static struct {
	unsigned long refs, releases, refused, born, freed_clean, zapped_held, freed_by_holder,
	    freed_in_tree, negative, untracked, unknown, zap_unknown, dumps;
} n;

static const char *
sym(const void *p, char *buf, size_t len)
{
	Dl_info info;

	if (p == NULL)
		snprintf(buf, len, "-");
	else if (dladdr(p, &info) != 0 && info.dli_sname != NULL)
		snprintf(buf, len, "%s+%#lx", info.dli_sname,
			 (unsigned long)((const char *)p - (const char *)info.dli_saddr));
	else if (dladdr(p, &info) != 0 && info.dli_fname != NULL)
		snprintf(buf, len, "%s+%#lx",
			 strrchr(info.dli_fname, '/') ? strrchr(info.dli_fname, '/') + 1
						      : info.dli_fname,
			 (unsigned long)((const char *)p - (const char *)info.dli_fbase));
	else
		snprintf(buf, len, "%p", p);
	return buf;
}

static bool
is_wrapper(const void *p)
{
	Dl_info info;

	/* ours (a sanitizer's backtrace() may start in them), and Sofia's wrappers */
	return p != NULL && dladdr(p, &info) != 0 && info.dli_sname != NULL &&
	       (strcmp(info.dli_sname, "tport_decref") == 0 ||
		strcmp(info.dli_sname, "tport_incref") == 0 ||
		strcmp(info.dli_sname, "tport_ref") == 0 ||
		strcmp(info.dli_sname, "tport_unref") == 0 ||
		strcmp(info.dli_sname, "tport_ledger_release") == 0);
}

/* The caller of the call into Sofia, past tport_incref()/tport_decref() and past
 * our own frames. */
static struct site
site_of(void *const *frames, int nf)
{
	struct site s = {NULL, NULL};
	int i = 0;

	while (i < nf && is_wrapper(frames[i]))
		i++;
	if (i < nf)
		s.at = frames[i];
	if (i + 1 < nf)
		s.via = frames[i + 1];
	return s;
}

static struct entry *
find(const void *tp)
{
	for (size_t i = 0; i < nlive; i++)
		if (live[i].tp == tp)
			return &live[i];
	return NULL;
}

static void
drop(struct entry *e)
{
	*e = live[--nlive];
}

static void
describe(struct entry *e, tport_t *tp)
{
	const tp_name_t *nm = tport_name(tp);

	snprintf(e->name, sizeof(e->name), "%s/%s:%s", nm && nm->tpn_proto ? nm->tpn_proto : "?",
		 nm && nm->tpn_host ? nm->tpn_host : "?", nm && nm->tpn_port ? nm->tpn_port : "?");
}

/* The entry of tp, made when first seen with `count` references. */
static struct entry *
entry_of(tport_t *tp, long count)
{
	struct entry *e = find(tp);

	if (e != NULL) {
		if (e->name[0] == '?')
			describe(e, tp);
		return e;
	}
	if (nlive == caplive) {
		size_t cap = caplive ? caplive * 2 : 256;
		struct entry *v = realloc(live, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		live = v;
		caplive = cap;
	}
	e = &live[nlive++];
	memset(e, 0, sizeof(*e));
	e->tp = tp;
	e->kind = tport_is_master(tp) ? 'm' : tport_is_secondary(tp) ? 's' : 'p';
	e->baseline = e->count = count;
	describe(e, tp);
	return e;
}

static void
tally(struct tally *v, size_t *nv, size_t cap, struct site s, int taken, unsigned long *ot,
      unsigned long *orl)
{
	for (size_t i = 0; i < *nv; i++)
		if (v[i].s.at == s.at && v[i].s.via == s.via) {
			v[i].taken += taken > 0;
			v[i].released += taken == 0;
			return;
		}
	if (*nv < cap) {
		v[*nv].s = s;
		v[*nv].taken = taken > 0;
		v[*nv].released = taken == 0;
		(*nv)++;
	} else if (ot != NULL) {
		*ot += taken > 0;
		*orl += taken == 0;
	}
}

static void
charge(struct entry *e, struct site s, int taken)
{
	size_t nt = e->ntally;

	tally(e->t, &nt, CALLERS_PER_TP, s, taken, &e->other_taken, &e->other_released);
	e->ntally = (unsigned)nt;
	tally(callers, &ncallers, MAX_CALLERS, s, taken, NULL, NULL);
}

/* Holders of e: the callers with more taken than released. */
static void
holders(const struct entry *e, char *buf, size_t len)
{
	size_t used = 0;
	char a[96], b[96];

	buf[0] = '\0';
	for (unsigned i = 0; i < e->ntally && used + 1 < len; i++) {
		long net = (long)e->t[i].taken - (long)e->t[i].released;
		if (net == 0)
			continue;
		int k = snprintf(buf + used, len - used, "%s%s<%s:%+ld", used ? " " : "",
				 sym(e->t[i].s.at, a, sizeof(a)), sym(e->t[i].s.via, b, sizeof(b)),
				 net);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

/* Under mu: note a flag (kept for the dump; logged by the caller when it
 * returns true, after unlocking). */
static bool flag(unsigned long *counter, char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool
flag(unsigned long *counter, char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	unsigned long total;

	(*counter)++;
	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (nflags < MAX_FLAGS)
		snprintf(flags[nflags++].text, sizeof(flags[0].text), "%s", out);
	total = n.negative + n.untracked + n.unknown + n.zap_unknown;
	return total <= LOG_FLAGS;
}

/* Sofia's count before this operation differs from what the ledger expects. */
static bool
check_tracked(struct entry *e, long before, char *out, size_t len)
{
	bool log = false;

	if (before != e->baseline + e->net) {
		log = flag(
		    &n.untracked, out, len,
		    "kind=untracked transport=%p name=%s role=%c baseline=%ld net=%ld count=%ld",
		    e->tp, e->name, e->kind, e->baseline, e->net, before);
		e->net = before - e->baseline;
	}
	return log;
}

/* Under mu: a connection the ledger never saw born (its memory was freed and is
 * used again as a transport nobody allocated: a use after free). */
static bool
check_born(struct entry *e, char *out, size_t len)
{
	if (e->kind != 's' || e->born)
		return false;
	e->born = true; /* flagged once */
	return flag(&n.unknown, out, len, "kind=unknown transport=%p name=%s count=%ld", e->tp,
		    e->name, e->count);
}

tport_t *
tport_ref(tport_t *tp)
{
	static tport_t *(*real)(tport_t *);
	void *frames[8];
	char msg[400], msg2[400];
	bool log = false, log2 = false;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "tport_ref");
	if (real == NULL)
		return NULL;
	if (tp == NULL)
		return real(tp);
	int nf = backtrace(frames, 8);
	struct site s = site_of(frames, nf);
	pthread_mutex_lock(&mu);
	long before = (long)su_home_refcount((su_home_t *)tp);
	struct entry *e = entry_of(tp, before);
	n.refs++;
	if (e != NULL) {
		log = check_tracked(e, before, msg, sizeof(msg));
		log2 = check_born(e, msg2, sizeof(msg2));
		e->net++;
		e->count = before + 1;
		charge(e, s, 1);
	}
	tport_t *r = real(tp);
	pthread_mutex_unlock(&mu);
	if (log)
		log_err("event=tport-ledger-flag %s", msg);
	if (log2)
		log_err("event=tport-ledger-flag %s", msg2);
	return r;
}

void
tport_ledger_release(tport_t *tp, unsigned long before_u, int refused, void *const *frames, int nf)
{
	char msg[700], msg1[400], msg2[400], who[300], a[96], b[96];
	bool log = false, log1 = false, log2 = false;
	long before = (long)before_u;
	struct site s = site_of(frames, nf);

	pthread_mutex_lock(&mu);
	struct entry *e = entry_of(tp, before);
	n.releases++;
	n.refused += refused != 0;
	if (e == NULL) {
		pthread_mutex_unlock(&mu);
		return;
	}
	log1 = check_tracked(e, before, msg1, sizeof(msg1));
	log2 = check_born(e, msg2, sizeof(msg2));
	charge(e, s, 0);
	if (e->net - 1 < 0) {
		holders(e, who, sizeof(who));
		log = flag(&n.negative, msg, sizeof(msg),
			   "kind=negative transport=%p name=%s role=%c baseline=%ld count=%ld "
			   "zapped=%d refused=%d caller=%s via=%s holders=\"%s\"",
			   e->tp, e->name, e->kind, e->baseline, before, e->zapped, refused != 0,
			   sym(s.at, a, sizeof(a)), sym(s.via, b, sizeof(b)), who);
	}
	if (refused) {
		/* the guard keeps the reference: the count is unchanged */
	} else if (e->kind == 's' && before <= 1) {
		/* Sofia frees it now: its last holder after the zap, or (negative
		 * above) a release of the tree's own reference */
		if (e->zapped)
			n.freed_by_holder++;
		else
			n.freed_in_tree++;
		drop(e);
	} else {
		e->net--;
		e->count = before - 1;
	}
	pthread_mutex_unlock(&mu);
	if (log1)
		log_err("event=tport-ledger-flag %s", msg1);
	if (log2)
		log_err("event=tport-ledger-flag %s", msg2);
	if (log)
		log_err("event=tport-ledger-flag %s", msg);
}

tport_t *
tport_alloc_secondary(void *pri, int socket, int accepted, char const **reason)
{
	static tport_t *(*real)(void *, int, int, char const **);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "tport_alloc_secondary");
	if (real == NULL)
		return NULL;
	tport_t *tp = real(pri, socket, accepted, reason);
	if (tp == NULL)
		return tp;
	pthread_mutex_lock(&mu);
	struct entry *e = find(tp);
	if (e != NULL) /* its memory was freed without the ledger seeing it */
		drop(e);
	e = entry_of(tp, (long)su_home_refcount((su_home_t *)tp));
	if (e != NULL) {
		e->born = true;
		e->kind = 's';
	}
	n.born++;
	pthread_mutex_unlock(&mu);
	return tp;
}

void
tport_zap_secondary(tport_t *tp)
{
	static void (*real)(tport_t *);
	char msg[400], msg1[400];
	bool log = false, log1 = false;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "tport_zap_secondary");
	if (real == NULL)
		return;
	if (tp != NULL) {
		pthread_mutex_lock(&mu);
		struct entry *e = find(tp);
		long before = (long)su_home_refcount((su_home_t *)tp);
		if (!tport_is_secondary(tp)) {
			/* the agent's destruction takes its listeners down too */
			if (e != NULL)
				drop(e);
		} else if (e == NULL || e->zapped) {
			/* tport_alloc_secondary() zaps what it could not finish
			 * before the ledger sees it born; twice is a bug */
			log = flag(&n.zap_unknown, msg, sizeof(msg),
				   "kind=zap-unknown transport=%p count=%ld zapped-before=%d",
				   (void *)tp, before, e != NULL);
		} else {
			log1 = check_tracked(e, before, msg1, sizeof(msg1));
			if (e->net > 0) {
				/* its holders' references keep the memory; the last
				 * release frees it */
				n.zapped_held++;
				e->zapped = true;
				e->count = before - 1;
				e->baseline = 0;
			} else {
				if (e->born && before == 1)
					n.freed_clean++;
				drop(e);
			}
		}
		pthread_mutex_unlock(&mu);
	}
	if (log1)
		log_err("event=tport-ledger-flag %s", msg1);
	if (log)
		log_err("event=tport-ledger-flag %s", msg);
	real(tp);
}

/* Under mu. */
static void
summary(char *buf, size_t len)
{
	size_t listeners = 0, off = 0, secondaries = 0;

	for (size_t i = 0; i < nlive; i++) {
		if (live[i].kind == 's') {
			secondaries++;
			continue;
		}
		listeners++;
		off += live[i].net != 0;
	}
	snprintf(buf, len,
		 "dumps=%lu refs=%lu releases=%lu live=%zu live-connections=%zu listeners=%zu "
		 "listeners-off-baseline=%zu born=%lu freed-clean=%lu zapped-held=%lu "
		 "freed-by-holder=%lu freed-in-tree=%lu negative=%lu untracked=%lu unknown=%lu "
		 "zap-unknown=%lu refused=%lu",
		 n.dumps, n.refs, n.releases, nlive, secondaries, listeners, off, n.born,
		 n.freed_clean, n.zapped_held, n.freed_by_holder, n.freed_in_tree, n.negative,
		 n.untracked, n.unknown, n.zap_unknown, n.refused);
}

static void
write_file(const char *path, const char *sum)
{
	char tmp[4096], a[96], b[96];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "summary %s\n", sum);
	for (size_t i = 0; i < nlive; i++) {
		const struct entry *e = &live[i];
		/* live: referenced, so its memory is still its own */
		tport_t *tp = (tport_t *)e->tp;
		fprintf(f,
			"transport %p role=%c name=%s baseline=%ld count=%ld net=%ld closed=%d "
			"shutdown=%d%s%s\n",
			e->tp, e->kind, e->name, e->baseline, e->count, e->net,
			tport_is_closed(tp) != 0, tport_is_shutdown(tp) != 0,
			e->zapped ? " zapped" : "",
			e->kind != 's' && e->net != 0 ? " off-baseline" : "");
		for (unsigned k = 0; k < e->ntally; k++)
			fprintf(f, "  caller %s via=%s taken=%lu released=%lu\n",
				sym(e->t[k].s.at, a, sizeof(a)), sym(e->t[k].s.via, b, sizeof(b)),
				e->t[k].taken, e->t[k].released);
		if (e->other_taken || e->other_released)
			fprintf(f, "  caller (others) taken=%lu released=%lu\n", e->other_taken,
				e->other_released);
	}
	for (size_t k = 0; k < ncallers; k++)
		fprintf(f, "caller %s via=%s taken=%lu released=%lu net=%ld\n",
			sym(callers[k].s.at, a, sizeof(a)), sym(callers[k].s.via, b, sizeof(b)),
			callers[k].taken, callers[k].released,
			(long)callers[k].taken - (long)callers[k].released);
	for (size_t k = 0; k < nflags; k++)
		fprintf(f, "flag %s\n", flags[k].text);
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

void
tport_ledger_dump(const char *reason)
{
	static const char *path;
	static bool looked;
	char sum[600];

	pthread_mutex_lock(&mu);
	if (!looked) {
		path = getenv("GREENWICH_TPORT_LEDGER");
		looked = true;
	}
	n.dumps++;
	summary(sum, sizeof(sum));
	if (path != NULL && *path != '\0')
		write_file(path, sum);
	pthread_mutex_unlock(&mu);
	log_notice("event=tport-ledger-dump reason=%s file=%s %s", reason,
		   path && *path ? path : "-", sum);
}
