/*
 * sipae_sa.c - the security associations of signed-in Microsoft-protocol
 * clients, by opaque id (hash chains) and by connection.  Worker 0 only.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "flow.h"
#include "gwd.h"
#include "loc.h"
#include "service.h"
#include "log.h"
#include "sipae.h"

#define SA_BUCKETS 1024
#define SA_WINDOW 64
/*
 * Sign-ins being checked (with the DC or the directory) cost memory and a round trip
 * before anybody has authenticated, so they are capped: a few per connection (a client
 * runs one at a time), per client address and its network, and in all ([limits]
 * signin-pending-max).  An NTLM CHALLENGE holds nothing (sipae_handshake.c).  A
 * signed-in connection keeps its newest established SAs only.
 */
#define SA_PENDING_PER_CONN 4
#define SA_PENDING_PER_SOURCE 8   /* one address */
#define SA_PENDING_PER_NETWORK 32 /* its /24 (IPv4) or /64 (IPv6) */
#define SA_PENDING_LIFE 15        /* seconds a check may take before its SA may go */
#define SA_ESTABLISHED_PER_CONN 2

struct sa_table {
	struct sipae_sa *b[SA_BUCKETS];  /* by opaque */
	struct sipae_sa *tb[SA_BUCKETS]; /* established, by connection */
	struct sipae_sa *phead, **ptail; /* not established, oldest first */
	size_t n;
	size_t pending; /* not established */
	size_t pending_max;
};

static void
pending_unlink(struct sa_table *t, struct sipae_sa *sa)
{
	if (sa->pprev == NULL)
		return;
	*sa->pprev = sa->pnext;
	if (sa->pnext)
		sa->pnext->pprev = sa->pprev;
	else
		t->ptail = sa->pprev;
	sa->pprev = NULL;
	sa->pnext = NULL;
}

/* The network of an address: "a.b.c" for IPv4, the first four groups for IPv6. */
static void
network_of(const char *src, char *out, size_t len)
{
	int groups = strchr(src, ':') ? 4 : 3, seen = 0;
	size_t i = 0;

	for (; src[i] && i + 1 < len; i++) {
		if ((src[i] == '.' || src[i] == ':') && ++seen == groups)
			break;
		out[i] = src[i];
	}
	out[i] = '\0';
}

void sa_drop(struct gwd *g, struct sipae_sa *sa);

static unsigned
tp_hash(const tport_t *tp)
{
	return (unsigned)(((uintptr_t)tp >> 4) % SA_BUCKETS);
}

static void
sa_unbind(struct sa_table *t, struct sipae_sa *sa)
{
	if (!sa->bound)
		return;
	for (struct sipae_sa **pp = &t->tb[tp_hash(sa->tp)]; *pp; pp = &(*pp)->tnext)
		if (*pp == sa) {
			*pp = sa->tnext;
			break;
		}
	sa->bound = false;
}

void
sa_bind(struct gwd *g, struct sipae_sa *sa)
{
	unsigned h = tp_hash(sa->tp);
	int kept = 0;

	if (sa->state != SA_ESTABLISHED)
		g->sas->pending--;
	pending_unlink(g->sas, sa);
	sa->state = SA_ESTABLISHED;
	/* the newest sign-in on a connection signs: it goes first in its chain */
	sa_unbind(g->sas, sa);
	sa->tnext = g->sas->tb[h];
	g->sas->tb[h] = sa;
	sa->bound = true;
	for (struct sipae_sa *o = sa, *next; o; o = next) {
		next = o->tnext;
		if (o->tp == sa->tp && ++kept > SA_ESTABLISHED_PER_CONN) {
			log_debug("event=sa-end opaque=%s user=%s reason=replaced",
				  log_value(o->opaque), log_value(o->aor[0] ? o->aor : "-"));
			sa_drop(g, o);
		}
	}
}

int
sa_admit(struct gwd *g, tport_t *tp, const char *src)
{
	struct sa_table *t = g->sas;
	char net[48], n2[48];
	int on_tp = 0, from_src = 0, from_net = 0;

	network_of(src, net, sizeof(net));
	for (const struct sipae_sa *sa = t->phead; sa; sa = sa->pnext) {
		network_of(sa->src, n2, sizeof(n2));
		on_tp += sa->tp == tp;
		from_src += strcmp(sa->src, src) == 0;
		from_net += strcmp(n2, net) == 0;
	}
	if (on_tp >= SA_PENDING_PER_CONN || from_src >= SA_PENDING_PER_SOURCE ||
	    from_net >= SA_PENDING_PER_NETWORK)
		return -EAGAIN;
	/* full: nothing to evict, each one waits for an answer already on its way */
	return t->pending < t->pending_max ? 0 : -ENOSPC;
}

static unsigned
sa_hash(const char *opaque)
{
	unsigned h = 5381;

	for (const char *p = opaque; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return h % SA_BUCKETS;
}

int
sa_table_init(struct gwd *g)
{
	g->sas = calloc(1, sizeof(*g->sas));
	if (g->sas == NULL)
		return -ENOMEM;
	g->sas->ptail = &g->sas->phead;
	g->sas->pending_max = (size_t)g->conf->signin_pending_max;
	return 0;
}

static void
strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

tport_t *
sa_flow_tport(struct gwd *g, uint64_t flow)
{
	if (flow == 0 || g->workers == NULL)
		return NULL;
	return flow_get(g->workers[0].w_flows, flow);
}

bool
sa_on(struct gwd *g, const struct sipae_sa *sa, tport_t *tp)
{
	return tp && sa->tp == tp && sa_flow_tport(g, sa->flow) == tp;
}

static void
sa_free(struct sa_table *t, struct sipae_sa *sa)
{
	if (sa->state != SA_ESTABLISHED)
		t->pending--;
	pending_unlink(t, sa);
	sa_unbind(t, sa);
	sipae_krb_ctx_free(sa->krb);
	strv_free(sa->uris);
	strv_free(sa->sids);
	OPENSSL_cleanse(&sa->keys, sizeof(sa->keys));
	free(sa);
}

void
sa_table_free(struct gwd *g)
{
	if (g->sas == NULL)
		return;
	for (size_t i = 0; i < SA_BUCKETS; i++)
		while (g->sas->b[i]) {
			struct sipae_sa *sa = g->sas->b[i];
			g->sas->b[i] = sa->next;
			sa_free(g->sas, sa);
		}
	free(g->sas);
	g->sas = NULL;
}

struct sipae_sa *
sa_find(struct gwd *g, const char *opaque)
{
	if (opaque == NULL)
		return NULL;
	for (struct sipae_sa *sa = g->sas->b[sa_hash(opaque)]; sa; sa = sa->next)
		if (strcmp(sa->opaque, opaque) == 0)
			return sa;
	return NULL;
}

struct sipae_sa *
sa_new(struct gwd *g, enum sipae_scheme scheme, tport_t *tp, const char *src, const char *opaque)
{
	struct sipae_sa *sa;
	uint8_t r[4];

	if (opaque && (strlen(opaque) != 8 || sa_find(g, opaque)))
		return NULL;
	sa = calloc(1, sizeof(*sa));
	if (sa == NULL)
		return NULL;
	if (opaque)
		memcpy(sa->opaque, opaque, 9);
	while (opaque == NULL && (sa->opaque[0] == '\0' || sa_find(g, sa->opaque))) {
		if (RAND_bytes(r, sizeof(r)) != 1) {
			free(sa);
			return NULL;
		}
		snprintf(sa->opaque, sizeof(sa->opaque), "%02X%02X%02X%02X", r[0], r[1], r[2],
			 r[3]);
	}
	sa->scheme = scheme;
	sa->state = SA_VERIFYING;
	/* the flow table holds the connection while it lives, and tells when it is gone */
	sa->tp = tp;
	sa->flow = flow_id(g->workers[0].w_flows, tp);
	sa->created = time(NULL);
	sa->expires = sa->created + SA_PENDING_LIFE;
	snprintf(sa->src, sizeof(sa->src), "%s", src);
	sa->pprev = g->sas->ptail;
	*g->sas->ptail = sa;
	g->sas->ptail = &sa->pnext;
	unsigned h = sa_hash(sa->opaque);
	sa->next = g->sas->b[h];
	g->sas->b[h] = sa;
	g->sas->n++;
	g->sas->pending++;
	return sa;
}

void
sa_drop(struct gwd *g, struct sipae_sa *sa)
{
	for (struct sipae_sa **pp = &g->sas->b[sa_hash(sa->opaque)]; *pp; pp = &(*pp)->next)
		if (*pp == sa) {
			*pp = sa->next;
			g->sas->n--;
			sa_free(g->sas, sa);
			return;
		}
}

struct sipae_sa *
sa_by_tport(struct gwd *g, tport_t *tp)
{
	if (g->sas == NULL || tp == NULL || g->sas->n == 0)
		return NULL;
	for (struct sipae_sa *sa = g->sas->tb[tp_hash(tp)]; sa; sa = sa->tnext)
		if (sa->tp == tp)
			return sa_on(g, sa, tp) ? sa : NULL;
	return NULL;
}

int
sa_expire(struct gwd *g, time_t now)
{
	int n = 0;

	for (size_t i = 0; i < SA_BUCKETS; i++)
		for (struct sipae_sa **pp = &g->sas->b[i]; *pp;) {
			struct sipae_sa *sa = *pp;
			bool closed = sa_flow_tport(g, sa->flow) == NULL;
			if ((sa->expires <= now || closed) && sa->state != SA_VERIFYING) {
				/* a signed-in client's Contact is only good over its
				 * connection: its registrations go now, as a de-REGISTER
				 * would (without waiting for the disk here) */
				if (closed && sa->state == SA_ESTABLISHED)
					flow_unbind(&g->workers[0], sa->aor, sa->flow, now);
				log_debug("event=sa-end opaque=%s user=%s reason=%s",
					  log_value(sa->opaque),
					  log_value(sa->aor[0] ? sa->aor : "-"),
					  closed ? "closed" : "expired");
				*pp = sa->next;
				g->sas->n--;
				sa_free(g->sas, sa);
				n++;
			} else {
				pp = &sa->next;
			}
		}
	return n;
}

bool
sa_flow_proven(struct gwd *g, uint64_t flow)
{
	tport_t *tp;
	bool any = false;

	if (g->sas == NULL || g->sas->n == 0 || (tp = sa_flow_tport(g, flow)) == NULL)
		return true;
	for (struct sipae_sa *sa = g->sas->tb[tp_hash(tp)]; sa; sa = sa->tnext)
		if (sa->tp == tp && sa->flow == flow) {
			if (sa->proven)
				return true;
			any = true;
		}
	return !any;
}

bool
sa_binding_held(struct worker *w, const struct loc_contact *c, const char *path)
{
	/* only worker 0 knows the SAs; another worker hands a request for one of worker 0's
	 * flows over to it (flow_worker 0), and the check is made there */
	if (w->w_id != 0 || w->w_gwd->sipae == NULL || c->flow.worker != 0 || c->flow.id == 0 ||
	    loc_contact_foreign(w->w_gwd->loc, c) || sa_flow_proven(w->w_gwd, c->flow.id))
		return false; /* (another front end's flow: its SAs are there, it checks) */
	log_info("event=binding-held user=%s contact=%s path=%s reason=\"no signed request on "
		 "its security association yet\"",
		 log_value(c->aor), log_value(c->uri), path);
	return true;
}

bool
sa_cnum_fresh(struct sipae_sa *sa, uint32_t cnum)
{
	if (cnum > sa->cnum_max) {
		uint32_t shift = cnum - sa->cnum_max;
		sa->cnum_seen = shift >= SA_WINDOW ? 0 : sa->cnum_seen << shift;
		sa->cnum_seen |= 1;
		sa->cnum_max = cnum;
		return true;
	}
	uint32_t back = sa->cnum_max - cnum;
	if (back >= SA_WINDOW || (sa->cnum_seen & (1ULL << back)))
		return false;
	sa->cnum_seen |= 1ULL << back;
	return true;
}
