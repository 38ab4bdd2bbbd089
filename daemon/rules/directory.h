/*
 * directory.h - domain users of the joined Active Directory domain ([domain]).
 *
 * One libgwad context serves the whole daemon; its completions are dispatched
 * on worker 0, so lookups that must wait for a domain controller run there and
 * the request is resumed on that worker.  Private to daemon/.
 */
#ifndef GW_DIRECTORY_H
#define GW_DIRECTORY_H

#include <stdbool.h>
#include <stdint.h>

#include <sofia-sip/sip.h>
#include <sofia-sip/tport.h>

struct gwd;
struct worker;

/* How to carry on with a request once its user is known. */
struct dir_resume {
	char user[256]; /* the authenticated sender, or "" */
	int zone;       /* and its policy zone (the answer's dialog records both) */
	tport_t *tport; /* socket to answer a handed-over request on, or NULL */
	uint64_t flow;  /* or the connection (flow id of worker 0) it came over, or 0 */
};

/* Called on the worker that asked, with the user's primary AOR (user@domain). */
typedef void dir_resume_fn(struct worker *w, msg_t *msg, const char *aor,
			   const struct dir_resume *r);

/* Make the context when [domain] name is set (no network traffic).  0 or -errno. */
int dir_open(struct gwd *g);
/* Free the context, after the workers stopped. */
void dir_close(struct gwd *g);
/* The machine keytab in use ([domain] keytab or the state directory's), or NULL. */
const char *dir_keytab(const struct gwd *g);
/* The libgwad context (worker 0 only), or NULL without [domain]. */
struct ad_ctx *dir_ctx(struct gwd *g);
/* The reason phrase for a refused account (ad_user_check's error). */
const char *dir_refusal_phrase(int err);
/* True when domain users are looked up. */
bool dir_enabled(const struct gwd *g);
/* The service for the workers' table (service.h): on worker 0 it watches the
 * completions in the event loop and probes the DCs once; before the agent goes
 * it answers the requests still waiting with 503. */
struct gw_service;
extern const struct gw_service dir_service;
/*
 * Look up the user of aor (user@domain) by SIP URI, on worker 0 only.  Takes msg: it is
 * answered here (404, 403, 503, ...) or passed to fn, now or from the event loop.
 */
void dir_lookup(struct worker *w, msg_t *msg, const char *aor, const struct dir_resume *r,
		dir_resume_fn *fn);

#endif
