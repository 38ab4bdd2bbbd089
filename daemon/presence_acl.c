/*
 * presence_acl.c - who may see a user's presence.
 *
 * A user's own rules first (stored per owner and watcher: allow or block);
 * without one, users of the served domains see each other and anybody else
 * waits as "pending".  Blocked and pending watchers get the same answers as
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
pres_acl_decide(struct presence *ps, const char *owner, const char *watcher)
{
	char rule[16];
	const char *at = strchr(watcher, '@');

	if (strcasecmp(owner, watcher) == 0)
		return ACL_ALLOW;
	if (pres_store_acl_get(ps->st, owner, watcher, rule, sizeof(rule)) == 0)
		return strcmp(rule, "block") == 0 ? ACL_BLOCK : ACL_ALLOW;
	if (at && gw_conf_serves(ps->w->w_gwd->conf, at + 1))
		return ACL_ALLOW;
	return ACL_PENDING;
}

/* A URI as clients write it (sip:bob@x, bob@x, <sip:bob@x>) to user@host. */
void
pres_uri_norm(char *out, size_t len, const char *in)
{
	while (*in == '<' || *in == ' ')
		in++;
	if (strncasecmp(in, "sip:", 4) == 0)
		in += 4;
	else if (strncasecmp(in, "sips:", 5) == 0)
		in += 5;
	snprintf(out, len, "%s", in);
	out[strcspn(out, ">;? ")] = '\0';
	for (char *p = strchr(out, '@'); p && *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
}

int
pres_acl_change(struct presence *ps, const char *owner, const char *watcher, const char *rule)
{
	char who[256];

	pres_uri_norm(who, sizeof(who), watcher);
	if (who[0] == '\0' || pres_store_acl_set(ps->st, owner, who, rule) < 0)
		return -EIO;
	log_info("event=acl owner=%s watcher=%s rule=%s", owner, who, rule ? rule : "none");
	for (struct pres_sub *s = ps->subs; s; s = s->next)
		if (s->event == EV_PRESENCE && !s->ending && strcasecmp(s->presentity, owner) == 0 &&
		    strcasecmp(s->watcher, who) == 0)
			pres_sub_notify(ps, s);
	pres_notify_event(ps, owner, EV_WINFO);
	return 0;
}

int
presence_acl_set(const char *db_path, const char *owner, const char *watcher, const char *rule)
{
	struct pres_store *st = NULL;
	char err[256], who[256];
	int ret;

	if (rule && strcmp(rule, "allow") != 0 && strcmp(rule, "block") != 0)
		return -EINVAL;
	pres_uri_norm(who, sizeof(who), watcher);
	ret = pres_store_open(&st, db_path, err, sizeof(err));
	if (ret == 0)
		ret = pres_store_acl_set(st, owner, who, rule);
	pres_store_close(st);
	return ret;
}
