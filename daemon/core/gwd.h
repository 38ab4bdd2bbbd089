/*
 * gwd.h - greenwichd's shared state: the server, its SIP workers and the
 * services they call.  Private to daemon/.
 */
#ifndef GW_GWD_H
#define GW_GWD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <sofia-sip/su_wait.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/tport.h>

#include "gwconf.h"

struct loc;
struct gwstore;
struct flow_table;
struct gwdir;
struct sa_table;
struct sipae_srv;
struct sipae_sa;
struct accounts;
struct pool;
struct control;
struct mailbox;
struct overload;
struct admit;
struct gw_service;
struct gw_intake;

#define GW_SERVICES_MAX 16
struct addr_count;
struct addr_entry;

struct gwd_stats {
	atomic_ulong requests;
	atomic_ulong registers;
	atomic_ulong auth_failures;
	atomic_ulong proxied;
	atomic_ulong rejected;
	atomic_ulong policy_denials;        /* refused by the directory or a policy */
	atomic_long subscriptions;          /* live presence subscriptions (a gauge) */
	atomic_ulong handoffs_refused;      /* requests refused: their address's share of
					     * worker 0's queue was full */
	atomic_ulong dialog_shares_refused; /* new dialog-creating requests refused: their
					     * address held [limits] dialogs-per-source */
	atomic_ulong calls_refused;         /* new proxied requests refused: their address had
					     * [limits] calls-per-source in progress on the worker */
};

struct worker {
	int w_id;
	pthread_t w_thread;
	struct gwd *w_gwd;
	su_home_t w_home[1];
	su_root_t *w_root;
	nta_agent_t *w_agent;
	struct gwstore *w_store;    /* this thread's handle on the accounts */
	struct flow_table *w_flows; /* connections clients registered over */
	su_timer_t *w_timer;        /* housekeeping */
	struct mailbox *w_mbox;     /* completions from other threads (durable registrations) */
	struct overload *w_load;    /* load shedding state */
	char w_rr_host[128];        /* host[:port] for our Record-Route */
	int w_ctl[2];               /* pipe from the main thread */
	su_sockaddr_t w_relay;      /* private UDP port: responses relayed from other workers */
	socklen_t w_relay_len;
	int w_relay_fd; /* plain socket to send relayed responses from */
	su_wait_t w_wait[1];
	char w_error[512];
	atomic_int w_state; /* 0 starting, 1 ready, -1 failed */
	bool w_attached;    /* the services are attached (service.c) */
	/* set while a request signed by a domain sign-in is dispatched (worker 0) */
	const char *w_auth_user;
	struct sipae_sa *w_auth_sa;
	char **w_auth_sids; /* its user and group SIDs from the sign-in, or NULL */
	/* the connection a parked request (w_resume_msg) came over, while it is resumed */
	tport_t *w_resume_tp;
	msg_t *w_resume_msg;
};

struct gwd {
	struct gw_conf *conf;
	char *config_path;
	struct gwstore *store; /* the bindings (the location writer's handle) */
	struct loc *loc;
	struct gwdir *dir;         /* domain users ([domain]), or NULL */
	struct sipae_srv *sipae;   /* Kerberos/NTLM sign-in, or NULL */
	struct sa_table *sas;      /* security associations (worker 0) */
	struct accounts *accounts; /* local accounts in memory (a remote store), or NULL */
	struct pool *pool;         /* the front ends of the pool (pool.h), or NULL outside one */
	unsigned char secret[32];  /* for nonces and route tokens; new at each start */
	struct worker *workers;
	int nworkers;
	int nworkers_planned;
	time_t started;
	struct gwd_stats stats;
	char tls_dir[512];       /* Sofia wants agent.pem in a directory */
	struct control *control; /* the control socket's thread, or NULL */
	/* what the workers run (service.h), set up by main.c before they start */
	const struct gw_service *services[GW_SERVICES_MAX];
	size_t nservices;
	const struct gw_intake *intake;
	/* re-read the configuration (main.c; the control socket's reload) */
	int (*reload)(struct gwd *g, char *err, size_t errlen);
	struct addr_count *queued; /* requests from each address waiting for worker 0 */
};

/* A request handed from a UDP worker to worker 0, which owns every TCP and
 * TLS connection.  The receiving worker answers over its own UDP socket,
 * which shares the port, so the client sees no difference. */
struct handoff {
	int kind; /* HANDOFF_PROXY, HANDOFF_STATELESS, HANDOFF_CANCEL or HANDOFF_CALL */
	void (*fn)(struct worker *w, void *arg); /* HANDOFF_CALL: run fn(w, arg) */
	void *arg;
	struct admit *adm; /* HANDOFF_PROXY/STATELESS: what admission established */
	char *data;        /* the request as rewritten so far, serialized */
	size_t len;
	su_sockaddr_t addr; /* where it came from */
	socklen_t addrlen;
	int origin;                 /* the worker that received it (handoff_msg) */
	struct addr_count *fair_ac; /* worker_handoff_fair(): the share it holds... */
	struct addr_entry *fair;    /* ...of its address, given back when it is taken up */
};
enum {
	HANDOFF_PROXY = 1,
	HANDOFF_STATELESS = 2,
	HANDOFF_CANCEL = 3,
	HANDOFF_CALL = 4,         /* fn(w, arg) on the receiving worker */
	HANDOFF_QUERY = 5,        /* the control socket asking worker 0 */
	HANDOFF_PRESENCE = 6,     /* a request for the presence service */
	HANDOFF_PRESENCE_AOR = 7, /* data: an AOR whose bindings changed */
};

/* worker.c */
int worker_start(struct worker *w);
void worker_stop(struct worker *w);
/* Queue h for worker `to`; it takes ownership.  0 or -errno. */
int worker_handoff(struct worker *to, struct handoff *h);
/* The same for a request from outside (h->addr): only while its address holds fewer
 * than [limits] handoff-per-source requests in worker 0's queue, so that a flood from
 * one address cannot fill it for everybody.  0; -EBUSY when over that share (h is
 * left to the caller, who answers 503); -EAGAIN when the queue is full (h freed). */
int worker_handoff_fair(struct worker *to, struct handoff *h);
void handoff_free(struct handoff *h);
/* Run fn(to, arg) on worker `to` from any thread.  0 or -errno (fn not called). */
int worker_post(struct worker *to, void (*fn)(struct worker *, void *), void *arg);
/* Run the calls already posted to w (at shutdown, from w's own thread). */
void worker_drain_calls(struct worker *w);

/* handoff.c: the request as another worker will read it (HANDOFF_PROXY,
 * _STATELESS, _CANCEL, _PRESENCE), with what admission established (a, of alen
 * bytes, or NULL), queued with worker_handoff_fair().  0: msg was taken;
 * -EBUSY: its address has its share of worker 0's queue waiting already (the
 * caller answers 503); other -errno: msg is the caller's still. */
int handoff_msg(struct worker *w, msg_t *msg, sip_t *sip, int kind, const struct admit *a,
		size_t alen);
/* The request of h rebuilt on the receiving worker, and the UDP listener of
 * its address family (for the answer), or NULL when it cannot be read. */
msg_t *handoff_msg_read(struct worker *w, const struct handoff *h, tport_t **udp);

#endif
