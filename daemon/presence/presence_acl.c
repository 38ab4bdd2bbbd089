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

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gwd.h"
#include "log.h"
#include "presence.h"
#include "presence_int.h"
#include "presence_store.h"

/* With a remote store the rules are kept in memory (worker 0 never waits on
 * the database): loaded at start, changed by the SERVICE requests that set
 * them (once stored).  A hash table keyed by owner and watcher, lower case. */
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
	char key[520], rule[16];
	size_t b;

	if (ps->acl == NULL) /* a local store: read it */
		return gwstore_acl_get(ps->st, owner, watcher, rule, sizeof(rule)) == 0
			       ? strcmp(rule, "block") == 0
			       : -1;
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
