/*
 * proxy_targets.c - where the proxy sends an admitted request: the
 * registered contacts of its AOR (over the connection they registered on, or
 * at their source address behind a NAT), a directory user looked up first on
 * worker 0, a dialog's remote target, a service address's application
 * server, or a partner domain's server.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/tport_tag.h>

#include "accounts.h"
#include "directory.h"
#include "federation.h"
#include "flow.h"
#include "gwd.h"
#include "loc.h"
#include "log.h"
#include "pool.h"
#include "proxy_int.h"
#include "sip.h"
#include "sip_admit.h"
#include "sipae.h"
#include "gwstore.h"

/* Reach the contact at the address its REGISTER came from rather than at its
 * Contact URI when the client asked for it (RFC 5626 reg-id / ob) or when the
 * Contact's host is not the host the request came from (a NAT in between). */
static bool
contact_behind_nat(const struct loc_contact *c)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	url_t *u = url_make(home, c->uri);
	char src[64];
	bool nat = false;

	if (c->flow.addr[0] == '\0' || c->flow.addr[0] == '?' || u == NULL || u->url_host == NULL)
		goto done;
	snprintf(src, sizeof(src), "%s", c->flow.addr);
	sip_source_host(src);
	nat = strcasecmp(src, u->url_host) != 0 ||
	      (u->url_params && (url_has_param(u, "ob") || url_has_param(u, "reg-id")));
done:
	su_home_deinit(home);
	return nat;
}

/* A contact whose flow another front end of the pool holds: the request goes
 * to that front end (TCP or TLS, X-Greenwich-Pool), which delivers it over
 * the flow.
 * The Request-URI stays (the AOR): that front end looks it up itself. */
static void
target_pool_hop(struct worker *w, struct target *t, const struct loc_contact *c)
{
	char addr[128];

	t->flow_worker = -1;
	snprintf(t->frontend, sizeof(t->frontend), "%s", c->flow.frontend);
	if (pool_frontend_addr(w->w_gwd, c->flow.frontend, addr, sizeof(addr)) < 0) {
		t->frontend_down = true;
		return;
	}
	t->pool_hop = true;
	t->ruri[0] = '\0';
	if (pool_tls(w->w_gwd)) {
		/* sips: the other's certificate is verified ([tls] ca-file) */
		snprintf(t->proto, sizeof(t->proto), "tls");
		snprintf(t->hop, sizeof(t->hop), "sips:%s", addr);
		return;
	}
	snprintf(t->proto, sizeof(t->proto), "tcp");
	snprintf(t->hop, sizeof(t->hop), "sip:%s;transport=tcp", addr);
}

/* The target of a registered contact; false, with t->held set, when its binding is held
 * (sa_binding_held: a domain sign-in whose client has signed nothing yet).  Every path
 * to a contact comes here (path: aor, device, dialog), so the hold holds on each. */
static bool
target_from_contact(struct worker *w, struct target *t, const struct loc_contact *c,
		    const char *path)
{
	if (loc_contact_foreign(w->w_gwd->loc, c)) {
		/* its front end holds the flow and the SAs: the check is made there */
		target_pool_hop(w, t, c);
		return true;
	}
	if (sa_binding_held(w, c, path)) {
		t->held = true;
		return false;
	}
	snprintf(t->ruri, sizeof(t->ruri), "%s", c->uri);
	snprintf(t->proto, sizeof(t->proto), "%s",
		 c->flow.transport[0] ? c->flow.transport : "udp");
	t->path = c->path ? strdup(c->path) : NULL;
	t->flow_worker = c->flow.id ? c->flow.worker : -1;
	if (c->path) {
		/* the first Path entry is the next hop; all of them become Route */
		su_home_t home[1] = {SU_HOME_INIT(home)};
		sip_route_t *r = sip_route_make(home, c->path);
		if (r)
			snprintf(t->hop, sizeof(t->hop), "%s", url_as_string(home, r->r_url));
		su_home_deinit(home);
		return true;
	}
	if (c->flow.worker == w->w_id && c->flow.id)
		t->tp = flow_get(w->w_flows, c->flow.id);
	if (t->tp || contact_behind_nat(c))
		snprintf(t->hop, sizeof(t->hop), "%s:%s;transport=%s",
			 strcmp(t->proto, "tls") == 0 ? "sips" : "sip", c->flow.addr, t->proto);
	else
		snprintf(t->hop, sizeof(t->hop), "%s", c->uri);
	return true;
}

/* Sofia may pick the first listener of a protocol whatever its address
 * family: for an IPv6 next hop, name the IPv6 listener explicitly. */
void
proxy_target_pick_family(struct worker *w, struct target *t)
{
	bool reliable = strcasecmp(t->proto, "udp") != 0;

	if (t->tp || !gw_hop_ip6(t->hop))
		return;
	for (tport_t *tp = tport_primaries(nta_agent_tports(w->w_agent)); tp; tp = tport_next(tp))
		if (tport_has_ip6(tp) &&
		    (reliable ? (tport_is_tcp(tp) && !tport_has_tls(tp) &&
				 strcasecmp(t->proto, "tcp") == 0) ||
				    (tport_has_tls(tp) && strcasecmp(t->proto, "tls") == 0)
			      : tport_is_udp(tp))) {
			t->tp = tp;
			return;
		}
}

void
proxy_targets_free(struct target *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].path);
}

/* A target whose next hop is this server (a contact registered with our own
 * address): forwarding there would only bring the request back. */
static bool
target_is_us(struct worker *w, const struct target *t)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	url_t *u = t->path || t->tp ? NULL : url_make(home, t->hop);
	bool us = u && sip_url_is_us(w, u);

	su_home_deinit(home);
	return us;
}

/* Known user without a registration: 480; unknown: 404. */
static void
reply_not_found(struct worker *w, msg_t *msg, const char *aor, bool known)
{
	if (known || accounts_has(w, aor))
		sip_reply(w, msg, 480, "User not signed in");
	else
		sip_reply(w, msg, 404, "User not found");
}

/* t[k] already goes to the front end of t[i] (one branch per front end). */
static bool
same_frontend(const struct target *t, size_t k, const struct target *n)
{
	for (size_t i = 0; i < k; i++)
		if (t[i].pool_hop && strcmp(t[i].frontend, n->frontend) == 0)
			return true;
	return false;
}

/* The registered contacts of aor; 0 with *nt set, or a status already answered.
 * hop: a request another front end of the pool sent: our own flows only. */
static int
location_targets(struct worker *w, msg_t *msg, const char *aor, bool known, bool hop,
		 struct target *t, size_t *nt)
{
	struct loc_contact *cs = NULL;
	size_t n = 0, down = 0, foreign = 0;

	if (loc_lookup(w->w_gwd->loc, aor, time(NULL), &cs, &n) < 0) {
		sip_reply(w, msg, 500, "Location lookup failed");
		return 500;
	}
	if (n == 0) {
		reply_not_found(w, msg, aor, known);
		return 404;
	}
	size_t k = 0, held = 0;
	for (size_t i = 0; i < n && k < MAX_BRANCHES; i++) {
		if (hop && loc_contact_foreign(w->w_gwd->loc, &cs[i])) {
			foreign++; /* the pool sent it here for our flows: never back out */
			continue;
		}
		if (!target_from_contact(w, &t[k], &cs[i], "aor")) {
			memset(&t[k], 0, sizeof(t[k])); /* held: no branch to it */
			held++;
			continue;
		}
		bool drop = t[k].frontend_down || (t[k].pool_hop && same_frontend(t, k, &t[k])) ||
			    (!t[k].pool_hop && target_is_us(w, &t[k]));
		down += t[k].frontend_down;
		if (!drop)
			k++;
		else
			free(t[k].path), memset(&t[k], 0, sizeof(t[k]));
	}
	loc_contacts_free(cs, n);
	if (k == 0 && held > 0) {
		sip_reply(w, msg, 480, "User not signed in");
		return 480;
	}
	if (k == 0 && (down > 0 || foreign > 0)) {
		/* its front end is out of the pool: until the client registers elsewhere */
		log_info("event=frontend-unreachable user=%s bindings=%zu", log_value(aor),
			 down + foreign);
		sip_reply(w, msg, 480, "User's front end unreachable");
		return 480;
	}
	if (k == 0) {
		/* every contact is this server itself: the request would only come back */
		sip_reply(w, msg, SIP_482_LOOP_DETECTED);
		return 482;
	}
	*nt = k;
	return 0;
}

/* Worker 0, the directory found the user: on as for a local user, with the primary AOR. */
static void
directory_resume(struct worker *w, msg_t *msg, const char *aor, const struct dir_resume *r)
{
	struct target t[MAX_BRANCHES];
	struct admit a = {.zone = r->zone};
	size_t nt = 0;

	memset(t, 0, sizeof(t));
	snprintf(a.user, sizeof(a.user), "%.250s", r->user);
	snprintf(a.to_aor, sizeof(a.to_aor), "%s", aor);
	proxy_answer_tport = r->tport;
	if (r->flow && (proxy_answer_tport = flow_get(w->w_flows, r->flow)) == NULL) {
		/* the sender's connection closed while we waited: nobody to answer */
		msg_destroy(msg);
		return;
	}
	if (location_targets(w, msg, aor, true, false, t, &nt) == 0)
		proxy_forward(w, msg, sip_object(msg), t, nt, &a);
	proxy_targets_free(t, nt);
	proxy_answer_tport = NULL;
}

/* A served-domain user that is no local account: ask the directory, on worker 0. */
static bool
directory_user(struct worker *w, msg_t *msg, sip_t *sip, const struct admit *a, const char *aor)
{
	struct dir_resume r = {.tport = proxy_answer_tport, .zone = a->zone};

	if (accounts_has(w, aor) || !dir_enabled(w->w_gwd))
		return false;
	if (w->w_id != 0) {
		proxy_handoff(w, msg, sip, HANDOFF_PROXY, a);
		return true;
	}
	if (r.tport == NULL) {
		/* after the wait Sofia no longer knows the connection: remember it */
		tport_t *tp = sip_msg_tport(w, msg);
		if (tp && tport_is_reliable(tp))
			r.flow = flow_id(w->w_flows, tp);
		tport_unref(tp);
	}
	snprintf(r.user, sizeof(r.user), "%s", a->user);
	dir_lookup(w, msg, aor, &r, directory_resume);
	return true;
}

/* Inside a dialog: the peer's remote target, over the connection of its
 * binding when the device is registered to the peer's AOR, never another's. */
void
proxy_dialog_target(struct worker *w, sip_t *sip, const struct admit *a, struct target *t)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const char *ruri = url_as_string(home, sip->sip_request->rq_url);
	struct loc_contact c;

	t->flow_worker = -1;
	snprintf(t->proto, sizeof(t->proto), "udp");
	if (loc_lookup_uri(w->w_gwd->loc, a->dlg.target, time(NULL), &c) == 0) {
		if (strcasecmp(c.aor, a->dlg.peer_aor) == 0 &&
		    !target_from_contact(w, t, &c, "dialog")) {
			/* held: neither its flow nor its Contact URI (Sofia may find the
			 * held connection by address) */
			loc_contact_clear(&c);
			su_home_deinit(home);
			return;
		}
		loc_contact_clear(&c);
	}
	if (t->hop[0] == '\0') {
		snprintf(t->hop, sizeof(t->hop), "%s", a->dlg.target);
		if (strcasestr(a->dlg.target, "transport=tcp"))
			snprintf(t->proto, sizeof(t->proto), "tcp");
		else if (strncasecmp(a->dlg.target, "sips:", 5) == 0 ||
			 strcasestr(a->dlg.target, "transport=tls"))
			snprintf(t->proto, sizeof(t->proto), "tls");
	}
	/* the Request-URI is the remote target, whatever the client wrote */
	if (ruri && strcmp(ruri, a->dlg.target) == 0)
		t->ruri[0] = '\0';
	else
		snprintf(t->ruri, sizeof(t->ruri), "%s", a->dlg.target);
	su_home_deinit(home);
}

/* Targets for an admitted request; 0 with *nt set, or a status already answered. */
int
proxy_resolve(struct worker *w, msg_t *msg, sip_t *sip, const struct admit *a, struct target *t,
	      size_t *nt)
{
	const url_t *ru = sip->sip_request->rq_url;
	const char *app;
	su_home_t home[1] = {SU_HOME_INIT(home)};

	*nt = 0;
	if (a->in_dialog && sip->sip_route) {
		/* the dialog's route set beyond us, as admission checked it */
		snprintf(t[0].hop, sizeof(t[0].hop), "%s",
			 url_as_string(home, sip->sip_route->r_url));
		snprintf(t[0].proto, sizeof(t[0].proto), "udp");
		t[0].flow_worker = -1;
		*nt = 1;
		goto done;
	}
	if (a->in_dialog) {
		proxy_dialog_target(w, sip, a, &t[0]);
		if (t[0].held)
			goto held;
		*nt = 1;
		goto done;
	}
	if (a->to_aor[0] && !a->to_device && (app = gw_conf_route(w->w_gwd->conf, a->to_aor))) {
		/* a service address: on to its application server, Request-URI kept */
		snprintf(t[0].hop, sizeof(t[0].hop), "%s", app);
		snprintf(t[0].proto, sizeof(t[0].proto), "%s",
			 strstr(app, "transport=tcp")   ? "tcp"
			 : strstr(app, "transport=tls") ? "tls"
							: "udp");
		t[0].flow_worker = -1;
		*nt = 1;
		goto done;
	}
	if (a->to_aor[0] && !a->to_device) {
		int rc = RESOLVE_PENDING;
		/* a pool hop's user was found by the front end that sent it */
		if (a->pool_hop || !directory_user(w, msg, sip, a, a->to_aor))
			rc = location_targets(w, msg, a->to_aor, a->pool_hop, a->pool_hop, t, nt);
		su_home_deinit(home);
		return rc;
	}
	struct loc_contact c;
	char *ruri = url_as_string(home, ru);
	if (a->to_device && ruri && loc_lookup_uri(w->w_gwd->loc, ruri, time(NULL), &c) == 0) {
		/* one of our users addressed a device: it goes to that device only */
		bool ok = target_from_contact(w, &t[0], &c, "device");
		loc_contact_clear(&c);
		if (!ok)
			goto held;
		t[0].ruri[0] = '\0';
		*nt = 1;
		goto done;
	}
	if (fed_next_hop(w->w_gwd->conf, ru->url_host, t[0].hop, sizeof(t[0].hop)) == 0) {
		/* a partner domain: its server, found by DNS, over mutual TLS */
		snprintf(t[0].proto, sizeof(t[0].proto), "tls");
		t[0].flow_worker = -1;
		*nt = 1;
		goto done;
	}
	sip_reply(w, msg, 403, "Domain not served here");
	su_home_deinit(home);
	return 403;
held:
	/* the device is there only for a sign-in that has proven nothing: as if absent */
	memset(&t[0], 0, sizeof(t[0]));
	sip_reply(w, msg, 480, "User not signed in");
	su_home_deinit(home);
	return 480;
done:
	su_home_deinit(home);
	return 0;
}

/* Only worker 0 has TCP and TLS. */
bool
proxy_needs_stream(const struct target *t, size_t nt)
{
	for (size_t i = 0; i < nt; i++)
		if (t[i].flow_worker == 0 || strcasecmp(t[i].proto, "udp") != 0 ||
		    strstr(t[i].hop, "transport=tcp") || strstr(t[i].hop, "transport=tls") ||
		    strncasecmp(t[i].hop, "sips:", 5) == 0)
			return true;
	return false;
}
