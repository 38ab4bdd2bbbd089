/*
 * service.c - the table of services the workers run (see service.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "gwd.h"
#include "service.h"

int
gwd_service_add(struct gwd *g, const struct gw_service *s)
{
	if (g->nservices >= GW_SERVICES_MAX)
		return -ENOSPC;
	g->services[g->nservices++] = s;
	return 0;
}

static bool
runs_here(const struct worker *w, const struct gw_service *s)
{
	return !s->worker0 || w->w_id == 0;
}

int
gwd_services_attach(struct worker *w)
{
	struct gwd *g = w->w_gwd;

	for (size_t i = 0; i < g->nservices; i++) {
		const struct gw_service *s = g->services[i];
		if (!runs_here(w, s) || s->attach == NULL)
			continue;
		if (s->attach(w) < 0) {
			if (w->w_error[0] == '\0')
				snprintf(w->w_error, sizeof(w->w_error),
					 "cannot start the %s service", s->name);
			/* the ones already attached go again, newest first */
			while (i-- > 0)
				if (runs_here(w, g->services[i]) && g->services[i]->detach)
					g->services[i]->detach(w);
			return -1;
		}
	}
	w->w_attached = true;
	return 0;
}

void
gwd_services_detach(struct worker *w)
{
	struct gwd *g = w->w_gwd;

	if (!w->w_attached)
		return;
	for (size_t i = g->nservices; i-- > 0;)
		if (runs_here(w, g->services[i]) && g->services[i]->detach)
			g->services[i]->detach(w);
	w->w_attached = false;
}

void
gwd_services_tick(struct worker *w, time_t now)
{
	struct gwd *g = w->w_gwd;

	for (size_t i = 0; i < g->nservices; i++)
		if (runs_here(w, g->services[i]) && g->services[i]->tick)
			g->services[i]->tick(w, now);
}

bool
gwd_services_handoff(struct worker *w, struct handoff *h)
{
	struct gwd *g = w->w_gwd;

	for (size_t i = 0; i < g->nservices; i++) {
		const struct gw_service *s = g->services[i];
		if (s->handoff && (s->handoff_kinds & (1u << h->kind))) {
			s->handoff(w, h);
			return true;
		}
	}
	return false;
}

void
gwd_bindings_changed(struct worker *w, const char *aor)
{
	struct gwd *g = w->w_gwd;

	for (size_t i = 0; i < g->nservices; i++)
		if (g->services[i]->bindings_changed)
			g->services[i]->bindings_changed(w, aor);
}

void
gwd_store_changed(struct worker *w, const char *channel, const char *payload)
{
	struct gwd *g = w->w_gwd;

	for (size_t i = 0; i < g->nservices; i++)
		if (runs_here(w, g->services[i]) && g->services[i]->store_changed)
			g->services[i]->store_changed(w, channel, payload);
}

void
gwd_resume(struct worker *w, msg_t *msg, sip_t *sip)
{
	const struct gw_intake *in = w->w_gwd->intake;

	if (in && in->resume)
		in->resume(w, msg, sip);
	else
		msg_destroy(msg);
}
