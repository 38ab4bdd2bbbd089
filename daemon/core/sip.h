/*
 * sip.h - what every layer of greenwichd uses of a SIP message: the
 * stateless answer, addresses of record, the sender, our own addresses, the
 * server's tokens and branches, and the constants we advertise.
 */
#ifndef GW_SIP_H
#define GW_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

struct worker;
struct loc_contact;

/*
 * What a stage of the request pipeline (intake's checks, sign-in intake, load
 * shedding, admission) did with a request: let it go on to the next stage, or
 * took it (answered, dropped or parked it: msg is no longer the caller's, who
 * stops).  Every such stage returns one of these, never a bool.
 */
enum gw_verdict {
	GW_PASS = 0,
	GW_TAKEN,
};

/* sip_util.c */
/* Stateless final answer, adding our Allow/Supported where useful. */
void sip_reply(struct worker *w, msg_t *msg, int status, const char *phrase);
/* "user@host" of a SIP URL, lower-cased host; 0 or -ENAMETOOLONG / -EINVAL. */
int sip_url_aor(char *out, size_t len, const url_t *url);
/* "host:port" of the sender as the transport saw it, and its transport name. */
void sip_msg_source(struct worker *w, msg_t *msg, char *addr, size_t addrlen, char *proto,
		    size_t protolen);
/* "host:port" (as sip_msg_source writes it) -> host, in place; the brackets of an
 * IPv6 address are kept. */
void sip_source_host(char *hostport);
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

/* URL_STRING_MAKE for a string that may live in an array. */
static inline url_string_t *
gw_url(const char *s)
{
	return URL_STRING_MAKE(s);
}

/* A next hop "sip:[2001:db8::1]:5060;..." or "sips:user@[2001:db8::1]" names an
 * IPv6 address: Sofia may pick the first listener of the protocol whatever its
 * address family, so a request sent there names the IPv6 listeners
 * (TPTAG_IDENT("v6"), worker.c). */
static inline bool
gw_hop_ip6(const char *hop)
{
	const char *at = hop ? strchr(hop, '@') : NULL;
	const char *colon = hop ? strchr(hop, ':') : NULL;
	const char *host = at ? at + 1 : colon ? colon + 1 : hop;

	return host && host[0] == '[';
}

/* Longest user@host we route (the location store's key). */
#define GW_AOR_MAX 250

#define GW_ALLOW                                                                                   \
	"INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, REGISTER, INFO, UPDATE, REFER, NOTIFY, "      \
	"SUBSCRIBE, PRACK, PUBLISH"
#define GW_SUPPORTED "path, outbound"
/* Asks Microsoft-protocol clients for a CRLF keep-alive after 300 idle seconds. */
#define GW_MS_KEEPALIVE "ms-keep-alive: UAS; tcp=no; hop-hop=yes; end-end=no; timeout=300"
/* The event packages Microsoft-protocol clients subscribe to after sign-in; they
 * split this list on commas exactly, so it goes out verbatim, without spaces. */
#define GW_MS_ALLOW_EVENTS "Allow-Events: vnd-microsoft-roaming-contacts,presence"
#define GW_ALLOW_EVENTS "presence, presence.winfo, vnd-microsoft-roaming-contacts"

#endif
