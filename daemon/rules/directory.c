/*
 * directory.c - domain users looked up in Active Directory through libgwad.
 *
 * A request for user@served-domain that is no local account is looked up by
 * SIP URI (an alias gives the user's primary URI).  The answer may come from
 * libgwad's cache at once, or later from a DC: then the request waits in a
 * list of pending lookups and is resumed from worker 0's event loop, which
 * watches ad_fd().  While no DC answers, libgwad answers with the last known
 * answer about the user (kept in <state-directory>/directory-cache.db across
 * restarts); the change of state is logged (directory-offline, -online).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/su_wait.h>

#include "directory.h"
#include "gwad.h"
#include "gwd.h"
#include "service.h"
#include "log.h"
#include "sip.h"

struct dir_req {
	struct worker *w;
	msg_t *msg;
	struct dir_resume r;
	dir_resume_fn *fn;
	char *key; /* Call-ID, CSeq and branch: retransmissions wait for the first */
	char aor[GW_AOR_MAX + 6];
	struct dir_req *next, **prevp;
};

struct gwdir {
	struct ad_ctx *ctx;
	char **servers; /* NULL-terminated copy of [domain] dcs */
	char keytab[600];
	char cache_file[600];
	bool offline;      /* directory-offline logged, not yet -online */
	uint64_t stale_at; /* stale answers counted when it went offline */
	su_wait_t wait[1];
	int wait_index;
	struct dir_req *pending; /* only touched by worker 0 */
};

bool
dir_enabled(const struct gwd *g)
{
	return g->dir != NULL;
}

const char *
dir_keytab(const struct gwd *g)
{
	return g->dir ? g->dir->keytab : NULL;
}

struct ad_ctx *
dir_ctx(struct gwd *g)
{
	return g->dir ? g->dir->ctx : NULL;
}

int
dir_open(struct gwd *g)
{
	const struct gw_conf *c = g->conf;
	struct ad_config cfg;
	struct ad_stats st;
	char reason[AD_REASON_LEN] = "";
	struct gwdir *d;
	int ret = -ENOMEM;

	if (c->domain_name == NULL || c->domain_name[0] == '\0')
		return 0;
	d = calloc(1, sizeof(*d));
	if (d == NULL || (d->servers = calloc(c->domain_dcs.n + 1, sizeof(char *))) == NULL)
		goto done;
	for (size_t i = 0; i < c->domain_dcs.n; i++)
		d->servers[i] = c->domain_dcs.v[i];
	if (c->domain_keytab && c->domain_keytab[0])
		snprintf(d->keytab, sizeof(d->keytab), "%s", c->domain_keytab);
	else
		snprintf(d->keytab, sizeof(d->keytab), "%s/greenwich.keytab", c->state_dir);
	ad_config_init(&cfg);
	cfg.domain = c->domain_name;
	cfg.realm = c->domain_realm && c->domain_realm[0] ? c->domain_realm : NULL;
	cfg.servers = c->domain_dcs.n ? (const char *const *)d->servers : NULL;
	cfg.keytab = d->keytab;
	cfg.group =
	    c->domain_enabled_group && c->domain_enabled_group[0] ? c->domain_enabled_group : NULL;
	cfg.cache_ttl = c->domain_cache_ttl;
	cfg.cache_negative_ttl = c->domain_cache_negative_ttl;
	cfg.cache_offline_max_age = c->domain_cache_offline_max_age;
	cfg.cache_size = (size_t)c->domain_cache_size;
	snprintf(d->cache_file, sizeof(d->cache_file), "%s/directory-cache.db", c->state_dir);
	cfg.cache_file = d->cache_file;
	ret = ad_ctx_alloc(&cfg, &d->ctx, reason);
	if (ret < 0) {
		log_err("event=directory-failed domain=%s reason=\"%s\"", c->domain_name,
			reason[0] ? reason : ad_strerror(ret));
		goto done;
	}
	d->wait_index = -1;
	g->dir = d;
	d = NULL;
	ad_stats_get(g->dir->ctx, &st);
	log_info("event=directory domain=%s keytab=%s dcs=%zu cache=%s cached=%d", c->domain_name,
		 g->dir->keytab, c->domain_dcs.n, g->dir->cache_file, st.cache_loaded);
done:
	if (d) {
		free(d->servers);
		free(d);
	}
	return ret;
}

void
dir_close(struct gwd *g)
{
	if (g->dir == NULL)
		return;
	ad_ctx_free(g->dir->ctx);
	free(g->dir->servers);
	free(g->dir);
	g->dir = NULL;
}

/* Logs when the DCs stop answering (last known answers in use) and when they answer again. */
static void
dir_state_log(struct gwdir *d, const char *domain)
{
	struct ad_stats st;

	ad_stats_get(d->ctx, &st);
	if (st.is_offline == d->offline)
		return;
	d->offline = st.is_offline;
	if (d->offline) {
		d->stale_at = st.stale;
		log_warnx(
		    "event=directory-offline domain=%s reason=\"no domain controller answers: "
		    "last known answers are used\"",
		    domain);
	} else {
		log_info("event=directory-online domain=%s dc=%s stale-answers=%" PRIu64, domain,
			 st.dc, st.stale - d->stale_at);
	}
}

static int
dir_fd_cb(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct worker *w = (struct worker *)arg;
	struct gwdir *d = w->w_gwd->dir;

	ad_dispatch(d->ctx);
	dir_state_log(d, w->w_gwd->conf->domain_name);
	return 0;
}

static void
probe_cb(int status, struct ad_user *user, const char *reason, void *arg)
{
	const char *domain = (const char *)arg;

	ad_user_free(user);
	if (status == 0 || status == -AD_ERR_NOT_FOUND)
		log_info("event=directory-ready domain=%s", domain);
	else
		log_warnx("event=directory-unreachable domain=%s reason=\"%s\"", domain,
			  reason && reason[0] ? reason : ad_strerror(status));
}

static int
dir_attach(struct worker *w)
{
	struct gwdir *d = w->w_gwd->dir;
	const struct ad_query probe = {AD_QUERY_SAM, "greenwich-probe"};

	if (d == NULL)
		return 0;
	if (su_wait_create(d->wait, ad_fd(d->ctx), SU_WAIT_IN) < 0 ||
	    (d->wait_index = su_root_register(w->w_root, d->wait, dir_fd_cb, (void *)w, 0)) < 0) {
		log_err("event=directory-failed reason=\"cannot watch completions\"");
		return -EIO;
	}
	if (ad_lookup_send(d->ctx, &probe, probe_cb, w->w_gwd->conf->domain_name) < 0)
		log_warnx("event=directory-unreachable reason=\"cannot start a lookup\"");
	return 0;
}

static void
req_free(struct dir_req *q)
{
	if (q->prevp) {
		*q->prevp = q->next;
		if (q->next)
			q->next->prevp = q->prevp;
	}
	free(q->key);
	free(q);
}

static void
dir_detach(struct worker *w)
{
	struct gwdir *d = w->w_gwd->dir;

	if (d == NULL)
		return;
	while (d->pending) {
		struct dir_req *q = d->pending;
		sip_reply(w, q->msg, 503, "Server shutting down");
		req_free(q);
	}
	if (d->wait_index >= 0)
		su_root_deregister(w->w_root, d->wait_index);
	d->wait_index = -1;
}

static void
reply_unavailable(struct worker *w, msg_t *msg)
{
	atomic_fetch_add(&w->w_gwd->stats.rejected, 1);
	nta_msg_treply(w->w_agent, msg, 503, "Directory unavailable", SIPTAG_RETRY_AFTER_STR("30"),
		       TAG_END());
}

const char *
dir_refusal_phrase(int err)
{
	switch (-err) {
	case AD_ERR_DISABLED:
		return "Account disabled";
	case AD_ERR_LOCKED_OUT:
		return "Account locked out";
	case AD_ERR_EXPIRED:
		return "Account expired";
	default:
		return "Not enabled for Greenwich";
	}
}

/* "user@domain" of a primary SIP URI ("sip:User@Domain"), domain in lower case. */
static int
primary_aor(char *out, size_t len, const char *uri)
{
	const char *p = strncasecmp(uri, "sip:", 4) == 0 ? uri + 4 : uri;
	int n = snprintf(out, len, "%s", p);

	if (n < 0 || (size_t)n >= len || strchr(out, '@') == NULL)
		return -EINVAL;
	out[strcspn(out, ";?>")] = '\0';
	for (char *h = strchr(out, '@'); *h; h++)
		*h = (char)tolower((unsigned char)*h);
	return 0;
}

/* "host:port" of the request that waits (for the refusal lines). */
static const char *
req_source(struct dir_req *q, char *buf, size_t len)
{
	char proto[16];

	sip_msg_source(q->w, q->msg, buf, len, proto, sizeof(proto));
	return buf;
}

/* The user is known: carry on, or refuse an account that may not use Greenwich. */
static void
lookup_found(struct dir_req *q, struct ad_user *user)
{
	char aor[GW_AOR_MAX + 1], src[80];
	int rc = ad_user_check(user);

	if (rc < 0) {
		atomic_fetch_add(&q->w->w_gwd->stats.policy_denials, 1);
		log_notice("event=directory-refused user=%s account=%s reason=%s source=%s",
			   log_value(q->aor), log_value(user->sam ? user->sam : "?"),
			   log_value(ad_strerror(rc)), req_source(q, src, sizeof(src)));
		sip_reply(q->w, q->msg, 403, dir_refusal_phrase(rc));
		return;
	}
	if (user->sip_uri == NULL || primary_aor(aor, sizeof(aor), user->sip_uri) < 0) {
		log_notice("event=directory-refused user=%s reason=\"unusable SIP URI\" source=%s",
			   log_value(q->aor), req_source(q, src, sizeof(src)));
		sip_reply(q->w, q->msg, 403, "Not enabled for Greenwich");
		return;
	}
	log_debug("event=directory-found user=%s primary=%s", log_value(q->aor), log_value(aor));
	q->fn(q->w, q->msg, aor, &q->r);
}

static void
lookup_cb(int status, struct ad_user *user, const char *reason, void *arg)
{
	struct dir_req *q = (struct dir_req *)arg;
	const char *why = reason && reason[0] ? reason : ad_strerror(status);
	char src[80];

	if (status == 0) {
		lookup_found(q, user);
	} else if (status == -AD_ERR_NOT_FOUND) {
		log_debug("event=directory-not-found user=%s", log_value(q->aor));
		sip_reply(q->w, q->msg, 404, "User not found");
	} else if (status == -AD_ERR_AMBIGUOUS) {
		log_notice("event=directory-failed user=%s reason=%s source=%s", log_value(q->aor),
			   log_value(why), req_source(q, src, sizeof(src)));
		sip_reply(q->w, q->msg, 485, "Ambiguous");
	} else if (status == -AD_ERR_UNAVAILABLE) {
		log_notice("event=directory-unavailable user=%s reason=%s source=%s",
			   log_value(q->aor), log_value(why), req_source(q, src, sizeof(src)));
		reply_unavailable(q->w, q->msg);
	} else {
		log_notice("event=directory-failed user=%s reason=%s source=%s", log_value(q->aor),
			   log_value(why), req_source(q, src, sizeof(src)));
		sip_reply(q->w, q->msg, 500, "Directory lookup failed");
	}
	ad_user_free(user);
	req_free(q);
}

static char *
request_key(msg_t *msg)
{
	const sip_t *sip = sip_object(msg);
	char *k = NULL;

	if (asprintf(&k, "%s|%" PRIu32 "|%s", sip->sip_call_id->i_id, sip->sip_cseq->cs_seq,
		     sip->sip_via->v_branch ? sip->sip_via->v_branch : "") < 0)
		return NULL;
	return k;
}

static bool
already_pending(struct gwdir *d, const char *key)
{
	for (struct dir_req *q = d->pending; q; q = q->next)
		if (strcmp(q->key, key) == 0)
			return true;
	return false;
}

void
dir_lookup(struct worker *w, msg_t *msg, const char *aor, const struct dir_resume *r,
	   dir_resume_fn *fn)
{
	struct gwdir *d = w->w_gwd->dir;
	struct dir_req *q = calloc(1, sizeof(*q));
	struct ad_query query = {AD_QUERY_SIP_URI, NULL};

	if (q == NULL || (q->key = request_key(msg)) == NULL) {
		free(q);
		sip_reply(w, msg, 500, "Out of memory");
		return;
	}
	if (already_pending(d, q->key)) {
		msg_destroy(msg); /* a retransmission: the first copy is answered */
		req_free(q);
		return;
	}
	q->w = w;
	q->msg = msg;
	q->r = *r;
	q->fn = fn;
	snprintf(q->aor, sizeof(q->aor), "sip:%s", aor);
	query.value = q->aor;
	q->next = d->pending;
	if (d->pending)
		d->pending->prevp = &q->next;
	d->pending = q;
	q->prevp = &d->pending;
	log_debug("event=directory-lookup user=%s", log_value(aor));
	if (ad_lookup_send(d->ctx, &query, lookup_cb, q) < 0) {
		log_notice("event=directory-failed user=%s reason=\"cannot start a lookup\"",
			   log_value(aor));
		sip_reply(w, msg, 500, "Directory lookup failed");
		req_free(q);
	}
}

const struct gw_service dir_service = {
    .name = "directory",
    .worker0 = true,
    .attach = dir_attach,
    .detach = dir_detach,
};
