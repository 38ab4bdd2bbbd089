/*
 * presence_acl.c - who may see a user's presence.
 *
 * Watchers outside the served domains go through the policy engine first
 * (sip_policy_allows, class presence, when they subscribe): denied means
 * blocked.  Then the user's own rules (stored per owner and watcher: allow
 * or block); without one, the watcher sees the user.  Blocked and pending watchers get the same answers as
 * allowed ones, with a document that says offline (polite blocking).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwd.h"
#include "log.h"
#include "presence.h"
#include "presence_int.h"
#include "presence_store.h"

/* An owner's rules, sorted by watcher (compared without regard to case, as
 * the store does). */
struct pres_acl_snap {
	char *owner;
	size_t n, cap;
	struct acl_rule {
		char *watcher;
		bool block;
	} *v;
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
	struct pres_acl_snap *sn = calloc(1, sizeof(*sn));

	pres_acl_snapshot_end(ps);
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

enum pres_acl
pres_acl_decide(struct presence *ps, const struct pres_sub *s)
{
	const char *at = strchr(s->watcher, '@');
	bool ours = at && gw_conf_serves(ps->w->w_gwd->conf, at + 1);

	if (strcasecmp(s->presentity, s->watcher) == 0)
		return ACL_ALLOW;
	if (!ours && !(s->flags & SUB_POLICY_ALLOWED))
		return ACL_BLOCK; /* the policy engine said no: the owner cannot overrule it */
	return rule_of(ps, s->presentity, s->watcher) == 1 ? ACL_BLOCK : ACL_ALLOW;
}

int
pres_acl_change(struct presence *ps, const char *owner, const char *watcher, const char *rule)
{
	char who[256];

	gwstore_uri_norm(who, sizeof(who), watcher);
	if (who[0] == '\0' || gwstore_acl_set(ps->st, owner, who, rule) < 0)
		return -EIO;
	log_info("event=acl owner=%s watcher=%s rule=%s", owner, who, rule ? rule : "none");
	pres_acl_refresh(ps, owner);
	return 0;
}

/* owner's rules may have changed: every watcher gets what it may see now. */
void
pres_acl_refresh(struct presence *ps, const char *owner)
{
	pres_notify_event(ps, owner, EV_PRESENCE);
	pres_notify_event(ps, owner, EV_WINFO);
}
