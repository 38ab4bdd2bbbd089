/*
 * presence_acl.c - who may see a user's presence.
 *
 * Watchers outside the served domains go through the policy engine first
 * (sip_policy_allows, class presence, when they subscribe): denied means
 * blocked.  Then the user's own rules (stored per owner and watcher: allow
 * or block); without one, the watcher sees the user.  Blocked and pending watchers get the same
 * answers as allowed ones, with a document that says offline (polite blocking).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwd.h"
#include "log.h"
#include "presence.h"
#include "presence_int.h"
#include "presence_jobs.h"
#include "presence_store.h"

/* An owner's rules, sorted by watcher (compared without regard to case, as
 * the store does). */
struct pres_acl_snap {
	char *owner;
	size_t n, cap;
	struct acl_rule {
		char *watcher;
		bool block;
	} * v;
	bool failed;
};

static int
rule_cmp(const void *a, const void *b)
{
	return strcasecmp(((const struct acl_rule *)a)->watcher,
			  ((const struct acl_rule *)b)->watcher);
}

static void
snap_add(const char *watcher, const char *rule, void *arg)
{
	struct pres_acl_snap *sn = arg;

	if (sn->failed)
		return;
	if (sn->n == sn->cap) {
		size_t cap = sn->cap ? sn->cap * 2 : 16;
		struct acl_rule *v = realloc(sn->v, cap * sizeof(*v));
		if (v == NULL) {
			sn->failed = true;
			return;
		}
		sn->v = v;
		sn->cap = cap;
	}
	if ((sn->v[sn->n].watcher = strdup(watcher)) == NULL) {
		sn->failed = true;
		return;
	}
	sn->v[sn->n++].block = strcmp(rule, "block") == 0;
}

static void
snap_free(struct pres_acl_snap *sn)
{
	if (sn == NULL)
		return;
	for (size_t i = 0; i < sn->n; i++)
		free(sn->v[i].watcher);
	free(sn->v);
	free(sn->owner);
	free(sn);
}

void
pres_acl_snapshot(struct presence *ps, const char *owner)
{
	struct pres_acl_snap *sn;

	pres_acl_snapshot_end(ps);
	if (ps->acl != NULL)
		return; /* a remote store: the rules are in memory (acl_rule), and
			   worker 0 must not wait on the database for them */
	sn = calloc(1, sizeof(*sn));
	if (sn == NULL || (sn->owner = strdup(owner)) == NULL ||
	    gwstore_acl_each(ps->st, owner, snap_add, sn) < 0 || sn->failed) {
		snap_free(sn); /* decide per watcher from the store instead */
		return;
	}
	if (sn->n > 1)
		qsort(sn->v, sn->n, sizeof(*sn->v), rule_cmp);
	ps->acl_snap = sn;
}

void
pres_acl_snapshot_end(struct presence *ps)
{
	snap_free(ps->acl_snap);
	ps->acl_snap = NULL;
}

/* The owner's rule for the watcher: 1 block, 0 allow, -ENOENT none, -EIO. */
static int
rule_of(struct presence *ps, const char *owner, const char *watcher)
{
	const struct pres_acl_snap *sn = ps->acl_snap;
	char rule[16];

	if (sn && strcasecmp(sn->owner, owner) == 0) {
		const struct acl_rule key = {(char *)watcher, false};
		const struct acl_rule *r =
		    sn->n ? bsearch(&key, sn->v, sn->n, sizeof(*sn->v), rule_cmp) : NULL;
		return r ? r->block : -ENOENT;
	}
	int rc = gwstore_acl_get(ps->st, owner, watcher, rule, sizeof(rule));
	return rc < 0 ? rc : strcmp(rule, "block") == 0;
}

/* With a remote store the rules are kept in memory (worker 0 never waits on
 * the database): loaded at start, changed by the SERVICE requests that set
 * them (once stored), and read again (pres_acl_reload) when another front
 * end or greenwich-mmc changed them.  A hash table keyed by owner and watcher, lower case. */
#define ACL_BUCKETS 4096

struct pres_acl_rule {
	struct pres_acl_rule *next;
	bool block;
	char key[]; /* "owner watcher", lower case */
};

static size_t
acl_key(char *out, size_t len, const char *owner, const char *watcher)
{
	size_t n = (size_t)snprintf(out, len, "%s %s", owner, watcher);
	size_t h = 5381;

	for (char *p = out; *p; p++) {
		*p = (char)tolower((unsigned char)*p);
		h = h * 33 + (unsigned char)*p;
	}
	(void)n;
	return h % ACL_BUCKETS;
}

void
pres_acl_cache_set(struct presence *ps, const char *owner, const char *watcher, const char *rule)
{
	char key[520];
	size_t b;
	struct pres_acl_rule **pp, *e;

	if (ps->acl == NULL)
		return;
	b = acl_key(key, sizeof(key), owner, watcher);
	for (pp = &ps->acl[b]; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0)
			break;
	if (rule == NULL) {
		if ((e = *pp) != NULL) {
			*pp = e->next;
			free(e);
		}
		return;
	}
	if (*pp == NULL) {
		e = calloc(1, sizeof(*e) + strlen(key) + 1);
		if (e == NULL)
			return;
		strcpy(e->key, key);
		*pp = e;
	}
	(*pp)->block = strcmp(rule, "block") == 0;
}

struct acl_load {
	struct presence *ps;
	const char *owner;
	char **owners;
	size_t n, cap;
	bool failed;
};

static void
acl_rule_cb(const char *watcher, const char *rule, void *arg)
{
	struct acl_load *l = arg;

	pres_acl_cache_set(l->ps, l->owner, watcher, rule);
}

static void
acl_owner_cb(const char *owner, void *arg)
{
	struct acl_load *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->owners, cap * sizeof(*v));
		if (v == NULL) {
			l->failed = true;
			return;
		}
		l->owners = v;
		l->cap = cap;
	}
	if ((l->owners[l->n] = strdup(owner)) != NULL)
		l->n++;
	else
		l->failed = true;
}

/* At start, before any request (reading here is allowed: nothing waits). */
int
pres_acl_cache_load(struct presence *ps)
{
	struct acl_load l = {.ps = ps};
	int ret = 0;

	ps->acl = calloc(ACL_BUCKETS, sizeof(*ps->acl));
	if (ps->acl == NULL)
		return -ENOMEM;
	if (gwstore_owners_each(ps->st, acl_owner_cb, &l) < 0 || l.failed)
		ret = -EIO;
	for (size_t i = 0; i < l.n; i++) {
		l.owner = l.owners[i];
		if (ret == 0 && gwstore_acl_each(ps->st, l.owner, acl_rule_cb, &l) < 0)
			ret = -EIO;
		free(l.owners[i]);
	}
	free(l.owners);
	return ret;
}

void
pres_acl_cache_free(struct presence *ps)
{
	if (ps->acl == NULL)
		return;
	for (size_t i = 0; i < ACL_BUCKETS; i++)
		while (ps->acl[i]) {
			struct pres_acl_rule *e = ps->acl[i];
			ps->acl[i] = e->next;
			free(e);
		}
	free(ps->acl);
	ps->acl = NULL;
}

/* The owner's rule for watcher: 1 block, 0 allow, -1 none. */
static int
acl_rule(struct presence *ps, const char *owner, const char *watcher)
{
	char key[520];
	size_t b;

	if (ps->acl == NULL) /* a local store: read it (or the fan-out's snapshot) */
		return rule_of(ps, owner, watcher);
	b = acl_key(key, sizeof(key), owner, watcher);
	for (const struct pres_acl_rule *e = ps->acl[b]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e->block;
	return -1;
}

enum pres_acl
pres_acl_decide(struct presence *ps, const struct pres_sub *s)
{
	const char *at = strchr(s->watcher, '@');
	bool ours = at && gw_conf_serves(ps->w->w_gwd->conf, at + 1);
	int rule;

	if (strcasecmp(s->presentity, s->watcher) == 0)
		return ACL_ALLOW;
	if (!ours && !(s->flags & SUB_POLICY_ALLOWED))
		return ACL_BLOCK; /* the policy engine said no: the owner cannot overrule it */
	rule = acl_rule(ps, s->presentity, s->watcher);
	return rule == 1 ? ACL_BLOCK : ACL_ALLOW;
}

/* owner's rules may have changed: every watcher gets what it may see now. */
void
pres_acl_refresh(struct presence *ps, const char *owner)
{
	pres_notify_event(ps, owner, EV_PRESENCE);
	pres_notify_event(ps, owner, EV_WINFO);
}

/*
 * Rules changed elsewhere: another front end of the pool, or greenwich-mmc.
 * With a remote store the rules in memory are read again by a job (off
 * worker 0) and replace the ones held; then every watcher of the owner gets
 * what it may see now.
 */
struct acl_pair {
	struct acl_pair *next;
	char owner[256];
	char watcher[256];
	char rule[8];
};

struct acl_job {
	struct pres_job job;
	char owner[256]; /* "" for everyone's */
	struct acl_pair *pairs;
	bool failed;
};

static void
acl_pair_cb(const char *watcher, const char *rule, void *arg)
{
	struct acl_job *aj = arg;
	struct acl_pair *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		aj->failed = true;
		return;
	}
	snprintf(p->owner, sizeof(p->owner), "%s", aj->owner);
	snprintf(p->watcher, sizeof(p->watcher), "%s", watcher);
	snprintf(p->rule, sizeof(p->rule), "%s", rule);
	p->next = aj->pairs;
	aj->pairs = p;
}

static int
acl_job_run(struct pres_job *j, struct gwstore *st)
{
	struct acl_job *aj = (struct acl_job *)j;
	struct acl_load l = {0};
	int ret = 0;

	if (aj->owner[0])
		return gwstore_acl_each(st, aj->owner, acl_pair_cb, aj) < 0 || aj->failed ? -EIO
											  : 0;
	if (gwstore_owners_each(st, acl_owner_cb, &l) < 0 || l.failed)
		ret = -EIO;
	for (size_t i = 0; i < l.n; i++) {
		snprintf(aj->owner, sizeof(aj->owner), "%s", l.owners[i]);
		if (ret == 0 &&
		    (gwstore_acl_each(st, aj->owner, acl_pair_cb, aj) < 0 || aj->failed))
			ret = -EIO;
		free(l.owners[i]);
	}
	free(l.owners);
	aj->owner[0] = '\0';
	return ret;
}

/* Remove owner's rules (NULL: all) from memory. */
static void
acl_cache_drop(struct presence *ps, const char *owner)
{
	char prefix[260];
	size_t n = (size_t)snprintf(prefix, sizeof(prefix), "%s ", owner ? owner : "");

	for (char *p = prefix; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; i < ACL_BUCKETS; i++)
		for (struct pres_acl_rule **pp = &ps->acl[i]; *pp;) {
			struct pres_acl_rule *e = *pp;
			if (owner == NULL || strncmp(e->key, prefix, n) == 0) {
				*pp = e->next;
				free(e);
			} else
				pp = &e->next;
		}
}

static void
acl_job_done(struct pres_job *j, struct presence *ps)
{
	struct acl_job *aj = (struct acl_job *)j;
	size_t nsubs = 0, i = 0;
	bool *was = NULL;

	if (j->rc < 0 || ps->acl == NULL) {
		log_warnx("event=acl-read-failed owner=%s",
			  aj->owner[0] ? log_value(aj->owner) : "*");
		return;
	}
	if (aj->owner[0] == '\0') {
		/* everyone's: tell only the watchers whose answer changed */
		for (struct pres_sub *s = ps->subs; s; s = s->next)
			nsubs++;
		was = calloc(nsubs + 1, sizeof(*was));
		for (struct pres_sub *s = ps->subs; was && s; s = s->next)
			was[i++] = pres_acl_decide(ps, s) == ACL_BLOCK;
	}
	acl_cache_drop(ps, aj->owner[0] ? aj->owner : NULL);
	for (const struct acl_pair *p = aj->pairs; p; p = p->next)
		pres_acl_cache_set(ps, p->owner, p->watcher, p->rule);
	if (aj->owner[0]) {
		pres_acl_refresh(ps, aj->owner);
		return;
	}
	i = 0;
	for (struct pres_sub *s = ps->subs; s; s = s->next, i++)
		if (!s->ending &&
		    (was == NULL || i >= nsubs || was[i] != (pres_acl_decide(ps, s) == ACL_BLOCK)))
			pres_sub_notify(ps, s);
	free(was);
}

static void
acl_job_free(struct pres_job *j)
{
	struct acl_job *aj = (struct acl_job *)j;

	while (aj->pairs) {
		struct acl_pair *p = aj->pairs;
		aj->pairs = p->next;
		free(p);
	}
	free(aj);
}

int
pres_acl_reload(struct presence *ps, const char *owner)
{
	struct acl_job *aj;

	if (ps->acl == NULL) {
		/* a local store: the rules are read where they are decided */
		if (owner)
			pres_acl_refresh(ps, owner);
		else
			for (struct pres_sub *s = ps->subs; s; s = s->next)
				if (!s->ending)
					pres_sub_notify(ps, s);
		return 0;
	}
	if ((aj = calloc(1, sizeof(*aj))) == NULL)
		return -ENOMEM;
	snprintf(aj->owner, sizeof(aj->owner), "%s", owner ? owner : "");
	aj->job.run = acl_job_run;
	aj->job.done = acl_job_done;
	aj->job.free = acl_job_free;
	return pres_job_submit(ps, &aj->job);
}

int
pres_lists_notify(struct gwstore *st, const char *owner, const char *self, bool contacts)
{
	char payload[320];

	snprintf(payload, sizeof(payload), "%s\t%s\t%s", owner, self ? self : "",
		 contacts ? "contacts" : "acl");
	return gwstore_notify(st, GWSTORE_CHANNEL_LISTS, payload);
}
