/*
 * pol_eval.c - decide a request: first matching rule in priority order, else the default.
 *
 * Nothing here allocates.  Each party's SID list is turned, on first need, into a bit map
 * over the set's interned SIDs (one hash lookup per SID); after that a group condition is a
 * bit test, and user and domain conditions compare interned indexes.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pol_table.h"

#define POL_SID_WORDS (POL_SIDS_MAX / 64)

struct eval_party {
	const struct pol_party *p;
	bool have_sids, have_names;
	uint32_t uri_id, dom_id;
	uint64_t sum;  /* bit (id % 64) for each SID id held: a quick "surely not" */
	uint64_t nsum; /* the same for uri_id and dom_id */
	uint64_t bits[POL_SID_WORDS];
};

struct eval_ctx {
	const struct pol_set *set;
	const struct pol_request *req;
	struct eval_party from, to;
};

static void
party_sids(const struct pol_set *set, struct eval_party *ep)
{
	size_t words = (set->sids.n + 63) / 64;

	memset(ep->bits, 0, words * sizeof(ep->bits[0]));
	ep->sum = 0;
	for (size_t i = 0; i < ep->p->nsids && set->sids.n > 0; i++) {
		const char *sid = ep->p->sids[i];
		uint32_t id;

		if (sid == NULL)
			continue;
		id = pol_table_find(&set->sids, sid, strlen(sid));
		if (id != POL_NO_ID) {
			ep->bits[id / 64] |= 1ULL << (id % 64);
			ep->sum |= 1ULL << (id % 64);
		}
	}
	ep->have_sids = true;
}

/* The domain of a party: given, or the host part of its address (up to ';' ':' '>' '?'). */
static uint32_t
party_domain(const struct pol_set *set, const struct pol_party *p)
{
	const char *host;
	size_t len;

	if (p->domain != NULL)
		return pol_table_find(&set->names, p->domain, strlen(p->domain));
	if (p->uri == NULL)
		return POL_NO_ID;
	host = pol_uri_host(p->uri, &len);
	return pol_table_find(&set->names, host, len);
}

static void
party_names(const struct pol_set *set, struct eval_party *ep)
{
	const char *aor = ep->p->uri != NULL ? gw_uri_addr(ep->p->uri) : NULL;

	ep->uri_id = aor != NULL ? pol_table_find(&set->names, aor, strlen(aor)) : POL_NO_ID;
	ep->dom_id = party_domain(set, ep->p);
	ep->nsum = 0;
	if (ep->uri_id != POL_NO_ID)
		ep->nsum |= 1ULL << (ep->uri_id % 64);
	if (ep->dom_id != POL_NO_ID)
		ep->nsum |= 1ULL << (ep->dom_id % 64);
	ep->have_names = true;
}

static bool
groups_match(const struct pol_set *set, struct eval_party *ep, const struct pol_ident_list *l)
{
	if (!ep->have_sids)
		party_sids(set, ep);
	if ((l->gsum & ep->sum) == 0)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		uint32_t id = l->v[i].id;

		if (l->v[i].kind == POL_ID_GROUP && id < POL_SIDS_MAX &&
		    ((ep->bits[id / 64] >> (id % 64)) & 1))
			return true;
	}
	return false;
}

static bool
names_match(const struct pol_set *set, struct eval_party *ep, const struct pol_ident_list *l)
{
	if (!ep->have_names)
		party_names(set, ep);
	if ((l->nsum & ep->nsum) == 0)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		const struct pol_ident *id = &l->v[i];

		if (id->id == POL_NO_ID)
			continue;
		if ((id->kind == POL_ID_USER && id->id == ep->uri_id) ||
		    (id->kind == POL_ID_DOMAIN && id->id == ep->dom_id))
			return true;
	}
	return false;
}

static bool
list_match(const struct pol_set *set, struct eval_party *ep, const struct pol_ident_list *l)
{
	if (l->kinds & (1u << POL_ID_ANY))
		return true;
	if ((l->kinds & (1u << POL_ID_GROUP)) && groups_match(set, ep, l))
		return true;
	return (l->kinds & ((1u << POL_ID_USER) | (1u << POL_ID_DOMAIN))) &&
	       names_match(set, ep, l);
}

/* The sender and recipient conditions of c. */
static bool
parties_match(struct eval_ctx *ctx, const struct pol_cond *c)
{
	if ((c->have & POL_C_FROM) && !list_match(ctx->set, &ctx->from, &c->from))
		return false;
	if ((c->have & POL_C_TO) && !list_match(ctx->set, &ctx->to, &c->to))
		return false;
	return true;
}

static bool
cond_match(struct eval_ctx *ctx, const struct pol_cond *c)
{
	const struct pol_request *req = ctx->req;

	if ((c->have & POL_C_CLASS) && !(c->classes & (unsigned)req->req_class))
		return false;
	if ((c->have & POL_C_ZONE) && !(c->zones & (unsigned)req->zone))
		return false;
	if ((c->have & POL_C_NET) && !(c->nets & (unsigned)req->net))
		return false;
	return parties_match(ctx, c);
}

/* Copy a NUL-terminated string into a buffer of size bytes, cutting it if needed. */
static void
copy_str(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(src, size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
decide(struct pol_decision *d, enum pol_verdict verdict, int code, const char *reason)
{
	d->verdict = verdict;
	d->code = verdict == POL_ALLOW ? 0 : code;
	if (verdict == POL_ALLOW)
		d->reason[0] = '\0';
	else
		copy_str(d->reason, sizeof(d->reason), reason);
}

static void
decide_rule(struct eval_ctx *ctx, const struct pol_rule *r, struct pol_decision *d)
{
	bool excepted = false;

	for (size_t i = 0; i < r->nexcept && !excepted; i++)
		excepted = cond_match(ctx, &r->except[i]);
	copy_str(d->rule, sizeof(d->rule), r->name);
	d->by_exception = excepted;
	if (!excepted)
		decide(d, r->action, r->code, r->reason);
	else if (r->action == POL_DENY)
		decide(d, POL_ALLOW, 0, NULL);
	else
		decide(d, POL_DENY, 403, "Forbidden");
}

static bool
request_valid(const struct pol_request *req)
{
	unsigned c = (unsigned)req->req_class, z = (unsigned)req->zone, n = (unsigned)req->net;

	return (c == POL_CLASS_IM || c == POL_CLASS_PRESENCE || c == POL_CLASS_CALL) &&
	       (z == POL_ZONE_INTERNAL || z == POL_ZONE_FEDERATED || z == POL_ZONE_EXTERNAL) &&
	       (n == POL_NET_INTERNAL || n == POL_NET_REMOTE) &&
	       (req->from.nsids == 0 || req->from.sids != NULL) &&
	       (req->to.nsids == 0 || req->to.sids != NULL);
}

int
pol_eval(const struct pol_set *set, const struct pol_request *req, struct pol_decision *d)
{
	struct eval_ctx ctx;
	unsigned combo;

	if (set == NULL || req == NULL || d == NULL || !request_valid(req))
		return -EINVAL;
	ctx.set = set;
	ctx.req = req;
	ctx.from.p = &req->from;
	ctx.from.have_sids = ctx.from.have_names = false;
	ctx.to.p = &req->to;
	ctx.to.have_sids = ctx.to.have_names = false;
	d->by_default = false;
	combo = pol_combo(req->req_class, req->zone, req->net);
	for (size_t i = 0; i < set->n; i++) {
		if (((set->combos[i] >> combo) & 1) == 0)
			continue; /* class, zone or network do not fit: no need to look closer */
		if (parties_match(&ctx, &set->rules[i]->when)) {
			decide_rule(&ctx, set->rules[i], d);
			return 0;
		}
	}
	d->rule[0] = '\0';
	d->by_default = true;
	d->by_exception = false;
	if (req->zone == POL_ZONE_INTERNAL)
		decide(d, POL_ALLOW, 0, NULL);
	else
		decide(d, POL_DENY, 403, "Forbidden");
	return 0;
}
