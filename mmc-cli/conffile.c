/*
 * conffile.c - change one section of greenwich.conf in place: set or delete keys, or
 * drop the section, keeping every other line (comments included) as it was.  The new
 * file is written next to the old one and renamed over it, with the same mode and owner.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmc.h"

struct lines {
	char **v;
	size_t n;
};

static int
lines_push(struct lines *l, const char *s)
{
	char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

	if (nv == NULL)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n] = strdup(s);
	if (l->v[l->n] == NULL)
		return -ENOMEM;
	l->n++;
	return 0;
}

static void
lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* The section a "[name]" line opens, into buf; false for other lines. */
static bool
section_of(const char *line, char *buf, size_t len)
{
	while (isspace((unsigned char)*line))
		line++;
	if (*line != '[')
		return false;
	const char *e = strchr(line, ']');
	if (e == NULL)
		return false;
	line++;
	while (line < e && isspace((unsigned char)*line))
		line++;
	size_t n = (size_t)(e - line);
	while (n && isspace((unsigned char)line[n - 1]))
		n--;
	snprintf(buf, len, "%.*s", (int)n, line);
	return true;
}

/* The key of a "key = value" line equals key. */
static bool
key_is(const char *line, const char *key)
{
	while (isspace((unsigned char)*line))
		line++;
	size_t n = strlen(key);
	if (strncmp(line, key, n) != 0)
		return false;
	line += n;
	while (isspace((unsigned char)*line))
		line++;
	return *line == '=';
}

/* Index of kv key matching line, or -1. */
static int
kv_match(const char *line, const char *const *kv, size_t nkv)
{
	for (size_t i = 0; i < nkv; i++)
		if (key_is(line, kv[2 * i]))
			return (int)i;
	return -1;
}

static int
add_missing(struct lines *out, const char *const *kv, size_t nkv, const bool *done)
{
	char buf[4200];

	for (size_t i = 0; i < nkv; i++) {
		if (done[i] || kv[2 * i + 1] == NULL)
			continue;
		snprintf(buf, sizeof(buf), "%s = %s\n", kv[2 * i], kv[2 * i + 1]);
		if (lines_push(out, buf) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int
edit(FILE *fp, struct lines *out, const char *section, const char *const *kv, size_t nkv, bool drop)
{
	char line[4200], cur[64] = "";
	bool done[32] = {false}, seen = false;
	int ret = 0;

	while (ret == 0 && fgets(line, sizeof(line), fp) != NULL) {
		char name[64];
		if (section_of(line, name, sizeof(name))) {
			if (!strcmp(cur, section) && !drop)
				ret = add_missing(out, kv, nkv, done);
			snprintf(cur, sizeof(cur), "%s", name);
			seen = seen || !strcmp(name, section);
		}
		bool in = !strcmp(cur, section);
		if (in && drop) {
			/* The blank lines that set the section apart go with it. */
			while (out->n &&
			       strspn(out->v[out->n - 1], " \t\r\n") == strlen(out->v[out->n - 1]))
				free(out->v[--out->n]);
			continue;
		}
		int k = in ? kv_match(line, kv, nkv) : -1;
		if (k >= 0) {
			if (done[k] || kv[2 * k + 1] == NULL)
				continue;
			done[k] = true;
			snprintf(line, sizeof(line), "%s = %s\n", kv[2 * k], kv[2 * k + 1]);
		}
		if (ret == 0)
			ret = lines_push(out, line);
	}
	if (ret == 0 && !drop && (!seen || !strcmp(cur, section))) {
		if (!seen) {
			snprintf(line, sizeof(line), "\n[%s]\n", section);
			ret = lines_push(out, line);
		}
		if (ret == 0)
			ret = add_missing(out, kv, nkv, done);
	}
	return ret;
}

static int
write_lines(const char *path, const struct lines *l, const struct stat *st, char *err,
	    size_t errlen)
{
	char tmp[4200];
	FILE *fp;
	int ret = 0;

	snprintf(tmp, sizeof(tmp), "%s.mmc-new", path);
	fp = fopen(tmp, "w");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		return -errno;
	}
	if (fchmod(fileno(fp), st->st_mode & 07777) < 0 ||
	    (fchown(fileno(fp), st->st_uid, st->st_gid) < 0 && errno != EPERM))
		ret = -errno;
	for (size_t i = 0; ret == 0 && i < l->n; i++)
		if (fputs(l->v[i], fp) == EOF)
			ret = -EIO;
	if (fflush(fp) != 0 || fsync(fileno(fp)) < 0)
		ret = ret ? ret : -errno;
	if (fclose(fp) != 0 && ret == 0)
		ret = -EIO;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(-ret));
		unlink(tmp);
	}
	return ret;
}

/*
 * kv holds nkv pairs key, value; a NULL value deletes the key.  drop_section removes
 * the whole section instead.
 */
int
mmc_conf_update(const char *path, const char *section, const char *const *kv, size_t nkv,
		bool drop_section, char *err, size_t errlen)
{
	struct lines out = {NULL, 0};
	struct stat st;
	FILE *fp = NULL;
	int ret;

	if (nkv > 32)
		return -EINVAL;
	fp = fopen(path, "r");
	if (fp == NULL || fstat(fileno(fp), &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		goto done;
	}
	ret = edit(fp, &out, section, kv, nkv, drop_section);
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto done;
	}
	ret = write_lines(path, &out, &st, err, errlen);
done:
	if (fp != NULL)
		fclose(fp);
	lines_free(&out);
	return ret;
}
