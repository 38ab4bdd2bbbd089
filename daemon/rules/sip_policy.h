/*
 * sip_policy.h - policy enforcement in greenwichd: who may IM, call and watch whom.
 *
 * The rules come from AD (joined servers; polled, cached on disk), else from the
 * [policy] rules-file, else the built-in default (internal senders allowed, everyone else
 * denied).  A new rule set replaces the old one while the workers run.  Private to daemon/.
 */
#ifndef GW_SIP_POLICY_H
#define GW_SIP_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/sip.h>

#include "gwpolicy.h"

struct gwd;
struct worker;

/* Load the disk cache or the rules file, and start watching for changes.  0 or -errno. */
int sip_policy_start(struct gwd *g);
/* Stop watching and free the rules (after the workers stopped). */
void sip_policy_stop(void);
/* SIGHUP: look for changed rules now. */
void sip_policy_reload(void);

/*
 * Decide an out-of-dialog request before it is routed: every request the proxy forwards,
 * and SUBSCRIBE / PUBLISH (the presence code calls this too, with the same arguments).
 * auth_user: the authenticated AOR (user@domain), or "" / NULL when the sender did not
 * authenticate.  Returns true when the request may go on; false when it was answered
 * (the rule's code).  The decision is logged at notice level.
 */
bool sip_policy_check(struct worker *w, msg_t *msg, sip_t *sip, const char *auth_user);
/* The facts admission established about a request. */
struct sip_policy_facts {
	const char *auth_user; /* the authenticated AOR, or NULL / "" */
	const char *to_aor;    /* the resolved recipient (user@domain); NULL: the Request-URI's */
	int zone; /* -1: from how the sender arrived; else the pol_zone a dialog recorded */
	const char *from_aor; /* with zone set: that sender's AOR */
	bool as_im;           /* decide as an instant message (text carried by another method) */
};
/* Decide with these facts; answer a denial when answer is set.  A sender of the
 * external zone has no identity for the rules: only its zone and network count. */
bool sip_policy_decide(struct worker *w, msg_t *msg, sip_t *sip, const struct sip_policy_facts *f,
		       bool answer);
/* The same decision without answering (presence: a denied watcher is blocked politely). */
bool sip_policy_allows(struct worker *w, msg_t *msg, sip_t *sip, const char *auth_user);

/* The federation setting for domain: 1 an allowed partner, 0 blocked, -ENOENT neither. */
int sip_policy_partner(const char *domain);
/* Up to max allowed partner domains of the settings in force, copied into out (each
 * strdup'ed, free() them); how many. */
size_t sip_policy_partners(char **out, size_t max);

/* ---- policy_src.c <-> sip_policy.c */

/* One rule set and what evaluating it needs; replaced as a whole, never changed. */
struct pol_snap {
	struct pol_set *set;
	struct pol_fed fed;
	char **sids; /* the groups whose members are known */
	size_t nsids;
	struct pol_member *members; /* sorted by aor */
	size_t nmembers;
	char source[64]; /* "ad", "cache", "file", "default" */
};

struct pol_member {
	char *aor;  /* user@domain, lower case */
	size_t sid; /* index in pol_snap.sids */
};

void pol_snap_free(struct pol_snap *s);
/* Put s in force (the old one is freed). */
void sip_policy_install(struct pol_snap *s);
/* Add a member of sids[sid] to s (unsorted until pol_snap_sort()).  0 or -ENOMEM. */
int pol_snap_member_add(struct pol_snap *s, const char *aor, size_t sid);
void pol_snap_sort(struct pol_snap *s);
/* Add the [federation] allow and block lists of c to s (servers without a domain). */
struct gw_conf;
int pol_snap_conf_fed(struct pol_snap *s, const struct gw_conf *c);

/* policy_src.c */
int policy_src_start(struct gwd *g);
void policy_src_stop(void);
void policy_src_kick(void);

#endif
