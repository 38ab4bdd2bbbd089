/*
 * pol_set.c - rule sets: the editing API and lookups.
 *
 * The rules array stays sorted by priority; every change that adds or removes values
 * recompiles the set (pol_compile.c), and a change that fails leaves the set as it was.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "pol_private.h"

int
pol_set_alloc(struct pol_set **out)
{
	*out = calloc(1, sizeof(**out));
	return *out == NULL ? -ENOMEM : 0;
}

void
pol_set_free(struct pol_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		pol_rule_free(set->rules[i]);
	free(set->rules);
	free(set->combos);
	pol_table_clear(&set->sids);
	pol_table_clear(&set->names);
	free(set);
}

size_t
pol_set_count(const struct pol_set *set)
{
	return set->n;
}

const struct pol_rule *
pol_set_at(const struct pol_set *set, size_t idx)
{
	return idx < set->n ? set->rules[idx] : NULL;
}

static ssize_t
set_find(const struct pol_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->rules[i]->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t
set_find_priority(const struct pol_set *set, unsigned priority)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->rules[mid]->priority < priority)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < set->n && set->rules[lo]->priority == priority ? (ssize_t)lo : -1;
}

const struct pol_rule *
pol_set_get(const struct pol_set *set, const char *name)
{
	ssize_t i = set_find(set, name);

	return i < 0 ? NULL : set->rules[i];
}

/* Insert at the place its priority gives; the array has room (set_reserve). */
static void
set_insert(struct pol_set *set, struct pol_rule *r)
{
	size_t i = set->n;

	while (i > 0 && set->rules[i - 1]->priority > r->priority)
		i--;
	memmove(&set->rules[i + 1], &set->rules[i], (set->n - i) * sizeof(*set->rules));
	memmove(&set->combos[i + 1], &set->combos[i], (set->n - i) * sizeof(*set->combos));
	set->rules[i] = r;
	set->combos[i] = pol_cond_combos(&r->when);
	set->n++;
}

static struct pol_rule *
set_remove(struct pol_set *set, size_t i)
{
	struct pol_rule *r = set->rules[i];

	memmove(&set->rules[i], &set->rules[i + 1], (set->n - i - 1) * sizeof(*set->rules));
	memmove(&set->combos[i], &set->combos[i + 1], (set->n - i - 1) * sizeof(*set->combos));
	set->n--;
	return r;
}

static int
set_reserve(struct pol_set *set, size_t n)
{
	struct pol_rule **v;
	uint32_t *c;
	size_t cap = set->cap ? set->cap : 16;

	if (n <= set->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	v = realloc(set->rules, cap * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	set->rules = v;
	c = realloc(set->combos, cap * sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	set->combos = c;
	set->cap = cap;
	return 0;
}

/* -EEXIST when another rule than `self` uses the priority. */
static int
priority_free(const struct pol_set *set, unsigned priority, const struct pol_rule *self,
	      struct pol_error *err)
{
	ssize_t i = set_find_priority(set, priority);

	if (i < 0 || set->rules[i] == self)
		return 0;
	pol_error_set(err, 0, 0, "priority %u is already used by rule '%s'", priority,
		      set->rules[i]->name);
	return -EEXIST;
}

static int
compile_error(int ret, struct pol_error *err)
{
	if (ret == -E2BIG)
		pol_error_set(err, 0, 0, "more than %d distinct group SIDs in the rules",
			      POL_SIDS_MAX);
	else if (ret == -ENOMEM)
		pol_error_set(err, 0, 0, "out of memory");
	return ret;
}

int
pol_set_add(struct pol_set *set, struct pol_rule *rule, struct pol_error *err)
{
	int ret;

	if (set_find(set, rule->name) >= 0) {
		pol_error_set(err, 0, 0, "a rule named '%s' already exists", rule->name);
		return -EEXIST;
	}
	if ((ret = priority_free(set, rule->priority, NULL, err)) < 0)
		return ret;
	if (set->n >= POL_RULES_MAX) {
		pol_error_set(err, 0, 0, "a set holds at most %d rules", POL_RULES_MAX);
		return -E2BIG;
	}
	if ((ret = set_reserve(set, set->n + 1)) < 0)
		return compile_error(ret, err);
	set_insert(set, rule);
	ret = pol_set_compile(set);
	if (ret < 0)
		set_remove(set, (size_t)set_find(set, rule->name));
	return compile_error(ret, err);
}

int
pol_set_replace(struct pol_set *set, struct pol_rule *rule, struct pol_error *err)
{
	ssize_t i = set_find(set, rule->name);
	struct pol_rule *old;
	int ret;

	if (i < 0) {
		pol_error_set(err, 0, 0, "no rule named '%s'", rule->name);
		return -ENOENT;
	}
	if ((ret = priority_free(set, rule->priority, set->rules[i], err)) < 0)
		return ret;
	old = set_remove(set, (size_t)i);
	set_insert(set, rule);
	ret = pol_set_compile(set);
	if (ret < 0) {
		set_remove(set, (size_t)set_find(set, rule->name));
		set_insert(set, old);
		return compile_error(ret, err);
	}
	pol_rule_free(old);
	return 0;
}

int
pol_set_delete(struct pol_set *set, const char *name)
{
	ssize_t i = set_find(set, name);
	struct pol_rule *old;
	int ret;

	if (i < 0)
		return -ENOENT;
	old = set_remove(set, (size_t)i);
	ret = pol_set_compile(set);
	if (ret < 0) {
		set_insert(set, old); /* the old tables still point into it */
		return ret;
	}
	pol_rule_free(old);
	return 0;
}

int
pol_set_move(struct pol_set *set, const char *name, unsigned priority, struct pol_error *err)
{
	ssize_t i = set_find(set, name);
	struct pol_rule *r;
	int ret;

	if (priority > POL_PRIORITY_MAX) {
		pol_error_set(err, 0, 0, "a priority must be 0 to %d", POL_PRIORITY_MAX);
		return -ERANGE;
	}
	if (i < 0) {
		pol_error_set(err, 0, 0, "no rule named '%s'", name);
		return -ENOENT;
	}
	if ((ret = priority_free(set, priority, set->rules[i], err)) < 0)
		return ret;
	r = set_remove(set, (size_t)i);
	r->priority = priority;
	set_insert(set, r);
	return 0;
}
