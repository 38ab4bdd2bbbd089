/*
 * sipae.h - domain sign-in as Microsoft clients do it ([MS-SIPAE]): Kerberos
 * and NTLM handshakes on REGISTER, security associations (SAs), and the
 * signatures on every message between a signed-in client and the server.
 *
 * SAs exist only on TCP and TLS connections, which worker 0 owns, so all
 * state here is touched by worker 0 alone.  Private to daemon/.
 */
#ifndef GWD_SIPAE_H
#define GWD_SIPAE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sofia-sip/sip.h>
#include <sofia-sip/tport.h>

#include "gwconf.h"
#include "gwsipae.h"
#include "sip.h"

struct gwd;
struct worker;

enum sipae_scheme { SIPAE_NTLM = 1, SIPAE_KERBEROS = 2 };

enum sa_state {
	SA_VERIFYING, /* the DC or the directory is being asked (an NTLM CHALLENGE holds
		       * nothing: sipae_handshake.c derives it again from the opaque) */
	SA_ESTABLISHED,
};

struct sipae_sa {
	char opaque[9];
	enum sipae_scheme scheme;
	enum sa_state state;
	tport_t *tp;       /* the connection: a key only, never dereferenced... */
	uint64_t flow;     /* ...unless the flow table (worker 0) still has it live */
	char call_id[128]; /* of the handshake REGISTERs */
	struct sipae_ntlm_keys keys;
	struct sipae_krb_ctx *krb;
	char account[520]; /* DOMAIN\user or principal, for logs */
	char aor[256];     /* user@domain: the signed-in user's primary AOR */
	char **uris;       /* the user's SIP URIs (primary and aliases), NULL-ended */
	char **sids;       /* user and group SIDs, NULL-ended, or NULL */
	time_t created, expires;
	uint32_t snum;                   /* our last message number */
	uint32_t cnum_max;               /* highest cnum seen */
	uint64_t cnum_seen;              /* bit i: cnum_max - i was seen */
	struct sipae_sa *next;           /* hash chain by opaque */
	struct sipae_sa *tnext;          /* hash chain by connection, once established */
	struct sipae_sa *pnext, **pprev; /* the pending list, oldest first, until established */
	char src[48]; /* the client's address (no port), for the per-source caps */
	bool bound;
	bool proven; /* a request signed with it was verified: the client holds the
		      * keys, not only a handshake it may have replayed or relayed */
};

/* The parameters of a Kerberos/NTLM Authorization header (pointers into the msg). */
struct sipae_cred {
	enum sipae_scheme scheme;
	const char *opaque, *realm, *targetname, *gssapi_data, *version;
	const char *crand, *cnum, *response, *qop;
	bool proxy; /* from Proxy-Authorization */
};

/* The server's side of domain sign-in (g->sipae). */
struct sipae_srv {
	struct sipae_krb *krb;   /* acceptor on the keytab, or NULL without Kerberos */
	struct sipae_pool *pool; /* winbind round trips */
	bool ntlm, kerberos;
	bool stopping;
	char realm[128];
	char fqdn[256];
	char tn_ntlm[256]; /* targetname for NTLM: fqdn */
	char tn_krb[260];  /* targetname for Kerberos: sip/fqdn */
	char nb_domain[64], nb_computer[64], dns_domain[256];
	char krb_realm[256];
};

/* The channel bindings of one TLS connection (RFC 5929 tls-server-end-point): as NTLM
 * clients send them (MD5), as Kerberos clients bind to them (application data). */
struct sipae_tls_cb {
	uint8_t md5[16];
	uint8_t data[SIPAE_TLS_CB_MAX];
	size_t len; /* 0: none */
};
/* sipae_tls_bindings.c: those of tp, from the certificate its handshake presented; false
 * (logged for a TLS connection) over plain TCP or when that certificate is not known. */
bool sipae_tls_bindings(tport_t *tp, struct sipae_tls_cb *cb);

/* sipae_sa.c: the table (worker 0). */
int sa_table_init(struct gwd *g);
void sa_table_free(struct gwd *g);
/* 0 when tp, whose client is at src (an address without port), may have one more
 * sign-in checked (a DC or directory round trip): -EAGAIN (too many on tp or from src or
 * its network), -ENOSPC (too many in all, [limits] signin-pending-max). */
int sa_admit(struct gwd *g, tport_t *tp, const char *src);
/* A new SA, SA_VERIFYING, with opaque as its id (8 hex digits), or a random one when
 * opaque is NULL; NULL when out of memory or opaque is taken. */
struct sipae_sa *sa_new(struct gwd *g, enum sipae_scheme scheme, tport_t *tp, const char *src,
			const char *opaque);
struct sipae_sa *sa_find(struct gwd *g, const char *opaque);
/* True when sa belongs to the live connection tp. */
bool sa_on(struct gwd *g, const struct sipae_sa *sa, tport_t *tp);
/* The live connection of a flow id of worker 0, or NULL (not a reference). */
tport_t *sa_flow_tport(struct gwd *g, uint64_t flow);
/* The established SA of a connection, or NULL. */
struct sipae_sa *sa_by_tport(struct gwd *g, tport_t *tp);
/* sa is established: it signs what goes to its connection from now on. */
void sa_bind(struct gwd *g, struct sipae_sa *sa);
void sa_drop(struct gwd *g, struct sipae_sa *sa);
/* Drop SAs that expired or whose connection closed; returns how many. */
int sa_expire(struct gwd *g, time_t now);
/* False while the connection of a flow id of worker 0 has established SAs but none of them
 * has been proven by a signed request: the binding its handshake REGISTER made is held
 * (nothing is routed to it).  True for a connection without SAs. */
bool sa_flow_proven(struct gwd *g, uint64_t flow);
/* The one check of the binding hold, made wherever a request or NOTIFY is about to go
 * to a registered contact (proxy_targets.c: by AOR, forked or not, to a device address,
 * inside a dialog; presence_send.c: to a watcher's binding): true, logged as
 * event=binding-held with path, when c's connection (worker 0's) is held, so that nothing
 * goes to it.  False on any other worker (its request goes to worker 0 to reach such a
 * connection, and is checked there). */
struct loc_contact;
bool sa_binding_held(struct worker *w, const struct loc_contact *c, const char *path);
/* Mark cnum as seen; false for a replay (already seen, or too old). */
bool sa_cnum_fresh(struct sipae_sa *sa, uint32_t cnum);

/* sipae_handshake.c: the REGISTER handshakes (worker 0); takes msg. */
void sipae_handshake(struct worker *w, msg_t *msg, sip_t *sip, const struct sipae_cred *cr,
		     tport_t *tp);

/* sipae_sig.c: the string a signature covers ([MS-SIPAE] 3.2.5, version 3). */
/* Build it for msg, with rand/num/realm/targetname as given; malloc'ed, or NULL. */
char *sipae_sig_string(msg_t *msg, const sip_t *sip, const char *protocol, const char *rand,
		       const char *num, const char *realm, const char *targetname, size_t *len);
/* Remove P-Asserted-Identity and P-Preferred-Identity (covered by the signature). */
void sipae_identity_strip(msg_t *msg, sip_t *sip);
/* Find our scheme's credentials in Authorization/Proxy-Authorization; false if none. */
bool sipae_cred_get(msg_t *msg, const sip_t *sip, struct sipae_cred *cr);

/* sipae_auth.c */
int sipae_server_init(struct gwd *g);      /* keytab, pool; when [domain] and a scheme are set */
void sipae_server_shutdown(struct gwd *g); /* after the workers stopped */
/* The service for the workers' table (service.h): worker 0 binds the signing
 * of what it sends, expires security associations every second, and at stop
 * finishes the winbind round trips (their completions answer 503). */
struct gw_service;
extern const struct gw_service sipae_service;
/* True when Kerberos/NTLM may be offered to the sender of req (worker 0, TCP/TLS). */
bool sipae_offer(struct worker *w, msg_t *req);
/* Add the challenge header (WWW-/Proxy-Authenticate) of scheme (Kerberos or
 * NTLM) to reply; false when that scheme is not available. */
bool sipae_challenge_add(struct worker *w, msg_t *reply, enum gw_scheme scheme, bool is_register);
/*
 * Intake of every request on worker 0.  GW_TAKEN when the request was taken
 * (answered, dropped, or parked for an asynchronous sign-in step); GW_PASS to
 * carry on, with w->w_auth_user set when a valid signature names the sender.
 */
enum gw_verdict sipae_intake(struct worker *w, msg_t *msg, sip_t *sip);
/* A message that reached a transaction or dialog of ours over tp without passing
 * sipae_intake() (an answer, a CANCEL, a request nta matched to a dialog; worker 0):
 * true when no client is signed in over tp, or when it carries a valid signature of its
 * security association (then removed) and, for a request, From is the user; false
 * (logged) when it is unsigned, forged or replayed: it counts as never received. */
bool sipae_verified(struct worker *w, tport_t *tp, msg_t *msg, sip_t *sip);
/* Remove Kerberos/NTLM credentials before a request is passed on. */
void sipae_consume(msg_t *msg, sip_t *sip);

/* sipae_send.c: sign what goes to a connection with an SA (called by our tport_tsend). */
void sipae_sign_outgoing(tport_t *tp, msg_t *msg);
/* The worker 0 whose SAs the sending thread may consult (set by worker 0 at start). */
void sipae_send_bind(struct gwd *g);

#endif
