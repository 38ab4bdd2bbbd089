/*
 * fuzz_kit.c - the kit's routing input (sdk/src): a SIP request as the kit's
 * proxy takes it from Sofia's transaction layer, through the steps that read
 * it before the application's routing callback: loop check on Via, our own
 * Route entries and the foreign route set, the dialog it claims, the Digest
 * credentials (parameters, URI, nonce), the request facts handed to the
 * callback (gwp_request_from_sip: URIs, Contact expiry, every header), and
 * the copy prepared for forwarding (gwp_msg_prepare).
 *
 * The internals are hidden in the shared library: the target links the
 * static archive, as sdk/tests/test_sipmsg.c does.  Transactions are not
 * made (no nta agent): answers the kit would send go to a NULL transaction,
 * which Sofia ignores.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "gwp_internal.h"

#include <sofia-sip/msg_parser.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_util.h>

#include "fuzz.h"
#include "fuzz_sip.h"

static struct gwp_proxy proxy;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const tag[2] = {"a1", "b2"};
	static const char *const target[2] = {"sip:caller@127.0.0.1:5070",
					      "sip:op1@127.0.0.1:5080"};
	static const char *const routes[2] = {"", ""};
	struct gwp_dialog *d;

	(void)argc;
	(void)argv;
	pthread_mutex_init(&proxy.mu, NULL);
	proxy.refs = 1;
	if (gwp_config_add_listen(&proxy.cfg, GWP_TRANSPORT_UDP, "127.0.0.1", 5300) != 0 ||
	    gwp_config_add_listen(&proxy.cfg, GWP_TRANSPORT_TCP, "127.0.0.1", 5301) != 0 ||
	    gwp_config_add_listen(&proxy.cfg, GWP_TRANSPORT_TLS, "::1", 5302) != 0 ||
	    gwp_config_set_domain(&proxy.cfg, "helpdesk.test") != 0 ||
	    gwp_dtable_init(&proxy.dialogs, 64, 3600) != 0 ||
	    gwp_nonces_init(&proxy.nonces, 64, 30) != 0)
		abort();
	/* Digest for every method, as helpdesk-router asks of its operators */
	proxy.cfg.auth_realm = gwp_strdup("helpdesk.test");
	proxy.cfg.auth_methods = ~0u;
	/* one established call, so in-dialog requests of the seeds find it */
	d = gwp_dialog_make("call-1@example.com", tag, target, routes, "sip:op1@helpdesk.test");
	if (d == NULL || gwp_dtable_insert(&proxy.dialogs, d, time(NULL)) != NULL)
		abort();
	return 0;
}

static void
check_request(struct gwp_request *req, sip_t const *sip)
{
	FUZZ_ASSERT(req->proxy == &proxy);
	FUZZ_ASSERT(req->method && req->uri && req->user && req->from && req->to && req->call_id &&
		    req->source);
	FUZZ_ASSERT(strcmp(req->method, sip->sip_request->rq_method_name) == 0);
	for (size_t i = 0; i < req->n_hdrs; i++)
		FUZZ_ASSERT(req->hdr_names[i] && req->hdr_values[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msg_t *msg, *out;
	sip_t *sip;
	struct gwp_credentials *cred = NULL;
	struct gwp_request *req;
	char *routes;
	int status;

	msg = fuzz_sip_msg(data, size);
	if (msg == NULL)
		return 0;
	sip = sip_object(msg);
	/* nta passes on only requests with the mandatory headers */
	if (sip == NULL || sip->sip_request == NULL || sip_sanity_check(sip) < 0)
		goto done;
	(void)gwp_via_has_us(&proxy, sip->sip_via);
	(void)gwp_url_is_ours(&proxy, sip->sip_request->rq_url);
	if (sip->sip_request->rq_url->url_host)
		(void)gwp_host_is_local(&proxy, sip->sip_request->rq_url->url_host);
	routes = gwp_routes_foreign(&proxy, sip->sip_route);
	free(routes);
	if (sip->sip_to && sip->sip_to->a_tag)
		(void)gwp_dialog_match(&proxy, sip, &status);
	if (gwp_auth_intake(&proxy, NULL, sip, &cred) == 0 && cred != NULL)
		gwp_credentials_free(cred);
	req = gwp_request_from_sip(&proxy, msg, sip);
	if (req != NULL) {
		check_request(req, sip);
		gwp_request_free(req);
	}
	FUZZ_ASSERT(proxy.refs == 1);
	out = gwp_msg_prepare(&proxy, msg, 1);
	if (out != NULL) {
		sip_t *osip = sip_object(out);
		FUZZ_ASSERT(osip->sip_max_forwards && osip->sip_record_route);
		for (sip_route_t *r = osip->sip_route; r; r = r->r_next)
			FUZZ_ASSERT(!gwp_url_is_ours(&proxy, r->r_url));
		msg_destroy(out);
	}
done:
	msg_destroy(msg);
	return 0;
}
