/*
 * sip_request.h - the request pipeline: intake's stages (sanity, sign-in
 * intake, ACK, overload, Max-Forwards, Require; each returns an enum gw_verdict
 * of sip.h), then dispatch to the registrar, presence or the proxy, which admit
 * (sip_admit.h) before they route.
 */
#ifndef GW_SIP_REQUEST_H
#define GW_SIP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

struct worker;

/* What the workers' agents call for every message (service.h). */
struct gw_intake;
extern const struct gw_intake sip_intake;

#endif
