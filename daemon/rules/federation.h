/*
 * federation.h - partner domains: routing requests to their servers and recognising their
 * servers when they connect.  Private to daemon/.
 *
 * Outgoing: a request for a domain we do not serve goes to "sips:<domain>" when the
 * federation settings allow the domain; nta resolves it as RFC 3263 says for sips (SRV
 * _sips._tcp, else the domain's address on 5061) and, with [tls] ca-file, accepts only a
 * server certificate that verifies and names the domain (Sofia's TPTLS_VERIFY_SUBJECTS_OUT).
 * Our own certificate goes with it as client certificate.
 *
 * Incoming: a request from a partner domain counts as federated only when it arrived over a
 * TLS connection whose client certificate verified against [tls] ca-file and names the
 * domain, or the server that the domain's SRV record (_sips._tcp, then _sip._tcp) points to.
 * Those records are looked up ahead, only for allowed partners, with Sofia's resolver in
 * worker 0's event loop: no SIP worker ever waits for DNS.
 */
#ifndef GW_FEDERATION_H
#define GW_FEDERATION_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/sip.h>

struct worker;

/* True when msg came over a TLS connection (delivered just now) whose peer certificate
 * verified and names domain or, for an allowed partner only, one of its SRV targets as
 * last looked up.  Never waits for DNS: the targets come from fed_prefetch()'s cache;
 * a partner not looked up yet counts as unverified this time (and is looked up now). */
bool fed_peer_is(struct worker *w, msg_t *msg, const char *domain);

/* On worker 0, from its housekeeping timer: look up (asynchronously, in its event loop)
 * the SRV targets of every allowed partner that has none or whose answer runs out
 * within a minute; answers are kept 5 minutes (30 s when nothing was found). */
void fed_prefetch(struct worker *w);
/* The service for the workers' table (service.h): worker 0 looks the allowed
 * partners' SRV targets up ahead every second it is due. */
struct gw_service;
extern const struct gw_service fed_service;

/*
 * A request out of dialog for a domain we do not serve: only an authenticated user of ours
 * (auth_user non-empty) may send one to an allowed partner; anyone else gets 403 here.
 * Returns true when the request may go on (also when it is not for a partner domain).
 */
bool fed_relay_check(struct worker *w, msg_t *msg, sip_t *sip, const char *auth_user);

/* The next hop for a request to domain: "sips:<domain>" when it is an allowed partner
 * and partner servers can be verified ([tls] ca-file).  0, or -EPERM (not a partner,
 * blocked, or nothing to verify its server with). */
struct gw_conf;
int fed_next_hop(const struct gw_conf *c, const char *domain, char *hop, size_t len);

/* Free this thread's resolver and cache (at worker exit). */
void fed_thread_free(void);

#endif
