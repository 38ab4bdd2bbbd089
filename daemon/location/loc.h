/*
 * loc.h - the location service: address of record -> registered contacts.
 *
 * Shared by every SIP worker thread.  Reads (routing) are served from memory
 * under a read lock.  A change is applied to memory at once and committed to
 * the store (libgwstore) by the caller when nothing else is waiting and the
 * database is local (SQLite), else by a
 * writer thread in batches; the caller learns the
 * outcome only once the change is durable (or undone), so a binding
 * answered with 200 OK survives a restart or a kill -9.
 */
#ifndef GW_LOC_H
#define GW_LOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct gwstore;

/* Where a contact can be reached: the connection it registered over. */
struct loc_flow {
	int worker;        /* worker owning the connection; -1 for none */
	uint64_t id;       /* connection id within that worker; 0 for none */
	char transport[8]; /* "udp", "tcp", "tls" */
	char addr[64];     /* source host:port the REGISTER came from */
	/* [pool] id of the front end that holds it; "" outside a pool.  Interned
	 * (loc_frontend_intern): one copy of each id for the process, so a
	 * binding carries a pointer, not 40 bytes; NULL in a flow not yet bound. */
	const char *frontend;
};

struct loc_contact {
	char *aor;
	char *uri; /* Contact URI as registered */
	char *call_id;
	uint32_t cseq;
	time_t expires; /* absolute time */
	int q;          /* q-value times 1000; -1 when none was given */
	char *path;     /* Path header values, comma separated, or NULL */
	char *instance; /* +sip.instance, or NULL */
	char *user_agent;
	struct loc_flow flow;
};

/* One contact of a REGISTER request, as the registrar decided it. */
struct loc_update {
	const char *uri;
	int expires; /* relative seconds; 0 removes */
	int q;
	const char *instance;
};

struct loc_register_req {
	const char *aor;
	const char *call_id;
	uint32_t cseq;
	const char *path;
	const char *user_agent;
	struct loc_flow flow;
	bool remove_all; /* Contact: * */
	const struct loc_update *updates;
	size_t nupdates;
	int max_contacts;
	/* out, or NULL: set by loc_register_start when the change takes the AOR
	 * from no live binding to some or back (what presence cares about); left
	 * alone when nothing changes */
	bool *flipped;
	/* out, or NULL: set when the REGISTER changed nothing it gave (the
	 * retransmission of one applied before) */
	bool *repeated;
	/* in: a retransmission of a REGISTER whose change is still waiting for
	 * the disk gets LOC_IN_FLIGHT (nothing queued, nothing to send: the
	 * original's answer reaches the client) instead of an answer of its own */
	bool absorb_in_flight;
};

enum loc_result {
	LOC_OK = 0,
	LOC_OUT_OF_ORDER, /* CSeq not higher than the stored one for this Call-ID */
	LOC_TOO_MANY,     /* more than max_contacts */
	LOC_STORE_FAILED, /* the durable write failed: nothing changed */
	LOC_PENDING,      /* loc_register_start: the outcome comes through done */
	LOC_IN_FLIGHT,    /* a retransmission of a REGISTER still waiting for the
			   * disk (absorb_in_flight): its answer is coming */
};

/* Called once from the writer thread when the change is durable (LOC_OK,
 * with the AOR's contacts, which done then owns) or undone (LOC_STORE_FAILED). */
typedef void loc_done_f(void *arg, enum loc_result res, struct loc_contact *v, size_t n);

struct loc;

int loc_alloc(struct loc **out, struct gwstore *store);
void loc_free(struct loc *loc);

/* Apply one REGISTER atomically and wait until it is durable.  On LOC_OK, out
 * and nout hold copies of the resulting contacts of the AOR, freed with
 * loc_contacts_free. */
enum loc_result loc_register(struct loc *loc, const struct loc_register_req *req, time_t now,
			     struct loc_contact **out, size_t *nout);
/* The same without waiting for the writer thread: when nothing is queued the
 * change is committed on the calling thread and the outcome returned now;
 * otherwise LOC_PENDING (applied to memory and queued; done will be called,
 * from another thread).  Also answered now: a refusal, or nothing to write
 * while everything earlier is durable; done is then never called. */
enum loc_result loc_register_start(struct loc *loc, const struct loc_register_req *req, time_t now,
				   loc_done_f *done, void *arg, struct loc_contact **out,
				   size_t *nout);
/* Changes queued or being committed. */
size_t loc_pending(struct loc *loc);
/* With changes waiting: how long (ms) the writer has not moved on (a
 * commit held up by the disk or a lock); 0 when nothing waits. */
long loc_stall_ms(struct loc *loc);
/* Copies of the live contacts of aor, highest q first. */
int loc_lookup(struct loc *loc, const char *aor, time_t now, struct loc_contact **out,
	       size_t *nout);
/* The live contact whose URI is uri, or another spelling of it (loc_uri_key),
 * copied: a request addressed to a device goes to the AOR that owns it. */
int loc_lookup_uri(struct loc *loc, const char *uri, time_t now, struct loc_contact *out);
/* True when a live binding of another AOR than aor names the device of uri. */
bool loc_uri_taken(struct loc *loc, const char *uri, const char *aor, time_t now);
/* "user@host:port" of a contact URI, lower case, default port filled in. */
void loc_uri_key(char *out, size_t len, const char *uri);
/* Remove every binding of aor (sign out); returns how many went. */
int loc_remove_aor(struct loc *loc, const char *aor);
/* Drop expired bindings from memory and the store; returns how many. */
int loc_expire(struct loc *loc, time_t now);
size_t loc_count(struct loc *loc);
/* In a pool: this front end's id ("" outside one).  Set before any REGISTER;
 * every binding made here records it. */
void loc_set_frontend(struct loc *loc, const char *id);
/* The one copy of front-end id (NULL: "") kept for the life of the process. */
const char *loc_frontend_intern(const char *id);
const char *loc_frontend(const struct loc *loc);
/* A binding held by another front end of the pool. */
bool loc_contact_foreign(const struct loc *loc, const struct loc_contact *c);
/* The bindings other front ends hold for aor (NULL: for every AOR) are now v:
 * copied into memory in place of the ones known before (the store has them
 * already: nothing is written).  One of ours that v shows taken over by
 * another front end (the same AOR and URI) goes too, when nothing of ours is
 * waiting to be written.  0 or -ENOMEM. */
int loc_foreign_set(struct loc *loc, const char *aor, const struct loc_contact *v, size_t n);
/* Copies of every live contact, ordered by AOR (for the control socket). */
int loc_list(struct loc *loc, time_t now, struct loc_contact **out, size_t *nout);

/* c shows the stored binding b (its strings, not copies: valid while b is). */
struct gwstore_binding;
void loc_contact_view(struct loc_contact *c, const struct gwstore_binding *b);
void loc_contact_clear(struct loc_contact *c);
void loc_contacts_free(struct loc_contact *v, size_t n);
int loc_contact_copy(struct loc_contact *dst, const struct loc_contact *src);

#endif
