/*
 * pol_compile.c - prepare a rule set for evaluation: intern every group SID, user address and
 * domain of its rules into hash tables and give each rule value its table index, so pol_eval()
 * compares integers and bits instead of strings.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pol_table.h"

typedef int (*ident_fn)(struct pol_ident_list *l, struct pol_ident *id, void *arg);

static int
visit_list(struct pol_ident_list *l, ident_fn fn, void *arg)
{
	int ret = 0;

	for (size_t i = 0; i < l->n && ret == 0; i++)
		ret = fn(l, &l->v[i], arg);
	return ret;
}

static int
visit_rule(struct pol_rule *r, ident_fn fn, void *arg)
{
	int ret = visit_list(&r->when.from, fn, arg);

	if (ret == 0)
		ret = visit_list(&r->when.to, fn, arg);
	for (size_t i = 0; i < r->nexcept && ret == 0; i++) {
		ret = visit_list(&r->except[i].from, fn, arg);
		if (ret == 0)
			ret = visit_list(&r->except[i].to, fn, arg);
	}
	return ret;
}

static int
visit_set(struct pol_set *set, ident_fn fn, void *arg)
{
	int ret = 0;

	for (size_t i = 0; i < set->n && ret == 0; i++)
		ret = visit_rule(set->rules[i], fn, arg);
	return ret;
}

struct tables {
	struct pol_table sids, names;
	size_t nsids, nnames;
};

/* The key under which an identity value is interned (users without their scheme). */
static const char *
ident_key(const struct pol_ident *id)
{
	return id->kind == POL_ID_USER ? gw_uri_addr(id->value) : id->value;
}

static int
count_ident(struct pol_ident_list *l, struct pol_ident *id, void *arg)
{
	struct tables *t = arg;

	if (id->kind == POL_ID_GROUP)
		t->nsids++;
	else if (id->kind != POL_ID_ANY)
		t->nnames++;
	return 0;
}

static int
intern_ident(struct pol_ident_list *l, struct pol_ident *id, void *arg)
{
	struct tables *t = arg;
	const char *key = ident_key(id);
	uint32_t ignored;
	bool added;

	if (id->kind == POL_ID_ANY)
		return 0;
	return pol_table_intern(id->kind == POL_ID_GROUP ? &t->sids : &t->names, key, strlen(key),
				&ignored, &added);
}

static int
assign_ident(struct pol_ident_list *l, struct pol_ident *id, void *arg)
{
	struct pol_set *set = arg;
	const char *key = ident_key(id);

	if (id == &l->v[0])
		l->gsum = l->nsum = 0;
	if (id->kind == POL_ID_GROUP) {
		id->id = pol_table_find(&set->sids, key, strlen(key));
		l->gsum |= 1ULL << (id->id % 64);
	} else if (id->kind != POL_ID_ANY) {
		id->id = pol_table_find(&set->names, key, strlen(key));
		l->nsum |= 1ULL << (id->id % 64);
	}
	return 0;
}

/* Bit number of a request's class / zone / network combination (18 of them). */
unsigned
pol_combo(unsigned req_class, unsigned zone, unsigned net)
{
	unsigned c = req_class == POL_CLASS_IM ? 0 : req_class == POL_CLASS_PRESENCE ? 1 : 2;
	unsigned z = zone == POL_ZONE_INTERNAL ? 0 : zone == POL_ZONE_FEDERATED ? 1 : 2;

	return c * 6 + z * 2 + (net == POL_NET_INTERNAL ? 0 : 1);
}

uint32_t
pol_cond_combos(const struct pol_cond *c)
{
	uint32_t m = 0;

	for (unsigned cl = 1; cl <= POL_CLASS_CALL; cl <<= 1) {
		for (unsigned z = 1; z <= POL_ZONE_EXTERNAL; z <<= 1) {
			for (unsigned n = 1; n <= POL_NET_REMOTE; n <<= 1) {
				if ((!(c->have & POL_C_CLASS) || (c->classes & cl)) &&
				    (!(c->have & POL_C_ZONE) || (c->zones & z)) &&
				    (!(c->have & POL_C_NET) || (c->nets & n)))
					m |= 1u << pol_combo(cl, z, n);
			}
		}
	}
	return m;
}

int
pol_set_compile(struct pol_set *set)
{
	struct tables t;
	int ret;

	memset(&t, 0, sizeof(t));
	visit_set(set, count_ident, &t);
	if ((ret = pol_table_init(&t.sids, t.nsids, false)) < 0 ||
	    (ret = pol_table_init(&t.names, t.nnames, true)) < 0)
		goto done;
	if ((ret = visit_set(set, intern_ident, &t)) < 0)
		goto done;
	if (t.sids.n > POL_SIDS_MAX) {
		ret = -E2BIG;
		goto done;
	}
	/* Nothing fails from here on: swap the tables in and index every value. */
	pol_table_clear(&set->sids);
	pol_table_clear(&set->names);
	set->sids = t.sids;
	set->names = t.names;
	memset(&t, 0, sizeof(t));
	visit_set(set, assign_ident, set);
done:
	pol_table_clear(&t.sids);
	pol_table_clear(&t.names);
	return ret;
}
