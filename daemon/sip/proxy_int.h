/*
 * proxy_int.h - what the proxy's files share (sip_proxy.c: entry points;
 * proxy_targets.c: where a request goes; proxy_forward.c: its transaction).
 * Private to daemon/sip/.
 */
#ifndef GW_PROXY_INT_H
#define GW_PROXY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/tport.h>

struct worker;
struct admit;

#define MAX_BRANCHES 16

/* One place a request is forwarded to. */
struct target {
	char ruri[512];  /* new Request-URI, "" keeps the current one */
	char hop[600];   /* next-hop URL for nta */
	char *path;      /* Route headers to add (from Path), or NULL */
	tport_t *tp;     /* connection to use, or NULL */
	int flow_worker; /* worker owning the client's connection, -1 for none */
	char proto[8];
	bool pool_hop;      /* to the front end of the pool holding the contact's flow */
	bool frontend_down; /* the contact's front end stopped heartbeating: unusable */
	bool held;          /* the contact's binding is held (sa_binding_held): no target */
	char frontend[40];  /* pool_hop: that front end */
};

/* proxy_targets.c */
/* proxy_resolve(): the request waits for the directory, which answers or resumes it. */
#define RESOLVE_PENDING 1
/* Targets for an admitted request; 0 with *nt set, or a status already answered. */
int proxy_resolve(struct worker *w, msg_t *msg, sip_t *sip, const struct admit *a, struct target *t,
		  size_t *nt);
/* Inside a dialog: the peer's remote target (t->held: its binding is held, no hop). */
void proxy_dialog_target(struct worker *w, sip_t *sip, const struct admit *a, struct target *t);
/* Only worker 0 has TCP and TLS: true when a target needs it. */
bool proxy_needs_stream(const struct target *t, size_t nt);
void proxy_target_pick_family(struct worker *w, struct target *t);
void proxy_targets_free(struct target *t, size_t n);

/* proxy_forward.c */
/* Set while worker 0 works on a handed-over request: the UDP socket to answer on. */
extern __thread tport_t *proxy_answer_tport;
/* The request came back unchanged (our loop hash is in one of its Vias). */
bool proxy_loop_detected(struct worker *w, const sip_t *sip);
/* Too many calls in progress on this worker for a new one. */
bool proxy_busy(struct worker *w);
/* Forward statefully to the targets. */
void proxy_forward(struct worker *w, msg_t *msg, sip_t *sip, struct target *t, size_t nt,
		   const struct admit *a);
/* Hand the request (admitted as a, or NULL) to worker 0. */
void proxy_handoff(struct worker *w, msg_t *msg, sip_t *sip, int kind, const struct admit *a);
/* Worker 0: cancel a handed-over request still pending; false when none is. */
bool proxy_cancel_handed(const sip_t *sip);
/* Worker 0: a handed-over request already in progress (a retransmission). */
bool proxy_handed_known(const sip_t *sip);
/* A final answer Sofia did not match to its branch: finish the branch; true if found. */
bool proxy_finish_branch(struct worker *w, msg_t *msg, sip_t *sip);
/* At stop: answer the calls in progress 503 and free them. */
void proxy_calls_stop(struct worker *w);

#endif
