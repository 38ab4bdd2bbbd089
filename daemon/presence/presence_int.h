/*
 * presence_int.h - shared types of the presence service's files.
 * Everything here is used on worker 0's thread only.
 */
#ifndef GW_PRESENCE_INT_H
#define GW_PRESENCE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/tport.h>

struct worker;
struct gwstore;

/* The composed status of a presentity, as watchers see it. */
enum pres_activity {
	ACT_AVAILABLE = 0,
	ACT_AWAY,
	ACT_BRB,
	ACT_BUSY,
	ACT_DND,
	ACT_ON_THE_PHONE,
};

struct pres_status {
	bool open; /* basic open (online) or closed (offline) */
	enum pres_activity activity;
	char note[256];
};

enum pres_source { SRC_PIDF = 0, SRC_SOAP = 1 };

/* One publication (RFC 3903) of a presentity, or a SOAP setPresence. */
struct pres_pub {
	char *aor;
	char etag[40];
	time_t expires;
	uint64_t seq; /* order of the last change: higher is more recent */
	enum pres_source source;
	struct pres_status st;
	char *call_id; /* of the PUBLISH that created it (retransmissions) */
	uint32_t cseq;
	bool foreign; /* another front end of the pool took it: a copy, read
			 from the store, never written or expired here */
	bool pending; /* its PUBLISH waits for the write (not answered yet) */
	/* what watchers may see while a write is pending: the last state that
	 * was durable (none yet: the publication is not shown) */
	bool durable;
	struct pres_status durable_st;
	uint64_t durable_seq;
	struct pres_pub *next;
};

enum pres_event { EV_PRESENCE = 0, EV_WINFO, EV_ROAMING };

/* pres_sub.flags: a watcher outside our domains the policy engine let through. */
#define SUB_POLICY_ALLOWED 0x1

/* One subscription: we are the notifier, the UAS of its dialog. */
struct pres_sub {
	int64_t id; /* row in the store */
	enum pres_event event;
	char *presentity; /* user@host watched */
	char *watcher;    /* user@host of the subscriber */
	char *call_id;
	char *local;   /* our side (the SUBSCRIBE's To, with our tag) */
	char *remote;  /* the subscriber (its From, with its tag) */
	char *contact; /* remote target */
	char *route;   /* Record-Route of the SUBSCRIBE, or NULL */
	uint32_t rseq; /* last CSeq received */
	uint32_t lseq; /* our CSeq to start from (restored subscriptions) */
	time_t expires;
	bool legacy;       /* Microsoft legacy-mode client: its PIDF dialect */
	unsigned flags;    /* SUB_POLICY_ALLOWED */
	char transport[8]; /* how the SUBSCRIBE came */
	char addr[64];
	unsigned char source[16]; /* addr's source (source_net.h), when sourced */
	bool sourced;             /* source worked out (from addr, when first needed) */
	char frontend[40];        /* read at start: the front end that holds its dialog */
	uint64_t flow;            /* worker 0 connection id, 0 for none */
	unsigned version;         /* watcherinfo version */
	nta_leg_t *leg;
	nta_outgoing_t *orq; /* NOTIFY in progress */
	int worker;          /* the worker its SUBSCRIBE came to (its address's) */
	bool away;           /* a NOTIFY in progress on that worker (presence_fanout.c) */
	bool dirty;          /* state changed while a NOTIFY was in progress */
	bool ending;         /* the terminating NOTIFY was sent */
	bool dead;           /* to be freed */
	char reason[16];     /* terminated reason */
	struct pres_sub *next;
};

struct pres_jobs;
struct pres_acl_rule;

struct presence {
	struct worker *w;
	char self[40];              /* this front end's [pool] id, "" outside a pool */
	struct gwstore *st;         /* reads at start; the jobs' handle for a local store */
	struct pres_jobs *jobs;     /* store work off worker 0 (a remote store), or NULL */
	struct pres_acl_rule **acl; /* the rules in memory (a remote store), or NULL */
	struct pres_pub *pubs;
	struct pres_sub *subs;
	uint64_t seq;
	uint64_t counter; /* tags, etags, branches */
	size_t max_doc;
	int max_expires;
	su_timer_t *timer;
	/* last composed status per watched presentity */
	struct pres_seen {
		char *aor;
		struct pres_status st;
		struct pres_seen *next;
	} * seen;
	struct pres_fanout *fan; /* NOTIFYs waiting to go to other workers */
	/* during a fan-out of one presentity's state (pres_notify_event): its
	 * status, composed once, and the documents built once for all watchers
	 * ([legacy][allowed]); NULL outside one */
	struct pres_fan_cache {
		const char *aor;
		struct pres_status st;
		char *body[2][2];
	} * fan_cache, fan_cache_store;
	/* one owner's authorization rules, read once for a whole fan-out
	 * (pres_acl_snapshot); NULL outside one */
	struct pres_acl_snap *acl_snap;
};

/* A request being answered: statelessly (msg) or in a transaction (irq). */
struct pres_req {
	struct worker *w;
	struct presence *ps;
	msg_t *msg;
	sip_t *sip;
	nta_incoming_t *irq;
	tport_t *tp;
	int origin;     /* the worker that received it */
	char user[256]; /* authenticated user, "" when none */
};

/* presence.c */
struct presence *presence_get(void);
void presence_token(struct presence *ps, char *out, size_t len, const char *what);
/* A request nta matched to the leg of subscription s: 0, or a status for nta to send. */
int presence_leg_request(struct pres_sub *s, nta_incoming_t *irq, const sip_t *sip);

/* presence_send.c: every answer and NOTIFY leaves through these two. */
void presence_reply(struct pres_req *r, int status, const char *phrase, tag_type_t tag,
		    tag_value_t value, ...);
int presence_send_notify(struct presence *ps, struct pres_sub *s, const char *state,
			 const char *ctype, const char *body);

/* A NOTIFY of s ended with this final status (408 when none came). */
void pres_notify_done(struct presence *ps, struct pres_sub *s, int status);

/* presence_fanout.c: a NOTIFY built whole on worker 0 (msg, taken) is sent by
 * s->worker, on its own agent, to hop ("" for the request's own route);
 * pres_notify_done() follows on worker 0.  0, or -errno (msg freed). */
int pres_fanout_send(struct presence *ps, struct pres_sub *s, msg_t *msg, const char *hop);
int pres_fanout_start(struct presence *ps);
/* Worker 0 stops: nothing comes back any more; what waits is dropped. */
void pres_fanout_stop(struct presence *ps);

/* Our Contact in s's dialog. */
void pres_our_contact(struct worker *w, const struct pres_sub *s, char *out, size_t len);

/* presence_doc.c: XML in and out (libxml2, hardened). */
enum { DOC_OK = 0, DOC_TOO_LARGE = 413, DOC_BAD = 400 };
int pres_pidf_parse(const char *body, size_t len, size_t max, struct pres_status *out);
char *pres_pidf_build(const char *entity, const struct pres_status *st);
char *pres_xml_escape(const char *s);
/* A growing string; failed stays set after an allocation failure. */
struct pres_buf {
	char *buf;
	size_t len;
	bool failed;
};
void pres_buf_printf(struct pres_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The string (caller frees), or NULL when anything failed. */
char *pres_buf_take(struct pres_buf *b);
const char *pres_activity_name(enum pres_activity a);
/* SOAP body of a SERVICE: method name and the text of its arguments. */
struct pres_soap {
	char method[64];
	char args[16][2][256]; /* name, text */
	size_t nargs;
};
int pres_soap_parse(const char *body, size_t len, size_t max, struct pres_soap *out);
const char *pres_soap_arg(const struct pres_soap *s, const char *name);

/* presence_compose.c */
void pres_compose(struct presence *ps, const char *aor, time_t now, struct pres_status *out);
/* Recompose aor and notify its watchers when the result changed (or always). */
void pres_changed(struct presence *ps, const char *aor, bool force);
/* Forget composed states nobody watches any more. */
void pres_seen_prune(struct presence *ps);

/* presence_pub.c */
void pres_publish(struct pres_req *r);
/* r (or NULL): the SERVICE, answered 200 once the publication is durable
 * (503 when its write failed); when r->msg is still set afterwards, the
 * caller answers. */
void pres_pub_soap(struct presence *ps, const char *aor, const struct pres_status *st,
		   struct pres_req *r);
void pres_pub_drop_soap(struct presence *ps, const char *aor);
void pres_pub_expire(struct presence *ps, time_t now);
void pres_pubs_free(struct presence *ps);
int pres_pub_load(struct presence *ps, const struct pres_pub *p);
/* The other front ends' publications of aor (NULL: of everyone), just read:
 * they take the place of the copies held (pubs is a list, taken). */
void pres_pub_foreign_set(struct presence *ps, const char *aor, struct pres_pub *pubs);

/* presence_sub.c */
void pres_subscribe(struct pres_req *r, enum pres_event ev);
void pres_sub_notify(struct presence *ps, struct pres_sub *s);
void pres_sub_expire(struct presence *ps, time_t now);
void pres_subs_free(struct presence *ps);
int pres_sub_restore(struct presence *ps, struct pres_sub *s);
void pres_notify_event(struct presence *ps, const char *presentity, enum pres_event ev);
int pres_sub_leg(struct presence *ps, struct pres_sub *s);

/* presence_winfo.c */
char *pres_winfo_build(struct presence *ps, struct pres_sub *s);

/* presence_acl.c */
enum pres_acl { ACL_ALLOW, ACL_BLOCK, ACL_PENDING };
enum pres_acl pres_acl_decide(struct presence *ps, const struct pres_sub *s);
/* The rules in memory (a remote store): load them all, set one (rule NULL
 * removes it), forget them. */
int pres_acl_cache_load(struct presence *ps);
void pres_acl_cache_set(struct presence *ps, const char *owner, const char *watcher,
			const char *rule);
void pres_acl_cache_free(struct presence *ps);
/* Around a fan-out to owner's watchers: the owner's rules are read in one
 * query, and pres_acl_decide answers from them (a failed read leaves it
 * asking the store per watcher, as without a snapshot). */
void pres_acl_snapshot(struct presence *ps, const char *owner);
void pres_acl_snapshot_end(struct presence *ps);
void pres_acl_refresh(struct presence *ps, const char *owner);
/* owner's rules (NULL: everyone's) were changed elsewhere (another front end,
 * greenwich-mmc): read them again (a job), then refresh. */
int pres_acl_reload(struct presence *ps, const char *owner);
/* Tell the other front ends that owner's rules or contact list changed
 * (gw_lists, "owner<TAB>front end<TAB>acl|contacts"); self "": not in a pool. */
int pres_lists_notify(struct gwstore *st, const char *owner, const char *self, bool contacts);

/* presence_sipe.c: pidgin-sipe legacy mode */
void pres_sipe_service(struct pres_req *r);
/* The presence document legacy clients read (text/xml+msrtc.pidf). */
char *pres_sipe_msrtc_build(const char *entity, const struct pres_status *st);
#define PRES_MSRTC_TYPE "text/xml+msrtc.pidf"
char *pres_sipe_contacts_build(struct gwstore *st, const char *owner);
/* Re-send owner's contact list; epid: the endpoint that changed it (skipped), or
 * NULL. */
void pres_sipe_contacts_changed(struct presence *ps, const char *owner, const char *epid);
bool pres_sipe_legacy(const sip_t *sip);

#endif
