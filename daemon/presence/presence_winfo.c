/*
 * presence_winfo.c - watcher information (RFC 3857, RFC 3858): a user's
 * subscription to presence.winfo lists who watches them, as full state.
 *
 * Allowed watchers are "active", watchers from outside the served domains
 * without an allow rule are "pending", blocked ones "terminated" with
 * event "rejected" (the owner may know whom they blocked; the watcher
 * itself never learns it).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "presence_int.h"

static const char *
watcher_state(enum pres_acl d)
{
	if (d == ACL_ALLOW)
		return "event=\"subscribe\" status=\"active\"";
	if (d == ACL_BLOCK)
		return "event=\"rejected\" status=\"terminated\"";
	return "event=\"subscribe\" status=\"pending\"";
}

char *
pres_winfo_build(struct presence *ps, struct pres_sub *s)
{
	struct pres_buf b = {0};
	char *res = pres_xml_escape(s->presentity);

	pres_buf_printf(
	    &b,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<watcherinfo xmlns=\"urn:ietf:params:xml:ns:watcherinfo\" version=\"%u\""
	    " state=\"full\">\n<watcher-list resource=\"sip:%s\" package=\"presence\">\n",
	    s->version++, res ? res : "");
	for (struct pres_sub *w = ps->subs; w; w = w->next) {
		if (w->event != EV_PRESENCE || w->ending ||
		    strcasecmp(w->presentity, s->presentity))
			continue;
		char *who = pres_xml_escape(w->watcher);
		pres_buf_printf(&b, "<watcher id=\"w%" PRId64 "\" %s>sip:%s</watcher>\n", w->id,
				watcher_state(pres_acl_decide(ps, w)), who ? who : "");
		free(who);
	}
	pres_buf_printf(&b, "</watcher-list>\n</watcherinfo>\n");
	free(res);
	return pres_buf_take(&b);
}
