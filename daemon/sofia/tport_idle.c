/*
 * tport_idle.c - every accepted connection is timed from its first moment.
 *
 * Sofia 1.12 closes an unused connection after TPTAG_IDLE only once its
 * timer is armed, and arms it after network activity (a message received or
 * sent); a connection that never sends a byte was never timed and stayed open
 * for good, one descriptor each.  greenwichd provides tport_register_secondary(),
 * which Sofia calls for each connection it accepts or opens, and arms the
 * timer right after the real one ran: the idle time then counts from accept.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>

#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>

/* Sofia's own, not in its public headers */
int tport_register_secondary(tport_t *self, su_wakeup_f wakeup, int events);
int tport_set_secondary_timer(tport_t *self);

int
tport_register_secondary(tport_t *self, su_wakeup_f wakeup, int events)
{
	static int (*real)(tport_t *, su_wakeup_f, int);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "tport_register_secondary");
	if (real == NULL)
		return -1;
	int ret = real(self, wakeup, events);
	if (ret >= 0)
		tport_set_secondary_timer(self);
	return ret;
}
