/*
 * log.h - Greenwich logging: syslog, or stderr when running in the foreground.
 *
 * One line per event, fields written as key=value by the caller.  Levels are
 * syslog's.  Thread safe (syslog(3) and a single fprintf per line are).
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* Start logging as `ident`; to stderr when `foreground`, else to syslog. */
void log_init(const char *ident, bool foreground, int facility);
void log_level_set(int level);
int log_level_get(void);
/* Names <-> levels and facilities ("debug", "notice", "daemon", "local3"). */
int log_level_parse(const char *name);
const char *log_level_name(int level);
int log_facility_parse(const char *name);

/* A value for a key=value field, safe whatever it holds: returned as it is when it
 * is printable ASCII without space, '"', '\\' or '='; otherwise between double quotes
 * with '"' and '\\' backslashed and every other byte outside printable ASCII (CR, LF,
 * tab, UTF-8) written \xNN; what does not fit is cut, with "..." before the closing
 * quote (log_value() writes at most 320 bytes).  NULL is "-".  So no value an outsider
 * sends can start a line or a field of its own, nor push the fields after it out of
 * the line (fail2ban reads source= at the end).  Every field of a log line that
 * carries request data (user names, URIs, From/To, Call-ID, User-Agent, reasons sent
 * by the peer) goes through this.  The result lives in this thread's ring of 8
 * buffers: use at most 8 in one log call. */
const char *log_value(const char *s);
/* The same into buf (len >= 16); returns buf. */
char *log_value_buf(char *buf, size_t len, const char *s);

void log_msg(int level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(int level, const char *func, const char *fmt, va_list ap);

#define log_err(...) log_msg(LOG_ERR, __func__, __VA_ARGS__)
#define log_warnx(...) log_msg(LOG_WARNING, __func__, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __func__, __VA_ARGS__)

#endif
