/*
 * pol_parse.c - recursive-descent parser for rule text (grammar in gwpolicy.h and README.md).
 *
 * Every error names the line and column of the offending token and what was expected there.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pol_lex.h"

struct parser {
	struct pol_lex lx;
	struct pol_error *err;
};

struct keyword {
	const char *name;
	unsigned bit;
};

/* clang-format off */
static const struct keyword class_words[] = {
	{"im", POL_CLASS_IM}, {"presence", POL_CLASS_PRESENCE}, {"call", POL_CLASS_CALL},
	{"any", POL_CLASS_IM | POL_CLASS_PRESENCE | POL_CLASS_CALL}, {NULL, 0}};
static const struct keyword zone_words[] = {{"internal", POL_ZONE_INTERNAL},
					    {"federated", POL_ZONE_FEDERATED},
					    {"external", POL_ZONE_EXTERNAL},
					    {NULL, 0}};
static const struct keyword net_words[] = {
	{"internal", POL_NET_INTERNAL}, {"remote", POL_NET_REMOTE}, {NULL, 0}};
/* clang-format on */

static int
next(struct parser *ps)
{
	return pol_lex_next(&ps->lx);
}

static int
fail_expected(struct parser *ps, const char *what)
{
	char buf[64];

	pol_error_set(ps->err, ps->lx.tline, ps->lx.tcol, "expected %s, found %s", what,
		      pol_lex_describe(&ps->lx, buf, sizeof(buf)));
	return -EINVAL;
}

static int
fail_here(struct parser *ps, const char *msg)
{
	pol_error_set(ps->err, ps->lx.tline, ps->lx.tcol, "%s", msg);
	return -EINVAL;
}

static bool
is_word(const struct parser *ps, const char *word)
{
	return ps->lx.tok == TK_WORD && strcmp(ps->lx.text, word) == 0;
}

/* The current token must be the given punctuation; consume it. */
static int
expect(struct parser *ps, enum pol_tok tok, const char *what)
{
	if (ps->lx.tok != tok)
		return fail_expected(ps, what);
	return next(ps);
}

/* A decimal number in [min, max] without sign or leading zeros. */
static int
parse_number(struct parser *ps, unsigned min, unsigned max, const char *what, unsigned *out)
{
	const char *s = ps->lx.text;
	unsigned long v = 0;

	if (ps->lx.tok != TK_WORD || s[0] < '0' || s[0] > '9')
		return fail_expected(ps, what);
	if (strspn(s, "0123456789") != ps->lx.len || (s[0] == '0' && s[1] != '\0') ||
	    ps->lx.len > 9 || (v = strtoul(s, NULL, 10)) < min || v > max) {
		pol_error_set(ps->err, ps->lx.tline, ps->lx.tcol, "%s must be %u to %u", what, min,
			      max);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return next(ps);
}

/* kw ("," kw)* into a bit mask; duplicates and "any" mixed with others are errors. */
static int
parse_mask(struct parser *ps, const struct keyword *kw, const char *what, unsigned *mask)
{
	int ret = 0;
	size_t count = 0;

	*mask = 0;
	for (;;) {
		const struct keyword *k = kw;

		while (k->name != NULL && !is_word(ps, k->name))
			k++;
		if (k->name == NULL)
			return fail_expected(ps, what);
		if ((*mask & k->bit) != 0 || (count > 0 && strcmp(k->name, "any") == 0))
			return fail_here(ps, "value repeated or combined with 'any'");
		*mask |= k->bit;
		count++;
		if ((ret = next(ps)) < 0 || ps->lx.tok != TK_COMMA)
			return ret;
		if ((ret = next(ps)) < 0)
			return ret;
	}
}

static int
parse_ident_value(struct parser *ps, enum pol_ident_kind kind, struct pol_ident_list *l)
{
	static const char *const bad[] = {NULL, "a SID like S-1-5-21-1-2-3-1105",
					  "a SIP URI like sip:user@example.com",
					  "a domain like example.com"};
	char value[POL_TOKEN_MAX + 1];
	bool ok;
	int ret;

	if (ps->lx.tok != TK_WORD && ps->lx.tok != TK_STRING)
		return fail_expected(ps, bad[kind]);
	ok = kind == POL_ID_GROUP  ? pol_sid_valid(ps->lx.text)
	     : kind == POL_ID_USER ? pol_uri_valid(ps->lx.text)
				   : pol_domain_valid(ps->lx.text);
	if (!ok)
		return fail_expected(ps, bad[kind]);
	if (pol_ident_dup(l, kind, ps->lx.text))
		return fail_here(ps, "value repeated in the list");
	memcpy(value, ps->lx.text, ps->lx.len + 1);
	if ((ret = next(ps)) < 0)
		return ret;
	if (kind != POL_ID_GROUP || ps->lx.tok != TK_STRING)
		return pol_ident_add(l, kind, value, NULL);
	if (ps->lx.len == 0 || ps->lx.len > POL_NAME_MAX * 4)
		return fail_here(ps, "a group's display name must be 1 to 256 bytes");
	if ((ret = pol_ident_add(l, kind, value, ps->lx.text)) < 0)
		return ret;
	return next(ps);
}

/* ident ("," ident)*  where ident = any | group SID [STRING] | user URI | domain DOMAIN */
static int
parse_idents(struct parser *ps, struct pol_ident_list *l)
{
	static const char *const kinds[] = {"any", "group", "user", "domain"};
	int ret;

	for (;;) {
		size_t k = 0;

		while (k < 4 && !is_word(ps, kinds[k]))
			k++;
		if (k == 4)
			return fail_expected(ps, "any, group, user or domain");
		if (l->n >= POL_LIST_MAX)
			return fail_here(ps, "too many values in one list");
		if (l->n > 0 && (k == POL_ID_ANY || l->v[0].kind == POL_ID_ANY))
			return fail_here(ps, "'any' cannot be combined with other values");
		if ((ret = next(ps)) < 0)
			return ret;
		if (k == POL_ID_ANY)
			ret = pol_ident_add(l, POL_ID_ANY, NULL, NULL);
		else
			ret = parse_ident_value(ps, (enum pol_ident_kind)k, l);
		if (ret < 0 || ps->lx.tok != TK_COMMA)
			return ret;
		if ((ret = next(ps)) < 0)
			return ret;
	}
}

static int
mark_kind(struct parser *ps, struct pol_cond *c, unsigned kind, const char *name)
{
	if ((c->have & kind) == 0) {
		c->have |= kind;
		return 0;
	}
	pol_error_set(ps->err, ps->lx.tline, ps->lx.tcol, "'%s' given twice", name);
	return -EINVAL;
}

/* One condition starting at its keyword (class / from / to), without the ';'. */
static int
parse_cond(struct parser *ps, struct pol_cond *c)
{
	bool from = is_word(ps, "from");
	int ret;

	if (is_word(ps, "class")) {
		if ((ret = mark_kind(ps, c, POL_C_CLASS, "class")) < 0 || (ret = next(ps)) < 0)
			return ret;
		return parse_mask(ps, class_words, "im, presence, call or any", &c->classes);
	}
	if ((ret = next(ps)) < 0)
		return ret;
	if (from && is_word(ps, "zone")) {
		if ((ret = mark_kind(ps, c, POL_C_ZONE, "from zone")) < 0 || (ret = next(ps)) < 0)
			return ret;
		return parse_mask(ps, zone_words, "internal, federated or external", &c->zones);
	}
	if (from && is_word(ps, "network")) {
		if ((ret = mark_kind(ps, c, POL_C_NET, "from network")) < 0 || (ret = next(ps)) < 0)
			return ret;
		return parse_mask(ps, net_words, "internal or remote", &c->nets);
	}
	if ((ret = mark_kind(ps, c, from ? POL_C_FROM : POL_C_TO, from ? "from" : "to")) < 0)
		return ret;
	return parse_idents(ps, from ? &c->from : &c->to);
}

static bool
at_cond(const struct parser *ps)
{
	return is_word(ps, "class") || is_word(ps, "from") || is_word(ps, "to");
}

static int
parse_except_block(struct parser *ps, struct pol_cond *c)
{
	int ret;

	if ((ret = next(ps)) < 0) /* '{' */
		return ret;
	if (ps->lx.tok == TK_RBRACE)
		return fail_expected(ps, "a condition in the exception");
	while (ps->lx.tok != TK_RBRACE) {
		if (is_word(ps, "except"))
			return fail_here(ps, "exceptions cannot be nested");
		if (!at_cond(ps))
			return fail_expected(ps, "class, from, to or '}'");
		if ((ret = parse_cond(ps, c)) < 0 || (ret = expect(ps, TK_SEMI, "';'")) < 0)
			return ret;
	}
	return next(ps);
}

static int
parse_except(struct parser *ps, struct pol_rule *r)
{
	struct pol_cond *v;
	int ret;

	if (r->nexcept >= POL_EXCEPT_MAX)
		return fail_here(ps, "too many exceptions in one rule");
	v = realloc(r->except, (r->nexcept + 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	r->except = v;
	memset(&v[r->nexcept], 0, sizeof(*v));
	r->nexcept++;
	if ((ret = next(ps)) < 0)
		return ret;
	if (ps->lx.tok == TK_LBRACE)
		return parse_except_block(ps, &v[r->nexcept - 1]);
	if (!at_cond(ps))
		return fail_expected(ps, "class, from, to or '{' after 'except'");
	if ((ret = parse_cond(ps, &v[r->nexcept - 1])) < 0)
		return ret;
	return expect(ps, TK_SEMI, "';'");
}

static int
parse_deny(struct parser *ps, struct pol_rule *r)
{
	unsigned code = 403;
	int ret;

	if (ps->lx.tok == TK_WORD && (ret = parse_number(ps, 400, 699, "a SIP code", &code)) < 0)
		return ret;
	r->code = (int)code;
	if (ps->lx.tok == TK_STRING) {
		if (ps->lx.len == 0 || ps->lx.len > POL_REASON_MAX)
			return fail_here(ps, "a reason phrase must be 1 to 128 bytes");
		r->reason = strdup(ps->lx.text);
		if (r->reason == NULL)
			return -ENOMEM;
		return next(ps);
	}
	r->reason = strdup(pol_reason_default(r->code));
	return r->reason == NULL ? -ENOMEM : 0;
}

static int
parse_action(struct parser *ps, struct pol_rule *r)
{
	int ret;

	if (r->action != 0)
		return fail_here(ps, "'action' given twice");
	if ((ret = next(ps)) < 0)
		return ret;
	if (is_word(ps, "allow")) {
		r->action = POL_ALLOW;
		ret = next(ps);
	} else if (is_word(ps, "deny")) {
		r->action = POL_DENY;
		if ((ret = next(ps)) == 0)
			ret = parse_deny(ps, r);
	} else {
		return fail_expected(ps, "allow or deny");
	}
	if (ret < 0)
		return ret;
	return expect(ps, TK_SEMI, "';'");
}

static int
parse_body(struct parser *ps, struct pol_rule *r)
{
	int ret = 0;

	while (ret == 0 && ps->lx.tok != TK_RBRACE) {
		if (at_cond(ps)) {
			if ((ret = parse_cond(ps, &r->when)) == 0)
				ret = expect(ps, TK_SEMI, "';'");
		} else if (is_word(ps, "except")) {
			ret = parse_except(ps, r);
		} else if (is_word(ps, "action")) {
			ret = parse_action(ps, r);
		} else {
			ret = fail_expected(ps, "class, from, to, except, action or '}'");
		}
	}
	if (ret == 0 && r->action == 0) {
		pol_error_set(ps->err, ps->lx.tline, ps->lx.tcol, "rule '%s' has no action",
			      r->name);
		ret = -EINVAL;
	}
	return ret;
}

static int
parse_rule(struct parser *ps, struct pol_parsed *pr)
{
	struct pol_rule *r = pr->rule;
	int ret;

	if (!is_word(ps, "rule"))
		return fail_expected(ps, "'rule'");
	if ((ret = next(ps)) < 0)
		return ret;
	pr->name_line = ps->lx.tline;
	pr->name_col = ps->lx.tcol;
	if ((ps->lx.tok != TK_WORD && ps->lx.tok != TK_STRING) || !pol_name_valid(ps->lx.text))
		return fail_expected(ps, "a rule name (1-64 letters, digits, '.', '_', '-')");
	if ((r->name = strdup(ps->lx.text)) == NULL)
		return -ENOMEM;
	if ((ret = next(ps)) < 0)
		return ret;
	if (!is_word(ps, "priority"))
		return fail_expected(ps, "'priority'");
	if ((ret = next(ps)) < 0)
		return ret;
	pr->prio_line = ps->lx.tline;
	pr->prio_col = ps->lx.tcol;
	if ((ret = parse_number(ps, 0, POL_PRIORITY_MAX, "a priority", &r->priority)) < 0 ||
	    (ret = expect(ps, TK_LBRACE, "'{'")) < 0 || (ret = parse_body(ps, r)) < 0)
		return ret;
	return next(ps); /* '}' */
}

static void
parsed_free(struct pol_parsed *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pol_rule_free(v[i].rule);
	free(v);
}

/* Append an empty rule to *v; the caller parses into it. */
static int
parsed_grow(struct pol_parsed **v, size_t n, size_t *cap)
{
	struct pol_parsed *nv;

	if (n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		nv = realloc(*v, *cap * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		*v = nv;
	}
	memset(&(*v)[n], 0, sizeof(**v));
	(*v)[n].rule = calloc(1, sizeof(struct pol_rule));
	return (*v)[n].rule == NULL ? -ENOMEM : 0;
}

int
pol_parse_rules(const char *text, size_t len, size_t max, struct pol_parsed **out, size_t *n,
		struct pol_error *err)
{
	struct parser ps;
	struct pol_parsed *v = NULL;
	size_t nv = 0, cap = 0;
	int ret;

	if (len > POL_TEXT_MAX) {
		pol_error_set(err, 0, 0, "rule text larger than %d bytes", POL_TEXT_MAX);
		return -E2BIG;
	}
	pol_lex_init(&ps.lx, text, len, err);
	ps.err = err;
	if ((ret = next(&ps)) < 0)
		goto done;
	while (ps.lx.tok != TK_EOF) {
		if (nv == max) {
			ret = max == 1 ? fail_expected(&ps, "end of input after the rule")
				       : fail_here(&ps, "too many rules");
			ret = max == 1 ? ret : -E2BIG;
			goto done;
		}
		if ((ret = parsed_grow(&v, nv, &cap)) < 0)
			goto done;
		nv++;
		if ((ret = parse_rule(&ps, &v[nv - 1])) < 0)
			goto done;
	}
	*out = v;
	*n = nv;
	v = NULL;
	nv = 0;
done:
	if (ret == -ENOMEM)
		pol_error_set(err, 0, 0, "out of memory");
	parsed_free(v, nv);
	return ret;
}
