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
#include <time.h>

#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su_strlst.h>
#include <sofia-sip/sresolv.h>
#include <sofia-sip/tport.h>

#include "federation.h"
#include "gwd.h"
#include "log.h"
#include "sip.h"
#include "sip_policy.h"

#define SRV_NAMES_MAX 8
#define SRV_CACHE_MAX 32
#define SRV_CACHE_TTL 300

/* The SRV targets of one domain, as last looked up. */
struct srv_entry {
	char domain[254];
	char names[SRV_NAMES_MAX][254];
	size_t n;
	time_t expires;
};

/* Only worker 0 has TLS connections, but each thread keeps its own (Sofia's resolver is
 * not thread safe). */
static __thread sres_resolver_t *resolver;
static __thread struct srv_entry *srv_cache;
static __thread size_t srv_next;

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
		    r->srv_target == NULL || e->n >= SRV_NAMES_MAX)
			continue;
		snprintf(e->names[e->n], sizeof(e->names[0]), "%s", r->srv_target);
		len = strlen(e->names[e->n]);
		if (len && e->names[e->n][len - 1] == '.')
			e->names[e->n][len - 1] = '\0'; /* DNS gives the name with its root dot */
		e->n++;
	}
}

/* Look up _sips._tcp.<domain> and _sip._tcp.<domain>. */
static void
srv_lookup(struct srv_entry *e, const char *domain)
{
	static const char *const pfx[] = {"_sips._tcp.", "_sip._tcp."};
	char q[300];

	memset(e, 0, sizeof(*e));
	snprintf(e->domain, sizeof(e->domain), "%s", domain);
	e->expires = time(NULL) + SRV_CACHE_TTL;
	if (resolver == NULL && (resolver = sres_resolver_new(NULL)) == NULL) {
		log_warnx("event=federation-dns-failed reason=\"no resolver\"");
		return;
	}
	for (size_t i = 0; i < 2; i++) {
		sres_record_t **ans = NULL;
		snprintf(q, sizeof(q), "%s%s", pfx[i], domain);
		if (sres_blocking_query(resolver, sres_type_srv, q, 0, &ans) < 0)
			log_debug("event=federation-dns-failed query=%s", log_value(q));
		srv_add(e, ans);
		sres_free_answers(resolver, ans);
	}
}

static const struct srv_entry *
srv_targets(const char *domain)
{
	time_t now = time(NULL);
	struct srv_entry *e;

	if (srv_cache == NULL && (srv_cache = calloc(SRV_CACHE_MAX, sizeof(*srv_cache))) == NULL)
		return NULL;
	for (size_t i = 0; i < SRV_CACHE_MAX; i++)
		if (srv_cache[i].expires > now && strcasecmp(srv_cache[i].domain, domain) == 0)
			return &srv_cache[i];
	e = &srv_cache[srv_next++ % SRV_CACHE_MAX];
	srv_lookup(e, domain);
	return e;
}

bool
fed_peer_is(struct worker *w, msg_t *msg, const char *domain)
{
	tport_t *master = nta_agent_tports(w->w_agent);
	tport_t *tp = tport_delivered_by(master, msg);
	const su_strlst_t *subj;
	const struct srv_entry *e;

	if (domain == NULL || tp == NULL || !tport_has_tls(tp) || !tport_is_verified(tp) ||
	    (subj = tport_delivered_from_subjects(master, msg)) == NULL)
		return false;
	if (subjects_name(subj, domain))
		return true;
	/* DNS is asked only about partners: a From domain is anybody's choice */
	if (sip_policy_partner(domain) != 1 || (e = srv_targets(domain)) == NULL)
		return false;
	for (size_t i = 0; i < e->n; i++)
		if (subjects_name(subj, e->names[i]))
			return true;
	return false;
}

bool
fed_relay_check(struct worker *w, msg_t *msg, sip_t *sip, const char *auth_user)
{
	const char *host = sip->sip_request->rq_url->url_host;

	if (host == NULL || gw_conf_serves(w->w_gwd->conf, host) ||
	    (auth_user && auth_user[0]) || sip_policy_partner(host) != 1)
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
			  domain);
		return -EPERM;
	}
	snprintf(hop, len, "sips:%s", domain);
	return 0;
}

void
fed_thread_free(void)
{
	if (resolver)
		sres_resolver_unref(resolver);
	resolver = NULL;
	free(srv_cache);
	srv_cache = NULL;
}
