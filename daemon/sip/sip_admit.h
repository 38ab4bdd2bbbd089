/*
 * sip_admit.h - admission of a request the proxy is to route: who sent it
 * (authenticated once), which identity headers it may carry, whether its
 * route set is its own to choose, which AOR it is really for, whether it
 * belongs to a dialog we routed, and what the policy says.  The proxy
 * routes what was admitted and decides nothing itself.  Private to daemon/.
 */
#ifndef GW_SIP_ADMIT_H
#define GW_SIP_ADMIT_H

#include <stdbool.h>

#include "sip.h"
#include "sip_dialog.h"

/* The length of the dialog token in our Record-Route, with its NUL. */
#define ADMIT_TOKEN_LEN 17

/* The facts about one request, established once and passed on (also to worker 0). */
struct admit {
	char user[GW_AOR_MAX + 1];   /* the authenticated sender (user@domain), or "" */
	char to_aor[GW_AOR_MAX + 1]; /* the AOR the request is really for, or "" */
	int zone;                    /* the sender's pol_zone */
	bool in_dialog;              /* matched a dialog we routed: dlg says where to */
	bool to_device;              /* addressed a registered contact URI of to_aor */
	bool pool_hop;               /* from another front end of the pool (pool.h): it
					authenticated and decided; deliver over our own flows */
	struct dlg_match dlg;
};

/* Run every check on a request for the proxy; fills a.  GW_PASS: route it;
 * GW_TAKEN: answered (refused or challenged). */
enum gw_verdict admit_request(struct worker *w, msg_t *msg, sip_t *sip, struct admit *a);
/* An ACK (no transaction): forwarded only inside a dialog we routed (GW_TAKEN:
 * dropped). */
enum gw_verdict admit_ack(struct worker *w, msg_t *msg, sip_t *sip, struct admit *a);
/* The dialog token of our Record-Route for this request. */
void admit_rr_token(struct worker *w, char *out, const sip_t *sip);

#endif
