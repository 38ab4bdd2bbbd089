/* gwp_event: call-state events, delivered directly or through the outbox. */
#include "config.h"

#include <stdlib.h>

#include "gwp_internal.h"

struct gwp_event *
gwp_event_dup(const struct gwp_event *ev)
{
	struct gwp_event *copy = calloc(1, sizeof(*copy));

	if (!copy)
		return NULL;
	copy->type = ev->type;
	copy->status = ev->status;
	copy->call_id = gwp_strdup(ev->call_id);
	copy->target = gwp_strdup(ev->target);
	copy->method = gwp_strdup(ev->method);
	if (!copy->call_id || !copy->target || !copy->method) {
		gwp_event_free(copy);
		return NULL;
	}
	return copy;
}

void
gwp_event_free(struct gwp_event *ev)
{
	if (!ev)
		return;
	free((char *)ev->call_id);
	free((char *)ev->target);
	free((char *)ev->method);
	free(ev);
}

void
gwp_event_emit(struct gwp_proxy *p, enum gwp_event_type type, const char *call_id,
	       const char *target, const char *method, int status)
{
	struct gwp_event ev = {type, call_id, target, method, status};
	struct gwp_event *copy;

	if (!p->cfg.event_fn)
		return;
	if (p->mode == GWP_MODE_THREAD) {
		p->cfg.event_fn(p->cfg.event_arg, &ev);
		return;
	}
	copy = gwp_event_dup(&ev);
	if (copy && gwp_queue_push(&p->outbox, GWP_Q_EVENT, copy) != GWP_OK)
		gwp_event_free(copy);
}

GWP_EXPORT enum gwp_event_type
gwp_event_type(const gwp_event *ev)
{
	return ev->type;
}

GWP_EXPORT const char *
gwp_event_call_id(const gwp_event *ev)
{
	return ev ? ev->call_id : NULL;
}

GWP_EXPORT const char *
gwp_event_target(const gwp_event *ev)
{
	return ev ? ev->target : NULL;
}

GWP_EXPORT const char *
gwp_event_method(const gwp_event *ev)
{
	return ev ? ev->method : NULL;
}

GWP_EXPORT int
gwp_event_status(const gwp_event *ev)
{
	return ev ? ev->status : 0;
}

GWP_EXPORT const char *
gwp_event_type_name(enum gwp_event_type type)
{
	static const char *const names[] = {"trying", "ringing", "answered", "ended", "failed"};

	if ((unsigned)type >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[type];
}
