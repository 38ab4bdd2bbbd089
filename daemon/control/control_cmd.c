/*
 * control_cmd.c - the commands of the control socket: status, registrations,
 * connections, signout, reload, loglevel, presence-changed, presence, flush-cache.
 *
 * Requests:  {"cmd":"status"}  {"cmd":"registrations","aor":"bob@example.com"}
 *            {"cmd":"connections"}  {"cmd":"signout","aor":"bob@example.com"}
 *            {"cmd":"reload"}  {"cmd":"loglevel","level":"debug"}
 *            {"cmd":"presence-changed","aor":"bob@example.com","list":"contacts"|"acl"}
 *            {"cmd":"presence","aor":"bob@example.com"}
 *            {"cmd":"flush-cache"}  {"cmd":"flush-cache","user":"bob"|"bob@example.com"}
 * Replies:   {"ok":true, ...} or {"ok":false,"code":"bad-request"|"not-found"|
 *            "failed"|"unavailable","error":"..."}
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "accept_guard.h"
#include "auth_guard.h"
#include "control.h"
#include "directory.h"
#include "flow.h"
#include "gwad.h"
#include "gwd.h"
#include "service.h"
#include "loc.h"
#include "log.h"
#include "presence.h"
#include "sip_dialog.h"

#define QUERY_WAIT_S 3

static json_object *
reply_new(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

json_object *
control_reply_err(const char *code, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

static void
add_u64(json_object *o, const char *k, unsigned long long v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

/* What an outsider can make the server hold, and the bounds in force ([limits], [auth],
 * [presence]; facing the Internet in the admin guide). */
static json_object *
limits_json(const struct gw_conf *c)
{
	json_object *l = json_object_new_object();

	add_u64(l, "max_message_size", (unsigned long long)c->max_message_size);
	add_u64(l, "connection_idle_timeout", (unsigned long long)c->conn_idle_timeout);
	add_u64(l, "message_timeout", (unsigned long long)c->message_timeout);
	add_u64(l, "connections_per_source", (unsigned long long)c->conn_per_source);
	add_u64(l, "handoff_per_source", (unsigned long long)c->handoff_per_source);
	add_u64(l, "calls_per_source", (unsigned long long)c->calls_per_source);
	add_u64(l, "dialogs_per_source", (unsigned long long)c->dialogs_per_source);
	add_u64(l, "signin_pending_max", (unsigned long long)c->signin_pending_max);
	add_u64(l, "guess_limit", (unsigned long long)c->guess_limit);
	add_u64(l, "guess_source_limit", (unsigned long long)c->guess_source_limit);
	add_u64(l, "guess_window", (unsigned long long)c->guess_window);
	add_u64(l, "nonce_lifetime", (unsigned long long)c->nonce_lifetime);
	add_u64(l, "max_subscriptions", (unsigned long long)c->presence_max_subs);
	add_u64(l, "max_subscriptions_per_watcher",
		(unsigned long long)c->presence_max_subs_watcher);
	add_u64(l, "max_subscriptions_per_source", (unsigned long long)c->presence_max_subs_source);
	add_u64(l, "max_dialogs", (unsigned long long)c->max_dialogs);
	return l;
}

static json_object *
cmd_status(struct gwd *g, double rps)
{
	json_object *r = reply_new(), *c = json_object_new_object(), *d = json_object_new_array();
	const struct gwd_stats *s = &g->stats;
	long subs = atomic_load(&s->subscriptions);

	json_object_object_add(r, "version", json_object_new_string(PACKAGE_VERSION));
	add_u64(r, "pid", (unsigned long long)getpid());
	add_u64(r, "started", (unsigned long long)g->started);
	add_u64(r, "uptime", (unsigned long long)(time(NULL) - g->started));
	json_object_object_add(r, "domain", json_object_new_string(g->conf->domains.v[0]));
	for (size_t i = 0; i < g->conf->domains.n; i++)
		json_object_array_add(d, json_object_new_string(g->conf->domains.v[i]));
	json_object_object_add(r, "domains", d);
	json_object_object_add(r, "ad_domain", json_object_new_string(g->conf->domain_name));
	json_object_object_add(r, "workers", json_object_new_int(g->nworkers));
	json_object_object_add(r, "log_level",
			       json_object_new_string(log_level_name(log_level_get())));
	add_u64(c, "registrations", loc_count(g->loc));
	add_u64(c, "subscriptions", subs > 0 ? (unsigned long long)subs : 0);
	add_u64(c, "requests", atomic_load(&s->requests));
	json_object_object_add(c, "requests_per_second", json_object_new_double(rps));
	add_u64(c, "registers", atomic_load(&s->registers));
	add_u64(c, "sign_in_failures", atomic_load(&s->auth_failures));
	add_u64(c, "policy_denials", atomic_load(&s->policy_denials));
	add_u64(c, "proxied", atomic_load(&s->proxied));
	add_u64(c, "rejected", atomic_load(&s->rejected));
	unsigned held_accounts = 0, held_sources = 0;
	guard_counts(time(NULL), &held_accounts, &held_sources);
	struct dlg_counts dc;
	dlg_counts(&dc);
	/* live: ringing, answered and not yet acknowledged, going on (they count
	 * against [proxy] max-dialogs with the room reserved for calls being
	 * forwarded); ending ones only let their last answers through */
	add_u64(c, "dialogs", dc.early + dc.unacked + dc.confirmed);
	add_u64(c, "dialogs_early", dc.early);
	add_u64(c, "dialogs_unacknowledged", dc.unacked);
	add_u64(c, "dialogs_confirmed", dc.confirmed);
	add_u64(c, "dialogs_ending", dc.ending);
	add_u64(c, "dialogs_reserved", dc.reserved);
	add_u64(c, "dialogs_refused", dc.refused);
	struct accept_guard_counts ac;
	accept_guard_counts(&ac);
	add_u64(c, "connections", ac.connections);
	add_u64(c, "connection_sources", ac.sources);
	add_u64(c, "connections_refused", ac.refused);
	add_u64(c, "handoffs_refused", atomic_load(&s->handoffs_refused));
	add_u64(c, "calls_refused", atomic_load(&s->calls_refused));
	add_u64(c, "dialog_shares_refused", atomic_load(&s->dialog_shares_refused));
	add_u64(c, "held_back_accounts", held_accounts);
	add_u64(c, "held_back_sources", held_sources);
	json_object_object_add(r, "counters", c);
	json_object_object_add(r, "limits", limits_json(g->conf));
	return r;
}

static json_object *
contact_json(const struct loc_contact *c, time_t now)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "uri", json_object_new_string(c->uri));
	add_u64(o, "expires", (unsigned long long)(c->expires - now));
	json_object_object_add(o, "transport", json_object_new_string(c->flow.transport));
	json_object_object_add(o, "source", json_object_new_string(c->flow.addr));
	json_object_object_add(o, "user_agent",
			       json_object_new_string(c->user_agent ? c->user_agent : ""));
	json_object_object_add(o, "instance",
			       json_object_new_string(c->instance ? c->instance : ""));
	json_object_object_add(
	    o, "connection", json_object_new_int64(c->flow.worker >= 0 ? (int64_t)c->flow.id : 0));
	return o;
}

/* [{"aor":..,"contacts":[..]}, ...], one entry per user; only aor when given. */
static json_object *
cmd_registrations(struct gwd *g, const char *aor)
{
	struct loc_contact *v = NULL;
	size_t n = 0;
	time_t now = time(NULL);
	json_object *r, *users, *cur = NULL;

	if (loc_list(g->loc, now, &v, &n) < 0)
		return control_reply_err("failed", "out of memory");
	r = reply_new();
	users = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		if (aor && strcasecmp(v[i].aor, aor) != 0)
			continue;
		if (i == 0 || cur == NULL || strcasecmp(v[i - 1].aor, v[i].aor) != 0) {
			json_object *u = json_object_new_object();
			cur = json_object_new_array();
			json_object_object_add(u, "aor", json_object_new_string(v[i].aor));
			json_object_object_add(u, "contacts", cur);
			json_object_array_add(users, u);
		}
		json_object_array_add(cur, contact_json(&v[i], now));
	}
	loc_contacts_free(v, n);
	json_object_object_add(r, "registrations", users);
	return r;
}

static json_object *
cmd_signout(struct gwd *g, const char *aor)
{
	char msg[400];
	int n;

	if (aor == NULL || aor[0] == '\0' || strchr(aor, '@') == NULL)
		return control_reply_err("bad-request", "signout needs an aor (user@domain)");
	n = loc_remove_aor(g->loc, aor);
	if (n < 0)
		return control_reply_err("failed", "the location store could not be written");
	if (n == 0) {
		snprintf(msg, sizeof(msg), "%s has no registrations", aor);
		return control_reply_err("not-found", msg);
	}
	log_notice("event=signout user=%s bindings=%d by=control-socket", log_value(aor), n);
	json_object *r = reply_new();
	json_object_object_add(r, "aor", json_object_new_string(aor));
	json_object_object_add(r, "removed", json_object_new_int(n));
	return r;
}

static json_object *
cmd_reload(struct gwd *g)
{
	char err[512];

	if (g->reload(g, err, sizeof(err)) < 0)
		return control_reply_err("failed", err);
	json_object *r = reply_new();
	json_object_object_add(r, "log_level",
			       json_object_new_string(log_level_name(log_level_get())));
	return r;
}

static json_object *
cmd_loglevel(struct gwd *g, const char *name)
{
	int level = name ? log_level_parse(name) : -1;

	if (level < 0)
		return control_reply_err(
		    "bad-request", "level must be one of error, warning, notice, info, debug");
	log_level_set(level);
	g->conf->log_level = level;
	log_notice("event=log-level level=%s by=control-socket", log_level_name(level));
	json_object *r = reply_new();
	json_object_object_add(r, "log_level", json_object_new_string(log_level_name(level)));
	return r;
}

/* The console edited a user's contact or authorization list in the database. */
static json_object *
cmd_presence_changed(struct gwd *g, const char *aor, const char *list)
{
	bool contacts = list && strcmp(list, "contacts") == 0;

	if (aor == NULL || strchr(aor, '@') == NULL ||
	    (!contacts && (!list || strcmp(list, "acl"))))
		return control_reply_err("bad-request",
					 "presence-changed needs an aor and list contacts or acl");
	if (presence_lists_changed(g, aor, contacts) < 0)
		return control_reply_err("failed", "the presence service did not take it");
	log_info("event=presence-changed user=%s list=%s by=control-socket", log_value(aor),
		 log_value(list));
	json_object *r = reply_new();
	json_object_object_add(r, "aor", json_object_new_string(aor));
	return r;
}

/* The directory cache forgotten, all of it or one user's answers (under every key the
 * user is cached by), so that a change in AD counts from the next request on. */
static json_object *
cmd_flush_cache(struct gwd *g, const char *user)
{
	struct ad_ctx *ctx = dir_ctx(g);
	const char *v = user;
	int n = 0, rc;

	if (ctx == NULL)
		return control_reply_err("unavailable", "no [domain] is set: greenwichd keeps no "
							"directory cache");
	if (user == NULL) {
		ad_cache_flush(ctx);
		log_notice("event=directory-cache-flushed by=control-socket");
	} else {
		if (user[0] == '\0' || strlen(user) > 512)
			return control_reply_err("bad-request",
						 "flush-cache: user is empty or too long");
		bool sip = strncasecmp(v, "sip:", 4) == 0;
		struct ad_query q[2] = {
		    {sip || strchr(v, '@') ? AD_QUERY_SIP_URI : AD_QUERY_SAM, v},
		    {AD_QUERY_UPN, sip ? v + 4 : v}};
		for (int i = 0; i < (q[0].type == AD_QUERY_SIP_URI ? 2 : 1); i++) {
			rc = ad_cache_flush_user(ctx, &q[i]);
			if (rc < 0)
				return control_reply_err("failed", ad_strerror(rc));
			n += rc;
		}
		log_notice("event=directory-cache-flushed user=%s answers=%d by=control-socket",
			   log_value(user), n);
	}
	json_object *r = reply_new();
	if (user)
		json_object_object_add(r, "user", json_object_new_string(user));
	json_object_object_add(r, "flushed", user ? json_object_new_int(n) : NULL);
	return r;
}

static json_object *cmd_presence(struct gwd *g, const char *aor);

static const char *
str_arg(json_object *req, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool
control_remote_allowed(const char *cmd)
{
	static const char *const allowed[] = {"status", "registrations", "connections",
					      "reload", "loglevel",      "flush-cache"};

	for (size_t i = 0; cmd && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(cmd, allowed[i]) == 0)
			return true;
	return false;
}

json_object *
control_execute(struct gwd *g, json_object *req, double rate)
{
	const char *cmd = str_arg(req, "cmd");

	if (cmd == NULL)
		return control_reply_err("bad-request", "no \"cmd\"");
	if (strcmp(cmd, "status") == 0)
		return cmd_status(g, rate);
	if (strcmp(cmd, "registrations") == 0)
		return cmd_registrations(g, str_arg(req, "aor"));
	if (strcmp(cmd, "connections") == 0)
		return control_connections(g);
	if (strcmp(cmd, "signout") == 0)
		return cmd_signout(g, str_arg(req, "aor"));
	if (strcmp(cmd, "reload") == 0)
		return cmd_reload(g);
	if (strcmp(cmd, "loglevel") == 0)
		return cmd_loglevel(g, str_arg(req, "level"));
	if (strcmp(cmd, "presence-changed") == 0)
		return cmd_presence_changed(g, str_arg(req, "aor"), str_arg(req, "list"));
	if (strcmp(cmd, "presence") == 0)
		return cmd_presence(g, str_arg(req, "aor"));
	if (strcmp(cmd, "flush-cache") == 0)
		return cmd_flush_cache(g, str_arg(req, "user"));
	return control_reply_err("bad-request", "unknown command");
}

/* A question for worker 0, handed over through its control pipe: its
 * connections (aor empty), or aor's composed presence.  Whoever finishes last
 * (the worker answering, or the control thread giving up) frees it. */
struct ctl_query {
	struct handoff h; /* first: h.kind == HANDOFF_QUERY */
	char aor[256];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done, abandoned;
	json_object *result;
};

static void
query_free(struct ctl_query *q)
{
	json_object_put(q->result);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
}

static void
flow_json(uint64_t id, tport_t *tp, void *arg)
{
	json_object *o = json_object_new_object();
	const su_addrinfo_t *ai = tport_get_address(tp);
	char addr[80] = "";

	if (ai && ai->ai_addr)
		tport_hostport(addr, sizeof(addr), (su_sockaddr_t *)ai->ai_addr, 1);
	json_object_object_add(o, "id", json_object_new_int64((int64_t)id));
	json_object_object_add(o, "transport",
			       json_object_new_string(tport_has_tls(tp) ? "tls" : "tcp"));
	json_object_object_add(o, "peer", json_object_new_string(addr));
	json_object_object_add(
	    o, "open", json_object_new_boolean(!tport_is_closed(tp) && !tport_is_shutdown(tp)));
	json_object_array_add((json_object *)arg, o);
}

/* {"status":"online"|"offline","activity":..,"note":..}, or NULL: no presence service. */
static json_object *
presence_json(const char *aor)
{
	const char *activity = "";
	char note[256] = "";
	bool open = false;
	json_object *o;

	if (!presence_status(aor, &open, &activity, note, sizeof(note)))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(open ? "online" : "offline"));
	json_object_object_add(o, "activity", json_object_new_string(open ? activity : ""));
	json_object_object_add(o, "note", json_object_new_string(note));
	return o;
}

void
control_query_run(struct worker *w, struct handoff *h)
{
	struct ctl_query *q = (struct ctl_query *)h;
	json_object *res = NULL;
	bool abandoned;

	if (q->aor[0]) {
		res = presence_json(q->aor);
	} else {
		res = json_object_new_array();
		flow_each(w->w_flows, flow_json, res);
	}
	pthread_mutex_lock(&q->mu);
	q->result = res;
	q->done = true;
	abandoned = q->abandoned;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	if (abandoned)
		query_free(q);
}

/* Registered users per connection, from the location table. */
static void
add_users(struct gwd *g, json_object *arr)
{
	struct loc_contact *v = NULL;
	size_t n = 0;

	loc_list(g->loc, time(NULL), &v, &n);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *c = json_object_array_get_idx(arr, i), *id, *users;
		users = json_object_new_array();
		json_object_object_get_ex(c, "id", &id);
		for (size_t k = 0; k < n; k++)
			if (v[k].flow.worker == 0 &&
			    (int64_t)v[k].flow.id == json_object_get_int64(id) &&
			    (k == 0 || strcasecmp(v[k - 1].aor, v[k].aor) != 0 ||
			     v[k - 1].flow.id != v[k].flow.id))
				json_object_array_add(users, json_object_new_string(v[k].aor));
		json_object_object_add(c, "users", users);
	}
	loc_contacts_free(v, n);
}

/* Hand q to worker 0 and wait for its answer; false (q given up or freed) when
 * there is none in time, with the error reply in *errp. */
static bool
query_ask(struct gwd *g, struct ctl_query *q, json_object **errp)
{
	struct timespec until;
	bool done;

	q->h.kind = HANDOFF_QUERY;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if (write(g->workers[0].w_ctl[1], &q, sizeof(q)) != (ssize_t)sizeof(q)) {
		query_free(q);
		*errp = control_reply_err("failed", "worker 0 does not take requests");
		return false;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += QUERY_WAIT_S;
	pthread_mutex_lock(&q->mu);
	while (!q->done && pthread_cond_timedwait(&q->cv, &q->mu, &until) == 0)
		;
	done = q->done;
	q->abandoned = !done;
	pthread_mutex_unlock(&q->mu);
	if (!done)
		*errp = control_reply_err("failed", "worker 0 did not answer in time");
	return done;
}

static struct ctl_query *
query_new(struct gwd *g, json_object **errp)
{
	struct ctl_query *q = NULL;

	if (g->nworkers < 1)
		*errp = control_reply_err("unavailable", "no SIP worker is running");
	else if ((q = calloc(1, sizeof(*q))) == NULL)
		*errp = control_reply_err("failed", "out of memory");
	return q;
}

json_object *
control_connections(struct gwd *g)
{
	json_object *r = NULL;
	struct ctl_query *q = query_new(g, &r);

	if (q == NULL || !query_ask(g, q, &r))
		return r;
	r = reply_new();
	add_users(g, q->result);
	json_object_object_add(r, "connections", json_object_get(q->result));
	query_free(q);
	return r;
}

/* aor's composed presence, from worker 0 (where the presence service lives). */
static json_object *
cmd_presence(struct gwd *g, const char *aor)
{
	json_object *r = NULL;
	struct ctl_query *q;

	if (aor == NULL || strchr(aor, '@') == NULL || strlen(aor) >= sizeof(q->aor))
		return control_reply_err("bad-request", "presence needs an aor (user@domain)");
	if ((q = query_new(g, &r)) == NULL)
		return r;
	snprintf(q->aor, sizeof(q->aor), "%s", aor);
	if (!query_ask(g, q, &r))
		return r;
	if (q->result == NULL) {
		r = control_reply_err("unavailable", "the presence service is not running");
	} else {
		r = reply_new();
		json_object_object_add(r, "aor", json_object_new_string(aor));
		json_object_object_foreach(q->result, k, v)
		    json_object_object_add(r, k, json_object_get(v));
	}
	query_free(q);
	return r;
}

const struct gw_service control_service = {
    .name = "control",
    .handoff_kinds = 1u << HANDOFF_QUERY,
    .handoff = control_query_run,
};
