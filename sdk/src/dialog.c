/* Dialogs made through the proxy: filled from the 2xx to an INVITE, confirmed
 * by its ACK, checked for every in-dialog request and ACK, ended by BYE or
 * expiry (32 s after a 2xx nobody acknowledged, else idle time). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

#include "gwp_internal.h"

static void
ended_report(struct gwp_proxy *p, struct gwp_dialog *d)
{
	if (d->ended)
		return;
	d->ended = 1;
	gwp_event_emit(p, GWP_EVENT_ENDED, d->call_id, d->app_target ? d->app_target : "", "INVITE",
		       0);
}

static void
dialog_drop(struct gwp_proxy *p, struct gwp_dialog *d)
{
	ended_report(p, d);
	gwp_dialog_free(d);
}

/* Route sets that requests of each party carry beyond our own entry: the
 * Record-Route entries above ours reversed (caller), below ours (callee). */
static int
route_sets(struct gwp_proxy *p, const sip_record_route_t *rr, char *out[2])
{
	const sip_record_route_t *r;
	sip_route_t *above = NULL, *below = NULL, *x;
	su_home_t home[1] = {SU_HOME_INIT(home)};
	int seen = 0, rc = -1;

	for (r = rr; r; r = r->r_next) {
		if (!seen && gwp_url_is_ours(p, r->r_url)) {
			seen = 1;
			continue;
		}
		x = sip_route_create(home, r->r_url, NULL);
		if (!x)
			goto done;
		if (seen) { /* keep the order */
			sip_route_t **pp = &below;

			while (*pp)
				pp = &(*pp)->r_next;
			*pp = x;
		} else { /* reverse */
			x->r_next = above;
			above = x;
		}
	}
	if (!seen)
		goto done;
	out[GWP_CALLER] = gwp_routes_foreign(p, above);
	out[GWP_CALLEE] = gwp_routes_foreign(p, below);
	rc = out[GWP_CALLER] && out[GWP_CALLEE] ? 0 : -1;
done:
	su_home_deinit(home);
	return rc;
}

/* A 2xx to an initial INVITE passed through: remember the dialog. Returns
 * 0, or -1 when none was made (the caller then reports the call ended). */
int
gwp_dialog_answered(struct gwp_proxy *p, msg_t *request, sip_t const *resp, const char *app_target)
{
	sip_t const *rq = sip_object(request);
	char *target[2] = {NULL, NULL}, *routes[2] = {NULL, NULL};
	const char *tag[2];
	struct gwp_dialog *d = NULL, *evicted;
	int i, rc = -1;

	if (!rq || !resp || !rq->sip_call_id || !rq->sip_from || !resp->sip_to ||
	    !rq->sip_contact || !resp->sip_contact)
		return -1;
	tag[GWP_CALLER] = rq->sip_from->a_tag;
	tag[GWP_CALLEE] = resp->sip_to->a_tag;
	if (!tag[GWP_CALLER] || !tag[GWP_CALLEE])
		return -1;
	target[GWP_CALLER] = gwp_url_string(rq->sip_contact->m_url);
	target[GWP_CALLEE] = gwp_url_string(resp->sip_contact->m_url);
	if (target[0] && target[1] && route_sets(p, resp->sip_record_route, routes) == 0)
		d = gwp_dialog_make(rq->sip_call_id->i_id, tag, (const char *const *)target,
				    (const char *const *)routes, app_target);
	if (d) {
		evicted = gwp_dtable_insert(&p->dialogs, d, time(NULL));
		if (evicted)
			dialog_drop(p, evicted);
		rc = 0;
	}
	for (i = 0; i < 2; i++) {
		free(target[i]);
		free(routes[i]);
	}
	return rc;
}

static struct gwp_dialog *
dialog_of(struct gwp_proxy *p, sip_t const *sip, int *dir)
{
	if (!sip || !sip->sip_call_id || !sip->sip_from || !sip->sip_to)
		return NULL;
	return gwp_dtable_find(&p->dialogs, sip->sip_call_id->i_id, sip->sip_from->a_tag,
			       sip->sip_to->a_tag, time(NULL), dir);
}

/* A 2xx to an in-dialog INVITE or UPDATE: the Contacts are new targets. */
void
gwp_dialog_refreshed(struct gwp_proxy *p, msg_t *request, sip_t const *resp)
{
	sip_t const *rq = sip_object(request);
	struct gwp_dialog *d;
	char *s;
	int dir;

	d = dialog_of(p, rq, &dir);
	if (!d)
		return;
	if (rq->sip_contact && (s = gwp_url_string(rq->sip_contact->m_url))) {
		gwp_dialog_set_target(d, dir, s);
		free(s);
	}
	if (resp && resp->sip_contact && (s = gwp_url_string(resp->sip_contact->m_url))) {
		gwp_dialog_set_target(d, !dir, s);
		free(s);
	}
}

/* The dialog an in-dialog request (or ACK) belongs to, if it may be
 * forwarded: known Call-ID and tags, Request-URI the remote target of the
 * other party, no Route entries but the dialog's. Otherwise NULL with the
 * status to answer in *status. */
struct gwp_dialog *
gwp_dialog_match(struct gwp_proxy *p, sip_t const *sip, int *status)
{
	struct gwp_dialog *d;
	char *routes;
	int dir, ok;

	*status = 481;
	d = dialog_of(p, sip, &dir);
	if (!d)
		return NULL;
	*status = 403;
	if (!gwp_uri_equal(d->target[!dir], sip->sip_request->rq_url))
		return NULL;
	routes = gwp_routes_foreign(p, sip->sip_route);
	ok = routes && strcmp(routes, d->routes[dir]) == 0;
	free(routes);
	if (!ok)
		return NULL;
	gwp_dtable_touch(&p->dialogs, d, sip->sip_request->rq_method == sip_method_ack, time(NULL));
	*status = 0;
	return d;
}

/* A BYE of the dialog is forwarded: the call is over for the application. */
void
gwp_dialog_bye(struct gwp_proxy *p, struct gwp_dialog *d)
{
	ended_report(p, d);
}

/* The final answer to a forwarded BYE: 2xx (or 481) removes the dialog. */
void
gwp_dialog_closed(struct gwp_proxy *p, msg_t *request, int status)
{
	struct gwp_dialog *d;
	int dir;

	if (!(status >= 200 && status < 300) && status != 481)
		return;
	d = dialog_of(p, sip_object(request), &dir);
	if (!d)
		return;
	gwp_dtable_remove(&p->dialogs, d);
	dialog_drop(p, d);
}

void
gwp_dialog_sweep(struct gwp_proxy *p, time_t now)
{
	struct gwp_dialog *d;

	while ((d = gwp_dtable_expired(&p->dialogs, now)))
		dialog_drop(p, d);
}

void
gwp_dialog_free_all(struct gwp_proxy *p)
{
	gwp_dtable_fini(&p->dialogs);
}
