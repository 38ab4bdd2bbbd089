/*
 * out.c - output of greenwich-mmc: aligned tables for people, JSON for scripts,
 * error messages and secrets read from the terminal or stdin.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "mmc.h"

struct mmc_table {
	size_t ncols, nrows;
	char **cells; /* nrows * ncols, row 0 = headers */
};

struct mmc_table *
mmc_table_new(size_t ncols, const char *const *headers)
{
	struct mmc_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ncols = ncols;
	mmc_table_add(t, headers);
	return t;
}

void
mmc_table_add(struct mmc_table *t, const char *const *cells)
{
	char **nc;

	if (t == NULL)
		return;
	nc = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*nc));
	if (nc == NULL)
		return;
	t->cells = nc;
	for (size_t i = 0; i < t->ncols; i++)
		nc[t->nrows * t->ncols + i] = strdup(cells[i] ? cells[i] : "");
	t->nrows++;
}

void
mmc_table_print(struct mmc_table *t, FILE *fp)
{
	size_t w[16] = {0};

	if (t == NULL || t->ncols > 16)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t l = s ? strlen(s) : 0;
			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 == t->ncols)
				fprintf(fp, "%s\n", s ? s : "");
			else
				fprintf(fp, "%-*s  ", (int)w[c], s ? s : "");
		}
	}
}

void
mmc_table_free(struct mmc_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

struct mmc_props {
	json_object *o;
	struct mmc_table *t;
};

/* Name/value properties: a JSON object with --json, else an aligned table. */
struct mmc_props *
mmc_props_new(void)
{
	struct mmc_props *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (mmc_json)
		p->o = json_object_new_object();
	else
		p->t = mmc_table_new(2, (const char *const[]){"PROPERTY", "VALUE"});
	return p;
}

void
mmc_props_add(struct mmc_props *p, const char *name, const char *value)
{
	if (p && p->o)
		json_object_object_add(p->o, name, json_object_new_string(value));
	else if (p)
		mmc_table_add(p->t, (const char *const[]){name, value});
}

/* Print and free. */
void
mmc_props_print(struct mmc_props *p)
{
	if (p == NULL)
		return;
	if (p->o)
		mmc_json_print(p->o);
	mmc_table_print(p->t, stdout);
	mmc_table_free(p->t);
	free(p);
}

void
mmc_json_print(json_object *obj)
{
	printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout); /* one whole document, whatever happens next */
	json_object_put(obj);
}

bool mmc_quiet;

void
mmc_err(const char *fmt, ...)
{
	va_list ap;

	fputs("greenwich-mmc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A node or command whose data source does not exist yet: say so, never invent data. */
int
mmc_unavailable(const char *what, const char *reason)
{
	if (mmc_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "available", json_object_new_boolean(0));
		json_object_object_add(o, "what", json_object_new_string(what));
		json_object_object_add(o, "reason", json_object_new_string(reason));
		mmc_json_print(o);
	}
	mmc_err("%s: not available yet: %s", what, reason);
	return MMC_EXIT_UNAVAILABLE;
}

/* One line from stdin (--password-stdin), else a prompt without echo on the terminal. */
int
mmc_read_secret(bool from_stdin, const char *prompt, char *buf, size_t len)
{
	if (from_stdin || !isatty(STDIN_FILENO)) {
		if (fgets(buf, (int)len, stdin) == NULL)
			return -1;
		buf[strcspn(buf, "\r\n")] = '\0';
		return buf[0] ? 0 : -1;
	}
	char *p = getpass(prompt);
	if (p == NULL || p[0] == '\0')
		return -1;
	snprintf(buf, len, "%s", p);
	OPENSSL_cleanse(p, strlen(p));
	return 0;
}

int
mmc_read_new_secret(bool from_stdin, const char *prompt, char *buf, size_t len)
{
	char again[512];
	bool tty = !from_stdin && isatty(STDIN_FILENO);
	int ret = MMC_EXIT_OK;

	if (mmc_read_secret(from_stdin, prompt, buf, len) < 0)
		return mmc_fail(MMC_EXIT_USAGE, "an empty password is not allowed");
	if (!tty)
		return MMC_EXIT_OK;
	if (mmc_read_secret(false, "Again: ", again, sizeof(again)) < 0 || strcmp(buf, again)) {
		OPENSSL_cleanse(buf, len);
		ret = mmc_fail(MMC_EXIT_USAGE, "the passwords do not match; nothing changed");
	}
	OPENSSL_cleanse(again, sizeof(again));
	return ret;
}

bool
mmc_have_tty(void)
{
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

bool
mmc_confirm(const char *fmt, ...)
{
	char line[64];
	va_list ap;

	if (!mmc_have_tty())
		return false;
	fflush(stdout);
	va_start(ap, fmt); /* on stderr: stdout may carry a JSON document */
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" [y/N] ", stderr);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}
