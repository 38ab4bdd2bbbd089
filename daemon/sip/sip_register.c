/*
 * sip_register.c - the registrar (RFC 3261 section 10, RFC 3327 Path).
 *
 * Answered statelessly: a retransmitted REGISTER carries the same Call-ID
 * and CSeq, which the location service treats as already applied, so the
 * retransmission gets the same answer without a transaction.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tag.h>

#include "flow.h"
#include "gwd.h"
#include "loc.h"
#include "log.h"
#include "service.h"
#include "mailbox.h"
#include "overload.h"
#include "sip.h"
#include "sip_register.h"
#include "sip_auth.h"

#define MAX_UPDATES 32

static int
contact_expires(const struct gw_conf *c, const sip_t *sip, const sip_contact_t *m)
{
	if (m->m_expires)
		return (int)strtoul(m->m_expires, NULL, 10);
	if (sip->sip_expires)
		return (int)sip->sip_expires->ex_delta;
	return c->default_expires;
}

static int
contact_q(const sip_contact_t *m)
{
	if (m->m_q == NULL)
		return -1;
	double q = strtod(m->m_q, NULL);
	if (q < 0 || q > 1)
		return -2;
	return (int)(q * 1000 + 0.5);
}

static const char *
contact_instance(su_home_t *home, const sip_contact_t *m)
{
	const char *v = msg_params_find(m->m_params, "+sip.instance=");

	return v ? su_strdup(home, v) : NULL;
}

static char *
path_string(su_home_t *home, const sip_t *sip)
{
	char *s = NULL;

	for (const sip_path_t *p = sip->sip_path; p; p = p->r_next) {
		char *one = sip_header_as_string(home, (const sip_header_t *)p);
		s = s ? su_sprintf(home, "%s, %s", s, one) : one;
	}
	return s;
}

/* A Contact of the 200: the binding's URI with expires (and q), made in
 * place rather than printed and parsed again. */
static sip_contact_t *
ok_contact(su_home_t *home, const struct loc_contact *c, time_t now)
{
	sip_contact_t *m = su_zalloc(home, sizeof(*m));
	msg_param_t *params = su_zalloc(home, 3 * sizeof(*params));
	char *uri = su_strdup(home, c->uri), buf[40];

	if (m == NULL || params == NULL || uri == NULL)
		return NULL;
	sip_contact_init(m);
	if (url_d(m->m_url, uri) < 0)
		return NULL;
	snprintf(buf, sizeof(buf), "expires=%ld", (long)(c->expires - now));
	params[0] = su_strdup(home, buf);
	if (c->q >= 0) {
		snprintf(buf, sizeof(buf), "q=%d.%03d", c->q / 1000, c->q % 1000);
		params[1] = su_strdup(home, buf);
	}
	if (params[0] == NULL || (c->q >= 0 && params[1] == NULL))
		return NULL;
	m->m_params = params;
	m->m_expires = params[0] + strlen("expires=");
	m->m_q = params[1] ? params[1] + strlen("q=") : NULL;
	return m;
}

/* The 200's Allow and Supported, parsed once for the process (Sofia copies
 * them into each answer; parsing GW_ALLOW every time cost more than the copy). */
static su_home_t ok_home[1] = {SU_HOME_INIT(ok_home)};
static sip_allow_t *ok_allow;
static sip_supported_t *ok_supported;
static pthread_once_t ok_once = PTHREAD_ONCE_INIT;

static void
ok_headers_make(void)
{
	ok_allow = sip_allow_make(ok_home, GW_ALLOW);
	ok_supported = sip_supported_make(ok_home, GW_SUPPORTED);
}

/* ms: the REGISTER came from a Microsoft-protocol sign-in (Kerberos or NTLM) */
static void
reply_ok(struct worker *w, msg_t *msg, sip_t *sip, const struct loc_contact *v, size_t n,
	 time_t now, bool ms)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	sip_contact_t *first = NULL, **tail = &first;

	for (size_t i = 0; i < n; i++) {
		sip_contact_t *m = ok_contact(home, &v[i], now);
		if (m == NULL)
			continue;
		*tail = m;
		tail = &m->m_next;
	}
	/* Microsoft-protocol clients need the granted time in Expires, and are told
	 * to keep their connection alive */
	char expires[16] = "0";
	if (ms && sip->sip_contact && sip->sip_contact->m_url->url_host) {
		char *uri = url_as_string(home, sip->sip_contact->m_url);
		for (size_t i = 0; uri && i < n; i++)
			if (strcmp(v[i].uri, uri) == 0)
				snprintf(expires, sizeof(expires), "%ld",
					 (long)(v[i].expires - now));
	}
	pthread_once(&ok_once, ok_headers_make);
	nta_msg_treply(
	    w->w_agent, msg, SIP_200_OK, SIPTAG_CONTACT(first), SIPTAG_PATH(sip->sip_path),
	    SIPTAG_DATE(sip_date_create(home, sip_now())), TAG_IF(ok_allow, SIPTAG_ALLOW(ok_allow)),
	    TAG_IF(!ok_allow, SIPTAG_ALLOW_STR(GW_ALLOW)),
	    TAG_IF(ok_supported, SIPTAG_SUPPORTED(ok_supported)),
	    TAG_IF(!ok_supported, SIPTAG_SUPPORTED_STR(GW_SUPPORTED)),
	    TAG_IF(ms, SIPTAG_EXPIRES_STR(expires)), TAG_IF(ms, SIPTAG_HEADER_STR(GW_MS_KEEPALIVE)),
	    TAG_IF(ms, SIPTAG_UNKNOWN_STR(GW_MS_ALLOW_EVENTS)), TAG_END());
	su_home_deinit(home);
}

/* Fill the updates from the Contact headers; 0, or a status already sent. */
static int
collect_updates(struct worker *w, msg_t *msg, sip_t *sip, su_home_t *home,
		struct loc_register_req *req, struct loc_update *u)
{
	const struct gw_conf *c = w->w_gwd->conf;
	size_t n = 0;

	for (sip_contact_t *m = sip->sip_contact; m; m = m->m_next) {
		if (m->m_url->url_type == url_any) {
			if (n > 0 || m->m_next || !sip->sip_expires ||
			    sip->sip_expires->ex_delta != 0) {
				nta_msg_treply(w->w_agent, msg, 400,
					       "Contact * needs Expires: 0 and no other Contact",
					       TAG_END());
				return 400;
			}
			req->remove_all = true;
			return 0;
		}
		if (n == MAX_UPDATES) {
			nta_msg_treply(w->w_agent, msg, 403, "Too many contacts", TAG_END());
			return 403;
		}
		int exp = contact_expires(c, sip, m);
		if (exp > 0 && exp < c->min_expires) {
			char me[16];
			snprintf(me, sizeof(me), "%d", c->min_expires);
			nta_msg_treply(w->w_agent, msg, SIP_423_INTERVAL_TOO_BRIEF,
				       SIPTAG_MIN_EXPIRES_STR(me), TAG_END());
			return 423;
		}
		if (exp > c->max_expires)
			exp = c->max_expires;
		u[n].q = contact_q(m);
		if (u[n].q == -2) {
			nta_msg_treply(w->w_agent, msg, 400, "Bad q-value", TAG_END());
			return 400;
		}
		u[n].uri = url_as_string(home, m->m_url);
		if (u[n].uri && exp > 0 &&
		    loc_uri_taken(w->w_gwd->loc, u[n].uri, req->aor, time(NULL))) {
			/* the device is another user's: its dialogs must not come here */
			log_notice("event=register-refused user=%s contact=%s source=%s "
				   "reason=\"contact bound to another user\"",
				   log_value(req->aor), log_value(u[n].uri), req->flow.addr);
			sip_reply(w, msg, 403, "Contact belongs to another user");
			return 403;
		}
		u[n].expires = exp;
		u[n].instance = contact_instance(home, m);
		n++;
	}
	req->updates = u;
	req->nupdates = n;
	return 0;
}

static void
flow_fill(struct worker *w, msg_t *msg, struct loc_flow *flow)
{
	tport_t *tp = sip_msg_tport(w, msg);

	sip_msg_source(w, msg, flow->addr, sizeof(flow->addr), flow->transport,
		       sizeof(flow->transport));
	flow->worker = -1;
	flow->id = 0;
	if (tp && tport_is_reliable(tp)) {
		flow->worker = w->w_id;
		flow->id = flow_id(w->w_flows, tp);
	}
	tport_unref(tp);
}

/* The answer to a REGISTER the location service decided on; on the worker's
 * thread, also when the decision came from the writer thread. */
struct reg_answer {
	struct mailbox_item item; /* first: the mailbox hands it back */
	struct worker *w;
	msg_t *msg;
	time_t now;
	enum loc_result res;
	struct loc_contact *out;
	size_t nout;
	char aor[256];
	struct loc_flow flow;
	bool ms;      /* a Kerberos/NTLM sign-in: the 200 carries what those clients need */
	bool flipped; /* the AOR went online or offline: presence is told */
};

static void
reg_answer_send(struct reg_answer *ra)
{
	struct worker *w = ra->w;
	msg_t *msg = ra->msg;

	switch (ra->res) {
	case LOC_OK:
		log_info("event=register user=%s contacts=%zu transport=%s source=%s",
			 log_value(ra->aor), ra->nout, ra->flow.transport, ra->flow.addr);
		reply_ok(w, msg, sip_object(msg), ra->out, ra->nout, ra->now, ra->ms);
		if (ra->flipped)
			gwd_bindings_changed(w, ra->aor);
		break;
	case LOC_OUT_OF_ORDER:
		sip_reply(w, msg, 400, "CSeq out of order");
		break;
	case LOC_TOO_MANY:
		sip_reply(w, msg, 403, "Too many registered contacts");
		break;
	case LOC_STORE_FAILED:
	case LOC_PENDING:
	case LOC_IN_FLIGHT: /* not here: register_apply sends nothing for it */
		log_err("event=register-failed user=%s reason=\"store write failed\"",
			log_value(ra->aor));
		/* the store cannot be written now (the database is away, a
		 * standby being promoted): try again later, here or elsewhere */
		nta_msg_treply(w->w_agent, msg, 503, "Registration not stored",
			       SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
		break;
	}
	loc_contacts_free(ra->out, ra->nout);
	free(ra);
}

static void
reg_answer_run(struct mailbox_item *item)
{
	reg_answer_send((struct reg_answer *)item);
}

/* From the location writer's thread: the change is durable, or undone. */
static void
reg_answer_done(void *arg, enum loc_result res, struct loc_contact *v, size_t n)
{
	struct reg_answer *ra = arg;

	overload_register_waiting(ra->w, -1); /* the disk is done with it */
	ra->res = res;
	ra->out = v;
	ra->nout = n;
	ra->item.fn = reg_answer_run;
	mailbox_post(ra->w->w_mbox, &ra->item);
}

/* Apply the REGISTER; the 200 goes out once the binding is on disk. */
static void
register_apply(struct worker *w, msg_t *msg, struct loc_register_req *req, time_t now)
{
	struct reg_answer *ra = calloc(1, sizeof(*ra));
	struct loc_contact *out = NULL;
	size_t nout = 0;
	enum loc_result res;

	if (ra == NULL) {
		sip_reply(w, msg, 500, "Out of memory");
		return;
	}
	ra->w = w;
	ra->msg = msg;
	ra->now = now;
	ra->flow = req->flow;
	ra->ms = w->w_auth_sa != NULL;
	snprintf(ra->aor, sizeof(ra->aor), "%s", req->aor);
	req->flipped = &ra->flipped; /* set under the location lock, before the call returns */
	bool repeated = false;
	req->repeated = &repeated; /* the same */
	/* over UDP a retransmission comes from the client the original's answer
	 * goes to; over a connection a repeat may come on a new one */
	req->absorb_in_flight = strcmp(req->flow.transport, "udp") == 0;
	/* once pending, ra belongs to the writer thread until the mailbox hands it back */
	res = loc_register_start(w->w_gwd->loc, req, now, reg_answer_done, ra, &out, &nout);
	req->repeated = NULL;
	if (repeated)
		overload_register_repeated(w);
	if (res == LOC_PENDING) {
		overload_register_waiting(w, 1);
		mailbox_expect(w->w_mbox);
		return;
	}
	if (res == LOC_IN_FLIGHT) {
		/* the original's 200 (or 503) answers this client: one answer,
		 * not one per retransmission once the disk is back */
		msg_destroy(msg);
		free(ra);
		return;
	}
	ra->res = res;
	ra->out = out;
	ra->nout = nout;
	reg_answer_send(ra);
}

void
sip_register_handle(struct worker *w, msg_t *msg, sip_t *sip)
{
	const struct gw_conf *c = w->w_gwd->conf;
	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct loc_update u[MAX_UPDATES];
	struct loc_register_req req = {0};
	struct loc_contact *out = NULL;
	size_t nout = 0;
	char aor[256], user[256];
	time_t now = time(NULL);

	atomic_fetch_add(&w->w_gwd->stats.registers, 1);
	if (sip_url_aor(aor, sizeof(aor), sip->sip_to->a_url) < 0 ||
	    !sip->sip_to->a_url->url_user) {
		nta_msg_treply(w->w_agent, msg, 400, "Bad To", TAG_END());
		goto done;
	}
	if (!gw_conf_serves(c, sip->sip_to->a_url->url_host)) {
		sip_reply(w, msg, 403, "Domain not served here");
		goto done;
	}
	if (sip_auth_check(w, msg, sip, true, user, sizeof(user)) != GW_PASS)
		goto done;
	req.aor = aor;
	req.call_id = sip->sip_call_id->i_id;
	req.cseq = sip->sip_cseq->cs_seq;
	req.path = path_string(home, sip);
	req.user_agent = sip->sip_user_agent ? sip->sip_user_agent->g_string : NULL;
	req.max_contacts = c->max_contacts;
	flow_fill(w, msg, &req.flow);
	if (collect_updates(w, msg, sip, home, &req, u) != 0)
		goto done;
	if (!req.remove_all && req.nupdates == 0) {
		/* a query: list the bindings */
		if (loc_lookup(w->w_gwd->loc, aor, now, &out, &nout) < 0) {
			sip_reply(w, msg, 500, "Location lookup failed");
			goto done;
		}
		reply_ok(w, msg, sip, out, nout, now, w->w_auth_sa != NULL);
		goto done;
	}
	register_apply(w, msg, &req, now);
done:
	loc_contacts_free(out, nout);
	su_home_deinit(home);
}
