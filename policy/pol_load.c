/*
 * pol_load.c - turn rule text into a rule or a checked, compiled set; read a rules file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pol_private.h"

static void
parsed_free(struct pol_parsed *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		pol_rule_free(v[i].rule);
	free(v);
}

int
pol_rule_parse(const char *text, size_t len, struct pol_rule **out, struct pol_error *err)
{
	struct pol_parsed *v = NULL;
	size_t n = 0;
	int ret;

	if ((ret = pol_parse_rules(text, len, 1, &v, &n, err)) < 0)
		goto done;
	if (n == 0) {
		pol_error_set(err, 1, 1, "expected 'rule', found end of input");
		ret = -EINVAL;
		goto done;
	}
	*out = v[0].rule;
	n = 0;
done:
	parsed_free(v, n);
	return ret;
}

/* Names must be unique: the second use of one is the error. */
static int
check_names(const struct pol_parsed *v, size_t n, struct pol_error *err)
{
	struct pol_table t;
	int ret;

	if ((ret = pol_table_init(&t, n, false)) < 0)
		return ret;
	for (size_t i = 0; i < n && ret == 0; i++) {
		const char *name = v[i].rule->name;
		uint32_t first;
		bool added;

		ret = pol_table_intern(&t, name, strlen(name), &first, &added);
		if (ret == 0 && !added) {
			pol_error_set(err, v[i].name_line, v[i].name_col,
				      "rule name '%s' used twice (first at line %u)", name,
				      v[first].name_line);
			ret = -EINVAL;
		}
	}
	pol_table_clear(&t);
	return ret;
}

static int
cmp_parsed(const void *a, const void *b)
{
	const struct pol_parsed *x = a, *y = b;

	if (x->rule->priority != y->rule->priority)
		return x->rule->priority < y->rule->priority ? -1 : 1;
	/* same priority: keep text order, so the later one is reported */
	if (x->prio_line != y->prio_line)
		return x->prio_line < y->prio_line ? -1 : 1;
	return x->prio_col < y->prio_col ? -1 : x->prio_col > y->prio_col;
}

/* Sort by priority; priorities must be unique. */
static int
sort_priorities(struct pol_parsed *v, size_t n, struct pol_error *err)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_parsed);
	for (size_t i = 1; i < n; i++) {
		if (v[i].rule->priority == v[i - 1].rule->priority) {
			pol_error_set(err, v[i].prio_line, v[i].prio_col,
				      "priority %u used twice (first by rule '%s')",
				      v[i].rule->priority, v[i - 1].rule->name);
			return -EINVAL;
		}
	}
	return 0;
}

static int
set_from_parsed(struct pol_parsed *v, size_t n, struct pol_set **out, struct pol_error *err)
{
	struct pol_set *set = NULL;
	int ret;

	if ((ret = pol_set_alloc(&set)) < 0)
		goto done;
	set->rules = calloc(n ? n : 1, sizeof(*set->rules));
	set->combos = calloc(n ? n : 1, sizeof(*set->combos));
	if (set->rules == NULL || set->combos == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	set->cap = n ? n : 1;
	for (size_t i = 0; i < n; i++) {
		set->rules[i] = v[i].rule;
		set->combos[i] = pol_cond_combos(&v[i].rule->when);
		v[i].rule = NULL;
	}
	set->n = n;
	if ((ret = pol_set_compile(set)) == -E2BIG)
		pol_error_set(err, 0, 0, "more than %d distinct group SIDs in the rules",
			      POL_SIDS_MAX);
	if (ret < 0)
		goto done;
	*out = set;
	set = NULL;
done:
	if (ret == -ENOMEM)
		pol_error_set(err, 0, 0, "out of memory");
	pol_set_free(set);
	return ret;
}

int
pol_set_parse(const char *text, size_t len, struct pol_set **out, struct pol_error *err)
{
	struct pol_parsed *v = NULL;
	size_t n = 0;
	int ret;

	if ((ret = pol_parse_rules(text, len, POL_RULES_MAX, &v, &n, err)) < 0 ||
	    (ret = check_names(v, n, err)) < 0 || (ret = sort_priorities(v, n, err)) < 0)
		goto done;
	ret = set_from_parsed(v, n, out, err);
done:
	parsed_free(v, n);
	return ret;
}

/* Read at most POL_TEXT_MAX + 1 bytes of fd into *buf; *len is what was read. */
static int
read_all(int fd, char **buf, size_t *len)
{
	size_t cap = POL_TEXT_MAX + 1, n = 0;
	char *b = malloc(cap);

	if (b == NULL)
		return -ENOMEM;
	while (n < cap) {
		ssize_t r = read(fd, b + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int ret = -errno;

			free(b);
			return ret;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*buf = b;
	*len = n;
	return 0;
}

int
pol_set_load_file(const char *path, struct pol_set **out, struct pol_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pol_error_set(err, 0, 0, "cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = read_all(fd, &text, &len);
	close(fd);
	if (ret < 0) {
		pol_error_set(err, 0, 0, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = pol_set_parse(text, len, out, err);
	free(text);
	return ret;
}
