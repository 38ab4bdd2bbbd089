/*
 * pol_rule.c - the rule model: value checks, identity lists, freeing, accessors.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pol_private.h"

void
pol_error_set(struct pol_error *err, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->line = line;
	err->column = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

const char *
pol_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case -EINVAL:
		return "invalid rule text or argument";
	case -E2BIG:
		return "policy too large";
	case -ENOMEM:
		return "out of memory";
	case -EEXIST:
		return "rule name or priority already in use";
	case -ENOENT:
		return "no such rule";
	case -ERANGE:
		return "priority out of range";
	default:
		return code < 0 ? strerror(-code) : "unknown error";
	}
}

const char *
pol_reason_default(int code)
{
	/* clang-format off */
	static const struct {
		int code;
		const char *reason;
	} reasons[] = {
		{400, "Bad Request"},             {401, "Unauthorized"},
		{403, "Forbidden"},               {404, "Not Found"},
		{405, "Method Not Allowed"},      {406, "Not Acceptable"},
		{408, "Request Timeout"},         {410, "Gone"},
		{415, "Unsupported Media Type"},  {433, "Anonymity Disallowed"},
		{480, "Temporarily Unavailable"}, {486, "Busy Here"},
		{488, "Not Acceptable Here"},     {500, "Server Internal Error"},
		{501, "Not Implemented"},         {503, "Service Unavailable"},
		{600, "Busy Everywhere"},         {603, "Decline"},
		{604, "Does Not Exist Anywhere"}, {606, "Not Acceptable"},
	};
	/* clang-format on */

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].reason;
	return "Denied";
}

/* A decimal number without leading zeros, not above max; advances *s past it. */
static bool
sid_number(const char **s, unsigned long long max)
{
	const char *p = *s;
	unsigned long long v = 0;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return false;
	}
	*s = p;
	return true;
}

bool
pol_sid_valid(const char *s)
{
	int nsub = 0;

	if (strncmp(s, "S-1-", 4) != 0)
		return false;
	s += 4;
	if (!sid_number(&s, 0xffffffffffffULL))
		return false;
	while (*s == '-') {
		s++;
		if (!sid_number(&s, 0xffffffffULL) || ++nsub > 15)
			return false;
	}
	return *s == '\0' && nsub > 0;
}

bool
pol_domain_valid(const char *s)
{
	size_t label = 0, len = strlen(s);

	if (len == 0 || len > POL_DOMAIN_MAX)
		return false;
	for (; *s != '\0'; s++) {
		char c = *s;

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

const char *
pol_uri_host(const char *uri, size_t *len)
{
	const char *host = gw_uri_addr(uri), *at = strrchr(host, '@');

	if (at != NULL)
		host = at + 1;
	*len = strcspn(host, ";:>?");
	return host;
}

bool
pol_uri_valid(const char *s)
{
	const char *aor = gw_uri_addr(s), *at;

	if (aor == s || strlen(s) > POL_URI_MAX)
		return false;
	at = strchr(aor, '@');
	if (at == NULL || at == aor || strchr(at + 1, '@') != NULL)
		return false;
	for (const char *p = aor; p < at; p++)
		if ((unsigned char)*p <= 0x20 || strchr("\"<>;\\", *p) != NULL)
			return false;
	return pol_domain_valid(at + 1);
}

bool
pol_name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > POL_NAME_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       len;
}

bool
pol_ident_dup(const struct pol_ident_list *l, enum pol_ident_kind kind, const char *value)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct pol_ident *id = &l->v[i];

		if (id->kind != kind)
			continue;
		if (kind == POL_ID_ANY || (kind == POL_ID_GROUP && strcmp(id->value, value) == 0))
			return true;
		if (kind == POL_ID_DOMAIN && strcasecmp(id->value, value) == 0)
			return true;
		if (kind == POL_ID_USER &&
		    strcasecmp(gw_uri_addr(id->value), gw_uri_addr(value)) == 0)
			return true;
	}
	return false;
}

int
pol_ident_add(struct pol_ident_list *l, enum pol_ident_kind kind, const char *value,
	      const char *display)
{
	struct pol_ident *v = NULL, *id;

	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	l->v = v;
	id = &v[l->n];
	memset(id, 0, sizeof(*id));
	id->kind = kind;
	id->id = POL_NO_ID;
	id->value = strdup(value != NULL ? value : "");
	id->display = display != NULL ? strdup(display) : NULL;
	if (id->value == NULL || (display != NULL && id->display == NULL)) {
		free(id->value);
		free(id->display);
		return -ENOMEM;
	}
	l->n++;
	l->kinds |= 1u << kind;
	return 0;
}

static void
ident_list_clear(struct pol_ident_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].value);
		free(l->v[i].display);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void
pol_cond_clear(struct pol_cond *c)
{
	ident_list_clear(&c->from);
	ident_list_clear(&c->to);
	memset(c, 0, sizeof(*c));
}

void
pol_rule_free(struct pol_rule *rule)
{
	if (rule == NULL)
		return;
	pol_cond_clear(&rule->when);
	for (size_t i = 0; i < rule->nexcept; i++)
		pol_cond_clear(&rule->except[i]);
	free(rule->except);
	free(rule->name);
	free(rule->reason);
	free(rule);
}

const char *
pol_rule_name(const struct pol_rule *rule)
{
	return rule->name;
}

unsigned
pol_rule_priority(const struct pol_rule *rule)
{
	return rule->priority;
}
