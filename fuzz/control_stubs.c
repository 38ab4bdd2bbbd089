/*
 * control_stubs.c - what daemon/control/control.c and control_cmd.c call in the rest
 * of greenwichd, for fuzz-control.  Each stub answers the way the real
 * function does when it has nothing to do, or from a fixed pair of
 * registrations; none keeps state between inputs.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "accept_guard.h"
#include "auth_guard.h"
#include "directory.h"
#include "flow.h"
#include "gwad.h"
#include "gwd.h"
#include "loc.h"
#include "presence.h"
#include "sip_dialog.h"

/* Two users, alice on TCP (connection 1 of worker 0) and bob on UDP. */
static const struct {
	const char *aor, *uri, *ua;
	struct loc_flow flow;
} regs[] = {
    {"alice@corp.example.com",
     "sip:alice@192.0.2.10:5060;transport=tcp",
     "pidgin-sipe",
     {0, 1, "tcp", "192.0.2.10:5060"}},
    {"bob@corp.example.com", "sip:bob@192.0.2.11:5060", NULL, {-1, 0, "udp", "192.0.2.11:5060"}},
};
#define NREGS (sizeof(regs) / sizeof(regs[0]))

size_t
loc_count(struct loc *loc)
{
	(void)loc;
	return NREGS;
}

int
loc_list(struct loc *loc, time_t now, struct loc_contact **out, size_t *nout)
{
	struct loc_contact *v = calloc(NREGS, sizeof(*v));

	(void)loc;
	*out = NULL;
	*nout = 0;
	if (v == NULL)
		return -1;
	for (size_t i = 0; i < NREGS; i++) {
		v[i].aor = strdup(regs[i].aor);
		v[i].uri = strdup(regs[i].uri);
		v[i].user_agent = regs[i].ua ? strdup(regs[i].ua) : NULL;
		v[i].expires = now + 3600;
		v[i].q = -1;
		v[i].flow = regs[i].flow;
	}
	*out = v;
	*nout = NREGS;
	return 0;
}

void
loc_contacts_free(struct loc_contact *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].aor);
		free(v[i].uri);
		free(v[i].call_id);
		free(v[i].path);
		free(v[i].instance);
		free(v[i].user_agent);
	}
	free(v);
}

/* The bindings an AOR would lose (nothing is removed). */
int
loc_remove_aor(struct loc *loc, const char *aor)
{
	(void)loc;
	for (size_t i = 0; i < NREGS; i++)
		if (strcasecmp(regs[i].aor, aor) == 0)
			return 1;
	return 0;
}

/* There is no configuration file to read again (the fuzz target sets it as
 * gwd.reload). */
int
fuzz_gwd_reload(struct gwd *g, char *err, size_t errlen)
{
	(void)g;
	snprintf(err, errlen, "no configuration file in the fuzz target");
	return -1;
}

int
presence_lists_changed(struct gwd *g, const char *aor, bool contacts)
{
	(void)g;
	(void)aor;
	(void)contacts;
	return 0;
}

/* The presence service does not run. */
bool
presence_status(const char *aor, bool *open, const char **activity, char *note, size_t len)
{
	(void)aor;
	(void)open;
	(void)activity;
	(void)note;
	(void)len;
	return false;
}

/* No SIP worker runs (g->nworkers is 0), so nobody asks for connections. */
void
flow_each(struct flow_table *ft, flow_each_fn *fn, void *arg)
{
	(void)ft;
	(void)fn;
	(void)arg;
}

/* A server without [domain]: no directory cache to flush. */
struct ad_ctx *
dir_ctx(struct gwd *g)
{
	(void)g;
	return NULL;
}

/* Never reached without a directory context; present for the linker. */
void
ad_cache_flush(struct ad_ctx *ctx)
{
	(void)ctx;
}

int
ad_cache_flush_user(struct ad_ctx *ctx, const struct ad_query *q)
{
	(void)ctx;
	(void)q;
	return 0;
}

const char *
ad_strerror(int err)
{
	(void)err;
	return "error";
}

/* Nothing held back, no dialogs: a server that just started. */
void
guard_counts(time_t now, unsigned *accounts, unsigned *sources)
{
	(void)now;
	*accounts = 0;
	*sources = 0;
}

void
dlg_counts(struct dlg_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->max = 50000;
}

void
accept_guard_counts(struct accept_guard_counts *out)
{
	out->connections = 0;
	out->sources = 0;
	out->refused = 0;
}
