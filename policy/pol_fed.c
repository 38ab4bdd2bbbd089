/*
 * pol_fed.c - federation settings: partner domains allowed or blocked, as data and as the
 * text "allow D" / "block D" (one value in AD, one line in the disk cache).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pol_private.h"

void
pol_fed_clear(struct pol_fed *fed)
{
	free(fed->v);
	fed->v = NULL;
	fed->n = 0;
}

static int
fed_index(const struct pol_fed *fed, const char *domain, size_t *at)
{
	size_t lo = 0, hi = fed->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcasecmp(fed->v[mid].domain, domain);
		if (c == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

const struct pol_fed_entry *
pol_fed_find(const struct pol_fed *fed, const char *domain)
{
	size_t at;

	return domain && fed_index(fed, domain, &at) ? &fed->v[at] : NULL;
}

int
pol_fed_set(struct pol_fed *fed, const char *domain, bool allow)
{
	struct pol_fed_entry *nv;
	size_t at;

	if (!pol_domain_valid(domain) || strlen(domain) >= sizeof(fed->v[0].domain))
		return -EINVAL;
	if (fed_index(fed, domain, &at)) {
		fed->v[at].allow = allow;
		return 0;
	}
	if ((nv = realloc(fed->v, (fed->n + 1) * sizeof(*nv))) == NULL)
		return -ENOMEM;
	fed->v = nv;
	memmove(&nv[at + 1], &nv[at], (fed->n - at) * sizeof(*nv));
	for (size_t i = 0; domain[i]; i++)
		nv[at].domain[i] = (char)tolower((unsigned char)domain[i]);
	nv[at].domain[strlen(domain)] = '\0';
	nv[at].allow = allow;
	fed->n++;
	return 0;
}

int
pol_fed_parse_value(const char *value, size_t len, struct pol_fed_entry *e)
{
	char buf[300], *dom;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, value, len);
	buf[len] = '\0';
	if (strncmp(buf, "allow ", 6) == 0)
		e->allow = true;
	else if (strncmp(buf, "block ", 6) == 0)
		e->allow = false;
	else
		return -EINVAL;
	dom = buf + 6;
	if (!pol_domain_valid(dom) || strlen(dom) >= sizeof(e->domain))
		return -EINVAL;
	for (size_t i = 0; i <= strlen(dom); i++)
		e->domain[i] = (char)tolower((unsigned char)dom[i]);
	return 0;
}

int
pol_fed_parse_text(const char *text, struct pol_fed *fed)
{
	const char *p = text;
	int ret = 0;

	fed->v = NULL;
	fed->n = 0;
	while (*p && ret == 0) {
		size_t len = strcspn(p, "\n");
		struct pol_fed_entry e;

		if (len > 0 && p[0] != '#') {
			ret = pol_fed_parse_value(p, len, &e);
			if (ret == 0)
				ret = pol_fed_set(fed, e.domain, e.allow);
		}
		p += len + (p[len] == '\n');
	}
	if (ret < 0)
		pol_fed_clear(fed);
	return ret;
}

int
pol_fed_text(const struct pol_fed *fed, char **out)
{
	size_t size = 0;
	FILE *fp = open_memstream(out, &size);

	if (fp == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < fed->n; i++)
		fprintf(fp, "%s %s\n", fed->v[i].allow ? "allow" : "block", fed->v[i].domain);
	if (fclose(fp) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
