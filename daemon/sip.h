/*
 * sip.h - the SIP services of a worker: request intake, authentication,
 * registrar and proxy.  Private to daemon/.
 */
#ifndef GW_SIP_H
#define GW_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

struct worker;
struct loc_contact;

/* sip_request.c: nta's callback for every request outside a transaction. */
int sip_request_cb(nta_agent_magic_t *magic, nta_agent_t *agent, msg_t *msg, sip_t *sip);
/* the message class intake parses with (tls: TLS is served too) */
msg_mclass_t const *sip_request_mclass(bool tls);
/* Stateless final answer, adding our Allow/Supported where useful. */
void sip_reply(struct worker *w, msg_t *msg, int status, const char *phrase);

/* sip_util.c */
/* "user@host" of a SIP URL, lower-cased host; 0 or -ENAMETOOLONG / -EINVAL. */
int sip_url_aor(char *out, size_t len, const url_t *url);
/* "host:port" of the sender as the transport saw it, and its transport name. */
void sip_msg_source(struct worker *w, msg_t *msg, char *addr, size_t addrlen, char *proto,
		    size_t protolen);
/* The transport msg came over (a reference, or NULL), also for a request resumed
 * after waiting (w_resume_msg), when Sofia no longer knows it. */
tport_t *sip_msg_tport(struct worker *w, msg_t *msg);
/* True when the URL names this server (a served domain without user, or a listen address). */
bool sip_url_is_us(struct worker *w, const url_t *url);
/* HMAC-SHA256 of data with the server secret, hex, truncated to outlen-1 chars. */
void sip_token(struct worker *w, char *out, size_t outlen, const char *data);
/* Our Via branch "z9hG4bKgw<tag>.<counter>.<mac>x<worker>": the MAC (keyed with
 * the server secret) proves a response's branch is one we made, on any worker. */
#define SIP_BRANCH_MAC_LEN 8
void sip_branch_make(struct worker *w, char *out, size_t len, const char *tag, uint64_t counter);
/* The worker that made branch, or -1 when we did not make it. */
int sip_branch_check(struct worker *w, const char *branch);
/* Free this thread's token hashing state (at worker exit). */
void sip_token_thread_free(void);

/* sip_auth.c */
enum auth_result {
	AUTH_OK,	/* credentials valid: *user holds the authenticated AOR */
	AUTH_REPLIED,	/* a challenge or a refusal was sent; stop */
};
/* Authenticate the request as its From (REGISTER: also To) user. */
enum auth_result sip_auth_check(struct worker *w, msg_t *msg, sip_t *sip, bool is_register,
				char *user, size_t userlen);

/* Answer msg with a challenge offering every sign-in scheme available to its
 * sender (401 WWW-Authenticate when www, else 407), or 403 when none is. */
void sip_auth_challenge(struct worker *w, msg_t *msg, bool www);
/* Remove the Proxy-Authorization for our realm before forwarding. */
void sip_auth_consume(struct worker *w, msg_t *msg, sip_t *sip);

/* sip_register.c */
void sip_register_handle(struct worker *w, msg_t *msg, sip_t *sip);
/* A connection of w's closed for good (a signed-in client's): aor's bindings made over
 * it (flow id flow) go, as a de-REGISTER would, without waiting for the disk on w's
 * thread; presence hears of it once they are gone.  On w's thread. */
void sip_register_drop_flow(struct worker *w, const char *aor, uint64_t flow, time_t now);

/* sip_proxy.c */
void sip_proxy_handle(struct worker *w, msg_t *msg, sip_t *sip);
/* ACK for a 2xx, and other requests forwarded without a transaction. */
void sip_proxy_stateless(struct worker *w, msg_t *msg, sip_t *sip);
/* A response that matches no transaction of ours (a late 2xx). */
void sip_proxy_stray_response(struct worker *w, msg_t *msg, sip_t *sip);
void sip_proxy_cancel(struct worker *w, msg_t *msg, sip_t *sip);
void sip_proxy_shutdown(struct worker *w);
/* Worker 0: carry on with a request another worker handed over. */
struct handoff;
void sip_proxy_handoff_recv(struct worker *w, struct handoff *h);
/* Hand a UDP request to worker 0 (kind HANDOFF_*); takes msg. */
void sip_proxy_handoff(struct worker *w, msg_t *msg, sip_t *sip, int kind);

/* URL_STRING_MAKE for a string that may live in an array. */
static inline url_string_t *
gw_url(const char *s)
{
	return URL_STRING_MAKE(s);
}

/* Longest user@host we route (the location store's key). */
#define GW_AOR_MAX 250

#define GW_ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, REGISTER, INFO, UPDATE, REFER, NOTIFY, SUBSCRIBE, PRACK, PUBLISH"
#define GW_SUPPORTED "path, outbound"
/* Asks Microsoft-protocol clients for a CRLF keep-alive after 300 idle seconds. */
#define GW_MS_KEEPALIVE "ms-keep-alive: UAS; tcp=no; hop-hop=yes; end-end=no; timeout=300"
/* The event packages Microsoft-protocol clients subscribe to after sign-in; they
 * split this list on commas exactly, so it goes out verbatim, without spaces. */
#define GW_MS_ALLOW_EVENTS "Allow-Events: vnd-microsoft-roaming-contacts,presence"
#define GW_ALLOW_EVENTS "presence, presence.winfo, vnd-microsoft-roaming-contacts"

#endif
