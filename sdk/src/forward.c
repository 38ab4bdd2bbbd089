/* Forwarding: client branches (nta_outgoing), failover and response relay. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>

#include "gwp_internal.h"

static void txn_settle(struct gwp_txn *t);

static void
branch_event(struct gwp_branch *b, enum gwp_event_type type, int status)
{
	struct gwp_txn *t = b->txn;

	if (!t->in_dialog)
		gwp_event_emit(t->proxy, type, t->call_id, b->uri, t->method_name, status);
}

static void
timer_stop(struct gwp_branch *b)
{
	if (b->timer)
		su_timer_destroy(b->timer);
	b->timer = NULL;
}

static void
best_keep(struct gwp_txn *t, int status, msg_t *msg, int force)
{
	if (!force && t->best_status &&
	    gwp_status_rank(status, !msg) >= gwp_status_rank(t->best_status, !t->best)) {
		if (msg)
			msg_destroy(msg);
		return;
	}
	if (t->best)
		msg_destroy(t->best);
	t->best = msg;
	t->best_status = status;
}

static void
relay(struct gwp_txn *t, msg_t *msg)
{
	sip_t *sip = sip_object(msg);

	if (!sip || !t->irq) {
		msg_destroy(msg);
		return;
	}
	sip_via_remove(msg, sip);
	if (nta_incoming_mreply(t->irq, msg) < 0)
		msg_destroy(msg);
}

static void
relay_best(struct gwp_txn *t)
{
	msg_t *msg = t->best;

	t->best = NULL;
	if (msg && !t->final_sent) {
		t->final_sent = 1;
		relay(t, msg);
		return;
	}
	if (msg)
		msg_destroy(msg);
	gwp_txn_reply(t, t->best_status ? t->best_status : 500, NULL);
}

static void
branch_cancel(struct gwp_branch *b, int report)
{
	if (b->state != GWP_B_ACTIVE)
		return;
	timer_stop(b);
	b->state = GWP_B_DONE;
	if (b->txn->method == sip_method_invite && b->orq)
		nta_outgoing_tcancel(b->orq, NULL, NULL, TAG_END());
	if (report)
		branch_event(b, GWP_EVENT_FAILED, 487);
}

void
gwp_forward_cancel_all(struct gwp_txn *t)
{
	size_t i;

	for (i = 0; i < t->n_branches; i++)
		branch_cancel(&t->branches[i], 1);
}

static void
branch_answered(struct gwp_branch *b, nta_outgoing_t *orq)
{
	struct gwp_txn *t = b->txn;
	size_t i;

	msg_t *resp = nta_outgoing_getresponse(orq);
	sip_t const *rs = resp ? sip_object(resp) : NULL;
	int dialog = 0;

	b->state = GWP_B_DONE;
	timer_stop(b);
	t->final_sent = 1;
	if (!t->in_dialog && t->method == sip_method_invite) {
		gwp_txn_unreserve(t); /* its room is the dialog's now */
		dialog = gwp_dialog_answered(t->proxy, t->msg, rs, b->uri) == 0;
	} else if (t->in_dialog &&
		   (t->method == sip_method_invite || t->method == sip_method_update))
		gwp_dialog_refreshed(t->proxy, t->msg, rs);
	relay(t, resp);
	branch_event(b, GWP_EVENT_ANSWERED, nta_outgoing_status(orq));
	if (!dialog) /* a MESSAGE, or a call whose dialog we cannot follow */
		branch_event(b, GWP_EVENT_ENDED, 0);
	for (i = 0; i < t->n_branches; i++)
		branch_cancel(&t->branches[i], 1);
}

static void
branch_failed(struct gwp_branch *b, int status, msg_t *msg)
{
	struct gwp_txn *t = b->txn;
	int stop;

	b->state = GWP_B_DONE;
	timer_stop(b);
	branch_event(b, GWP_EVENT_FAILED, status);
	if (t->mode == GWP_FORK_SEQUENTIAL)
		stop = !gwp_status_fails_over(status);
	else
		stop = status >= 600;
	best_keep(t, status, msg, stop);
	if (stop) {
		t->next_branch = t->n_branches;
		gwp_forward_cancel_all(t);
	}
}

static int
branch_response(struct gwp_branch *b, nta_outgoing_t *orq, sip_t const *sip)
{
	struct gwp_txn *t = b->txn;
	int status = sip && sip->sip_status ? sip->sip_status->st_status : 408;

	if (b->state != GWP_B_ACTIVE)
		return 0;
	if (status >= 200 && t->in_dialog && t->method == sip_method_bye)
		gwp_dialog_closed(t->proxy, t->msg, status);
	if (status < 200) {
		if (status > 100 && !t->final_sent)
			relay(t, nta_outgoing_getresponse(orq));
		if ((status == 180 || status == 183) && !b->rang) {
			b->rang = 1;
			branch_event(b, GWP_EVENT_RINGING, status);
		}
		return 0;
	}
	if (status < 300)
		branch_answered(b, orq);
	else
		branch_failed(b, status, sip ? nta_outgoing_getresponse(orq) : NULL);
	txn_settle(t);
	return 0;
}

static void
branch_timeout(su_root_magic_t *magic, su_timer_t *timer, struct gwp_branch *b)
{
	struct gwp_txn *t = b->txn;

	if (b->state != GWP_B_ACTIVE)
		return;
	branch_cancel(b, 0);
	branch_failed(b, 408, NULL);
	txn_settle(t);
}

static int
branch_send(struct gwp_branch *b)
{
	struct gwp_txn *t = b->txn;
	struct gwp_proxy *p = t->proxy;
	sip_request_t *rq = NULL;
	msg_t *m;

	m = gwp_msg_prepare(p, t->msg, !t->in_dialog && t->method == sip_method_invite);
	if (!m)
		return -1;
	if (b->uri)
		rq = sip_request_create(msg_home(m), t->method, t->method_name,
					URL_STRING_MAKE(b->uri), NULL);
	b->orq = nta_outgoing_mcreate(p->agent, branch_response, b, NULL, m,
				      TAG_IF(rq, SIPTAG_REQUEST(rq)), TAG_END());
	if (!b->orq)
		return -1;
	b->state = GWP_B_ACTIVE;
	branch_event(b, GWP_EVENT_TRYING, 0);
	if (b->timeout_ms) {
		b->timer = su_timer_create(su_root_task(p->root), b->timeout_ms);
		if (b->timer)
			su_timer_set(b->timer, branch_timeout, b);
	}
	return 0;
}

/* Start branches until one is active (sequential) or all are (parallel). */
static int
branches_launch(struct gwp_txn *t)
{
	int active = 0;

	while (t->next_branch < t->n_branches && (!active || t->mode == GWP_FORK_PARALLEL)) {
		struct gwp_branch *b = &t->branches[t->next_branch++];

		if (branch_send(b) == 0)
			active++;
		else
			best_keep(t, 503, NULL, 0);
	}
	return active;
}

static int
branches_active(const struct gwp_txn *t)
{
	size_t i;
	int n = 0;

	for (i = 0; i < t->n_branches; i++)
		n += t->branches[i].state == GWP_B_ACTIVE;
	return n;
}

/* Decide what follows a change; frees the transaction once it is over. */
static void
txn_settle(struct gwp_txn *t)
{
	if (t->final_sent) {
		gwp_txn_free(t);
		return;
	}
	if (branches_active(t) > 0)
		return;
	if (branches_launch(t) > 0)
		return;
	relay_best(t);
	gwp_txn_free(t);
}

int
gwp_forward_start(struct gwp_txn *t, const struct gwp_target *targets, size_t n, enum gwp_fork mode)
{
	size_t i;

	t->branches = calloc(n, sizeof(*t->branches));
	if (!t->branches)
		return GWP_ERR_NOMEM;
	t->n_branches = n;
	t->mode = mode;
	for (i = 0; i < n; i++) {
		struct gwp_branch *b = &t->branches[i];

		b->txn = t;
		b->uri = gwp_strdup(targets[i].uri);
		b->timeout_ms = targets[i].timeout_ms;
		if (!b->timeout_ms && !t->in_dialog)
			b->timeout_ms = t->proxy->cfg.default_timeout;
		if (targets[i].uri && !b->uri)
			return GWP_ERR_NOMEM;
	}
	if (branches_launch(t) == 0) {
		relay_best(t);
		gwp_txn_free(t);
	}
	return GWP_OK;
}
