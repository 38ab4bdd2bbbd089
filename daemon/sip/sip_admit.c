/*
 * sip_admit.c - admission of requests for the proxy, top to bottom:
 *
 *   our Route entries off, the dialog token read
 *   in a dialog:  it must match a dialog we routed (Call-ID, tags,
 *                 direction, parties, remote target, route set), else 481/403;
 *                 a method of another kind than the dialog's is decided again
 *   outside one:  authenticate (users of our domains), no Route beyond ours,
 *                 the real target (a served AOR, or the AOR owning an addressed
 *                 contact URI: only for our own users), federation, policy
 *   always:       identity headers we did not assert removed; ours added
 *                 for an authenticated sender
 *
 * Every refusal is logged with its reason and the sender's address.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tag.h>

#include "federation.h"
#include "gwd.h"
#include "gwpolicy.h"
#include "loc.h"
#include "log.h"
#include "pool.h"
#include "sip_admit.h"
#include "sip_auth.h"
#include "sip_policy.h"

/* Identity headers only this server may assert (RFC 3325 trust domain edge). */
static const char *const id_headers[] = {"P-Asserted-Identity", "P-Preferred-Identity",
					 "Remote-Party-ID"};

void
admit_rr_token(struct worker *w, char *out, const sip_t *sip)
{
	char a[GW_AOR_MAX + 1] = "", b[GW_AOR_MAX + 1] = "", data[2 * GW_AOR_MAX + 300];

	sip_url_aor(a, sizeof(a), sip->sip_from->a_url);
	sip_url_aor(b, sizeof(b), sip->sip_to->a_url);
	bool swap = strcmp(a, b) > 0;
	snprintf(data, sizeof(data), "%.256s|%s|%s", sip->sip_call_id->i_id, swap ? b : a,
		 swap ? a : b);
	sip_token(w, out, ADMIT_TOKEN_LEN, data);
}

/* Remove the Route entries that name us; true when one carried our token. */
static bool
routes_strip_own(struct worker *w, msg_t *msg, sip_t *sip)
{
	char tok[ADMIT_TOKEN_LEN] = "";
	bool valid = false;

	while (sip->sip_route && sip_url_is_us(w, sip->sip_route->r_url)) {
		char val[64];
		if (sip->sip_route->r_url->url_params &&
		    url_param(sip->sip_route->r_url->url_params, "gwd", val, sizeof(val)) > 0) {
			if (tok[0] == '\0')
				admit_rr_token(w, tok, sip);
			if (strcmp(val, tok) == 0)
				valid = true;
		}
		msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)sip->sip_route);
	}
	return valid;
}

static void
refuse(struct worker *w, msg_t *msg, sip_t *sip, int status, const char *phrase, const char *why)
{
	char addr[80], proto[16];

	sip_msg_source(w, msg, addr, sizeof(addr), proto, sizeof(proto));
	log_notice("event=admission-refused method=%s status=%d reason=\"%s\" source=%s "
		   "transport=%s",
		   log_value(sip->sip_request->rq_method_name), status, why, addr, proto);
	sip_reply(w, msg, status, phrase);
}

/* Drop every identity header the sender wrote; assert user's when it authenticated. */
static void
identity_headers(msg_t *msg, sip_t *sip, const char *user)
{
	for (sip_unknown_t *u = sip->sip_unknown, *next; u; u = next) {
		next = u->un_next;
		for (size_t i = 0; u->un_name && i < sizeof(id_headers) / sizeof(id_headers[0]);
		     i++)
			if (strcasecmp(u->un_name, id_headers[i]) == 0) {
				msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)u);
				break;
			}
	}
	if (user && user[0]) {
		char v[GW_AOR_MAX + 40];
		snprintf(v, sizeof(v), "P-Asserted-Identity: <sip:%s>", user);
		sip_add_tl(msg, sip, SIPTAG_HEADER_STR(v), TAG_END());
	}
}

/* The zone of a dialog party that never authenticated to us (the one who answered). */
static int
party_zone(struct worker *w, const char *aor)
{
	const char *at = strrchr(aor, '@');

	if (at && gw_conf_serves(w->w_gwd->conf, at + 1))
		return POL_ZONE_INTERNAL; /* reached through our location service */
	if (at && sip_policy_partner(at + 1) == 1)
		return POL_ZONE_FEDERATED;
	return POL_ZONE_EXTERNAL;
}

static bool
is_target_refresh(sip_method_t m)
{
	return m == sip_method_invite || m == sip_method_update || m == sip_method_subscribe ||
	       m == sip_method_notify;
}

/* Methods a dialog of its kind carries; anything else inside it is decided again. */
static bool
dialog_method(const sip_t *sip, sip_method_t created)
{
	const sip_content_type_t *ct = sip->sip_content_type;

	switch (sip->sip_request->rq_method) {
	case sip_method_ack:
	case sip_method_bye:
	case sip_method_cancel:
	case sip_method_prack:
	case sip_method_update:
	case sip_method_options:
		return true;
	case sip_method_invite:
		return created == sip_method_invite;
	case sip_method_info: /* DTMF and the like, but not a message in disguise */
		return created == sip_method_invite &&
		       !(ct && ct->c_type &&
			 (strncasecmp(ct->c_type, "text/", 5) == 0 ||
			  strncasecmp(ct->c_type, "message/", 8) == 0));
	case sip_method_subscribe:
	case sip_method_notify:
		return created == sip_method_subscribe || created == sip_method_refer;
	default:
		return false;
	}
}

static enum gw_verdict
admit_in_dialog(struct worker *w, msg_t *msg, sip_t *sip, struct admit *a)
{
	const char *why = "";
	int rc = dlg_match(sip, &a->dlg, &why);

	if (rc == -ENOENT) {
		refuse(w, msg, sip, SIP_481_NO_TRANSACTION, why);
		return GW_TAKEN;
	}
	if (rc < 0) {
		refuse(w, msg, sip, 403, "Forbidden", why);
		return GW_TAKEN;
	}
	a->in_dialog = true;
	snprintf(a->user, sizeof(a->user), "%s",
		 w->w_auth_user ? w->w_auth_user : a->dlg.sender_user);
	snprintf(a->to_aor, sizeof(a->to_aor), "%s", a->dlg.peer_aor);
	a->zone = a->dlg.zone >= 0 ? a->dlg.zone : party_zone(w, a->dlg.sender_aor);
	if (sip->sip_proxy_authorization || sip->sip_authorization)
		sip_auth_consume(w, msg, sip);
	identity_headers(msg, sip, a->user);
	if (is_target_refresh(sip->sip_request->rq_method))
		dlg_refresh(sip); /* the sender may have moved: its new Contact */
	if (dialog_method(sip, a->dlg.method))
		return GW_PASS;
	/* a MESSAGE inside a call, say: the policy decides it as what it is */
	const struct sip_policy_facts f = {
	    .auth_user = a->user,
	    .to_aor = a->to_aor,
	    .zone = a->zone,
	    .from_aor = a->zone == POL_ZONE_EXTERNAL ? NULL : a->dlg.sender_aor,
	    .as_im = sip->sip_request->rq_method == sip_method_info,
	};
	return sip_policy_decide(w, msg, sip, &f, true) ? GW_PASS : GW_TAKEN;
}

/* A request another front end admitted: delivered here over our own flows. */
static enum gw_verdict
admit_pool_hop(struct worker *w, msg_t *msg, sip_t *sip, struct admit *a)
{
	const url_t *ru = sip->sip_request->rq_url;

	a->pool_hop = true;
	a->zone = a->user[0] ? POL_ZONE_INTERNAL : POL_ZONE_EXTERNAL;
	identity_headers(msg, sip, a->user[0] ? a->user : NULL);
	if (sip->sip_route) {
		refuse(w, msg, sip, 403, "Forbidden", "Route on a pool hop");
		return GW_TAKEN;
	}
	if (!ru->url_user || !gw_conf_serves(w->w_gwd->conf, ru->url_host) ||
	    sip_url_aor(a->to_aor, sizeof(a->to_aor), ru) < 0) {
		refuse(w, msg, sip, 404, "Not Found", "a pool hop for no user of ours");
		return GW_TAKEN;
	}
	log_debug("event=pool-hop user=%s to=%s call-id=%s", log_value(a->user),
		  log_value(a->to_aor), log_value(sip->sip_call_id->i_id));
	return GW_PASS;
}

enum gw_verdict
admit_request(struct worker *w, msg_t *msg, sip_t *sip, struct admit *a)
{
	const struct gw_conf *c = w->w_gwd->conf;
	const url_t *ru = sip->sip_request->rq_url;

	memset(a, 0, sizeof(*a));
	a->zone = POL_ZONE_EXTERNAL;
	if (sip->sip_request->rq_method == sip_method_message && sip->sip_payload &&
	    sip->sip_payload->pl_len > (size_t)c->max_im_size) {
		sip_reply(w, msg, 413, "Message too large");
		return GW_TAKEN;
	}
	if (routes_strip_own(w, msg, sip) && sip->sip_to->a_tag)
		return admit_in_dialog(w, msg, sip, a);

	/* from another front end of the pool: it authenticated the sender and
	 * asked the policy; a header it did not make is refused */
	const char *why = "";
	int hop = pool_hop_verify(w->w_gwd, sip, a->user, sizeof(a->user), &why);
	if (hop < 0) {
		a->user[0] = '\0';
		refuse(w, msg, sip, 403, "Forbidden", why[0] ? why : "pool hop not trusted");
		return GW_TAKEN;
	}
	if (hop > 0)
		return admit_pool_hop(w, msg, sip, a);

	/* outside a dialog: the sender */
	if (gw_conf_serves(c, sip->sip_from->a_url->url_host) &&
	    sip_auth_check(w, msg, sip, false, a->user, sizeof(a->user)) != GW_PASS)
		return GW_TAKEN;
	if (sip->sip_proxy_authorization || sip->sip_authorization)
		sip_auth_consume(w, msg, sip);
	if (a->user[0])
		a->zone = POL_ZONE_INTERNAL;
	identity_headers(msg, sip, a->user);

	/* the route: ours alone; a pre-loaded Route would send it where no rule looked */
	if (sip->sip_route) {
		refuse(w, msg, sip, 403, "Forbidden", "Route beyond this server outside a dialog");
		return GW_TAKEN;
	}

	/* the real target */
	if (ru->url_user && gw_conf_serves(c, ru->url_host)) {
		if (sip_url_aor(a->to_aor, sizeof(a->to_aor), ru) < 0) {
			refuse(w, msg, sip, 400, "Bad Request-URI", "Request-URI too long");
			return GW_TAKEN;
		}
	} else {
		su_home_t home[1] = {SU_HOME_INIT(home)};
		char *ruri = url_as_string(home, ru);
		struct loc_contact dev;
		bool hit = ruri && loc_lookup_uri(w->w_gwd->loc, ruri, time(NULL), &dev) == 0;
		su_home_deinit(home);
		if (hit) {
			snprintf(a->to_aor, sizeof(a->to_aor), "%s", dev.aor);
			loc_contact_clear(&dev);
			a->to_device = true;
			if (!a->user[0]) {
				refuse(w, msg, sip, 403, "Forbidden",
				       "a device addressed directly from outside");
				return GW_TAKEN;
			}
		}
	}
	if (!fed_relay_check(w, msg, sip, a->user))
		return GW_TAKEN;
	const struct sip_policy_facts f = {
	    .auth_user = a->user,
	    .to_aor = a->to_aor[0] ? a->to_aor : NULL,
	    .zone = -1,
	};
	return sip_policy_decide(w, msg, sip, &f, true) ? GW_PASS : GW_TAKEN;
}

enum gw_verdict
admit_ack(struct worker *w, msg_t *msg, sip_t *sip, struct admit *a)
{
	const char *why = "";

	memset(a, 0, sizeof(*a));
	if (!routes_strip_own(w, msg, sip) || !sip->sip_to->a_tag ||
	    dlg_match(sip, &a->dlg, &why) < 0) {
		char addr[80], proto[16];
		sip_msg_source(w, msg, addr, sizeof(addr), proto, sizeof(proto));
		log_debug("event=ack-dropped reason=\"%s\" source=%s", why[0] ? why : "not ours",
			  addr);
		msg_destroy(msg); /* not part of a dialog we route */
		return GW_TAKEN;
	}
	a->in_dialog = true;
	identity_headers(msg, sip, NULL);
	return GW_PASS;
}
