/* helpdesk-router: the operator table and least-loaded selection. */
#include <stdlib.h>
#include <string.h>

#include "operators.h"

void
hd_table_init(struct hd_table *t, unsigned max_calls)
{
	memset(t, 0, sizeof(*t));
	t->max_calls = max_calls ? max_calls : 1;
}

void
hd_table_free(struct hd_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->ops[i].name);
		free(t->ops[i].contact);
		free(t->ops[i].password);
	}
	free(t->ops);
	t->ops = NULL;
	t->n = 0;
}

struct hd_operator *
hd_op_find(struct hd_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->ops[i].name, name) == 0)
			return &t->ops[i];
	return NULL;
}

struct hd_operator *
hd_op_by_contact(struct hd_table *t, const char *contact)
{
	size_t i;

	for (i = 0; contact && i < t->n; i++)
		if (t->ops[i].contact && strcmp(t->ops[i].contact, contact) == 0)
			return &t->ops[i];
	return NULL;
}

int
hd_op_add(struct hd_table *t, const char *name, const char *contact)
{
	struct hd_operator *ops, *op;

	if (hd_op_find(t, name))
		return -1;
	ops = realloc(t->ops, (t->n + 1) * sizeof(*ops));
	if (!ops)
		return -1;
	t->ops = ops;
	op = &ops[t->n];
	memset(op, 0, sizeof(*op));
	op->name = strdup(name);
	op->contact = contact ? strdup(contact) : NULL;
	op->is_static = contact != NULL;
	op->idle_seq = ++t->seq;
	if (!op->name || (contact && !op->contact)) {
		free(op->name);
		free(op->contact);
		return -1;
	}
	t->n++;
	return 0;
}

int
hd_op_set_password(struct hd_table *t, const char *name, const char *password)
{
	struct hd_operator *op = hd_op_find(t, name);
	char *copy;

	if (!op || !password || !*password)
		return -1;
	copy = strdup(password);
	if (!copy)
		return -1;
	free(op->password);
	op->password = copy;
	return 0;
}

int
hd_op_register(struct hd_table *t, const char *name, const char *contact, unsigned expires,
	       time_t now)
{
	struct hd_operator *op = hd_op_find(t, name);
	char *copy;

	if (!op) {
		if (expires == 0)
			return 0;
		if (hd_op_add(t, name, NULL) < 0)
			return -1;
		op = hd_op_find(t, name);
	}
	if (expires == 0 || !contact) {
		op->expires = 0;
		return 0;
	}
	copy = strdup(contact);
	if (!copy)
		return -1;
	free(op->contact);
	op->contact = copy;
	op->is_static = 0;
	op->expires = now + expires;
	return 0;
}

int
hd_op_reachable(const struct hd_operator *op, time_t now)
{
	if (!op->contact)
		return 0;
	return op->is_static || op->expires > now;
}

static int
op_before(const struct hd_operator *a, const struct hd_operator *b)
{
	if (a->load != b->load)
		return a->load < b->load;
	return a->idle_seq < b->idle_seq;
}

size_t
hd_select(struct hd_table *t, time_t now, struct hd_operator **out, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < t->n && max > 0; i++) {
		struct hd_operator *op = &t->ops[i];

		if (!hd_op_reachable(op, now) || op->load >= t->max_calls)
			continue;
		/* insertion sort (the table is small); the worst falls off at max */
		if (n < max)
			j = n++;
		else if (op_before(op, out[max - 1]))
			j = max - 1;
		else
			continue;
		for (; j > 0 && op_before(op, out[j - 1]); j--)
			out[j] = out[j - 1];
		out[j] = op;
	}
	return n;
}

void
hd_load_up(struct hd_table *t, const char *contact)
{
	struct hd_operator *op = hd_op_by_contact(t, contact);

	if (op)
		op->load++;
}

void
hd_load_down(struct hd_table *t, const char *contact)
{
	struct hd_operator *op = hd_op_by_contact(t, contact);

	if (op && op->load > 0) {
		op->load--;
		op->idle_seq = ++t->seq;
	}
}
