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
struct store;
struct userdb;
struct flow_table;
struct gwdir;
struct mailbox;
struct overload;

struct gwd_stats {
	atomic_ulong requests;
	atomic_ulong registers;
	atomic_ulong auth_failures;
	atomic_ulong proxied;
	atomic_ulong rejected;
};

struct worker {
	int w_id;
	pthread_t w_thread;
	struct gwd *w_gwd;
	su_home_t w_home[1];
	su_root_t *w_root;
	nta_agent_t *w_agent;
	struct userdb *w_userdb;     /* this thread's connection to the accounts */
	struct flow_table *w_flows;  /* connections clients registered over */
	su_timer_t *w_timer;	     /* housekeeping */
	struct mailbox *w_mbox;	     /* completions from other threads (durable registrations) */
	struct overload *w_load;     /* load shedding state */
	char w_rr_host[128];	     /* host[:port] for our Record-Route */
	int w_ctl[2];		     /* pipe from the main thread */
	su_sockaddr_t w_relay;	     /* private UDP port: responses relayed from other workers */
	socklen_t w_relay_len;
	int w_relay_fd;		     /* plain socket to send relayed responses from */
	su_wait_t w_wait[1];
	char w_error[512];
	atomic_int w_state;	     /* 0 starting, 1 ready, -1 failed */
};

struct gwd {
	struct gw_conf *conf;
	char *config_path;
	char *db_path;
	struct store *store;
	struct loc *loc;
	struct gwdir *dir;        /* domain users ([domain]), or NULL */
	unsigned char secret[32]; /* for nonces and route tokens; new at each start */
	struct worker *workers;
	int nworkers;
	int nworkers_planned;
	time_t started;
	struct gwd_stats stats;
	char tls_dir[512];	 /* Sofia wants agent.pem in a directory */
};

/* A request handed from a UDP worker to worker 0, which owns every TCP and
 * TLS connection.  The receiving worker answers over its own UDP socket,
 * which shares the port, so the client sees no difference. */
struct handoff {
	int kind;	 /* HANDOFF_PROXY or HANDOFF_STATELESS */
	bool in_dialog;	 /* the sending worker found a valid dialog route */
	char *data;	 /* the request as rewritten so far, serialized */
	size_t len;
	su_sockaddr_t addr; /* where it came from */
	socklen_t addrlen;
};
enum { HANDOFF_PROXY = 1, HANDOFF_STATELESS = 2, HANDOFF_CANCEL = 3 };

/* worker.c */
int worker_start(struct worker *w);
void worker_stop(struct worker *w);
/* Queue h for worker `to`; it takes ownership.  0 or -errno. */
int worker_handoff(struct worker *to, struct handoff *h);
void handoff_free(struct handoff *h);

#endif
