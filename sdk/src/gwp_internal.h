/* Private declarations shared by the sources of libgreenwich-proxy. */
#ifndef GWP_INTERNAL_H
#define GWP_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

struct gwp_proxy;
struct gwp_txn;
struct gwp_branch;

/* Sofia passes these "magic" pointers back to our callbacks. */
#define SU_ROOT_MAGIC_T struct gwp_proxy
#define SU_WAKEUP_ARG_T struct gwp_proxy
#define SU_TIMER_ARG_T struct gwp_branch
#define NTA_LEG_MAGIC_T struct gwp_proxy
#define NTA_INCOMING_MAGIC_T struct gwp_txn
#define NTA_OUTGOING_MAGIC_T struct gwp_branch

#include <sofia-sip/su_wait.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

#include "greenwich/proxy.h"

#define GWP_DEFAULT_TIMEOUT_MS 20000u
#define GWP_DEFAULT_MAX_DIALOGS 10000u
#define GWP_DEFAULT_DIALOG_IDLE_S 21600u /* 6 h without an in-dialog request */
#define GWP_DIALOG_UNACKED_S 32u         /* 64*T1: a 2xx nobody acknowledges by then */
#define GWP_NONCE_TTL_S 300u
#define GWP_NONCE_SLOTS 4096u

struct gwp_listen {
	enum gwp_transport tp;
	char *host;
	unsigned port;
};

struct gwp_config {
	struct gwp_listen *listens;
	size_t n_listens;
	char *domain;
	char *tls_cert;
	char *tls_key;
	gwp_route_fn route_fn;
	void *route_arg;
	gwp_event_fn event_fn;
	void *event_arg;
	int registrar;
	unsigned default_timeout;
	unsigned max_dialogs;
	unsigned dialog_idle_s;
	char *auth_realm; /* NULL: no authentication hook */
	unsigned auth_methods;
	gwp_auth_fn auth_fn;
	void *auth_arg;
};

int gwp_config_copy(struct gwp_config *dst, const struct gwp_config *src);
void gwp_config_clear(struct gwp_config *cfg);
char *gwp_strdup(const char *s);

/* A mutex-protected FIFO of pointers with an eventfd that is readable while
 * the FIFO is not empty. */
struct gwp_qitem {
	struct gwp_qitem *next;
	int kind;
	void *ptr;
};

struct gwp_queue {
	pthread_mutex_t mu;
	struct gwp_qitem *head;
	struct gwp_qitem **tail;
	int efd;
	int closed; /* pushes fail once the consumer is gone */
};

enum gwp_qkind {
	GWP_Q_ANSWER, /* inbox: a gwp_request answered by the application */
	GWP_Q_STOP,   /* inbox: leave the SIP loop */
	GWP_Q_ROUTE,  /* outbox: a gwp_request to route */
	GWP_Q_EVENT,  /* outbox: a gwp_event to report */
};

int gwp_queue_init(struct gwp_queue *q);
void gwp_queue_fini(struct gwp_queue *q);
int gwp_queue_push(struct gwp_queue *q, int kind, void *ptr);
int gwp_queue_pop(struct gwp_queue *q, int *kind, void **ptr);
void gwp_queue_close(struct gwp_queue *q, int closed);

/* A request as the application sees it: plain strings, no Sofia types. */
struct gwp_target {
	char *uri;
	unsigned timeout_ms;
};

enum gwp_action { GWP_ACT_NONE, GWP_ACT_FORWARD, GWP_ACT_RESPOND, GWP_ACT_CHALLENGE };

/* Digest credentials whose nonce, nc, realm and uri were checked in the SIP
 * thread; the response itself is checked against the application's HA1 in
 * the thread that runs the routing callback. */
struct gwp_credentials {
	char *username, *realm, *method, *uri, *nonce, *nc, *cnonce, *qop, *response;
};

struct gwp_request {
	struct gwp_proxy *proxy;
	uint64_t txn_id;
	char *method, *uri, *user, *from, *to, *call_id, *source, *contact;
	unsigned expires;
	char *route_set;              /* Route entries beyond ours, or NULL */
	int route_allowed;            /* the application accepted route_set */
	struct gwp_credentials *cred; /* to verify before the callback, or NULL */
	char *auth_user;              /* verified Digest user name, or NULL */
	size_t n_hdrs;
	char **hdr_names;
	char **hdr_values;
	struct gwp_target *targets;
	size_t n_targets;
	enum gwp_action action;
	enum gwp_fork mode;
	int code;
	char *reason;
};

void gwp_request_free(struct gwp_request *req);
int gwp_request_add_header(struct gwp_request *req, const char *name, const char *value);

struct gwp_event {
	enum gwp_event_type type;
	const char *call_id;
	const char *target;
	const char *method;
	int status;
};

struct gwp_event *gwp_event_dup(const struct gwp_event *ev);
void gwp_event_free(struct gwp_event *ev);

/* Engine side: one server transaction and its client branches. */
enum gwp_bstate { GWP_B_IDLE, GWP_B_ACTIVE, GWP_B_DONE };

struct gwp_branch {
	struct gwp_txn *txn;
	nta_outgoing_t *orq;
	su_timer_t *timer;
	char *uri;
	unsigned timeout_ms;
	enum gwp_bstate state;
	int rang;
};

struct gwp_txn {
	struct gwp_txn *next;
	struct gwp_proxy *proxy;
	uint64_t id;
	nta_incoming_t *irq;
	msg_t *msg; /* reference to the received request */
	sip_method_t method;
	char *method_name;
	char *call_id;
	int in_dialog; /* no route callback, no events */
	int reserved;  /* an INVITE holding room for its dialog (dialogs.reserved) */
	int final_sent;
	enum gwp_fork mode;
	struct gwp_branch *branches;
	size_t n_branches;
	size_t next_branch;
	msg_t *best; /* best final response so far (reference) */
	int best_status;
};

/* A dialog established through the proxy by a 2xx to an INVITE. Index 0 is
 * the caller (sender of the INVITE), 1 the callee. */
enum { GWP_CALLER = 0, GWP_CALLEE = 1 };

struct gwp_dialog {
	struct gwp_dialog *hnext;       /* hash chain */
	struct gwp_dialog *prev, *next; /* its queue, the first to expire first */
	char *call_id;
	char *tag[2];     /* From tag of the INVITE, To tag of the 2xx */
	char *target[2];  /* remote target (Contact URI) of each party */
	char *routes[2];  /* Route entries beyond ours in requests from each party */
	char *app_target; /* target given by the application, for events */
	time_t expires;
	int ended; /* ENDED reported */
	int acked; /* its ACK passed: idle_s from the last request, else 32 s from the 2xx */
};

/* A dialog queue: all its dialogs live equally long, so the head expires first. */
struct gwp_dqueue {
	struct gwp_dialog *head, *tail;
};

/* Dialogs answered but not yet acknowledged, and acknowledged ones. */
enum { GWP_DQ_UNACKED = 0, GWP_DQ_ACKED = 1 };

struct gwp_dtable {
	struct gwp_dialog **buckets;
	size_t n_buckets;
	struct gwp_dqueue q[2];
	size_t count, max;
	size_t reserved; /* INVITEs being forwarded, each holding room for its dialog */
	unsigned idle_s;
};

/* Issued Digest nonces: a ring of slots, each nonce names its slot. */
#define GWP_NONCE_LEN 72

struct gwp_nonce_slot {
	uint64_t serial; /* 0: free */
	time_t issued;
	unsigned long last_nc;
};

struct gwp_nonces {
	unsigned char key[32];
	uint64_t serial;
	struct gwp_nonce_slot *slots;
	size_t n_slots;
	unsigned ttl;
};

enum gwp_nonce_result {
	GWP_NONCE_OK = 0,
	GWP_NONCE_BAD = -1,    /* not made by us (or garbled) */
	GWP_NONCE_STALE = -2,  /* ours but expired or forgotten */
	GWP_NONCE_REPLAY = -3, /* nc not above the last one seen */
};

enum gwp_mode { GWP_MODE_IDLE, GWP_MODE_THREAD, GWP_MODE_EMBEDDED };

struct gwp_proxy {
	struct gwp_config cfg;
	enum gwp_mode mode;
	int refs;           /* the application's handle plus live requests */
	pthread_mutex_t mu; /* refs, start handshake */
	pthread_cond_t cv;
	int start_done;
	int start_err;
	pthread_t thread;

	struct gwp_queue inbox;  /* to the SIP thread */
	struct gwp_queue outbox; /* to gwp_proxy_dispatch() */

	/* Owned by the SIP thread. */
	su_home_t home[1];
	su_root_t *root;
	nta_agent_t *agent;
	nta_leg_t *leg;
	su_wait_t inbox_wait[1];
	int inbox_reg;
	char *tls_dir;
	struct gwp_txn *txns;
	uint64_t next_id;
	struct gwp_dtable dialogs;
	su_timer_t *dialog_timer;
	struct gwp_nonces nonces;
};

/* proxy.c */
void gwp_proxy_unref(struct gwp_proxy *p);
void gwp_proxy_ref(struct gwp_proxy *p);

/* agent.c: SIP stack setup in the SIP thread */
int gwp_agent_open(struct gwp_proxy *p);
void gwp_agent_close(struct gwp_proxy *p);

/* incoming.c */
int gwp_incoming_request(struct gwp_proxy *p, nta_leg_t *leg, nta_incoming_t *irq,
			 sip_t const *sip);
void gwp_inbox_drain(struct gwp_proxy *p);

/* txn.c */
struct gwp_txn *gwp_txn_new(struct gwp_proxy *p, nta_incoming_t *irq, sip_t const *sip);
struct gwp_txn *gwp_txn_find(struct gwp_proxy *p, uint64_t id);
void gwp_txn_free(struct gwp_txn *t);
void gwp_txn_reply(struct gwp_txn *t, int code, const char *reason);
void gwp_txn_free_all(struct gwp_proxy *p);
/* Give back the room an INVITE held for its dialog (answered, or over). */
void gwp_txn_unreserve(struct gwp_txn *t);

/* forward.c */
int gwp_forward_start(struct gwp_txn *t, const struct gwp_target *targets, size_t n,
		      enum gwp_fork mode);
void gwp_forward_cancel_all(struct gwp_txn *t);

/* sipmsg.c */
int gwp_url_is_ours(const struct gwp_proxy *p, const url_t *url);
int gwp_host_is_local(const struct gwp_proxy *p, const char *host);
int gwp_via_has_us(const struct gwp_proxy *p, const sip_via_t *via);
char *gwp_url_string(const url_t *url);
char *gwp_routes_foreign(const struct gwp_proxy *p, const sip_route_t *r);
int gwp_uri_equal(const char *a, const url_t *b);
msg_t *gwp_msg_prepare(struct gwp_proxy *p, msg_t *orig, int record_route);
struct gwp_request *gwp_request_from_sip(struct gwp_proxy *p, msg_t *msg, sip_t const *sip);
int gwp_status_fails_over(int status);
int gwp_status_rank(int status, int local);

/* event.c */
void gwp_event_emit(struct gwp_proxy *p, enum gwp_event_type type, const char *call_id,
		    const char *target, const char *method, int status);

/* dtable.c: the dialog table itself (no SIP) */
int gwp_dtable_init(struct gwp_dtable *t, size_t max, unsigned idle_s);
void gwp_dtable_fini(struct gwp_dtable *t);
struct gwp_dialog *gwp_dialog_make(const char *call_id, const char *const tag[2],
				   const char *const target[2], const char *const routes[2],
				   const char *app_target);
void gwp_dialog_free(struct gwp_dialog *d);
struct gwp_dialog *gwp_dtable_insert(struct gwp_dtable *t, struct gwp_dialog *d, time_t now);
struct gwp_dialog *gwp_dtable_find(struct gwp_dtable *t, const char *call_id, const char *from_tag,
				   const char *to_tag, time_t now, int *dir);
void gwp_dtable_touch(struct gwp_dtable *t, struct gwp_dialog *d, int ack, time_t now);
void gwp_dtable_remove(struct gwp_dtable *t, struct gwp_dialog *d);
struct gwp_dialog *gwp_dtable_expired(struct gwp_dtable *t, time_t now);
int gwp_dtable_full(const struct gwp_dtable *t);
int gwp_dialog_set_target(struct gwp_dialog *d, int party, const char *uri);

/* dialog.c: dialogs seen through SIP messages */
int gwp_dialog_answered(struct gwp_proxy *p, msg_t *request, sip_t const *resp,
			const char *app_target);
void gwp_dialog_refreshed(struct gwp_proxy *p, msg_t *request, sip_t const *resp);
struct gwp_dialog *gwp_dialog_match(struct gwp_proxy *p, sip_t const *sip, int *status);
void gwp_dialog_bye(struct gwp_proxy *p, struct gwp_dialog *d);
void gwp_dialog_closed(struct gwp_proxy *p, msg_t *request, int status);
void gwp_dialog_sweep(struct gwp_proxy *p, time_t now);
void gwp_dialog_free_all(struct gwp_proxy *p);

/* nonce.c: Digest nonces (HMAC, expiry, nonce-count) and response check */
int gwp_nonces_init(struct gwp_nonces *n, size_t slots, unsigned ttl);
void gwp_nonces_fini(struct gwp_nonces *n);
void gwp_nonce_make(struct gwp_nonces *n, time_t now, char out[GWP_NONCE_LEN + 1]);
enum gwp_nonce_result gwp_nonce_check(struct gwp_nonces *n, const char *nonce, unsigned long nc,
				      time_t now);
void gwp_md5_hex(const char *const parts[], size_t n, char out[33]);
int gwp_digest_response_ok(const struct gwp_credentials *c, const char *ha1);

/* auth.c: the authentication hook */
int gwp_auth_intake(struct gwp_proxy *p, nta_incoming_t *irq, sip_t const *sip,
		    struct gwp_credentials **out);
void gwp_auth_challenge(struct gwp_proxy *p, nta_incoming_t *irq, sip_t const *sip, int stale);
void gwp_credentials_free(struct gwp_credentials *c);
int gwp_auth_verify(struct gwp_proxy *p, struct gwp_request *req);

/* Run the routing callback for a request (after its credentials are checked). */
void gwp_route_call(struct gwp_proxy *p, struct gwp_request *req);

/* Route an application callback: direct in thread mode, queued otherwise. */
void gwp_route_deliver(struct gwp_proxy *p, struct gwp_request *req);

#endif /* GWP_INTERNAL_H */
