/*
 * nta_fixture.h - a real nta agent on one loopback listener, for the unit tests
 * of greenwichd's interpositions under Sofia (test_tport_refs, test_tport_ledger).
 */
#ifndef GW_NTA_FIXTURE_H
#define GW_NTA_FIXTURE_H

#include <netinet/in.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/tport.h>

struct nta_fixture {
	su_root_t *root;
	nta_agent_t *agent;
	tport_t *listener;
	struct sockaddr_in addr; /* the listener's */
};

/* An agent listening on 127.0.0.1, any port, over transport ("udp", "tcp"), whose
 * requests go to cb. */
void nta_fixture_up(struct nta_fixture *f, const char *transport, nta_message_f *cb);
void nta_fixture_down(struct nta_fixture *f);

#endif
