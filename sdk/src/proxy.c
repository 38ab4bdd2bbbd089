/* gwp_proxy: lifecycle, the SIP thread and the embedded-mode dispatcher. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su.h>

#include "gwp_internal.h"

GWP_EXPORT int
gwp_proxy_new(gwp_proxy **out, const gwp_config *cfg)
{
	struct gwp_proxy *p;
	int rc;

	if (!out || !cfg || cfg->n_listens == 0 || !cfg->route_fn)
		return GWP_ERR_INVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return GWP_ERR_NOMEM;
	p->inbox.efd = -1;
	p->outbox.efd = -1;
	p->refs = 1;
	rc = gwp_config_copy(&p->cfg, cfg);
	if (rc == GWP_OK)
		rc = gwp_queue_init(&p->inbox);
	if (rc == GWP_OK)
		rc = gwp_queue_init(&p->outbox);
	if (rc == GWP_OK && pthread_mutex_init(&p->mu, NULL) != 0)
		rc = GWP_ERR_THREAD;
	if (rc == GWP_OK && pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		rc = GWP_ERR_THREAD;
	}
	if (rc != GWP_OK) {
		gwp_queue_fini(&p->inbox);
		gwp_queue_fini(&p->outbox);
		gwp_config_clear(&p->cfg);
		free(p);
		return rc;
	}
	*out = p;
	return GWP_OK;
}

void
gwp_proxy_ref(struct gwp_proxy *p)
{
	pthread_mutex_lock(&p->mu);
	p->refs++;
	pthread_mutex_unlock(&p->mu);
}

/* Free queued items that nobody will consume any more. */
static void
queue_discard(struct gwp_queue *q)
{
	void *ptr;
	int kind;

	while (gwp_queue_pop(q, &kind, &ptr)) {
		if (kind == GWP_Q_EVENT)
			gwp_event_free(ptr);
		else if (kind == GWP_Q_ANSWER || kind == GWP_Q_ROUTE)
			gwp_request_free(ptr);
	}
}

void
gwp_proxy_unref(struct gwp_proxy *p)
{
	int last;

	pthread_mutex_lock(&p->mu);
	last = --p->refs == 0;
	pthread_mutex_unlock(&p->mu);
	if (!last)
		return;
	queue_discard(&p->inbox);
	gwp_queue_fini(&p->inbox);
	gwp_queue_fini(&p->outbox);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	gwp_config_clear(&p->cfg);
	free(p);
}

static int
inbox_wakeup(struct gwp_proxy *p, su_wait_t *w, struct gwp_proxy *arg)
{
	gwp_inbox_drain(p);
	return 0;
}

static void
start_report(struct gwp_proxy *p, int err)
{
	pthread_mutex_lock(&p->mu);
	p->start_done = 1;
	p->start_err = err;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void
dialog_sweep(su_root_magic_t *p, su_timer_t *timer, struct gwp_branch *arg)
{
	gwp_dialog_sweep(p, time(NULL));
}

static int
engine_open(struct gwp_proxy *p)
{
	int rc;

	su_home_init(p->home);
	p->root = su_root_create(p);
	if (!p->root)
		return GWP_ERR_SIP;
	rc = gwp_dtable_init(&p->dialogs, p->cfg.max_dialogs, p->cfg.dialog_idle_s);
	if (rc == GWP_OK && p->cfg.auth_realm)
		rc = gwp_nonces_init(&p->nonces, GWP_NONCE_SLOTS, GWP_NONCE_TTL_S);
	if (rc == GWP_OK)
		rc = gwp_agent_open(p);
	if (rc != GWP_OK)
		return rc;
	p->dialog_timer = su_timer_create(su_root_task(p->root), 5000);
	if (!p->dialog_timer || su_timer_run(p->dialog_timer, dialog_sweep, NULL) < 0)
		return GWP_ERR_SIP;
	if (su_wait_create(p->inbox_wait, p->inbox.efd, SU_WAIT_IN) < 0)
		return GWP_ERR_SIP;
	if (su_root_register(p->root, p->inbox_wait, inbox_wakeup, p, 0) < 0) {
		su_wait_destroy(p->inbox_wait);
		return GWP_ERR_SIP;
	}
	p->inbox_reg = 1;
	return GWP_OK;
}

static void
engine_close(struct gwp_proxy *p)
{
	if (p->dialog_timer)
		su_timer_destroy(p->dialog_timer);
	p->dialog_timer = NULL;
	gwp_txn_free_all(p);
	gwp_dialog_free_all(p);
	gwp_nonces_fini(&p->nonces);
	if (p->inbox_reg)
		su_root_unregister(p->root, p->inbox_wait, inbox_wakeup, p);
	p->inbox_reg = 0;
	gwp_agent_close(p);
	if (p->root)
		su_root_destroy(p->root);
	p->root = NULL;
	su_home_deinit(p->home);
}

static void *
engine_main(void *arg)
{
	struct gwp_proxy *p = arg;
	int rc;

	su_init();
	rc = engine_open(p);
	start_report(p, rc);
	if (rc == GWP_OK)
		su_root_run(p->root);
	engine_close(p);
	su_deinit();
	return NULL;
}

static int
proxy_run(struct gwp_proxy *p, enum gwp_mode mode)
{
	int rc;

	if (!p)
		return GWP_ERR_INVAL;
	if (p->mode != GWP_MODE_IDLE)
		return GWP_ERR_STATE;
	p->mode = mode;
	p->start_done = 0;
	gwp_queue_close(&p->inbox, 0);
	if (pthread_create(&p->thread, NULL, engine_main, p) != 0) {
		p->mode = GWP_MODE_IDLE;
		return GWP_ERR_THREAD;
	}
	pthread_mutex_lock(&p->mu);
	while (!p->start_done)
		pthread_cond_wait(&p->cv, &p->mu);
	rc = p->start_err;
	pthread_mutex_unlock(&p->mu);
	if (rc != GWP_OK) {
		pthread_join(p->thread, NULL);
		p->mode = GWP_MODE_IDLE;
	}
	return rc;
}

GWP_EXPORT int
gwp_proxy_start(gwp_proxy *p)
{
	return proxy_run(p, GWP_MODE_THREAD);
}

GWP_EXPORT int
gwp_proxy_attach(gwp_proxy *p, int *fd)
{
	int rc;

	if (!fd)
		return GWP_ERR_INVAL;
	rc = proxy_run(p, GWP_MODE_EMBEDDED);
	if (rc == GWP_OK)
		*fd = p->outbox.efd;
	return rc;
}

/* In the thread of the callbacks: verify the credentials, then route. */
void
gwp_route_call(struct gwp_proxy *p, struct gwp_request *req)
{
	if (gwp_auth_verify(p, req) == 0)
		p->cfg.route_fn(p->cfg.route_arg, req);
}

/* Called in the SIP thread when a request needs a routing decision. */
void
gwp_route_deliver(struct gwp_proxy *p, struct gwp_request *req)
{
	if (p->mode == GWP_MODE_THREAD) {
		gwp_route_call(p, req);
		/* Apply answers given during the callback before anything else. */
		gwp_inbox_drain(p);
		return;
	}
	if (gwp_queue_push(&p->outbox, GWP_Q_ROUTE, req) != GWP_OK)
		gwp_request_respond(req, 500, NULL);
}

GWP_EXPORT int
gwp_proxy_dispatch(gwp_proxy *p)
{
	void *ptr;
	int kind, n = 0;

	if (!p || p->mode != GWP_MODE_EMBEDDED)
		return GWP_ERR_STATE;
	while (gwp_queue_pop(&p->outbox, &kind, &ptr)) {
		if (kind == GWP_Q_ROUTE) {
			gwp_route_call(p, ptr);
		} else {
			if (p->cfg.event_fn)
				p->cfg.event_fn(p->cfg.event_arg, ptr);
			gwp_event_free(ptr);
		}
		n++;
	}
	return n;
}

GWP_EXPORT int
gwp_proxy_stop(gwp_proxy *p)
{
	if (!p)
		return GWP_ERR_INVAL;
	if (p->mode == GWP_MODE_IDLE)
		return GWP_ERR_STATE;
	if (gwp_queue_push(&p->inbox, GWP_Q_STOP, NULL) != GWP_OK)
		return GWP_ERR_NOMEM;
	pthread_join(p->thread, NULL);
	gwp_queue_close(&p->inbox, 1);
	queue_discard(&p->outbox);
	queue_discard(&p->inbox);
	p->mode = GWP_MODE_IDLE;
	return GWP_OK;
}

GWP_EXPORT void
gwp_proxy_free(gwp_proxy *p)
{
	if (!p)
		return;
	if (p->mode != GWP_MODE_IDLE)
		gwp_proxy_stop(p);
	/* Requests still held by the application keep the proxy allocated;
	 * their late answers are refused and freed. */
	gwp_queue_close(&p->inbox, 1);
	gwp_proxy_unref(p);
}
