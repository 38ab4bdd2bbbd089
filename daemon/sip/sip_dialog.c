/*
 * sip_dialog.c - the table of dialogs greenwichd routes.
 *
 * A dialog is recorded when an answer with a To tag to a dialog-creating
 * request passes through (party a sent the request, party b answered):
 * both tags, both AORs, both remote targets (the Contact of each side) and
 * the route set beyond us in each direction (from the Record-Route of the
 * answer, split at our own entry).  An in-dialog request then matches only
 * with its Call-ID, both tags in one direction, From and To of that
 * direction, a Request-URI that is the peer's remote target (or its AOR),
 * and exactly the route set recorded for that direction.  One mutex guards
 * the table; every worker uses it.  Each dialog's state and lifetime, the cap
 * and the room reserved for calls being forwarded: dialog_table.c.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_protos.h>

#include "addr_count.h"
#include "hash.h"
#include "loc.h"
#include "log.h"
#include "sip_dialog.h"

#define DLG_ROUTE_MAX 1024
/* Entries past their time dropped on each use of the table, per queue. */
#define DLG_EXPIRE_BUDGET 8

struct dlg_side {
	const char *aor;   /* in the entry's text */
	const char *route; /* the Route beyond us toward this side, in the entry's text */
	char *target;      /* where requests to this side go (its Contact): its own
			    * allocation, since a target refresh replaces it */
	int zone;
};

/* An entry takes what its strings take, not the most they may take: its
 * head, then call_id, both tags, via_a, both AORs, both routes and user_a
 * in text[], each ended by its NUL. */
struct dlg {
	struct dlg_node n;       /* first: the table hands it to dlg_free */
	const char *via_a;       /* the INVITE's top Via as it reached us: where its 2xx go */
	struct dlg_side side[2]; /* 0 created the dialog, 1 answered (tags: in n) */
	const char *user_a;
	sip_method_t method;
	struct addr_entry *share; /* of its creator's source while live (dlg_reserve) */
	char text[];
};

static pthread_mutex_t dlg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dlg_table table;
/* Live dialogs (and reservations) per client source, the creator's: so that one
 * address cannot hold the whole table for hours with calls its own devices
 * answer.  Used under dlg_lock (and its own lock inside). */
static struct addr_count *shares;
static bool table_ready;
/* Refusing: logged when it begins, and when a reservation is granted again
 * REFUSING_QUIET seconds after the last refusal (not at every room freed). */
#define REFUSING_QUIET 2
static bool refusing;
static unsigned long refused_at_start;
static time_t last_refused;

static void
dlg_free(struct dlg_node *n)
{
	struct dlg *d = (struct dlg *)n;

	addr_count_put(shares, d->share);
	free(d->side[0].target);
	free(d->side[1].target);
	free(d);
}

/* The table as the daemon's defaults make it, unless dlg_configure() came first. */
static void
ready_locked(void)
{
	if (shares == NULL)
		shares = addr_count_alloc(); /* NULL: nothing counted, nothing refused */
	if (!table_ready && dlg_table_init(&table, 50000, 180, dlg_free) < 0)
		log_warnx("event=dialog-table-hash error=\"no SipHash from OpenSSL\"");
	table_ready = true;
}

/* Copy s to *p, past which the next string goes; the copy. */
static const char *
text_put(char **p, const char *s)
{
	size_t n = strlen(s) + 1;
	char *at = *p;

	memcpy(at, s, n);
	*p += n;
	return at;
}

static void
url_str(char *out, size_t len, const url_t *u)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	char *s = u ? url_as_string(home, u) : NULL;

	snprintf(out, len, "%s", s ? s : "");
	su_home_deinit(home);
}

static void
route_add(char *out, size_t len, const url_t *u)
{
	char one[600];
	size_t n = strlen(out);

	url_str(one, sizeof(one), u);
	snprintf(out + n, len - n, "%s%s", n ? "," : "", one);
}

static bool
own_entry(const sip_record_route_t *r, const char *token)
{
	char val[64];

	return r->r_url->url_params &&
	       url_param(r->r_url->url_params, "gwd", val, sizeof(val)) > 0 &&
	       strcmp(val, token) == 0;
}

/* The answer's Record-Route reads from b's side to a's: the entries above ours
 * lie toward b (requests from a cross them last first), those below toward a. */
static bool
routes_split(const sip_t *resp, const char *token, char *to_a, char *to_b, size_t len)
{
	const sip_record_route_t *above[64];
	size_t nabove = 0;
	const sip_record_route_t *r = resp->sip_record_route;

	to_a[0] = to_b[0] = '\0';
	for (; r && !own_entry(r, token); r = r->r_next)
		if (nabove < 64)
			above[nabove++] = r;
	if (r == NULL)
		return false; /* not record-routed through us */
	while (nabove > 0)
		route_add(to_b, len, above[--nabove]->r_url);
	for (r = r->r_next; r; r = r->r_next)
		route_add(to_a, len, r->r_url);
	return true;
}

static void
via_key(char *out, size_t len, const sip_via_t *v)
{
	snprintf(out, len, "%s %s:%s;%s;%s", v->v_protocol ? v->v_protocol : "",
		 v->v_host ? v->v_host : "", v->v_port ? v->v_port : "",
		 v->v_received ? v->v_received : "", v->v_rport ? v->v_rport : "");
}

static struct dlg *
find_locked(const char *call_id, const char *t0, const char *t1, time_t now)
{
	ready_locked();
	dlg_table_expire(&table, now, DLG_EXPIRE_BUDGET);
	return (struct dlg *)dlg_table_find(&table, call_id, t0, t1, now);
}

/* The dialog in either direction; *dir: 1 when the message goes from the answerer. */
static struct dlg *
find_either_locked(const char *call_id, const char *ft, const char *tt, time_t now, int *dir)
{
	struct dlg *d = find_locked(call_id, ft, tt, now);

	*dir = 0;
	if (d == NULL) {
		d = find_locked(call_id, tt, ft, now);
		*dir = 1;
	}
	return d;
}

int
dlg_configure(size_t max, int invite_timeout)
{
	int rc;

	pthread_mutex_lock(&dlg_lock);
	if (table_ready)
		dlg_table_destroy(&table);
	rc = dlg_table_init(&table, max, invite_timeout, dlg_free);
	table_ready = rc == 0;
	refusing = false;
	pthread_mutex_unlock(&dlg_lock);
	if (rc < 0)
		log_err("dialog table: OpenSSL gives no SipHash for its keyed hash");
	return rc;
}

enum dlg_room
dlg_reserve(const struct sockaddr *src, unsigned limit, struct addr_entry **share)
{
	struct dlg_counts c;
	time_t now = time(NULL);
	bool ok, over = false;

	*share = NULL;
	pthread_mutex_lock(&dlg_lock);
	ready_locked();
	if (src && shares)
		*share = addr_count_take(shares, src, limit, &over);
	if (over) {
		bool due = addr_count_due(shares, src, now, 60);
		pthread_mutex_unlock(&dlg_lock);
		if (due) {
			char text[72];
			addr_count_text(src, text, sizeof(text));
			log_notice(
			    "event=dialogs-refused source=%s limit=%u reason=\"too many dialogs "
			    "from this address\"",
			    text, limit);
		}
		return DLG_SOURCE_FULL;
	}
	ok = dlg_table_reserve(&table, now);
	dlg_table_counts(&table, &c);
	if (!ok && !refusing) {
		refusing = true;
		refused_at_start = c.refused - 1;
		log_warnx("event=overload reason=dialogs action=refusing live=%zu reserved=%zu "
			  "ending=%zu max=%zu",
			  c.early + c.unacked + c.confirmed, c.reserved, c.ending, c.max);
	} else if (ok && refusing && now - last_refused >= REFUSING_QUIET) {
		refusing = false;
		log_notice("event=overload-end reason=dialogs refused=%lu",
			   c.refused - refused_at_start);
	}
	if (!ok) {
		last_refused = now;
		addr_count_put(shares, *share);
		*share = NULL;
	}
	pthread_mutex_unlock(&dlg_lock);
	return ok ? DLG_ROOM : DLG_FULL;
}

void
dlg_unreserve(struct addr_entry *share)
{
	pthread_mutex_lock(&dlg_lock);
	dlg_table_unreserve(&table);
	addr_count_put(shares, share);
	pthread_mutex_unlock(&dlg_lock);
}

/* What an entry is made of, before it is made: the most each string may take. */
struct dlg_draft {
	char aor[2][GW_AOR_MAX + 1];
	char target[2][512];
	char route[2][DLG_ROUTE_MAX];
	char via[300];
};

/* The entry for a draft, its strings packed after it; NULL: no memory. */
static struct dlg *
dlg_make(const struct dlg_draft *w, const char *call_id, const char *t0, const char *t1,
	 const char *user)
{
	const char *texts[] = {call_id,   t0,          t1,          w->via, w->aor[0],
			       w->aor[1], w->route[0], w->route[1], user};
	size_t len = 0;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		len += strlen(texts[i]) + 1;
	struct dlg *d = calloc(1, sizeof(*d) + len);
	if (d == NULL)
		return NULL;
	d->side[0].target = strdup(w->target[0]);
	d->side[1].target = strdup(w->target[1]);
	if (d->side[0].target == NULL || d->side[1].target == NULL) {
		dlg_free(&d->n);
		return NULL;
	}
	char *p = d->text;
	d->n.call_id = text_put(&p, call_id);
	d->n.tag[0] = text_put(&p, t0);
	d->n.tag[1] = text_put(&p, t1);
	d->via_a = text_put(&p, w->via);
	d->side[0].aor = text_put(&p, w->aor[0]);
	d->side[1].aor = text_put(&p, w->aor[1]);
	d->side[0].route = text_put(&p, w->route[0]);
	d->side[1].route = text_put(&p, w->route[1]);
	d->user_a = text_put(&p, user);
	return d;
}

/* A side's target becomes target (its own copy); kept as it was without memory. */
static void
target_set(struct dlg_side *side, const char *target)
{
	char *t = strdup(target);

	if (t == NULL)
		return;
	free(side->target);
	side->target = t;
}

void
dlg_record(const sip_t *req, const sip_t *resp, const char *sender_user, int zone,
	   const char *own_token, bool *reserved, struct addr_entry **share)
{
	struct dlg *d;
	struct dlg_draft *w;
	time_t now = time(NULL);
	bool answered = resp && resp->sip_status && resp->sip_status->st_status >= 200;

	if (!req || !resp || !resp->sip_to || !resp->sip_to->a_tag || !req->sip_from->a_tag ||
	    !req->sip_call_id || strlen(req->sip_call_id->i_id) >= DLG_ID_MAX ||
	    strlen(req->sip_from->a_tag) >= DLG_TAG_MAX ||
	    strlen(resp->sip_to->a_tag) >= DLG_TAG_MAX)
		return;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return;
	sip_url_aor(w->aor[0], sizeof(w->aor[0]), req->sip_from->a_url);
	sip_url_aor(w->aor[1], sizeof(w->aor[1]), req->sip_to->a_url);
	url_str(w->target[0], sizeof(w->target[0]),
		req->sip_contact ? req->sip_contact->m_url : NULL);
	url_str(w->target[1], sizeof(w->target[1]),
		resp->sip_contact ? resp->sip_contact->m_url : NULL);
	if (req->sip_via)
		via_key(w->via, sizeof(w->via), req->sip_via);
	if (!routes_split(resp, own_token, w->route[0], w->route[1], DLG_ROUTE_MAX) ||
	    (d = dlg_make(w, req->sip_call_id->i_id, req->sip_from->a_tag, resp->sip_to->a_tag,
			  sender_user ? sender_user : "")) == NULL) {
		free(w);
		return;
	}
	free(w);
	d->side[0].zone = zone;
	d->side[1].zone = -1; /* decided by the caller of dlg_match when it matters */
	d->method = req->sip_request->rq_method;
	d->n.call = d->method == sip_method_invite;

	bool had = reserved && *reserved; /* dlg_table_add() takes the reservation */
	pthread_mutex_lock(&dlg_lock);
	struct dlg *old = find_locked(d->n.call_id, d->n.tag[0], d->n.tag[1], now);
	if (old) {
		/* a retransmitted or later answer: its Contact is the current target */
		if (d->side[1].target[0])
			target_set(&old->side[1], d->side[1].target);
		if (answered)
			dlg_table_answered(&table, &old->n, now);
		dlg_free(&d->n);
	} else if (dlg_table_add(&table, &d->n, answered, reserved, now) < 0) {
		struct dlg_counts c;
		dlg_table_counts(&table, &c);
		log_warnx("event=dialog-table-full live=%zu max=%zu call-id=%s",
			  c.early + c.unacked + c.confirmed, c.max, log_value(d->n.call_id));
		dlg_free(&d->n);
	} else if (had && share) {
		/* with the reservation, the dialog holds its creator's share */
		d->share = *share;
		*share = NULL;
	}
	pthread_mutex_unlock(&dlg_lock);
}

void
dlg_failed(const sip_t *resp)
{
	if (!resp->sip_call_id || !resp->sip_from->a_tag || !resp->sip_to->a_tag)
		return;
	pthread_mutex_lock(&dlg_lock);
	struct dlg *d = find_locked(resp->sip_call_id->i_id, resp->sip_from->a_tag,
				    resp->sip_to->a_tag, time(NULL));
	if (d)
		dlg_table_failed(&table, &d->n);
	pthread_mutex_unlock(&dlg_lock);
}

void
dlg_call_failed(const sip_t *req)
{
	if (!req->sip_call_id || !req->sip_from || !req->sip_from->a_tag)
		return;
	pthread_mutex_lock(&dlg_lock);
	dlg_table_call_failed(&table, req->sip_call_id->i_id, req->sip_from->a_tag);
	pthread_mutex_unlock(&dlg_lock);
}

/* The request's Route entries beyond ours, as recorded. */
static void
request_route(const sip_t *sip, char *out, size_t len)
{
	out[0] = '\0';
	for (const sip_route_t *r = sip->sip_route; r; r = r->r_next)
		route_add(out, len, r->r_url);
}

static bool
target_ok(const sip_t *sip, const struct dlg_side *peer)
{
	char ruri[512], k1[300], k2[300], aor[GW_AOR_MAX + 1];

	url_str(ruri, sizeof(ruri), sip->sip_request->rq_url);
	if (strcmp(ruri, peer->target) == 0)
		return true;
	loc_uri_key(k1, sizeof(k1), ruri);
	loc_uri_key(k2, sizeof(k2), peer->target);
	if (peer->target[0] && strcmp(k1, k2) == 0)
		return true;
	/* some clients address the peer's AOR inside a dialog: it goes to the target all the same
	 */
	return sip_url_aor(aor, sizeof(aor), sip->sip_request->rq_url) == 0 &&
	       sip->sip_request->rq_url->url_user && strcasecmp(aor, peer->aor) == 0;
}

int
dlg_match(const sip_t *sip, struct dlg_match *m, const char **why)
{
	const char *ft = sip->sip_from->a_tag, *tt = sip->sip_to->a_tag;
	char fa[GW_AOR_MAX + 1] = "", ta[GW_AOR_MAX + 1] = "", route[DLG_ROUTE_MAX];
	int ret = -ENOENT, dir = 0;
	time_t now = time(NULL);

	*why = "no such dialog";
	if (ft == NULL || tt == NULL)
		return -ENOENT;
	sip_url_aor(fa, sizeof(fa), sip->sip_from->a_url);
	sip_url_aor(ta, sizeof(ta), sip->sip_to->a_url);
	request_route(sip, route, sizeof(route));
	pthread_mutex_lock(&dlg_lock);
	struct dlg *d = find_either_locked(sip->sip_call_id->i_id, ft, tt, now, &dir);
	if (d == NULL)
		goto done;
	const struct dlg_side *from = &d->side[dir], *to = &d->side[!dir];
	ret = -EPERM;
	if (strcasecmp(fa, from->aor) != 0 || strcasecmp(ta, to->aor) != 0) {
		*why = "From or To is not the dialog's";
		goto done;
	}
	if (!target_ok(sip, to)) {
		*why = "Request-URI is not the peer's remote target";
		goto done;
	}
	if (strcmp(route, to->route) != 0) {
		*why = "Route set is not the dialog's";
		goto done;
	}
	snprintf(m->peer_aor, sizeof(m->peer_aor), "%s", to->aor);
	snprintf(m->sender_aor, sizeof(m->sender_aor), "%s", from->aor);
	snprintf(m->target, sizeof(m->target), "%s", to->target);
	snprintf(m->sender_user, sizeof(m->sender_user), "%s", dir == 0 ? d->user_a : "");
	m->zone = from->zone;
	m->method = d->method;
	dlg_table_used(&table, &d->n, sip->sip_request->rq_method == sip_method_ack, now);
	ret = 0;
done:
	pthread_mutex_unlock(&dlg_lock);
	return ret;
}

/* A target refresh (RFC 3261 12.2): a re-INVITE, UPDATE, SUBSCRIBE or NOTIFY inside the
 * dialog, or a 2xx to one, carries the sender's new Contact. */
void
dlg_refresh(const sip_t *msg)
{
	const char *ft = msg->sip_from->a_tag, *tt = msg->sip_to->a_tag;
	char target[512];

	if (ft == NULL || tt == NULL || msg->sip_contact == NULL)
		return;
	url_str(target, sizeof(target), msg->sip_contact->m_url);
	pthread_mutex_lock(&dlg_lock);
	/* From is the sender of a request, To the sender of its answer */
	int who;
	struct dlg *d = find_either_locked(msg->sip_call_id->i_id, ft, tt, time(NULL), &who);
	if (d) {
		if (msg->sip_status)
			who = !who;
		target_set(&d->side[who], target);
	}
	pthread_mutex_unlock(&dlg_lock);
}

bool
dlg_answer_ok(const sip_t *resp)
{
	char via[300];
	bool ok = false;

	if (!resp->sip_from->a_tag || !resp->sip_to->a_tag || !resp->sip_via ||
	    !resp->sip_via->v_next)
		return false;
	via_key(via, sizeof(via), resp->sip_via->v_next);
	pthread_mutex_lock(&dlg_lock);
	struct dlg *d = find_locked(resp->sip_call_id->i_id, resp->sip_from->a_tag,
				    resp->sip_to->a_tag, time(NULL));
	ok = d && strcmp(d->via_a, via) == 0;
	pthread_mutex_unlock(&dlg_lock);
	return ok;
}

void
dlg_ending(const sip_t *sip)
{
	const char *ft = sip->sip_from->a_tag, *tt = sip->sip_to->a_tag;
	time_t now = time(NULL);
	int dir;

	if (ft == NULL || tt == NULL)
		return;
	pthread_mutex_lock(&dlg_lock);
	struct dlg *d = find_either_locked(sip->sip_call_id->i_id, ft, tt, now, &dir);
	if (d) {
		dlg_table_ending(&table, &d->n, now);
		addr_count_put(shares, d->share); /* no longer live */
		d->share = NULL;
	}
	pthread_mutex_unlock(&dlg_lock);
}

void
dlg_counts(struct dlg_counts *c)
{
	pthread_mutex_lock(&dlg_lock);
	ready_locked();
	dlg_table_expire(&table, time(NULL), DLG_EXPIRE_BUDGET);
	dlg_table_counts(&table, c);
	pthread_mutex_unlock(&dlg_lock);
}

void
dlg_clear(void)
{
	pthread_mutex_lock(&dlg_lock);
	if (table_ready)
		dlg_table_destroy(&table);
	table_ready = false;
	addr_count_free(shares); /* empty now: every dialog gave its share back */
	shares = NULL;
	pthread_mutex_unlock(&dlg_lock);
}
