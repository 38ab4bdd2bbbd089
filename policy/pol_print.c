/*
 * pol_print.c - canonical rule text: what pol_rule_text() and pol_set_text() produce.
 *
 * Statements come in a fixed order (class, from zone, from network, from, to, exceptions,
 * action); values of a list keep the order they were written in.  The text parses back to
 * the same rules.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pol_private.h"

struct buf {
	char *s;
	size_t len, cap;
	int err;
};

static void
buf_add(struct buf *b, const char *s, size_t len)
{
	if (b->err != 0)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *ns;

		while (cap < b->len + len + 1)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (ns == NULL) {
			b->err = -ENOMEM;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A "quoted string" with \" and \\ escaped. */
static void
buf_quoted(struct buf *b, const char *s)
{
	buf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_add(b, "\\", 1);
		buf_add(b, s, 1);
	}
	buf_add(b, "\"", 1);
}

static void
buf_mask(struct buf *b, const char *kw, unsigned mask, const char *const *names)
{
	const char *sep = " ";

	buf_str(b, kw);
	for (unsigned i = 0; names[i] != NULL; i++) {
		if (mask & (1u << i)) {
			buf_str(b, sep);
			buf_str(b, names[i]);
			sep = ", ";
		}
	}
}

static void
buf_idents(struct buf *b, const char *kw, const struct pol_ident_list *l)
{
	static const char *const kinds[] = {"any", "group ", "user ", "domain "};

	buf_str(b, kw);
	for (size_t i = 0; i < l->n; i++) {
		const struct pol_ident *id = &l->v[i];

		buf_str(b, i == 0 ? " " : ", ");
		buf_str(b, kinds[id->kind]);
		if (id->kind != POL_ID_ANY)
			buf_str(b, id->value); /* validated: only word characters */
		if (id->display != NULL) {
			buf_add(b, " ", 1);
			buf_quoted(b, id->display);
		}
	}
}

/* The conditions of c, each as indent + text + ";\n". */
static void
buf_cond(struct buf *b, const struct pol_cond *c, const char *indent)
{
	static const char *const classes[] = {"im", "presence", "call", NULL};
	static const char *const zones[] = {"internal", "federated", "external", NULL};
	static const char *const nets[] = {"internal", "remote", NULL};

	if (c->have & POL_C_CLASS) {
		buf_str(b, indent);
		buf_mask(b, "class", c->classes, classes);
		buf_str(b, ";\n");
	}
	if (c->have & POL_C_ZONE) {
		buf_str(b, indent);
		buf_mask(b, "from zone", c->zones, zones);
		buf_str(b, ";\n");
	}
	if (c->have & POL_C_NET) {
		buf_str(b, indent);
		buf_mask(b, "from network", c->nets, nets);
		buf_str(b, ";\n");
	}
	if (c->have & POL_C_FROM) {
		buf_str(b, indent);
		buf_idents(b, "from", &c->from);
		buf_str(b, ";\n");
	}
	if (c->have & POL_C_TO) {
		buf_str(b, indent);
		buf_idents(b, "to", &c->to);
		buf_str(b, ";\n");
	}
}

static bool
cond_single(const struct pol_cond *c)
{
	return c->have != 0 && (c->have & (c->have - 1)) == 0;
}

static void
buf_rule(struct buf *b, const struct pol_rule *r)
{
	buf_str(b, "rule ");
	buf_quoted(b, r->name);
	buf_printf(b, " priority %u {\n", r->priority);
	buf_cond(b, &r->when, "\t");
	for (size_t i = 0; i < r->nexcept; i++) {
		if (cond_single(&r->except[i])) {
			buf_cond(b, &r->except[i], "\texcept ");
			continue;
		}
		buf_str(b, "\texcept {\n");
		buf_cond(b, &r->except[i], "\t\t");
		buf_str(b, "\t}\n");
	}
	if (r->action == POL_ALLOW) {
		buf_str(b, "\taction allow;\n");
	} else {
		buf_printf(b, "\taction deny %d ", r->code);
		buf_quoted(b, r->reason);
		buf_str(b, ";\n");
	}
	buf_str(b, "}\n");
}

static int
buf_finish(struct buf *b, char **out)
{
	if (b->err == 0 && b->s == NULL)
		buf_add(b, "", 0);
	if (b->err != 0) {
		free(b->s);
		return b->err;
	}
	*out = b->s;
	return 0;
}

int
pol_rule_text(const struct pol_rule *rule, char **out)
{
	struct buf b = {NULL, 0, 0, 0};

	buf_rule(&b, rule);
	return buf_finish(&b, out);
}

int
pol_set_text(const struct pol_set *set, char **out)
{
	struct buf b = {NULL, 0, 0, 0};

	for (size_t i = 0; i < set->n; i++) {
		if (i > 0)
			buf_str(&b, "\n");
		buf_rule(&b, set->rules[i]);
	}
	return buf_finish(&b, out);
}
