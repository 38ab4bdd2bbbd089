/* gwp_txn: one server transaction (nta_incoming) and its bookkeeping. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>

#include "gwp_internal.h"

/* nta calls this for a CANCEL matching the transaction (nta itself answers
 * 200 to the CANCEL and 487 to the INVITE), or with sip == NULL when the
 * transaction ends. */
static int
txn_irq_event(struct gwp_txn *t, nta_incoming_t *irq, sip_t const *sip)
{
	if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_cancel) {
		gwp_forward_cancel_all(t);
		gwp_txn_reply(t, SIP_487_REQUEST_CANCELLED);
		gwp_txn_free(t);
	}
	return 0;
}

struct gwp_txn *
gwp_txn_new(struct gwp_proxy *p, nta_incoming_t *irq, sip_t const *sip)
{
	struct gwp_txn *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->proxy = p;
	t->id = ++p->next_id;
	t->irq = irq;
	t->msg = nta_incoming_getrequest(irq);
	t->method = sip->sip_request->rq_method;
	t->method_name = gwp_strdup(sip->sip_request->rq_method_name);
	t->call_id = gwp_strdup(sip->sip_call_id ? sip->sip_call_id->i_id : "");
	if (!t->msg || !t->method_name || !t->call_id) {
		t->irq = NULL;
		gwp_txn_free(t);
		return NULL;
	}
	nta_incoming_bind(irq, txn_irq_event, t);
	t->next = p->txns;
	p->txns = t;
	return t;
}

struct gwp_txn *
gwp_txn_find(struct gwp_proxy *p, uint64_t id)
{
	struct gwp_txn *t;

	for (t = p->txns; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

static void
txn_unlink(struct gwp_txn *t)
{
	struct gwp_txn **pp;

	for (pp = &t->proxy->txns; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			return;
		}
	}
}

static void
branch_release(struct gwp_branch *b)
{
	if (b->timer)
		su_timer_destroy(b->timer);
	b->timer = NULL;
	if (b->orq)
		nta_outgoing_destroy(b->orq);
	b->orq = NULL;
	free(b->uri);
	b->uri = NULL;
}

void
gwp_txn_free(struct gwp_txn *t)
{
	size_t i;

	if (!t)
		return;
	txn_unlink(t);
	gwp_txn_unreserve(t);
	for (i = 0; i < t->n_branches; i++)
		branch_release(&t->branches[i]);
	free(t->branches);
	if (t->irq) {
		nta_incoming_bind(t->irq, NULL, NULL);
		nta_incoming_destroy(t->irq);
	}
	if (t->msg)
		msg_destroy(t->msg);
	if (t->best)
		msg_destroy(t->best);
	free(t->method_name);
	free(t->call_id);
	free(t);
}

/* Send a locally made final response, once. */
void
gwp_txn_reply(struct gwp_txn *t, int code, const char *reason)
{
	if (t->final_sent || !t->irq)
		return;
	t->final_sent = 1;
	if (!reason)
		reason = sip_status_phrase(code);
	nta_incoming_treply(t->irq, code, reason ? reason : "Failed", TAG_END());
}

void
gwp_txn_unreserve(struct gwp_txn *t)
{
	if (t->reserved && t->proxy->dialogs.reserved > 0)
		t->proxy->dialogs.reserved--;
	t->reserved = 0;
}

void
gwp_txn_free_all(struct gwp_proxy *p)
{
	while (p->txns)
		gwp_txn_free(p->txns);
}
