/*
 * sofia_log.c - Sofia-SIP's own messages through greenwichd's log.
 *
 * Sofia prints what it has to say (a failed accept, a broken pipe, a
 * resolver error) to standard error, in its own words and in pieces, with no
 * time and no fields: under systemd that reaches the journal as stray lines,
 * and a fault that repeats can print the same line thousands of times a
 * second.  Every Sofia log is redirected here: pieces are joined into lines
 * (per thread), each line becomes one `event=sofia text="..."` line of ours
 * (through log_value_buf(), so Sofia's text, which quotes what peers sent,
 * cannot forge a line or a field), and a line that repeats within a minute is counted instead of
 * printed, and the count logged with the next line that is.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sofia-sip/su_log.h>

#include "log.h"
#include "sofia_log.h"

/* Sofia's logs, not in its public headers */
extern su_log_t nta_log[], tport_log[], sresolv_log[];

#define LINE_MAX_LEN 480

static __thread char piece[LINE_MAX_LEN + 1];
static __thread size_t used;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char last[LINE_MAX_LEN + 1];
static unsigned repeats;
static time_t last_at;

static void
repeats_say_locked(void)
{
	char esc[4 * LINE_MAX_LEN + 8];

	if (repeats == 0)
		return;
	log_notice("event=sofia repeated=%u text=%s", repeats,
		   log_value_buf(esc, sizeof(esc), last));
	repeats = 0;
}

static void
emit(const char *text)
{
	char esc[4 * LINE_MAX_LEN + 8];
	time_t now = time(NULL);

	if (text[0] == '\0')
		return;
	pthread_mutex_lock(&lock);
	if (strcmp(text, last) == 0 && now - last_at < 60) {
		repeats++;
		pthread_mutex_unlock(&lock);
		return;
	}
	repeats_say_locked();
	snprintf(last, sizeof(last), "%s", text);
	last_at = now;
	pthread_mutex_unlock(&lock);
	log_notice("event=sofia text=%s", log_value_buf(esc, sizeof(esc), text));
}

static void
logger(void *stream, char const *fmt, va_list ap)
{
	(void)stream;
	if (used < LINE_MAX_LEN) {
		int n = vsnprintf(piece + used, sizeof(piece) - used, fmt, ap);
		used = n < 0                              ? used
		       : used + (size_t)n >= LINE_MAX_LEN ? LINE_MAX_LEN
							  : used + (size_t)n;
	}
	char *nl;
	while ((nl = memchr(piece, '\n', used)) != NULL) {
		*nl = '\0';
		emit(piece);
		size_t rest = used - (size_t)(nl + 1 - piece);
		memmove(piece, nl + 1, rest);
		used = rest;
		piece[used] = '\0';
	}
	if (used >= LINE_MAX_LEN) { /* a line longer than we keep: cut */
		piece[LINE_MAX_LEN] = '\0';
		emit(piece);
		used = 0;
	}
}

void
sofia_log_start(void)
{
	su_log_redirect(su_log_default, logger, NULL);
	su_log_redirect(su_log_global, logger, NULL);
	su_log_redirect(nta_log, logger, NULL);
	su_log_redirect(tport_log, logger, NULL);
	su_log_redirect(sresolv_log, logger, NULL);
}

void
sofia_log_flush(void)
{
	pthread_mutex_lock(&lock);
	repeats_say_locked();
	pthread_mutex_unlock(&lock);
}
