/*
 * handoff.c - a request carried from a UDP worker to worker 0.
 *
 * Worker 0 owns every TCP and TLS connection and the sign-ins; a request
 * another worker received that must go out over one of those (or that a
 * service of worker 0 answers) travels there serialized, with the sender's
 * address and what admission established, so that worker 0 neither parses
 * it differently nor decides it again.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>

#include "gwd.h"
#include "log.h"

int
handoff_msg(struct worker *w, msg_t *msg, sip_t *sip, int kind, const struct admit *a, size_t alen)
{
	struct gwd *g = w->w_gwd;
	struct handoff *h = calloc(1, sizeof(*h));
	su_addrinfo_t *ai = msg_addrinfo(msg);
	su_home_t home[1] = {SU_HOME_INIT(home)};
	size_t len = 0;
	char *s = NULL;

	if (h == NULL || ai == NULL || ai->ai_addrlen > sizeof(h->addr) ||
	    msg_serialize(msg, (msg_pub_t *)sip) < 0 ||
	    (s = msg_as_string(home, msg, (msg_pub_t *)sip, 0, &len)) == NULL ||
	    (h->data = malloc(len + 1)) == NULL || (a && (h->adm = malloc(alen)) == NULL)) {
		if (h)
			free(h->data);
		free(h);
		su_home_deinit(home);
		return -ENOMEM;
	}
	memcpy(h->data, s, len);
	h->data[len] = '\0';
	h->len = len;
	h->kind = kind;
	if (a)
		memcpy(h->adm, a, alen); /* routed as it was admitted here */
	memcpy(&h->addr, ai->ai_addr, ai->ai_addrlen);
	h->addrlen = (socklen_t)ai->ai_addrlen;
	h->origin = w->w_id;
	su_home_deinit(home);
	int ret = worker_handoff_fair(&g->workers[0], h);
	if (ret == -EBUSY) {
		handoff_free(h);
		return -EBUSY; /* msg stays the caller's, who answers 503 */
	}
	msg_destroy(msg);
	if (ret < 0)
		log_warnx("event=handoff-failed reason=\"worker 0 queue full\"");
	return 0;
}

/* The UDP listener of this worker matching the client's address family. */
static tport_t *
udp_primary(struct worker *w, int family)
{
	for (tport_t *tp = tport_primaries(nta_agent_tports(w->w_agent)); tp; tp = tport_next(tp))
		if (tport_is_udp(tp) &&
		    (family == AF_INET6 ? tport_has_ip6(tp) : tport_has_ip4(tp)))
			return tp;
	return NULL;
}

msg_t *
handoff_msg_read(struct worker *w, const struct handoff *h, tport_t **udp)
{
	msg_t *m = h->data ? msg_make(sip_default_mclass(), 0, h->data, (isize_t)h->len) : NULL;
	sip_t *sip = m ? sip_object(m) : NULL;

	if (sip == NULL || sip->sip_request == NULL || !sip->sip_call_id || !sip->sip_from ||
	    !sip->sip_to || !sip->sip_cseq || !sip->sip_via) {
		log_warnx("event=handoff-dropped reason=\"unparsable\"");
		if (m)
			msg_destroy(m);
		return NULL;
	}
	msg_set_address(m, &h->addr, h->addrlen);
	msg_addrinfo(m)->ai_protocol = IPPROTO_UDP;
	msg_addrinfo(m)->ai_family = h->addr.su_family;
	*udp = udp_primary(w, h->addr.su_family);
	return m;
}
