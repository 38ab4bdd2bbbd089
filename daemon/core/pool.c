/*
 * pool.c - this front end in the pool: its heartbeat, the others' rows, the
 * others' bindings, and the authentication of the hops between front ends
 * (see pool.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gwd.h"
#include "gwstore.h"
#include "loc.h"
#include "log.h"
#include "pool.h"
#include "pool_hop.h"
#include "pool_replay.h"
#include "service.h"

#define POOL_MAX_FE 64

struct fe {
	char id[40];
	char address[128];
	int64_t age; /* seconds since its heartbeat, by the database's clock ... */
	time_t read; /* ... when we last read it */
	bool down;   /* logged as out of the pool */
};

struct pool {
	struct gwd *g;
	char self[40];
	char address[128];
	unsigned char secret[64];
	size_t secret_len;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	struct gwstore *st;
	struct gwstore_listener *listen;
	struct hop_seen *hops; /* the hops taken, against replays */
	pthread_mutex_t mu;    /* fes */
	struct fe fes[POOL_MAX_FE];
	size_t nfes;
	bool resync;             /* the listener reconnected: read every binding again */
	pool_control_fn control; /* runs relayed control requests (control/) */
	bool control_due;        /* a control request may wait for us in the store */
	bool control_failed;     /* the last look failed (logged) */
	unsigned long last_requests;
	time_t last_beat;
	/* When our own heartbeat and read last succeeded.  A front end is out
	 * when its heartbeat's age at our last good read is dead-after or more:
	 * while the store fails or does not answer we cannot tell whether the
	 * others beat (they may be cut off as we are), so the ages stay as read
	 * and nobody is taken out; nor until dead-after seconds after we see
	 * again (older than two heartbeats: blind), as the others' rows are as
	 * old as the outage until they beat. */
	atomic_llong seen;
	atomic_llong sees_since; /* when we saw the store again; 0: from the start */
	bool blind_logged;
};

/* The secret file: at least 32 bytes, not readable by others. */
static int
secret_read(struct pool *p, const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || fstat(fd, &sb) < 0) {
		snprintf(err, errlen, "[pool] secret-file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (sb.st_mode & S_IROTH) {
		snprintf(err, errlen, "[pool] secret-file %s is readable by everyone", path);
		close(fd);
		return -1;
	}
	n = read(fd, p->secret, sizeof(p->secret));
	close(fd);
	while (n > 0 && (p->secret[n - 1] == '\n' || p->secret[n - 1] == '\r'))
		n--;
	if (n < 32) {
		snprintf(err, errlen, "[pool] secret-file %s: at least 32 bytes needed", path);
		return -1;
	}
	p->secret_len = (size_t)n;
	return 0;
}

static int
fe_row(const struct gwstore_frontend *fe, void *arg)
{
	struct pool *p = arg;

	if (p->nfes >= POOL_MAX_FE)
		return 1;
	struct fe *f = &p->fes[p->nfes++];
	bool was_down = false;
	snprintf(f->id, sizeof(f->id), "%s", fe->id);
	snprintf(f->address, sizeof(f->address), "%s", fe->address);
	f->age = fe->age;
	f->read = time(NULL);
	(void)was_down;
	return 0;
}

static bool
blind(struct pool *p, time_t now)
{
	return now - atomic_load(&p->seen) > 2 * (long long)p->g->conf->pool_heartbeat + 1;
}

/* By its heartbeat's age at our last read: a read that succeeded, at most
 * two heartbeats ago, or we are blind and its age is what it was then (no
 * front end is taken out for our own outage). */
static bool
fe_alive(struct pool *p, const struct fe *f, time_t now)
{
	long long since = atomic_load(&p->sees_since);

	if (since && now - since < p->g->conf->pool_dead_after)
		return true; /* the others' rows are as old as our outage: let them beat */
	return f->age < p->g->conf->pool_dead_after;
}

/* The beat failed: say so once per outage. */
static void
beat_failed(struct pool *p)
{
	if (!p->blind_logged)
		log_warnx("event=pool-heartbeat-failed reason=\"%s\" "
			  "note=\"no front end is taken out while the store is unreachable\"",
			  gwstore_error(p->st));
	p->blind_logged = true;
}

/* Record our heartbeat and read everyone's. */
static void
beat(struct pool *p, bool first)
{
	unsigned long req = atomic_load(&p->g->stats.requests);
	time_t now = time(NULL);
	long secs = p->last_beat ? (long)(now - p->last_beat) : 1;
	const struct gwstore_frontend me = {
	    .id = p->self,
	    .address = p->address,
	    .version = PACKAGE_VERSION,
	    .started = first,
	    .load = (int64_t)((req - p->last_requests) / (unsigned long)(secs > 0 ? secs : 1)),
	    .bindings = (int64_t)loc_count(p->g->loc),
	};
	struct fe old[POOL_MAX_FE];
	size_t nold;

	p->last_requests = req;
	p->last_beat = now;
	if (gwstore_frontend_beat(p->st, &me) < 0) {
		beat_failed(p);
		return;
	}
	pthread_mutex_lock(&p->mu);
	memcpy(old, p->fes, sizeof(old));
	nold = p->nfes;
	p->nfes = 0;
	if (gwstore_frontend_each(p->st, fe_row, p) < 0) {
		memcpy(p->fes, old, sizeof(old));
		p->nfes = nold;
		pthread_mutex_unlock(&p->mu);
		beat_failed(p);
		return;
	}
	now = time(NULL); /* the beat may have waited */
	if (atomic_load(&p->seen) && blind(p, now)) {
		atomic_store(&p->sees_since, (long long)now);
		log_notice("event=pool-heartbeat-restored");
	}
	p->blind_logged = false;
	atomic_store(&p->seen, (long long)now);
	for (size_t i = 0; i < p->nfes; i++) {
		struct fe *f = &p->fes[i];
		bool alive = fe_alive(p, f, now);
		for (size_t k = 0; k < nold; k++)
			if (strcmp(old[k].id, f->id) == 0)
				f->down = old[k].down;
		if (!alive && !f->down && strcmp(f->id, p->self) != 0)
			log_warnx("event=frontend-down frontend=%s heartbeat-age=%lld", f->id,
				  (long long)f->age);
		else if (alive && f->down)
			log_notice("event=frontend-up frontend=%s", f->id);
		f->down = !alive;
	}
	pthread_mutex_unlock(&p->mu);
}

struct binding_rows {
	struct loc_contact *v;
	size_t n, cap;
	bool failed;
};

static int
binding_row(const struct gwstore_binding *b, void *arg)
{
	struct binding_rows *r = arg;
	struct loc_contact c;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct loc_contact *v = realloc(r->v, cap * sizeof(*v));
		if (v == NULL) {
			r->failed = true;
			return 1;
		}
		r->v = v;
		r->cap = cap;
	}
	loc_contact_view(&c, b);
	if (loc_contact_copy(&r->v[r->n], &c) < 0) {
		r->failed = true;
		return 1;
	}
	r->n++;
	return 0;
}

struct changed {
	char aor[256];
};

static void
changed_run(struct worker *w, void *arg)
{
	struct changed *c = arg;

	gwd_bindings_changed(w, c->aor);
	free(c);
}

/* Another front end changed aor's bindings (NULL: anything may have changed). */
static void
bindings_reload(struct pool *p, const char *aor)
{
	struct binding_rows r = {0};
	int rc = aor ? gwstore_binding_aor(p->st, aor, time(NULL), binding_row, &r)
		     : gwstore_binding_each(p->st, time(NULL), binding_row, &r);

	if (rc < 0 || r.failed) {
		log_warnx("event=pool-bindings-read-failed aor=%s reason=\"%s\"", aor ? aor : "*",
			  gwstore_error(p->st));
		p->resync = true; /* try everything again at the next beat */
	} else if (loc_foreign_set(p->g->loc, aor, r.v, r.n) == 0 && aor) {
		struct changed *c = calloc(1, sizeof(*c));
		if (c) {
			snprintf(c->aor, sizeof(c->aor), "%s", aor);
			if (worker_post(&p->g->workers[0], changed_run, c) < 0)
				free(c);
		}
	}
	loc_contacts_free(r.v, r.n);
}

/* A notification for the services on worker 0 (channel NULL: read all again). */
struct store_note {
	char *channel;
	char *payload;
};

static void
note_run(struct worker *w, void *arg)
{
	struct store_note *n = arg;

	gwd_store_changed(w, n->channel, n->payload);
	free(n->channel);
	free(n->payload);
	free(n);
}

static void
note_post(struct pool *p, const char *chan, const char *payload)
{
	struct store_note *n = calloc(1, sizeof(*n));

	if (n == NULL || (chan && (n->channel = strdup(chan)) == NULL) ||
	    (payload && (n->payload = strdup(payload)) == NULL) ||
	    worker_post(&p->g->workers[0], note_run, n) < 0) {
		log_warnx("event=pool-notification-dropped channel=%s", chan ? chan : "*");
		if (n) {
			free(n->channel);
			free(n->payload);
		}
		free(n);
		if (chan)
			p->resync = true; /* read everything again at the next turn */
	}
}

/* payload's second field (after the first tab) names this front end */
static bool
from_self(const struct pool *p, const char *payload)
{
	const char *fe = strchr(payload, '\t');
	size_t n = strlen(p->self);

	return fe && strncmp(fe + 1, p->self, n) == 0 && (fe[1 + n] == '\0' || fe[1 + n] == '\t');
}

static void
notified(const char *chan, const char *payload, void *arg)
{
	struct pool *p = arg;
	char aor[256];
	const char *tab;

	if (payload == NULL) {
		p->resync = true;
		p->control_due = true;
		return;
	}
	if (strcmp(chan, GWSTORE_CHANNEL_CONTROL) == 0) {
		p->control_due |= from_self(p, payload);
		return;
	}
	if (strcmp(chan, GWSTORE_CHANNEL_BINDINGS) != 0) {
		if (!from_self(p, payload))
			note_post(p, chan, payload);
		return;
	}
	tab = strchr(payload, '\t');
	if (tab == NULL || strcmp(tab + 1, p->self) == 0 || (size_t)(tab - payload) >= sizeof(aor))
		return; /* our own change, or not one of ours */
	memcpy(aor, payload, (size_t)(tab - payload));
	aor[tab - payload] = '\0';
	bindings_reload(p, aor);
}

static void
control_row(const struct gwstore_control *c, void *arg)
{
	struct pool *p = arg;
	char requester[200], role[100];
	char *reply;

	log_value_buf(requester, sizeof(requester), c->requester);
	log_value_buf(role, sizeof(role), c->role);
	if (c->expired) {
		log_notice("event=control-remote-expired id=%lld requester=%s role=%s request=%s "
			   "(its time passed before this front end saw it: not run)",
			   (long long)c->id, requester, role, log_value(c->request));
		return;
	}
	reply = p->control ? p->control(p->g, (long long)c->id, c->request, c->requester, c->role)
			   : NULL;
	if (gwstore_control_answer(p->st, c->id,
				   reply
				       ? reply
				       : "{\"ok\":false,\"code\":\"unavailable\",\"error\":"
					 "\"this front end cannot run control requests now\"}") < 0)
		log_warnx("event=control-remote-unanswered id=%lld reason=\"%s\"", (long long)c->id,
			  gwstore_error(p->st));
	free(reply);
}

/* Claim and run the control requests waiting for this front end. */
static void
control_take(struct pool *p)
{
	p->control_due = false; /* the next heartbeat looks again anyway */
	if (gwstore_control_take(p->st, p->self, control_row, p) < 0) {
		if (!p->control_failed) /* once per outage, not at every heartbeat */
			log_warnx("event=control-remote-failed reason=\"%s\"",
				  gwstore_error(p->st));
		p->control_failed = true;
	} else
		p->control_failed = false;
}

static void *
pool_main(void *arg)
{
	struct pool *p = arg;
	static const char *const chans[] = {GWSTORE_CHANNEL_BINDINGS, GWSTORE_CHANNEL_PRESENCE,
					    GWSTORE_CHANNEL_LISTS, GWSTORE_CHANNEL_CONTROL};
	char err[256];

	while (!atomic_load(&p->stop)) {
		if (p->listen == NULL &&
		    gwstore_listener_open(&p->listen, p->g->conf, chans, 4, err, sizeof(err)) == 0)
			p->resync = true;
		if (p->listen)
			gwstore_listener_wait(p->listen, 500, notified, p);
		else
			usleep(500000);
		if (p->resync) {
			p->resync = false;
			bindings_reload(p, NULL);
			/* and the services (what changed before we listened, or
			 * while the connection was lost, was not told) */
			note_post(p, NULL, NULL);
		}
		if (p->control_due)
			control_take(p);
		if (time(NULL) - p->last_beat >= p->g->conf->pool_heartbeat) {
			beat(p, false);
			/* a notification lost while the listener was away; an asker that died */
			p->control_due = true;
			gwstore_control_purge(p->st);
		}
	}
	return NULL;
}

int
pool_start(struct gwd *g, char *err, size_t errlen)
{
	const struct gw_conf *c = g->conf;
	struct pool *p;

	g->pool = NULL;
	if (c->pool_secret_file[0] == '\0')
		return 0;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->g = g;
	pthread_mutex_init(&p->mu, NULL);
	if (c->pool_id[0])
		snprintf(p->self, sizeof(p->self), "%s", c->pool_id);
	else if (gethostname(p->self, sizeof(p->self)) < 0)
		snprintf(p->self, sizeof(p->self), "greenwich");
	const struct gw_strlist *own = pool_tls(g) ? &c->tls : &c->tcp;
	if (c->pool_address[0])
		snprintf(p->address, sizeof(p->address), "%s", c->pool_address);
	else if (own->n)
		snprintf(p->address, sizeof(p->address), "%s", own->v[0]);
	else {
		snprintf(err, errlen, "[pool] needs a %s listener ([server] %s) or [pool] address",
			 pool_tls(g) ? "TLS" : "TCP", pool_tls(g) ? "tls" : "tcp");
		goto fail;
	}
	if (secret_read(p, c->pool_secret_file, err, errlen) < 0)
		goto fail;
	if ((p->hops = hop_seen_new(POOL_HOP_WINDOW)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (gwstore_open_conf(&p->st, c, GWSTORE_LOCATION, err, errlen) < 0)
		goto fail;
	loc_set_frontend(g->loc, p->self);
	beat(p, true);
	g->pool = p;
	log_notice("event=pool-joined frontend=%s address=%s frontends=%zu", p->self, p->address,
		   p->nfes);
	return 0;
fail:
	gwstore_close(p->st);
	hop_seen_free(p->hops);
	OPENSSL_cleanse(p->secret, sizeof(p->secret));
	free(p);
	return -1;
}

int
pool_run(struct gwd *g)
{
	struct pool *p = g->pool;

	if (p == NULL)
		return 0;
	if (pthread_create(&p->thread, NULL, pool_main, p) != 0) {
		log_err("cannot start the pool's thread");
		return -1;
	}
	p->running = true;
	return 0;
}

void
pool_stop(struct gwd *g)
{
	struct pool *p = g->pool;

	if (p == NULL)
		return;
	atomic_store(&p->stop, true);
	if (p->running)
		pthread_join(p->thread, NULL);
	gwstore_listener_close(p->listen);
	gwstore_close(p->st);
	hop_seen_free(p->hops);
	OPENSSL_cleanse(p->secret, sizeof(p->secret));
	pthread_mutex_destroy(&p->mu);
	free(p);
	g->pool = NULL;
}

void
pool_set_control(struct gwd *g, pool_control_fn fn)
{
	if (g->pool)
		g->pool->control = fn;
}

bool
pool_enabled(const struct gwd *g)
{
	return g->pool != NULL;
}

bool
pool_tls(const struct gwd *g)
{
	return strcasecmp(g->conf->pool_transport, "tls") == 0;
}

const char *
pool_self(const struct gwd *g)
{
	return g->pool ? g->pool->self : NULL;
}

int
pool_frontend_addr(struct gwd *g, const char *id, char *out, size_t len)
{
	struct pool *p = g->pool;
	int ret = -ENOENT;

	if (p == NULL)
		return -ENOENT;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->nfes; i++)
		if (strcmp(p->fes[i].id, id) == 0) {
			ret = fe_alive(p, &p->fes[i], time(NULL)) ? 0 : -EHOSTDOWN;
			if (ret == 0)
				snprintf(out, len, "%s", p->fes[i].address);
			break;
		}
	pthread_mutex_unlock(&p->mu);
	return ret;
}

/* HMAC-SHA256 over what identifies the hop, as hex. */
static int
hop_mac(const struct pool *p, const sip_t *sip, const char *fe, const char *ts, const char *user,
	char hex[65])
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	char *ruri = url_as_string(home, sip->sip_request->rq_url);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char *text = NULL;
	int n;

	n = asprintf(
	    &text, "gw-pool-1|%s|%s|%s|%s|%u|%s|%s|%s", fe, ts, user,
	    sip->sip_call_id ? sip->sip_call_id->i_id : "",
	    sip->sip_cseq ? (unsigned)sip->sip_cseq->cs_seq : 0U, sip->sip_request->rq_method_name,
	    sip->sip_from && sip->sip_from->a_tag ? sip->sip_from->a_tag : "", ruri ? ruri : "");
	su_home_deinit(home);
	if (n < 0)
		return -ENOMEM;
	if (HMAC(EVP_sha256(), p->secret, (int)p->secret_len, (unsigned char *)text, (size_t)n, mac,
		 &maclen) == NULL) {
		free(text);
		return -EIO;
	}
	free(text);
	for (unsigned int i = 0; i < maclen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

int
pool_hop_sign(struct gwd *g, const sip_t *sip, const char *user, char *out, size_t len)
{
	char ts[24], hex[65];

	if (g->pool == NULL)
		return -ENOENT;
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	if (hop_mac(g->pool, sip, g->pool->self, ts, user, hex) < 0)
		return -EIO;
	snprintf(out, len, "fe=%s;ts=%s;user=%s;mac=%s", g->pool->self, ts, user, hex);
	return 0;
}

int
pool_hop_verify(struct gwd *g, const sip_t *sip, char *user, size_t len, const char **why)
{
	const char *v = NULL;
	struct pool_hop h;
	char hex[65];
	int count = 0;

	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		if (u->un_name && strcasecmp(u->un_name, POOL_HEADER) == 0) {
			v = u->un_value;
			count++;
		}
	if (v == NULL)
		return 0;
	*why = "not in a pool";
	if (g->pool == NULL)
		return -1;
	*why = "malformed";
	if (count != 1 || pool_hop_parse(v, &h, user, len) < 0)
		return -1;
	*why = "from this front end itself";
	if (strcmp(h.fe, g->pool->self) == 0)
		return -1;
	*why = "too old or too new";
	time_t now = time(NULL);
	if (!pool_hop_fresh(h.ts, now, POOL_HOP_WINDOW))
		return -1;
	*why = "bad signature";
	if (hop_mac(g->pool, sip, h.fe, h.ts, user, hex) < 0 || strlen(h.mac) != 64 ||
	    CRYPTO_memcmp(h.mac, hex, 64) != 0)
		return -1;
	/* a valid hop taken once already: captured and sent again */
	int seen = hop_seen_take(g->pool->hops, hex, now);
	*why = seen == -EALREADY ? "replayed" : "too many hops to remember";
	if (seen < 0)
		return -1;
	*why = "";
	return 1;
}
