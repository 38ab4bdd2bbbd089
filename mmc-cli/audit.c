/*
 * audit.c - the audit trail of greenwich-mmc: every change made through it, one
 * key=value line, to syslog (ident greenwich-mmc, facility auth, notice) and appended to
 * <state-directory>/mmc-audit.log; `greenwich-mmc audit [--since TIME]` reads the file.
 *
 * The file is what `audit` reads: it exists on every host (a plain Debian 12 without
 * systemd has no journal to ask, and syslog there may go nowhere), while the syslog copy
 * is for a central log collector.
 *
 * A new file is given to the owner of the state directory (greenwichd's user, which also
 * runs `local-user` commands), so that whoever may change things can append.
 *
 * A line: time=2026-12-06T21:00:00Z admin=PRINCIPAL unix=LOGIN verb="users set-uri"
 * object=bob [key=value ...].  admin is the principal of the default Kerberos ccache
 * (with which AD changes are made), "-" without a ticket; values with blanks, quotes or
 * '=' are double-quoted with \" and \\ escaped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "krb.h"
#include "mmc.h"

#define AUDIT_FILE "mmc-audit.log"

static void
audit_path(const struct gw_conf *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" AUDIT_FILE, c->state_dir);
}

/* " key=value" appended to fp, the value quoted when it needs to be. */
static void
kv(FILE *fp, const char *key, const char *value)
{
	bool quote = value[0] == '\0' || strpbrk(value, " \t\"=\\") != NULL;

	fprintf(fp, " %s=", key);
	if (!quote) {
		fputs(value, fp);
		return;
	}
	fputc('"', fp);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', fp);
		fputc(*p == '\n' || *p == '\r' ? ' ' : *p, fp);
	}
	fputc('"', fp);
}

void
mmc_audit(const struct gw_conf *c, const char *verb, const char *object, ...)
{
	char princ[300] = "-", when[40], path[1100], *line = NULL;
	const struct passwd *pw = getpwuid(getuid());
	time_t now = time(NULL);
	size_t size = 0;
	struct tm tm;
	va_list ap;
	FILE *fp;
	int fd;

	if (c == NULL || !mmc_krb_have_ticket(princ, sizeof(princ)))
		snprintf(princ, sizeof(princ), "-");
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((fp = open_memstream(&line, &size)) == NULL)
		return;
	fprintf(fp, "time=%s", when);
	kv(fp, "admin", princ);
	if (pw)
		kv(fp, "unix", pw->pw_name);
	else
		fprintf(fp, " unix=%u", (unsigned)getuid());
	kv(fp, "verb", verb);
	kv(fp, "object", object ? object : "-");
	va_start(ap, object);
	for (const char *k; (k = va_arg(ap, const char *)) != NULL;) {
		const char *v = va_arg(ap, const char *);
		if (v)
			kv(fp, k, v);
	}
	va_end(ap);
	if (fclose(fp) != 0) {
		free(line);
		return;
	}
	openlog("greenwich-mmc", LOG_PID, LOG_AUTH);
	syslog(LOG_NOTICE, "%s", strchr(line, ' ') + 1); /* syslog has its own time */
	closelog();
	if (c != NULL) {
		mkdir(c->state_dir, 0750);
		audit_path(c, path, sizeof(path));
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd >= 0)
			mmc_state_file_own(c, path);
		if (fd < 0 && errno == EEXIST)
			fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd < 0 || dprintf(fd, "%s\n", line) < 0)
			mmc_err("cannot append to the audit log %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	free(line);
}

/* TIME: YYYY-MM-DD, YYYY-MM-DD[T ]HH:MM[:SS] (UTC), or N followed by s, m, h or d (ago). */
static int
since_parse(const char *s, time_t *t)
{
	static const char *const fmts[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
					   "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
	char *end = NULL;
	long n = strtol(s, &end, 10);

	if (end != s && n >= 0 && end[0] && !end[1] && strchr("smhd", end[0])) {
		long mul = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : 86400;
		*t = time(NULL) - (time_t)(n * mul);
		return 0;
	}
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct tm tm = {0};
		const char *e = strptime(s, fmts[i], &tm);
		if (e && (*e == '\0' || !strcmp(e, "Z"))) {
			*t = timegm(&tm);
			return 0;
		}
	}
	return -EINVAL;
}

/* The key=value pairs of a line as a JSON object; NULL if it is not one of ours. */
static json_object *
line_parse(const char *line)
{
	json_object *o = json_object_new_object();
	const char *p = line;

	while (*p) {
		char key[64], val[4096];
		size_t k = 0, v = 0;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		while (*p && *p != '=' && *p != ' ' && k + 1 < sizeof(key))
			key[k++] = *p++;
		key[k] = '\0';
		if (*p != '=' || k == 0)
			goto bad;
		p++;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				if (v + 1 < sizeof(val))
					val[v++] = *p;
			}
			if (*p != '"')
				goto bad;
			p++;
		} else {
			while (*p && *p != ' ')
				if (v + 1 < sizeof(val))
					val[v++] = *p++;
				else
					p++;
		}
		val[v] = '\0';
		json_object_object_add(o, key, json_object_new_string(val));
	}
	if (json_object_object_get_ex(o, "time", NULL))
		return o;
bad:
	json_object_put(o);
	return NULL;
}

/* audit [--since TIME] */
int
mmc_audit_cmd(struct mmc *m, int argc, char **argv)
{
	static const struct option opts[] = {{"since", required_argument, NULL, 's'},
					     {NULL, 0, NULL, 0}};
	json_object *arr = json_object_new_array();
	char path[1100], *line = NULL;
	time_t since = 0;
	size_t cap = 0;
	FILE *fp;
	int o, n = 0;

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 's' || since_parse(optarg, &since) < 0) {
			json_object_put(arr);
			return mmc_fail(MMC_EXIT_USAGE,
					"usage: audit [--since YYYY-MM-DD[THH:MM[:SS]] | --since "
					"N{s|m|h|d}] (times in UTC)");
		}
	}
	if (optind != argc) {
		json_object_put(arr);
		return mmc_fail(MMC_EXIT_USAGE, "usage: audit [--since TIME]");
	}
	audit_path(m->conf, path, sizeof(path));
	if ((fp = fopen(path, "r")) == NULL && errno != ENOENT) {
		json_object_put(arr);
		return mmc_fail(errno == EACCES ? MMC_EXIT_AUTH : MMC_EXIT_FAIL, "%s: %s", path,
				strerror(errno));
	}
	while (fp && getline(&line, &cap, fp) > 0) {
		json_object *e, *t;
		struct tm tm = {0};
		line[strcspn(line, "\n")] = '\0';
		if ((e = line_parse(line)) == NULL)
			continue;
		json_object_object_get_ex(e, "time", &t);
		const char *end = strptime(json_object_get_string(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (end == NULL || timegm(&tm) < since) {
			json_object_put(e);
			continue;
		}
		n++;
		if (mmc_json) {
			json_object_array_add(arr, e);
		} else {
			json_object_put(e);
			printf("%s\n", line);
		}
	}
	free(line);
	if (fp)
		fclose(fp);
	if (mmc_json)
		mmc_json_print(arr);
	else
		json_object_put(arr);
	if (!mmc_json && n == 0)
		printf("no changes recorded%s\n", since ? " since then" : "");
	return MMC_EXIT_OK;
}
