/*
 * auth_guard.h - password guessing held back before it reaches the accounts:
 * failed sign-ins counted per account and per client source (an address; a
 * remote IPv6 address with its /64, source_net.h); past a limit the account
 * (or the source) is refused without asking for the password's
 * check, so an outsider can neither guess on nor lock the account in AD
 * through greenwichd.  An address the account signed in from before keeps
 * its way in.  Shared by every worker.  Private to daemon/.
 */
#ifndef GW_AUTH_GUARD_H
#define GW_AUTH_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Limits: failures per account and per source within window seconds (0: no limit). */
void guard_configure(int account_limit, int source_limit, int window);
/* May account (any spelling: user, DOMAIN\user, user@realm) try a password from src
 * (an address without port)?  false with *retry (seconds) when it is held back. */
bool guard_allows(const char *account, const char *src, time_t now, int *retry);
/* After guard_allows() said no: the source src counts for (source_net.h) when that
 * source is what is held back, else "" (the account is): for the log line. */
void guard_held_source(const char *src, time_t now, char *out, size_t len);
/* A wrong password for account from src. */
void guard_failed(const char *account, const char *src, time_t now);
/* A good one: src becomes known for account. */
void guard_succeeded(const char *account, const char *src, time_t now);
/* How many accounts and addresses are held back now (for the status). */
void guard_counts(time_t now, unsigned *accounts, unsigned *sources);
/* Forget everything (at shutdown). */
void guard_clear(void);

#endif
