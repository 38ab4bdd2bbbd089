/*
 * pol_lex.c - tokenizer for rule text: words, "strings", { } ; , and # comments.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pol_lex.h"

void
pol_lex_init(struct pol_lex *lx, const char *text, size_t len, struct pol_error *err)
{
	memset(lx, 0, sizeof(*lx));
	lx->p = text;
	lx->end = text + len;
	lx->line = 1;
	lx->col = 1;
	lx->err = err;
}

static bool
lex_word_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("_.:@+%*/=!~-", c) != NULL;
}

static void
lex_advance(struct pol_lex *lx)
{
	if (*lx->p == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->p++;
}

static void
lex_skip_space(struct pol_lex *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lex_advance(lx);
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			lex_advance(lx);
		} else {
			break;
		}
	}
}

static int
lex_word(struct pol_lex *lx)
{
	while (lx->p < lx->end && lex_word_char((unsigned char)*lx->p)) {
		if (lx->len == POL_TOKEN_MAX) {
			pol_error_set(lx->err, lx->tline, lx->tcol, "word longer than %d bytes",
				      POL_TOKEN_MAX);
			return -EINVAL;
		}
		lx->text[lx->len++] = *lx->p;
		lex_advance(lx);
	}
	lx->tok = TK_WORD;
	return 0;
}

/* One character of a string body at lx->p; returns 1 at the closing quote. */
static int
lex_string_char(struct pol_lex *lx)
{
	unsigned char c = (unsigned char)*lx->p;

	if (c == '"') {
		lex_advance(lx);
		return 1;
	}
	if (c == '\\') {
		lex_advance(lx);
		if (lx->p == lx->end || (*lx->p != '"' && *lx->p != '\\')) {
			pol_error_set(lx->err, lx->line, lx->col,
				      "expected '\"' or '\\' after '\\' in a string");
			return -EINVAL;
		}
		c = (unsigned char)*lx->p;
	} else if (c < 0x20 || c == 0x7f) {
		if (c == '\n' || c == '\r')
			pol_error_set(lx->err, lx->tline, lx->tcol, "unterminated string");
		else
			pol_error_set(lx->err, lx->line, lx->col, "control character in a string");
		return -EINVAL;
	}
	if (lx->len == POL_TOKEN_MAX) {
		pol_error_set(lx->err, lx->tline, lx->tcol, "string longer than %d bytes",
			      POL_TOKEN_MAX);
		return -EINVAL;
	}
	lx->text[lx->len++] = (char)c;
	lex_advance(lx);
	return 0;
}

static int
lex_string(struct pol_lex *lx)
{
	int ret = 0;

	lex_advance(lx); /* opening quote */
	while (ret == 0) {
		if (lx->p == lx->end) {
			pol_error_set(lx->err, lx->tline, lx->tcol, "unterminated string");
			return -EINVAL;
		}
		ret = lex_string_char(lx);
	}
	if (ret < 0)
		return ret;
	lx->tok = TK_STRING;
	return 0;
}

int
pol_lex_next(struct pol_lex *lx)
{
	static const char punct[] = "{};,";
	static const enum pol_tok ptok[] = {TK_LBRACE, TK_RBRACE, TK_SEMI, TK_COMMA};
	const char *pc;
	unsigned char c;

	lex_skip_space(lx);
	lx->tline = lx->line;
	lx->tcol = lx->col;
	lx->len = 0;
	lx->text[0] = '\0';
	if (lx->p == lx->end) {
		lx->tok = TK_EOF;
		return 0;
	}
	c = (unsigned char)*lx->p;
	if (c != '\0' && (pc = strchr(punct, c)) != NULL) {
		lx->tok = ptok[pc - punct];
		lx->text[0] = (char)c;
		lx->text[1] = '\0';
		lex_advance(lx);
		return 0;
	}
	if (c == '"') {
		int ret = lex_string(lx);

		lx->text[lx->len] = '\0';
		return ret;
	}
	if (lex_word_char(c)) {
		int ret = lex_word(lx);

		lx->text[lx->len] = '\0';
		return ret;
	}
	if (c >= 0x21 && c < 0x7f)
		pol_error_set(lx->err, lx->line, lx->col, "unexpected character '%c'", c);
	else
		pol_error_set(lx->err, lx->line, lx->col, "unexpected byte 0x%02x", c);
	return -EINVAL;
}

const char *
pol_lex_describe(const struct pol_lex *lx, char *buf, size_t size)
{
	switch (lx->tok) {
	case TK_EOF:
		return "end of input";
	case TK_STRING:
		snprintf(buf, size, "string \"%.40s\"", lx->text);
		return buf;
	default:
		snprintf(buf, size, "'%.40s'", lx->text);
		return buf;
	}
}
