/*
 * worker.c - one SIP worker: a thread with its own su_root and nta agent.
 *
 * Every worker listens on the UDP addresses (the kernel spreads datagrams
 * over them, see reuseport.c); worker 0 also owns the TCP and TLS listeners
 * and the connections accepted on them.  The main thread talks to a worker
 * through a pipe registered with its su_root.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <sofia-sip/nta_tport.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/su_tag.h>

#include "flow.h"
#include "gwd.h"
#include "loc.h"
#include "log.h"
#include "addr_count.h"
#include "mailbox.h"
#include "overload.h"
#include "service.h"
#include "sip.h"
#include "gwstore.h"

static void
listen_url(char *out, size_t len, const char *proto, const char *addr)
{
	const char *scheme = strcmp(proto, "tls") == 0 ? "sips" : "sip";

	snprintf(out, len, "%s:%s;transport=%s", scheme, addr, proto);
}

/* Sofia applies its message size limit to everything a connection has
 * pending when it reads it afresh, not to each message: a busy connection
 * (hundreds of requests written together) was refused as "too large message"
 * and closed.  Its limit is therefore room for many messages, 16 times
 * [limits] max-message-size and at least 1 MiB, but no more than the kernel
 * holds for one TCP socket (net.ipv4.tcp_rmem's maximum): each connection may
 * make Sofia buffer that much before intake sees a message, where
 * max-message-size applies to each one (413, sip_request.c). */
static size_t
stream_read_max(size_t max_message)
{
	unsigned long lo = 0, def = 0, max = 0;
	size_t want = 16 * max_message < (1UL << 20) ? 1UL << 20 : 16 * max_message;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_rmem", "r");

	if (f) {
		if (fscanf(f, "%lu %lu %lu", &lo, &def, &max) != 3)
			max = 0;
		fclose(f);
	}
	if (max > max_message && want > max)
		want = (size_t)max;
	return want > max_message ? want : max_message;
}

static int
add_listeners(struct worker *w, const struct gw_strlist *l, const char *proto, bool *first)
{
	struct gwd *g = w->w_gwd;
	char url[300];

	for (size_t i = 0; i < l->n; i++) {
		listen_url(url, sizeof(url), proto, l->v[i]);
		bool v6 = l->v[i][0] == '[';
		if (*first) {
			w->w_agent = nta_agent_create(
			    w->w_root, gw_url(url), g->intake->request, (void *)w, NTATAG_UA(0),
			    NTATAG_SERVER_RPORT(1), NTATAG_CLIENT_RPORT(1),
			    NTATAG_MCLASS(g->intake->mclass(g->conf->tls.n > 0)),
			    NTATAG_MAXSIZE(stream_read_max((size_t)g->conf->max_message_size)),
			    NTATAG_PASS_100(0), NTATAG_CANCEL_487(0), NTATAG_MERGE_482(0),
			    TAG_IF(g->tls_dir[0], TPTAG_CERTIFICATE(g->tls_dir)),
			    TAG_IF(g->conf->tls_ca_file[0],
				   TPTAG_TLS_VERIFY_POLICY(TPTLS_VERIFY_SUBJECTS_OUT)),
			    TPTAG_IDENT(v6 ? "v6" : "v4"),
			    /* connections nobody registered over, and half-sent messages,
			     * are closed after these; registered flows are held by the
			     * flow table and stay */
			    TPTAG_IDLE((unsigned)g->conf->conn_idle_timeout * 1000),
			    TPTAG_TIMEOUT((unsigned)g->conf->message_timeout * 1000), TAG_END());
			if (w->w_agent == NULL) {
				snprintf(w->w_error, sizeof(w->w_error), "cannot listen on %s: %s",
					 url, strerror(errno));
				return -1;
			}
			*first = false;
			continue;
		}
		if (nta_agent_add_tport(w->w_agent, gw_url(url),
					TAG_IF(g->tls_dir[0], TPTAG_CERTIFICATE(g->tls_dir)),
					TAG_IF(g->conf->tls_ca_file[0],
					       TPTAG_TLS_VERIFY_POLICY(TPTLS_VERIFY_SUBJECTS_OUT)),
					TPTAG_IDENT(v6 ? "v6" : "v4"), TAG_END()) < 0) {
			snprintf(w->w_error, sizeof(w->w_error), "cannot listen on %s: %s", url,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Record-Route host: server-name, or the first listen address. */
static void
rr_host_init(struct worker *w)
{
	const struct gw_conf *c = w->w_gwd->conf;
	const char *first = c->udp.n ? c->udp.v[0] : c->tcp.n ? c->tcp.v[0] : c->tls.v[0];

	if (c->server_name[0])
		snprintf(w->w_rr_host, sizeof(w->w_rr_host), "%s", c->server_name);
	else
		snprintf(w->w_rr_host, sizeof(w->w_rr_host), "%s", first);
}

/* With several workers the kernel spreads datagrams by address, so the answer
 * to a request one worker forwarded may reach another.  Each worker listens
 * on a private loopback port too; a worker that gets a response carrying
 * another worker's branch passes the datagram on to that port, where Sofia
 * matches it to the transaction as usual. */
static int
relay_init(struct worker *w)
{
	const struct gw_conf *c = w->w_gwd->conf;
	bool v4 = false;

	for (size_t i = 0; i < c->udp.n; i++)
		if (c->udp.v[i][0] != '[')
			v4 = true;
	const char *url = v4 ? "sip:127.0.0.1:0;transport=udp" : "sip:[::1]:0;transport=udp";
	if (nta_agent_add_tport(w->w_agent, gw_url(url), TPTAG_IDENT(v4 ? "v4" : "v6"), TAG_END()) <
	    0) {
		snprintf(w->w_error, sizeof(w->w_error), "cannot open the relay port: %s",
			 strerror(errno));
		return -1;
	}
	for (tport_t *tp = tport_primaries(nta_agent_tports(w->w_agent)); tp; tp = tport_next(tp)) {
		const su_addrinfo_t *ai = tport_get_address(tp);
		char port[16];
		bool listener = false;
		if (!tport_is_udp(tp) || ai == NULL || ai->ai_addrlen > sizeof(w->w_relay))
			continue;
		snprintf(port, sizeof(port), ":%u",
			 ntohs(((const su_sockaddr_t *)ai->ai_addr)->su_port));
		for (size_t i = 0; i < c->udp.n; i++) {
			size_t lp = strlen(c->udp.v[i]), lq = strlen(port);
			if (lp >= lq && strcmp(c->udp.v[i] + lp - lq, port) == 0)
				listener = true;
		}
		if (listener)
			continue;
		memcpy(&w->w_relay, ai->ai_addr, ai->ai_addrlen);
		w->w_relay_len = (socklen_t)ai->ai_addrlen;
	}
	w->w_relay_fd = socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (w->w_relay_fd < 0 || w->w_relay_len == 0) {
		snprintf(w->w_error, sizeof(w->w_error), "cannot open the relay port");
		return -1;
	}
	return 0;
}

static void
housekeeping_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct worker *w = (struct worker *)arg;

	flow_prune(w->w_flows);
	if (w->w_id == 0) {
		int n = loc_expire(w->w_gwd->loc, time(NULL));
		if (n > 0)
			log_debug("expired=%d bindings", n);
	}
	gwd_services_tick(w, time(NULL));
}

/* The control pipe carries pointers: NULL asks the worker to stop, anything
 * else is a struct handoff (HANDOFF_QUERY: the control socket asking).
 * Pointer-sized writes to a pipe are atomic. */
/* At most this many handoffs per wakeup: the loop then serves worker 0's own
 * connections before it takes more (the pipe stays readable, so it comes back). */
#define CTL_BATCH 64

static void
fair_put(struct handoff *h)
{
	if (h->fair)
		addr_count_put(h->fair_ac, h->fair);
	h->fair = NULL;
}

static int
ctl_cb(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct worker *w = (struct worker *)arg;
	struct handoff *h;

	for (int n = 0; n < CTL_BATCH && read(w->w_ctl[0], &h, sizeof(h)) == (ssize_t)sizeof(h);
	     n++) {
		if (h == NULL) {
			su_root_break(w->w_root);
			return 0;
		}
		fair_put(h); /* out of the queue: its address has room again */
		if (h->kind == HANDOFF_CALL) {
			h->fn(w, h->arg);
		} else if (h->kind == HANDOFF_QUERY) {
			/* the control socket's: the asking thread waits for it and frees it */
			if (!gwd_services_handoff(w, h))
				log_warnx("event=handoff-dropped kind=query reason=\"no control "
					  "service\"");
			continue;
		} else if (!gwd_services_handoff(w, h)) {
			log_warnx("event=handoff-dropped kind=%d reason=\"no service takes it\"",
				  h->kind);
		}
		handoff_free(h);
	}
	return 0;
}

int
worker_post(struct worker *to, void (*fn)(struct worker *, void *), void *arg)
{
	struct handoff *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return -ENOMEM;
	h->kind = HANDOFF_CALL;
	h->fn = fn;
	h->arg = arg;
	return worker_handoff(to, h);
}

void
worker_drain_calls(struct worker *w)
{
	struct handoff *h;

	while (read(w->w_ctl[0], &h, sizeof(h)) == (ssize_t)sizeof(h)) {
		if (h == NULL)
			continue;
		if (h->kind == HANDOFF_CALL)
			h->fn(w, h->arg);
		handoff_free(h);
	}
}

int
worker_handoff(struct worker *to, struct handoff *h)
{
	if (write(to->w_ctl[1], &h, sizeof(h)) != (ssize_t)sizeof(h)) {
		handoff_free(h);
		return -EAGAIN;
	}
	return 0;
}

int
worker_handoff_fair(struct worker *to, struct handoff *h)
{
	static _Atomic time_t logged;
	struct gwd *g = to->w_gwd;
	int limit = g->conf->handoff_per_source;
	bool over = false;

	if (h->addrlen > 0)
		h->fair = addr_count_take(g->queued, &h->addr.su_sa,
					  limit > 0 ? (unsigned)limit : 0, &over);
	h->fair_ac = g->queued;
	if (over) {
		char text[64];
		time_t now = time(NULL), last = atomic_load(&logged);
		unsigned long n = atomic_fetch_add(&g->stats.handoffs_refused, 1) + 1;
		if (now - last >= 60 && atomic_compare_exchange_strong(&logged, &last, now)) {
			addr_count_text(&h->addr.su_sa, text, sizeof(text));
			log_notice("event=handoff-refused source=%s limit=%d reason=\"too many "
				   "requests from this address waiting for worker 0\" refused=%lu",
				   text, limit, n);
		}
		return -EBUSY;
	}
	return worker_handoff(to, h);
}

void
handoff_free(struct handoff *h)
{
	if (h == NULL)
		return;
	fair_put(h);
	free(h->data);
	free(h->adm);
	free(h);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	const struct gw_conf *c = w->w_gwd->conf;
	bool first = true;

	su_init();
	w->w_root = su_root_create(NULL);
	if (w->w_root == NULL) {
		snprintf(w->w_error, sizeof(w->w_error), "cannot create event loop");
		goto done;
	}
	if (mailbox_alloc(&w->w_mbox, w->w_root) < 0) {
		snprintf(w->w_error, sizeof(w->w_error), "cannot create the completion mailbox");
		goto done;
	}
	if (add_listeners(w, &c->udp, "udp", &first) < 0)
		goto done;
	if (w->w_id == 0 && (add_listeners(w, &c->tcp, "tcp", &first) < 0 ||
			     add_listeners(w, &c->tls, "tls", &first) < 0))
		goto done;
	if (w->w_gwd->nworkers_planned > 1 && relay_init(w) < 0)
		goto done;
	rr_host_init(w);
	if (gwd_services_attach(w) < 0)
		goto done;
	su_wait_create(w->w_wait, w->w_ctl[0], SU_WAIT_IN);
	su_root_register(w->w_root, w->w_wait, ctl_cb, (void *)w, 0);
	w->w_timer = su_timer_create(su_root_task(w->w_root), 1000);
	su_timer_set_for_ever(w->w_timer, housekeeping_cb, (void *)w);
	if (overload_alloc(&w->w_load, w) < 0) {
		snprintf(w->w_error, sizeof(w->w_error), "cannot start the load watch");
		goto done;
	}
	atomic_store(&w->w_state, 1);
	su_root_run(w->w_root);
done:
	gwd_services_detach(w);
	sip_token_thread_free();
	if (atomic_load(&w->w_state) == 0)
		atomic_store(&w->w_state, -1);
	if (w->w_timer)
		su_timer_destroy(w->w_timer);
	w->w_timer = NULL;
	/* the location writer counts registrations out in w_load until the
	 * mailbox has taken its last answer: the mailbox goes first */
	mailbox_free(w->w_mbox);
	w->w_mbox = NULL;
	overload_free(w->w_load);
	w->w_load = NULL;
	/* the flows hold references to the agent's connections: let go first */
	flow_table_free(w->w_flows);
	w->w_flows = NULL;
	if (w->w_agent)
		nta_agent_destroy(w->w_agent);
	w->w_agent = NULL;
	if (w->w_root)
		su_root_destroy(w->w_root);
	w->w_root = NULL;
	if (w->w_relay_fd >= 0)
		close(w->w_relay_fd);
	w->w_relay_fd = -1;
	su_deinit();
	return NULL;
}

int
worker_start(struct worker *w)
{
	char err[256];

	su_home_init(w->w_home);
	w->w_relay_fd = -1;
	if (pipe2(w->w_ctl, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	w->w_flows = flow_table_alloc();
	if (w->w_flows == NULL)
		return -ENOMEM;
	if (gwstore_open_conf(&w->w_store, w->w_gwd->conf, GWSTORE_STATE, err, sizeof(err)) < 0) {
		snprintf(w->w_error, sizeof(w->w_error), "%s", err);
		return -EIO;
	}
	if (pthread_create(&w->w_thread, NULL, worker_main, w) != 0)
		return -errno;
	return 0;
}

void
worker_stop(struct worker *w)
{
	struct handoff *quit = NULL;

	if (write(w->w_ctl[1], &quit, sizeof(quit)) != (ssize_t)sizeof(quit))
		log_warnx("worker=%d cannot signal stop", w->w_id);
	pthread_join(w->w_thread, NULL);
	close(w->w_ctl[0]);
	close(w->w_ctl[1]);
	gwstore_close(w->w_store);
	w->w_store = NULL;
	su_home_deinit(w->w_home);
}
