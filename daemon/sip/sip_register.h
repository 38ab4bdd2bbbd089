/*
 * sip_register.h - the registrar.
 */
#ifndef GW_SIP_REGISTER_H
#define GW_SIP_REGISTER_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

struct worker;

/* A REGISTER that intake and sign-in let through: authenticate (Digest), bind
 * durably, answer. */
void sip_register_handle(struct worker *w, msg_t *msg, sip_t *sip);

#endif
