/*
 * sip_auth.h - who sent a request: Digest for local accounts, and the
 * signature of a signed-in domain user (sipae.h), offered and checked in one
 * place.
 */
#ifndef GW_SIP_AUTH_H
#define GW_SIP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

#include "sip.h"

struct worker;

/* Authenticate the request as its From (REGISTER: also To) user: GW_PASS when
 * the credentials are valid (*user holds the authenticated AOR), GW_TAKEN when
 * a challenge or a refusal was sent. */
enum gw_verdict sip_auth_check(struct worker *w, msg_t *msg, sip_t *sip, bool is_register,
			       char *user, size_t userlen);

/* Answer msg with a challenge offering every sign-in scheme available to its
 * sender (401 WWW-Authenticate when www, else 407), or 403 when none is. */
void sip_auth_challenge(struct worker *w, msg_t *msg, bool www);
/* Count and log a refused sign-in (event=auth-failed, with the sender's address
 * for fail2ban); opaque (the security association's) may be NULL.  The caller
 * answers. */
void sip_auth_failed(struct worker *w, msg_t *msg, const char *scheme, const char *user,
		     const char *opaque, const char *reason);
/* Remove the Proxy-Authorization for our realm before forwarding. */
void sip_auth_consume(struct worker *w, msg_t *msg, sip_t *sip);

#endif
