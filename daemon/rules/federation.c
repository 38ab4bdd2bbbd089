/*
 * federation.c - partner domains: where their requests go, and whether a connection is
 * their server (see federation.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <time.h>

#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su_strlst.h>
#include <sofia-sip/sresolv.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/tport.h>

#include "federation.h"
#include "gwd.h"
#include "service.h"
#include "log.h"
#include "sip.h"
#include "sip_policy.h"

#define SRV_NAMES_MAX 8
#define SRV_CACHE_MAX 256
#define SRV_CACHE_TTL 300 /* seconds an answer is used */
#define SRV_FAILED_TTL 30 /* ... and a lookup that found nothing */
#define SRV_REFRESH 60    /* looked up again this long before it runs out */

/* The SRV targets of one partner domain, as last looked up. */
struct srv_entry {
	char domain[254];
	char names[SRV_NAMES_MAX][254]; /* the answer in use */
	size_t n;
	time_t expires;                /* 0: never answered yet */
	char next[SRV_NAMES_MAX][254]; /* the lookup under way fills these */
	size_t nnext;
	int pending; /* queries under way (_sips._tcp and _sip._tcp) */
	unsigned gen;
};

/* Only worker 0 has TLS connections: the resolver runs in its event loop (no call
 * waits for DNS), and the cache is its thread's. */
static __thread sres_resolver_t *resolver;
static __thread struct srv_entry *srv_cache;
static __thread size_t srv_used;
static __thread unsigned srv_gen;

static bool
subjects_name(const su_strlst_t *subj, const char *name)
{
	for (usize_t i = 0; i < su_strlst_len(subj); i++)
		if (strcasecmp(su_strlst_item(subj, i), name) == 0)
			return true;
	return false;
}

static void
srv_add(struct srv_entry *e, sres_record_t **ans)
{
	for (size_t i = 0; ans && ans[i]; i++) {
		const sres_srv_record_t *r = ans[i]->sr_srv;
		size_t len;

		if (r->srv_record->r_type != sres_type_srv || r->srv_record->r_status != 0 ||
		    r->srv_target == NULL || e->nnext >= SRV_NAMES_MAX)
			continue;
		snprintf(e->next[e->nnext], sizeof(e->next[0]), "%s", r->srv_target);
		len = strlen(e->next[e->nnext]);
		if (len && e->next[e->nnext][len - 1] == '.')
			e->next[e->nnext][len - 1] =
			    '\0'; /* DNS gives the name with its root dot */
		e->nnext++;
	}
}

/* The query's context: which entry, of which generation (entries are reused). */
static sres_context_t *
ctx_make(size_t idx, unsigned gen)
{
	return (sres_context_t *)(uintptr_t)((idx << 20) | (gen & 0xfffff));
}

static void
srv_answer(sres_context_t *ctx, sres_query_t *q, sres_record_t **ans)
{
	uintptr_t v = (uintptr_t)ctx;
	size_t idx = v >> 20;
	struct srv_entry *e = srv_cache && idx < srv_used ? &srv_cache[idx] : NULL;

	(void)q;
	if (e && (e->gen & 0xfffff) == (v & 0xfffff) && e->pending > 0) {
		srv_add(e, ans);
		if (--e->pending == 0) {
			memcpy(e->names, e->next, sizeof(e->names));
			e->n = e->nnext;
			e->expires = time(NULL) + (e->n ? SRV_CACHE_TTL : SRV_FAILED_TTL);
			log_debug("event=federation-dns domain=%s targets=%zu",
				  log_value(e->domain), e->n);
		}
	}
	if (resolver)
		sres_free_answers(resolver, ans);
}

/* Start looking up _sips._tcp.<domain> and _sip._tcp.<domain> for e (no wait). */
static void
srv_lookup_start(struct worker *w, struct srv_entry *e)
{
	static const char *const pfx[] = {"_sips._tcp.", "_sip._tcp."};
	char q[300];

	if (e->pending > 0)
		return;
	if (resolver == NULL &&
	    (resolver = sres_resolver_create(w->w_root, NULL, TAG_END())) == NULL) {
		log_warnx("event=federation-dns-failed reason=\"no resolver\"");
		return;
	}
	e->nnext = 0;
	e->gen = ++srv_gen;
	for (size_t i = 0; i < 2; i++) {
		snprintf(q, sizeof(q), "%s%s", pfx[i], e->domain);
		e->pending++;
		if (sres_query(resolver, srv_answer, ctx_make((size_t)(e - srv_cache), e->gen),
			       sres_type_srv, q) == NULL) {
			log_debug("event=federation-dns-failed query=%s", log_value(q));
			e->pending--;
		}
	}
	if (e->pending == 0) { /* nothing could be sent: try again later */
		e->n = 0;
		e->expires = time(NULL) + SRV_FAILED_TTL;
	}
}

/* The entry of domain, or a new (or reused) one for it; NULL without memory. */
static struct srv_entry *
srv_entry_get(const char *domain)
{
	size_t oldest = 0;

	if (srv_cache == NULL && (srv_cache = calloc(SRV_CACHE_MAX, sizeof(*srv_cache))) == NULL)
		return NULL;
	for (size_t i = 0; i < srv_used; i++) {
		if (strcasecmp(srv_cache[i].domain, domain) == 0)
			return &srv_cache[i];
		if (srv_cache[i].pending == 0 && srv_cache[i].expires < srv_cache[oldest].expires)
			oldest = i;
	}
	size_t i = srv_used < SRV_CACHE_MAX ? srv_used++ : oldest;
	if (srv_cache[i].pending > 0)
		return NULL; /* every entry busy: more partners than the cache holds */
	memset(&srv_cache[i], 0, sizeof(srv_cache[i]));
	snprintf(srv_cache[i].domain, sizeof(srv_cache[i].domain), "%s", domain);
	return &srv_cache[i];
}

void
fed_prefetch(struct worker *w)
{
	char *partners[SRV_CACHE_MAX];
	size_t n = sip_policy_partners(partners, SRV_CACHE_MAX);
	time_t now = time(NULL);

	for (size_t i = 0; i < n; i++) {
		struct srv_entry *e = srv_entry_get(partners[i]);
		if (e && e->pending == 0 && e->expires - now < SRV_REFRESH)
			srv_lookup_start(w, e);
		free(partners[i]);
	}
}

bool
fed_peer_is(struct worker *w, msg_t *msg, const char *domain)
{
	tport_t *master = nta_agent_tports(w->w_agent);
	tport_t *tp = tport_delivered_by(master, msg);
	const su_strlst_t *subj;
	struct srv_entry *e;

	if (domain == NULL || tp == NULL || !tport_has_tls(tp) || !tport_is_verified(tp) ||
	    (subj = tport_delivered_from_subjects(master, msg)) == NULL)
		return false;
	if (subjects_name(subj, domain))
		return true;
	/* DNS is asked only about partners: a From domain is anybody's choice; and never
	 * while this request waits: worker 0 looks the partners up ahead (fed_prefetch()) */
	if (sip_policy_partner(domain) != 1 || (e = srv_entry_get(domain)) == NULL)
		return false;
	if (e->expires == 0) {
		srv_lookup_start(w, e);
		log_notice("event=federation-pending domain=%s reason=\"the partner's SRV "
			   "targets are being looked up; its server counts as unverified until "
			   "then\"",
			   log_value(domain));
		return false;
	}
	for (size_t i = 0; i < e->n; i++)
		if (subjects_name(subj, e->names[i]))
			return true;
	return false;
}

bool
fed_relay_check(struct worker *w, msg_t *msg, sip_t *sip, const char *auth_user)
{
	const char *host = sip->sip_request->rq_url->url_host;

	if (host == NULL || gw_conf_serves(w->w_gwd->conf, host) || (auth_user && auth_user[0]) ||
	    sip_policy_partner(host) != 1)
		return true;
	log_notice("event=federation-refused to=%s reason=\"sender is no user of ours\"",
		   log_value(host));
	sip_reply(w, msg, 403, "Forbidden");
	return false;
}

int
fed_next_hop(const struct gw_conf *c, const char *domain, char *hop, size_t len)
{
	if (domain == NULL || sip_policy_partner(domain) != 1)
		return -EPERM;
	if (c->tls_ca_file[0] == '\0') {
		/* partners from the directory, but nothing to verify their servers with */
		log_warnx("event=federation-refused to=%s reason=\"no [tls] ca-file to verify "
			  "partner servers\"",
			  log_value(domain));
		return -EPERM;
	}
	snprintf(hop, len, "sips:%s", domain);
	return 0;
}

void
fed_thread_free(void)
{
	if (resolver)
		sres_resolver_destroy(resolver);
	resolver = NULL;
	free(srv_cache);
	srv_cache = NULL;
	srv_used = 0;
}

/* federation needs TLS: without it there is nobody to verify */
static void
fed_tick(struct worker *w, time_t now)
{
	(void)now;
	if (w->w_gwd->conf->tls.n > 0)
		fed_prefetch(w);
}

const struct gw_service fed_service = {
    .name = "federation",
    .worker0 = true,
    .tick = fed_tick,
};
