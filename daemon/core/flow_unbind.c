/*
 * flow_unbind.c - the bindings of a connection that closed for good go, as a
 * de-REGISTER would, without waiting for the disk on the worker's thread: the
 * removal is handed to the location writer and finished (logged, presence
 * told) when the worker's mailbox gets it back.  Used for signed-in clients,
 * whose Contact is only good over their own connection.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "gwd.h"
#include "loc.h"
#include "log.h"
#include "mailbox.h"
#include "service.h"

/* One binding going with its connection, until its removal is durable. */
struct unbind {
	struct mailbox_item item; /* first: the mailbox hands it back */
	struct worker *w;
	enum loc_result res;
	char aor[256];
};

static void
unbind_finish(struct unbind *u)
{
	if (u->res == LOC_OK) {
		log_info("event=unregister user=%s reason=\"connection closed\"",
			 log_value(u->aor));
		gwd_bindings_changed(u->w, u->aor);
	} else if (u->res == LOC_STORE_FAILED) {
		log_err("event=unregister-failed user=%s reason=\"store write failed\"",
			log_value(u->aor));
	}
	free(u);
}

static void
unbind_run(struct mailbox_item *item)
{
	unbind_finish((struct unbind *)item);
}

/* From the location writer's thread. */
static void
unbind_done(void *arg, enum loc_result res, struct loc_contact *v, size_t n)
{
	struct unbind *u = arg;

	loc_contacts_free(v, n);
	u->res = res;
	u->item.fn = unbind_run;
	mailbox_post(u->w->w_mbox, &u->item);
}

void
flow_unbind(struct worker *w, const char *aor, uint64_t flow, time_t now)
{
	struct loc_contact *v = NULL, *out = NULL;
	size_t n = 0, nout = 0;

	if (aor[0] == '\0' || loc_lookup(w->w_gwd->loc, aor, now, &v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (v[i].flow.worker != w->w_id || v[i].flow.id != flow)
			continue;
		struct unbind *u = calloc(1, sizeof(*u));
		if (u == NULL)
			break;
		u->w = w;
		snprintf(u->aor, sizeof(u->aor), "%s", aor);
		struct loc_update up = {v[i].uri, 0, -1, v[i].instance};
		struct loc_register_req req = {.aor = aor,
					       .call_id = v[i].call_id,
					       .cseq = v[i].cseq + 1,
					       .flow = v[i].flow,
					       .updates = &up,
					       .nupdates = 1,
					       .max_contacts = w->w_gwd->conf->max_contacts};
		/* once pending, u belongs to the writer until the mailbox hands it back */
		u->res = loc_register_start(w->w_gwd->loc, &req, now, unbind_done, u, &out, &nout);
		if (u->res == LOC_PENDING) {
			mailbox_expect(w->w_mbox);
			continue;
		}
		loc_contacts_free(out, nout);
		out = NULL;
		nout = 0;
		unbind_finish(u);
	}
	loc_contacts_free(v, n);
}
