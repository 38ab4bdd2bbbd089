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
#include <string.h>
#include <strings.h>

#include "gwd.h"
#include "log.h"
#include "presence.h"
#include "presence_int.h"
#include "presence_store.h"

enum pres_acl
pres_acl_decide(struct presence *ps, const struct pres_sub *s)
{
	char rule[16];
	const char *at = strchr(s->watcher, '@');
	bool ours = at && gw_conf_serves(ps->w->w_gwd->conf, at + 1);

	if (strcasecmp(s->presentity, s->watcher) == 0)
		return ACL_ALLOW;
	if (!ours && !(s->flags & SUB_POLICY_ALLOWED))
		return ACL_BLOCK; /* the policy engine said no: the owner cannot overrule it */
	if (gwstore_acl_get(ps->st, s->presentity, s->watcher, rule, sizeof(rule)) == 0)
		return strcmp(rule, "block") == 0 ? ACL_BLOCK : ACL_ALLOW;
	return ACL_ALLOW;
}

int
pres_acl_change(struct presence *ps, const char *owner, const char *watcher, const char *rule)
{
	char who[256];

	gwstore_uri_norm(who, sizeof(who), watcher);
	if (who[0] == '\0' || gwstore_acl_set(ps->st, owner, who, rule) < 0)
		return -EIO;
	log_info("event=acl owner=%s watcher=%s rule=%s", log_value(owner), log_value(who),
		 log_value(rule ? rule : "none"));
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
