/* Answered INVITE dialogs, so the BYE that ends each one is reported. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gwp_internal.h"

int
gwp_dialog_add(struct gwp_proxy *p, const char *call_id, const char *target)
{
	struct gwp_dialog *d = calloc(1, sizeof(*d));

	if (!d)
		return GWP_ERR_NOMEM;
	d->call_id = strdup(call_id);
	d->target = strdup(target);
	if (!d->call_id || !d->target) {
		free(d->call_id);
		free(d->target);
		free(d);
		return GWP_ERR_NOMEM;
	}
	d->next = p->dialogs;
	p->dialogs = d;
	return GWP_OK;
}

static void
dialog_free(struct gwp_dialog *d)
{
	free(d->call_id);
	free(d->target);
	free(d);
}

/* A BYE for call_id passed through: report ENDED and forget the dialog. */
void
gwp_dialog_end(struct gwp_proxy *p, const char *call_id)
{
	struct gwp_dialog **pp, *d;

	for (pp = &p->dialogs; (d = *pp); pp = &d->next) {
		if (strcmp(d->call_id, call_id) == 0) {
			*pp = d->next;
			gwp_event_emit(p, GWP_EVENT_ENDED, d->call_id, d->target, "INVITE", 0);
			dialog_free(d);
			return;
		}
	}
}

void
gwp_dialog_free_all(struct gwp_proxy *p)
{
	struct gwp_dialog *d;

	while ((d = p->dialogs)) {
		p->dialogs = d->next;
		dialog_free(d);
	}
}
