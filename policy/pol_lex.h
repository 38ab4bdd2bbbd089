/*
 * pol_lex.h - tokenizer for rule text (private to libgwpolicy).
 */
#ifndef GW_POL_LEX_H
#define GW_POL_LEX_H

#include <stddef.h>

#include "pol_private.h"

enum pol_tok { TK_EOF, TK_WORD, TK_STRING, TK_LBRACE, TK_RBRACE, TK_SEMI, TK_COMMA };

struct pol_lex {
	const char *p, *end;
	unsigned line, col; /* position of p */
	/* the current token */
	enum pol_tok tok;
	unsigned tline, tcol;
	char text[POL_TOKEN_MAX + 1];
	size_t len;
	struct pol_error *err;
};

void pol_lex_init(struct pol_lex *lx, const char *text, size_t len, struct pol_error *err);
/* Advance to the next token; -EINVAL with err filled on a lexical error. */
int pol_lex_next(struct pol_lex *lx);
/* Describe the current token for error messages ("'from'", "end of input"). */
const char *pol_lex_describe(const struct pol_lex *lx, char *buf, size_t size);

#endif
