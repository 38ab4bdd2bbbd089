/*
 * pol_table.c - interned-string hash tables used to compile a rule set for fast evaluation.
 *
 * Keys are not copied: they point into the rules of the set that owns the table, and the
 * table is rebuilt whenever those rules change.  Lookups never allocate.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pol_table.h"

int
pol_table_init(struct pol_table *t, size_t capacity, bool fold)
{
	size_t slots = 16;

	memset(t, 0, sizeof(*t));
	while (slots < capacity * 2)
		slots *= 2;
	t->fold = fold;
	t->cap = capacity;
	t->mask = slots - 1;
	t->slots = calloc(slots, sizeof(*t->slots));
	t->keys = calloc(capacity ? capacity : 1, sizeof(*t->keys));
	t->lens = calloc(capacity ? capacity : 1, sizeof(*t->lens));
	if (t->slots == NULL || t->keys == NULL || t->lens == NULL) {
		pol_table_clear(t);
		return -ENOMEM;
	}
	return 0;
}

void
pol_table_clear(struct pol_table *t)
{
	free(t->slots);
	free(t->keys);
	free(t->lens);
	memset(t, 0, sizeof(*t));
}

int
pol_table_intern(struct pol_table *t, const char *key, size_t len, uint32_t *id, bool *added)
{
	uint64_t h = table_hash(t, key, len);
	size_t slot = table_probe(t, key, len, h);

	*added = t->slots[slot].id1 == 0;
	if (!*added) {
		*id = t->slots[slot].id1 - 1;
		return 0;
	}
	if (t->n == t->cap)
		return -E2BIG;
	t->keys[t->n] = key;
	t->lens[t->n] = len;
	t->slots[slot].tag = (uint32_t)(h >> 32);
	t->slots[slot].id1 = (uint32_t)++t->n;
	*id = (uint32_t)(t->n - 1);
	return 0;
}
