/*
 * nta_fixture.c - a real nta agent on one loopback listener (nta_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <sofia-sip/nta_tport.h>
#include <sofia-sip/url.h>

#include "nta_fixture.h"

void
nta_fixture_up(struct nta_fixture *f, const char *transport, nta_message_f *cb)
{
	char url[64];

	snprintf(url, sizeof(url), "sip:127.0.0.1:0;transport=%s", transport);
	su_init();
	f->root = su_root_create(NULL);
	assert_non_null(f->root);
	f->agent = nta_agent_create(f->root, (url_string_t *)url, cb, NULL, TAG_END());
	assert_non_null(f->agent);
	f->listener = tport_primaries(nta_agent_tports(f->agent));
	assert_non_null(f->listener);
	const su_addrinfo_t *ai = tport_get_address(f->listener);
	assert_non_null(ai);
	memcpy(&f->addr, ai->ai_addr, sizeof(f->addr));
}

void
nta_fixture_down(struct nta_fixture *f)
{
	nta_agent_destroy(f->agent);
	su_root_destroy(f->root);
	su_deinit();
}
