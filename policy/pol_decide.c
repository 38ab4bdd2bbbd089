/*
 * pol_decide.c - the server's decision for a request: the sender's zone from how it arrived
 * and the federation settings, the identity the rules may see, the class of other methods,
 * then the rules.  greenwichd and `greenwich-mmc policy test` both decide here.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pol_private.h"

/* The sender's domain: given, or the host part of its address. */
static const char *
sender_domain(const struct pol_party *p, char *buf, size_t len)
{
	const char *host;
	size_t n;

	if (p->domain != NULL)
		return p->domain;
	if (p->uri == NULL)
		return NULL;
	host = pol_uri_host(p->uri, &n);
	if (n == 0 || n >= len)
		return NULL;
	memcpy(buf, host, n);
	buf[n] = '\0';
	return buf;
}

/* Decide req in its class, or for POL_CLASS_OTHER as im, call and presence in turn, the first
 * denial deciding.  req->req_class is left at the class that decided. */
static int
eval_class(const struct pol_set *set, enum pol_class cls, struct pol_request *req,
	   struct pol_decision *d)
{
	static const enum pol_class all[] = {POL_CLASS_IM, POL_CLASS_CALL, POL_CLASS_PRESENCE};
	int ret = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && ret == 0; i++) {
		if (cls != POL_CLASS_OTHER && all[i] != cls)
			continue;
		req->req_class = all[i];
		ret = pol_eval(set, req, d);
		if (ret == 0 && d->verdict == POL_DENY)
			break;
	}
	return ret;
}

static bool
same_decision(const struct pol_decision *a, const struct pol_decision *b)
{
	return a->verdict == b->verdict && a->code == b->code && a->by_default == b->by_default &&
	       a->by_exception == b->by_exception && strcmp(a->rule, b->rule) == 0;
}

static bool
facts_valid(const struct pol_facts *f)
{
	unsigned c = (unsigned)f->req_class, a = (unsigned)f->arrival, z = (unsigned)f->zone;

	return (c == 0 || c == POL_CLASS_IM || c == POL_CLASS_CALL || c == POL_CLASS_PRESENCE) &&
	       (a == POL_ARRIVAL_AUTHENTICATED || a == POL_ARRIVAL_VERIFIED_PEER ||
		a == POL_ARRIVAL_UNPROVEN) &&
	       (z == 0 || z == POL_ZONE_INTERNAL || z == POL_ZONE_FEDERATED ||
		z == POL_ZONE_EXTERNAL);
}

/* The zone; *blocked when the sender's domain is blocked.  The From alone proves nothing. */
static enum pol_zone
sender_zone(const struct pol_fed *fed, const struct pol_facts *f, bool *blocked,
	    bool *partner_unproven)
{
	const struct pol_fed_entry *fe = NULL;
	char buf[256];

	*blocked = *partner_unproven = false;
	if (f->zone != 0)
		return f->zone;
	if (f->arrival == POL_ARRIVAL_AUTHENTICATED)
		return POL_ZONE_INTERNAL;
	if (fed != NULL)
		fe = pol_fed_find(fed, sender_domain(&f->from, buf, sizeof(buf)));
	if (fe && !fe->allow)
		*blocked = true;
	else if (fe && f->arrival == POL_ARRIVAL_VERIFIED_PEER)
		return POL_ZONE_FEDERATED;
	else if (fe)
		*partner_unproven = true;
	return POL_ZONE_EXTERNAL;
}

int
pol_decide(const struct pol_set *set, const struct pol_fed *fed, const struct pol_facts *f,
	   struct pol_outcome *out)
{
	struct pol_request rq;
	int ret;

	if (set == NULL || f == NULL || out == NULL || !facts_valid(f))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->zone = sender_zone(fed, f, &out->blocked, &out->partner_unproven);
	if (out->blocked) {
		out->req_class = POL_CLASS_IM;
		out->decision.verdict = POL_DENY;
		out->decision.code = 403;
		snprintf(out->decision.reason, sizeof(out->decision.reason), "Forbidden");
		snprintf(out->decision.rule, sizeof(out->decision.rule), "federation-blocked");
		return 0;
	}
	memset(&rq, 0, sizeof(rq));
	rq.zone = out->zone;
	rq.net = f->net;
	rq.to = f->to;
	/* who the sender is counts only when it was proven: a user of ours who authenticated,
	 * or a partner's user whose server showed its certificate; only our own users have
	 * groups the rules know */
	rq.from = f->from;
	if (out->zone != POL_ZONE_INTERNAL)
		rq.from.nsids = 0;
	if (out->zone == POL_ZONE_EXTERNAL) {
		rq.from.uri = NULL;
		rq.from.domain = NULL;
		out->anonymous = true;
	}
	ret = eval_class(set, f->req_class, &rq, &out->decision);
	out->req_class = rq.req_class;
	if (ret < 0 || !out->anonymous || (f->from.uri == NULL && f->from.domain == NULL))
		return ret;
	/* what the claim would have decided: said by the console, never acted on */
	rq.from = f->from;
	ret = eval_class(set, f->req_class, &rq, &out->claimed);
	if (ret == 0)
		out->claim_ignored = !same_decision(&out->decision, &out->claimed);
	return ret;
}
