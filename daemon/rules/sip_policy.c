/*
 * sip_policy.c - the decision for one request: the facts (class, how the sender arrived,
 * network location, groups of sender and recipient), the rules in force, the answer and the
 * log line.  libgwpolicy's pol_decide() decides.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/tport.h>

#include "federation.h"
#include "gwd.h"
#include "log.h"
#include "sip.h"
#include "sip_policy.h"
#include "source_net.h"

#define MAX_PARTY_SIDS 64

static pthread_rwlock_t snap_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct pol_snap *snap; /* the rules in force */

void
pol_snap_free(struct pol_snap *s)
{
	if (s == NULL)
		return;
	pol_set_free(s->set);
	pol_fed_clear(&s->fed);
	for (size_t i = 0; i < s->nsids; i++)
		free(s->sids[i]);
	free(s->sids);
	for (size_t i = 0; i < s->nmembers; i++)
		free(s->members[i].aor);
	free(s->members);
	free(s);
}

int
pol_snap_member_add(struct pol_snap *s, const char *aor, size_t sid)
{
	struct pol_member *nm;

	if (s->nmembers % 64 == 0) {
		nm = realloc(s->members, (s->nmembers + 64) * sizeof(*nm));
		if (nm == NULL)
			return -ENOMEM;
		s->members = nm;
	}
	if ((s->members[s->nmembers].aor = strdup(aor)) == NULL)
		return -ENOMEM;
	s->members[s->nmembers++].sid = sid;
	return 0;
}

static int
member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pol_member *)a)->aor, ((const struct pol_member *)b)->aor);
}

void
pol_snap_sort(struct pol_snap *s)
{
	if (s->nmembers)
		qsort(s->members, s->nmembers, sizeof(*s->members), member_cmp);
}

void
sip_policy_install(struct pol_snap *s)
{
	struct pol_snap *old;

	pthread_rwlock_wrlock(&snap_lock);
	old = snap;
	snap = s;
	pthread_rwlock_unlock(&snap_lock);
	log_notice("event=policy-loaded source=%s rules=%zu groups=%zu members=%zu federation=%zu",
		   s->source, pol_set_count(s->set), s->nsids, s->nmembers, s->fed.n);
	pol_snap_free(old);
}

/* Add the rules' groups found among the SIDs a sign-in brought (the Kerberos PAC or
 * the DC's NTLM answer: current even before the next poll of the members). */
static size_t
signin_sids(const struct pol_snap *s, char *const *sids, const char **out, size_t n)
{
	for (size_t i = 0; i < s->nsids && n < MAX_PARTY_SIDS; i++) {
		bool have = false;
		for (size_t k = 0; k < n && !have; k++)
			have = strcmp(out[k], s->sids[i]) == 0;
		for (size_t j = 0; sids && sids[j] && !have; j++)
			if (strcmp(sids[j], s->sids[i]) == 0)
				out[n++] = s->sids[i], have = true;
	}
	return n;
}

/* The SIDs of the rules' groups that aor is in (the snapshot owns the strings). */
static size_t
party_sids(const struct pol_snap *s, const char *aor, const char **out)
{
	size_t lo = 0, hi = s->nmembers, n = 0;

	if (aor == NULL || aor[0] == '\0')
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcasecmp(s->members[mid].aor, aor) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->nmembers && n < MAX_PARTY_SIDS && !strcasecmp(s->members[lo].aor, aor); lo++)
		out[n++] = s->sids[s->members[lo].sid];
	return n;
}

static enum pol_net
sender_net(msg_t *msg)
{
	su_addrinfo_t *ai = msg_addrinfo(msg);

	/* the internal networks: [policy] internal-networks, set at start */
	return ai && source_net_internal(ai->ai_addr) ? POL_NET_INTERNAL : POL_NET_REMOTE;
}

static const char *
class_name(enum pol_class c)
{
	return c == POL_CLASS_IM ? "im" : c == POL_CLASS_CALL ? "call" : "presence";
}

static const char *
zone_name(enum pol_zone z)
{
	return z == POL_ZONE_INTERNAL    ? "internal"
	       : z == POL_ZONE_FEDERATED ? "federated"
					 : "external";
}

/* A phrase for the code that says nothing about why (for senders from outside). */
static const char *
plain_phrase(int code)
{
	switch (code) {
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 480:
		return "Temporarily Unavailable";
	case 486:
		return "Busy Here";
	case 603:
		return "Decline";
	default:
		return "Denied";
	}
}

/* The class of a method; others are decided by pol_decide() as the strictest of the three. */
static enum pol_class
method_class(sip_method_t m)
{
	switch (m) {
	case sip_method_message:
		return POL_CLASS_IM;
	case sip_method_invite:
		return POL_CLASS_CALL;
	case sip_method_subscribe:
	case sip_method_publish:
	case sip_method_notify:
		return POL_CLASS_PRESENCE;
	default:
		return POL_CLASS_OTHER;
	}
}

int
sip_policy_partner(const char *domain)
{
	const struct pol_fed_entry *fe;
	int ret;

	pthread_rwlock_rdlock(&snap_lock);
	fe = snap ? pol_fed_find(&snap->fed, domain) : NULL;
	ret = fe == NULL ? -ENOENT : fe->allow ? 1 : 0;
	pthread_rwlock_unlock(&snap_lock);
	return ret;
}

size_t
sip_policy_partners(char **out, size_t max)
{
	size_t n = 0;

	pthread_rwlock_rdlock(&snap_lock);
	for (size_t i = 0; snap && i < snap->fed.n && n < max; i++)
		if (snap->fed.v[i].allow && (out[n] = strdup(snap->fed.v[i].domain)) != NULL)
			n++;
	pthread_rwlock_unlock(&snap_lock);
	return n;
}

static void
log_decision(const struct pol_facts *f, const struct pol_outcome *o, const char *method,
	     const char *source)
{
	const struct pol_decision *d = &o->decision;
	char result[200];

	if (d->verdict == POL_ALLOW)
		snprintf(result, sizeof(result), "allow");
	else
		snprintf(result, sizeof(result), "deny code=%d reason=%s", d->code,
			 log_value(d->reason));
	log_notice("event=policy rule=%s from=%s to=%s method=%s class=%s zone=%s network=%s "
		   "result=%s%s source=%s",
		   log_value(d->by_default ? "(default)" : d->rule), log_value(f->from.uri),
		   log_value(f->to.uri), log_value(method), class_name(o->req_class),
		   zone_name(o->zone), f->net == POL_NET_INTERNAL ? "internal" : "remote", result,
		   d->by_exception ? " by=exception" : "", source);
}

/* The facts of the request for pol_decide(): how the sender arrived (authenticated, through
 * a verified partner server, or unproven), who it is or claims to be, the network, the
 * recipient and both parties' groups.  `greenwich-mmc policy test` decides with the same
 * function on facts from its command line. */
bool
sip_policy_decide(struct worker *w, msg_t *msg, sip_t *sip, const struct sip_policy_facts *f,
		  bool answer)
{
	char from[GW_AOR_MAX + 6], to[GW_AOR_MAX + 6], fa[GW_AOR_MAX + 1] = "",
								       ta[GW_AOR_MAX + 1] = "";
	const char *fs[MAX_PARTY_SIDS], *ts[MAX_PARTY_SIDS];
	const char *auth_user = f->auth_user && f->auth_user[0] ? f->auth_user : NULL;
	struct pol_facts pf = {0};
	struct pol_outcome o;
	bool ok;
	int ret;

	sip_url_aor(fa, sizeof(fa), sip->sip_from->a_url);
	if (f->to_aor)
		snprintf(ta, sizeof(ta), "%s", f->to_aor);
	else
		sip_url_aor(ta, sizeof(ta), sip->sip_request->rq_url);
	snprintf(from, sizeof(from), "sip:%s",
		 auth_user                     ? auth_user
		 : f->zone >= 0 && f->from_aor ? f->from_aor
					       : fa);
	snprintf(to, sizeof(to), "sip:%s", ta);
	pf.req_class = method_class(f->as_im ? sip_method_message : sip->sip_request->rq_method);
	pf.net = sender_net(msg);
	pf.from.uri = from;
	if (auth_user == NULL && f->zone < 0)
		pf.from.domain = sip->sip_from->a_url->url_host; /* whatever became of the AOR */
	pf.to.uri = to;
	if (f->zone >= 0)
		pf.zone = (enum pol_zone)f->zone;
	if (auth_user)
		pf.arrival = POL_ARRIVAL_AUTHENTICATED;
	else if (f->zone < 0 && fed_peer_is(w, msg, sip->sip_from->a_url->url_host))
		pf.arrival = POL_ARRIVAL_VERIFIED_PEER;
	else
		pf.arrival = POL_ARRIVAL_UNPROVEN;
	pthread_rwlock_rdlock(&snap_lock);
	/* the groups of the rules this sender is in; pol_decide() counts them only for a
	 * user of ours, with those its sign-in brought */
	pf.from.sids = fs;
	pf.from.nsids = party_sids(snap, from + 4, fs);
	if (auth_user && w->w_auth_sids)
		pf.from.nsids = signin_sids(snap, w->w_auth_sids, fs, pf.from.nsids);
	pf.to.sids = ts;
	pf.to.nsids = party_sids(snap, ta, ts);
	ret = pol_decide(snap->set, &snap->fed, &pf, &o);
	pthread_rwlock_unlock(&snap_lock);
	if (ret < 0) {
		log_err("event=policy-failed from=%s to=%s reason=\"%s\"", log_value(from),
			log_value(to), pol_strerror(ret));
		if (answer)
			sip_reply(w, msg, 500, "Policy evaluation failed");
		return false;
	}
	char src[80], proto[16];
	sip_msg_source(w, msg, src, sizeof(src), proto, sizeof(proto));
	log_decision(&pf, &o, sip->sip_request->rq_method_name, src);
	ok = o.decision.verdict == POL_ALLOW;
	if (!ok) {
		atomic_fetch_add(&w->w_gwd->stats.policy_denials, 1);
		if (answer)
			sip_reply(w, msg, o.decision.code,
				  o.zone == POL_ZONE_INTERNAL ? o.decision.reason
							      : plain_phrase(o.decision.code));
	}
	return ok;
}

bool
sip_policy_check(struct worker *w, msg_t *msg, sip_t *sip, const char *auth_user)
{
	struct sip_policy_facts f = {.auth_user = auth_user, .zone = -1};

	return sip_policy_decide(w, msg, sip, &f, true);
}

static int
conf_fed_list(struct pol_snap *s, const struct gw_strlist *l, bool allow)
{
	for (size_t i = 0; i < l->n; i++) {
		int ret = pol_fed_set(&s->fed, l->v[i], allow);
		if (ret < 0) {
			log_err("event=policy-failed reason=\"[federation] %s: '%s' is not a "
				"domain\"",
				allow ? "allow" : "block", l->v[i]);
			return ret;
		}
	}
	return 0;
}

int
pol_snap_conf_fed(struct pol_snap *s, const struct gw_conf *c)
{
	int ret = conf_fed_list(s, &c->federation_allow, true);

	return ret < 0 ? ret : conf_fed_list(s, &c->federation_block, false);
}

bool
sip_policy_allows(struct worker *w, msg_t *msg, sip_t *sip, const char *auth_user)
{
	struct sip_policy_facts f = {.auth_user = auth_user, .zone = -1};

	return sip_policy_decide(w, msg, sip, &f, false);
}

int
sip_policy_start(struct gwd *g)
{
	const struct gw_strlist *l = &g->conf->policy_internal_networks;
	struct pol_snap *s = calloc(1, sizeof(*s));

	if (s == NULL || pol_set_alloc(&s->set) < 0) {
		free(s);
		return -ENOMEM;
	}
	if (g->conf->domain_name[0] == '\0' && pol_snap_conf_fed(s, g->conf) < 0) {
		pol_snap_free(s);
		return -EINVAL;
	}
	snprintf(s->source, sizeof(s->source), "default");
	snap = s;
	size_t bad = 0;
	int rc = source_net_set((const char *const *)l->v, l->n, &bad);
	if (rc == -EINVAL)
		log_err("event=policy-failed reason=\"[policy] internal-networks: bad "
			"network '%s'\"",
			l->v[bad]);
	if (rc < 0)
		return rc;
	return policy_src_start(g);
}

void
sip_policy_stop(void)
{
	policy_src_stop();
	pol_snap_free(snap);
	snap = NULL;
	source_net_clear();
}

void
sip_policy_reload(void)
{
	policy_src_kick();
}
