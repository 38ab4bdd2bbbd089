/*
 * tport_refs.c - a listener is never freed by a reference nobody took.
 *
 * The Sofia 1.12.11 Debian ships (a 2011 snapshot) counts references to its
 * transport objects in their memory homes: tport_ref() is su_home_ref(),
 * tport_unref() su_home_unref(), for listeners (primaries) and the master as
 * well as for connections.  A listener's home holds one reference, its
 * master's; it is released only when the agent is destroyed, and not through
 * tport_unref().  So a tport_unref() that finds a listener or the master at one
 * reference is a release without a matching tport_ref() somewhere: obeying it
 * frees the listener while its socket is still registered in the event loop,
 * and the next event on that socket runs tport_wakeup_pri() on freed memory,
 * whose "socket" is whatever was allocated there since (issue 18: greenwichd
 * died on "tport_wakeup_pri: Assertion 'w->fd == self->tp_socket' failed").
 *
 * greenwichd provides tport_unref() (tport_decref() calls it too): such a
 * release is refused and logged (event=tport-unref-refused, once a minute,
 * with the chain of callers and a count); everything else goes to Sofia's.
 * Connections are left alone: their last reference is released legitimately
 * by whoever held it after the connection was taken down.  A test build with
 * the reference ledger (--enable-tport-ledger) tells tport_ledger.c of every
 * release first, refused or not.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdatomic.h>
#include <time.h>

#include <sofia-sip/su_alloc.h>
#include <sofia-sip/tport.h>

#include "log.h"
#ifdef GW_TPORT_LEDGER
#include "tport_ledger.h"
#endif

static atomic_ulong refused;

/* The calls that led here, innermost first: "function+offset" or, without a
 * symbol, "module+offset" (for addr2line). */
static const char *
callers(char *buf, size_t len)
{
	void *frames[10];
	int n = backtrace(frames, 10);
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 1; i < n && used + 1 < len; i++) {
		Dl_info info;
		const char *where = "?", *base = NULL;
		if (dladdr(frames[i], &info)) {
			where = info.dli_sname ? info.dli_sname : info.dli_fname;
			base = info.dli_sname ? info.dli_saddr : info.dli_fbase;
		}
		int k = snprintf(buf + used, len - used, "%s%s+%#lx", i > 1 ? " " : "", where,
				 base ? (unsigned long)((const char *)frames[i] - base) : 0UL);
		if (k < 0)
			break;
		used += (size_t)k;
	}
	return buf;
}
static _Atomic time_t logged;

void
tport_unref(tport_t *tp)
{
	static void (*real)(tport_t *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "tport_unref");
	if (real == NULL || tp == NULL)
		return;
	/* a tport_t begins with its su_home_t, as Sofia's own tport_unref() relies on */
	unsigned long count = su_home_refcount((su_home_t *)tp);
	int refuse = !tport_is_secondary(tp) && count <= 1;
#ifdef GW_TPORT_LEDGER
	void *frames[8];
	int nf = backtrace(frames, 8);
	tport_ledger_release(tp, count, refuse, frames, nf);
#endif
	if (refuse) {
		unsigned long n = atomic_fetch_add(&refused, 1) + 1;
		time_t now = time(NULL), last = atomic_load(&logged);
		if (now - last >= 60 && atomic_compare_exchange_strong(&logged, &last, now)) {
			char chain[600];
			const tp_name_t *name = tport_name(tp);
			log_err("event=tport-unref-refused transport=%s/%s:%s callers=\"%s\" "
				"refused=%lu (a release of a listener nobody referenced; it would "
				"have been freed while in use)",
				name && name->tpn_proto ? name->tpn_proto : "?",
				name && name->tpn_host ? name->tpn_host : "?",
				name && name->tpn_port ? name->tpn_port : "?",
				callers(chain, sizeof(chain)), n);
		}
		return;
	}
	real(tp);
}
