/* Requests from the network: classify, then route, relay or answer. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>

#include "gwp_internal.h"

#define GWP_ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, UPDATE, INFO, PRACK, REFER, NOTIFY"

/* ACK for a 2xx travels end to end: forwarded without a transaction, and
 * only within a known dialog. Anything else is dropped (an ACK for our own
 * non-2xx answer was absorbed by its server transaction already). */
static int
ack_handle(struct gwp_proxy *p, nta_incoming_t *irq, sip_t const *sip)
{
	msg_t *orig = NULL, *m = NULL;
	nta_outgoing_t *orq = NULL;
	int status;

	/* matched, the ACK also confirms its dialog (gwp_dialog_match) */
	if (sip->sip_to && sip->sip_to->a_tag && gwp_dialog_match(p, sip, &status))
		orig = nta_incoming_getrequest(irq);
	if (orig)
		m = gwp_msg_prepare(p, orig, 0);
	if (m)
		orq = nta_outgoing_mcreate(p->agent, NULL, NULL, NULL, m, TAG_END());
	if (orq)
		nta_outgoing_destroy(orq);
	if (orig)
		msg_destroy(orig);
	nta_incoming_destroy(irq);
	return 0;
}

/* An in-dialog request (To tag): relayed only within a known dialog, to the
 * other party's target. */
static int
dialog_forward(struct gwp_proxy *p, nta_incoming_t *irq, sip_t const *sip)
{
	struct gwp_target target = {NULL, 0};
	struct gwp_dialog *d;
	struct gwp_txn *t;
	int status;

	d = gwp_dialog_match(p, sip, &status);
	if (!d) {
		if (status == 403)
			nta_incoming_treply(irq, 403, "Not The Dialog's Target", TAG_END());
		return status;
	}
	if (sip->sip_request->rq_method == sip_method_bye)
		gwp_dialog_bye(p, d);
	t = gwp_txn_new(p, irq, sip);
	if (!t)
		return 500;
	t->in_dialog = 1;
	if (gwp_forward_start(t, &target, 1, GWP_FORK_SEQUENTIAL) != GWP_OK) {
		gwp_txn_reply(t, SIP_500_INTERNAL_SERVER_ERROR);
		gwp_txn_free(t);
	}
	return 0;
}

static int
method_routable(const struct gwp_proxy *p, sip_method_t m)
{
	return m == sip_method_invite || m == sip_method_message ||
	       (m == sip_method_register && p->cfg.registrar);
}

/* A new INVITE/MESSAGE/REGISTER: ask the application. */
static int
route_ask(struct gwp_proxy *p, nta_incoming_t *irq, sip_t const *sip, char *route_set,
	  struct gwp_credentials *cred)
{
	struct gwp_request *req;
	struct gwp_txn *t = gwp_txn_new(p, irq, sip);

	if (!t) {
		free(route_set);
		gwp_credentials_free(cred);
		return 500;
	}
	req = gwp_request_from_sip(p, t->msg, sip);
	if (!req) {
		free(route_set);
		gwp_credentials_free(cred);
		gwp_txn_reply(t, SIP_500_INTERNAL_SERVER_ERROR);
		gwp_txn_free(t);
		return 0;
	}
	if (sip->sip_request->rq_method == sip_method_invite) {
		/* room for its dialog, held until it is answered or over (checked
		 * in out_of_dialog(), nothing ran since) */
		t->reserved = 1;
		p->dialogs.reserved++;
	}
	req->txn_id = t->id;
	req->route_set = route_set;
	req->cred = cred;
	gwp_route_deliver(p, req);
	return 0;
}

static int
out_of_dialog(struct gwp_proxy *p, nta_incoming_t *irq, sip_t const *sip)
{
	sip_method_t m = sip->sip_request->rq_method;
	const url_t *ru = sip->sip_request->rq_url;
	struct gwp_credentials *cred = NULL;
	char *route_set;
	int rc;

	if (gwp_via_has_us(p, sip->sip_via))
		return 482;
	if (!gwp_host_is_local(p, ru->url_host))
		return 404;
	if (m == sip_method_options && !ru->url_user) {
		nta_incoming_treply(irq, SIP_200_OK, SIPTAG_ALLOW_STR(GWP_ALLOW), TAG_END());
		return 200;
	}
	if (m == sip_method_register && p->cfg.domain &&
	    strcasecmp(ru->url_host, p->cfg.domain) != 0)
		return 403;
	if (!method_routable(p, m)) {
		nta_incoming_treply(irq, SIP_405_METHOD_NOT_ALLOWED, SIPTAG_ALLOW_STR(GWP_ALLOW),
				    TAG_END());
		return 405;
	}
	if (m == sip_method_invite && gwp_dtable_full(&p->dialogs)) {
		gwp_dialog_sweep(p, time(NULL));
		if (gwp_dtable_full(&p->dialogs)) {
			nta_incoming_treply(irq, 503, "Too Many Dialogs",
					    SIPTAG_RETRY_AFTER_STR("30"), TAG_END());
			return 503;
		}
	}
	rc = gwp_auth_intake(p, irq, sip, &cred);
	if (rc != 0)
		return rc;
	route_set = gwp_routes_foreign(p, sip->sip_route);
	if (!route_set) {
		gwp_credentials_free(cred);
		return 500;
	}
	if (!*route_set) {
		free(route_set);
		route_set = NULL;
	}
	return route_ask(p, irq, sip, route_set, cred);
}

int
gwp_incoming_request(struct gwp_proxy *p, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	sip_method_t m = sip->sip_request->rq_method;

	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
		if (m == sip_method_ack) {
			nta_incoming_destroy(irq);
			return 0;
		}
		return 483;
	}
	if (m == sip_method_ack)
		return ack_handle(p, irq, sip);
	if (m == sip_method_cancel)
		return 481; /* a CANCEL nta could not match to a transaction */
	if (sip->sip_to && sip->sip_to->a_tag)
		return dialog_forward(p, irq, sip);
	return out_of_dialog(p, irq, sip);
}

static void
register_reply(struct gwp_txn *t, struct gwp_request *req)
{
	sip_t const *sip = sip_object(t->msg);
	char expires[16];

	if (t->final_sent)
		return;
	t->final_sent = 1;
	snprintf(expires, sizeof(expires), "%u", req->expires);
	nta_incoming_treply(t->irq, req->code, req->reason ? req->reason : "OK",
			    TAG_IF(req->contact && req->expires, SIPTAG_CONTACT(sip->sip_contact)),
			    SIPTAG_EXPIRES_STR(expires), TAG_END());
}

/* The application's answer to a request, in the SIP thread. */
static void
answer_apply(struct gwp_proxy *p, struct gwp_request *req)
{
	struct gwp_txn *t = gwp_txn_find(p, req->txn_id);

	if (!t || t->n_branches || t->final_sent)
		return; /* cancelled meanwhile, or answered twice */
	if (req->action == GWP_ACT_FORWARD) {
		if (gwp_forward_start(t, req->targets, req->n_targets, req->mode) != GWP_OK) {
			gwp_txn_reply(t, SIP_500_INTERNAL_SERVER_ERROR);
			gwp_txn_free(t);
		}
		return;
	}
	if (req->action == GWP_ACT_CHALLENGE) {
		t->final_sent = 1;
		gwp_auth_challenge(p, t->irq, sip_object(t->msg), 0);
	} else if (t->method == sip_method_register && req->code < 300)
		register_reply(t, req);
	else
		gwp_txn_reply(t, req->code, req->reason);
	gwp_txn_free(t);
}

void
gwp_inbox_drain(struct gwp_proxy *p)
{
	void *ptr;
	int kind;

	while (gwp_queue_pop(&p->inbox, &kind, &ptr)) {
		if (kind == GWP_Q_STOP) {
			su_root_break(p->root);
			continue;
		}
		answer_apply(p, ptr);
		gwp_request_free(ptr);
	}
}
