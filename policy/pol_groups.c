/*
 * pol_groups.c - the groups a set names: listing their SIDs, showing their current names,
 * and turning group names written by an administrator into SIDs before parsing.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pol_lex.h"
#include "pol_private.h"

size_t
pol_set_group_count(const struct pol_set *set)
{
	return set->sids.n;
}

const char *
pol_set_group_sid(const struct pol_set *set, size_t idx)
{
	return idx < set->sids.n ? set->sids.keys[idx] : NULL;
}

/* Give every mention of sid in list l the display name; counts the mentions in *hits. */
static int
list_rename(struct pol_ident_list *l, const char *sid, const char *name, size_t *hits)
{
	for (size_t i = 0; i < l->n; i++) {
		struct pol_ident *id = &l->v[i];
		char *copy;

		if (id->kind != POL_ID_GROUP || strcmp(id->value, sid) != 0)
			continue;
		if ((copy = strdup(name)) == NULL)
			return -ENOMEM;
		free(id->display);
		id->display = copy;
		(*hits)++;
	}
	return 0;
}

static int
cond_rename(struct pol_cond *c, const char *sid, const char *name, size_t *hits)
{
	int ret = list_rename(&c->from, sid, name, hits);

	return ret < 0 ? ret : list_rename(&c->to, sid, name, hits);
}

int
pol_set_group_name(struct pol_set *set, const char *sid, const char *name)
{
	size_t hits = 0;
	int ret = 0;

	if (name == NULL || name[0] == '\0' || strlen(name) > 256)
		return -EINVAL;
	for (size_t i = 0; i < set->n && ret == 0; i++) {
		struct pol_rule *r = set->rules[i];

		ret = cond_rename(&r->when, sid, name, &hits);
		for (size_t k = 0; k < r->nexcept && ret == 0; k++)
			ret = cond_rename(&r->except[k], sid, name, &hits);
	}
	if (ret == 0 && hits == 0)
		ret = -ENOENT;
	return ret;
}

/* Write the current token again, quoted when it was a string. */
static void
emit_token(FILE *fp, const struct pol_lex *lx)
{
	static const char punct[] = {
	    [TK_LBRACE] = '{', [TK_RBRACE] = '}', [TK_SEMI] = ';', [TK_COMMA] = ','};

	if (lx->tok == TK_WORD) {
		fputs(lx->text, fp);
	} else if (lx->tok == TK_STRING) {
		fputc('"', fp);
		for (const char *s = lx->text; *s; s++) {
			if (*s == '"' || *s == '\\')
				fputc('\\', fp);
			fputc(*s, fp);
		}
		fputc('"', fp);
	} else {
		fputc(punct[lx->tok], fp);
	}
	fputc(lx->tok == TK_LBRACE || lx->tok == TK_SEMI || lx->tok == TK_RBRACE ? '\n' : ' ', fp);
}

/* The token after "group" is a name, not a SID: write "SID \"name\"" in its place. */
static int
emit_group(FILE *fp, struct pol_lex *lx, pol_group_fn *fn, void *arg, struct pol_error *err)
{
	char sid[200], name[POL_TOKEN_MAX + 1];
	int ret;

	memcpy(name, lx->text, lx->len + 1);
	ret = fn(name, sid, sizeof(sid), arg);
	if (ret < 0) {
		pol_error_set(err, lx->tline, lx->tcol, "group '%s': %s", name,
			      ret == -ENOENT ? "no such group" : "cannot look it up");
		return ret;
	}
	fprintf(fp, "%s \"", sid);
	for (const char *s = name; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputs("\" ", fp);
	return 0;
}

static int
resolve_tokens(FILE *fp, struct pol_lex *lx, pol_group_fn *fn, void *arg, struct pol_error *err,
	       size_t *named)
{
	bool after_group = false;
	int ret;

	while ((ret = pol_lex_next(lx)) == 0 && lx->tok != TK_EOF) {
		bool is_name = after_group && (lx->tok == TK_WORD || lx->tok == TK_STRING) &&
			       strncmp(lx->text, "S-1-", 4) != 0;

		if (is_name) {
			if ((ret = emit_group(fp, lx, fn, arg, err)) < 0)
				return ret;
			(*named)++;
		} else {
			emit_token(fp, lx);
		}
		after_group = lx->tok == TK_WORD && strcmp(lx->text, "group") == 0;
	}
	return ret;
}

int
pol_text_resolve_groups(const char *text, size_t len, pol_group_fn *fn, void *arg, char **out,
			struct pol_error *err)
{
	struct pol_lex lx;
	char *buf = NULL;
	size_t blen = 0, named = 0;
	FILE *fp;
	int ret;

	*out = NULL;
	if (len > POL_TEXT_MAX)
		return -E2BIG;
	if ((fp = open_memstream(&buf, &blen)) == NULL)
		return -ENOMEM;
	pol_lex_init(&lx, text, len, err);
	ret = resolve_tokens(fp, &lx, fn, arg, err, &named);
	if (fclose(fp) != 0 && ret == 0)
		ret = -ENOMEM;
	if (ret == 0 && named == 0) {
		/* nothing to replace: keep the text as written, so errors point into it */
		free(buf);
		buf = strndup(text, len);
		ret = buf ? 0 : -ENOMEM;
	}
	if (ret == 0)
		*out = buf;
	else
		free(buf);
	return ret;
}
