/*
 * presence_compose.c - one status for a presentity out of its devices.
 *
 * The rule (see docs/presence.md):
 *  1. Among the live publications (PIDF PUBLISH and legacy SOAP
 *     setPresence), the most recently changed one gives the status, note
 *     included; an explicit "closed" there means offline (invisible).
 *  2. Except that on-the-phone on any open publication overrides a result
 *     that would be plain available.
 *  3. No publication: registered (any live binding) means available.
 *  4. Neither: offline.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwd.h"
#include "loc.h"
#include "presence.h"
#include "presence_int.h"

void
pres_compose(struct presence *ps, const char *aor, time_t now, struct pres_status *out)
{
	const struct pres_status *best = NULL;
	uint64_t best_seq = 0;
	bool phone = false;
	struct loc_contact *cs = NULL;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	for (const struct pres_pub *p = ps->pubs; p; p = p->next) {
		const struct pres_status *st = &p->st;
		uint64_t seq = p->seq;
		if (p->expires <= now || strcasecmp(p->aor, aor) != 0)
			continue;
		if (p->pending) { /* not durable yet: what was, or nothing */
			if (!p->durable)
				continue;
			st = &p->durable_st;
			seq = p->durable_seq;
		}
		if (best == NULL || seq > best_seq) {
			best = st;
			best_seq = seq;
		}
		if (st->open && st->activity == ACT_ON_THE_PHONE)
			phone = true;
	}
	if (best) {
		*out = *best;
		if (out->open && out->activity == ACT_AVAILABLE && phone)
			out->activity = ACT_ON_THE_PHONE;
		return;
	}
	if (loc_lookup(ps->w->w_gwd->loc, aor, now, &cs, &n) == 0 && n > 0)
		out->open = true;
	loc_contacts_free(cs, n);
}

bool
presence_status(const char *aor, bool *open, const char **activity, char *note, size_t len)
{
	struct presence *ps = presence_get();
	struct pres_status st;

	if (ps == NULL)
		return false;
	pres_compose(ps, aor, time(NULL), &st);
	*open = st.open;
	*activity = pres_activity_name(st.activity);
	snprintf(note, len, "%s", st.note);
	return true;
}

static bool
status_equal(const struct pres_status *a, const struct pres_status *b)
{
	return a->open == b->open && a->activity == b->activity && strcmp(a->note, b->note) == 0;
}

static bool
watched(struct presence *ps, const char *aor)
{
	for (const struct pres_sub *s = ps->subs; s; s = s->next)
		if (s->event == EV_PRESENCE && !s->ending && strcasecmp(s->presentity, aor) == 0)
			return true;
	return false;
}

void
pres_seen_prune(struct presence *ps)
{
	struct pres_seen **pp = &ps->seen;

	while (*pp) {
		struct pres_seen *e = *pp;
		if (watched(ps, e->aor)) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		free(e->aor);
		free(e);
	}
}

void
pres_changed(struct presence *ps, const char *aor, bool force)
{
	struct pres_status st;
	struct pres_seen *e;

	if (!watched(ps, aor))
		return;
	pres_compose(ps, aor, time(NULL), &st);
	for (e = ps->seen; e; e = e->next)
		if (strcasecmp(e->aor, aor) == 0)
			break;
	if (e == NULL) {
		/* first look since its watchers were told: remember, nothing to send */
		e = calloc(1, sizeof(*e));
		if (e == NULL || (e->aor = strdup(aor)) == NULL) {
			free(e);
			return;
		}
		e->st = st;
		e->next = ps->seen;
		ps->seen = e;
		return;
	}
	if (!force && status_equal(&e->st, &st))
		return;
	e->st = st;
	pres_notify_event(ps, aor, EV_PRESENCE);
}
