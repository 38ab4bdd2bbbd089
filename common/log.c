/*
 * log.c - syslog or stderr output for the daemon and the console.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <pthread.h>

#include "log.h"

static int log_cur_level = LOG_INFO;
static bool log_to_stderr = true;
static const char *log_ident = "greenwich";
static bool log_journal;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct {
	const char *name;
	int value;
} log_levels[] = {
    {"error", LOG_ERR}, {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
    {"info", LOG_INFO}, {"debug", LOG_DEBUG},
};

static const struct {
	const char *name;
	int value;
} log_facilities[] = {
    {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"auth", LOG_AUTH},     {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

void
log_init(const char *ident, bool foreground, int facility)
{
	log_ident = ident;
	log_to_stderr = foreground;
	log_journal = foreground && getenv("JOURNAL_STREAM") != NULL;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_level_set(int level)
{
	log_cur_level = level;
}

int
log_level_get(void)
{
	return log_cur_level;
}

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcasecmp(name, log_levels[i].name) == 0)
			return log_levels[i].value;
	return -1;
}

const char *
log_level_name(int level)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (log_levels[i].value == level)
			return log_levels[i].name;
	return "unknown";
}

int
log_facility_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(log_facilities) / sizeof(log_facilities[0]); i++)
		if (strcasecmp(name, log_facilities[i].name) == 0)
			return log_facilities[i].value;
	return -1;
}

/* what log_value() writes at most, quotes and "..." included: eight of them still
 * leave the fields after them (source=, for fail2ban) inside one line */
#define LOG_VALUE_MAX 320

static bool
value_bare(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '"' || *s == '\\' || *s == '=')
			return false;
	return true;
}

char *
log_value_buf(char *buf, size_t len, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, in = 0;

	if (s == NULL)
		s = "-";
	if (value_bare(s) && strlen(s) < len) {
		memcpy(buf, s, strlen(s) + 1);
		return buf;
	}
	buf[o++] = '"';
	for (; s[in]; in++) {
		unsigned char c = (unsigned char)s[in];
		/* room for the longest escape, the closing quote, "..." and the NUL */
		if (o + 4 + 5 >= len)
			break;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < ' ' || c >= 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			buf[o++] = (char)c;
		}
	}
	if (s[in]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

const char *
log_value(const char *s)
{
	static __thread char ring[8][LOG_VALUE_MAX];
	static __thread unsigned next;

	return log_value_buf(ring[next++ % 8], sizeof(ring[0]), s);
}

void
log_vmsg(int level, const char *func, const char *fmt, va_list ap)
{
	char line[4096];

	if (level > log_cur_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (!log_to_stderr) {
		syslog(level, "%s", line);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	pthread_mutex_lock(&log_lock);
	if (log_journal)
		fprintf(stderr, "<%d>", level); /* the journal reads the priority from this */
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%s] %s: %s\n", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		log_ident, log_level_name(level), func, line);
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(int level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, func, fmt, ap);
	va_end(ap);
}
