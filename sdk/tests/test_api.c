/* Unit tests of the public API of libgreenwich-proxy: errors, configuration,
 * lifecycle, and how the application's answers reach the SIP thread. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "gwp_internal.h"

/* A port on 127.0.0.1 that is free for UDP and TCP alike: the system's choice for UDP,
 * kept when TCP can have it too (no fixed ports: other tests run beside these). */
static unsigned
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len;
	unsigned port = 0;
	int tries, u, t, ok;

	for (tries = 0; tries < 100 && !port; tries++) {
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(a);
		u = socket(AF_INET, SOCK_DGRAM, 0);
		t = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(u >= 0 && t >= 0);
		ok = bind(u, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		     getsockname(u, (struct sockaddr *)&a, &len) == 0 &&
		     bind(t, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (ok)
			port = ntohs(a.sin_port);
		close(u);
		close(t);
	}
	assert_true(port != 0);
	return port;
}

static void
route_nothing(void *arg, gwp_request *req)
{
	gwp_request_respond(req, 500, NULL);
}

static void
test_strerror(void **state)
{
	int e;

	for (e = GWP_OK; e >= GWP_ERR_NOTARGET; e--) {
		assert_non_null(gwp_strerror(e));
		assert_string_not_equal(gwp_strerror(e), "unknown error");
		if (e < GWP_OK)
			assert_string_not_equal(gwp_strerror(e), gwp_strerror(e + 1));
	}
	assert_string_equal(gwp_strerror(-1000), "unknown error");
	assert_string_equal(gwp_version(), GWP_VERSION_STRING);
	assert_string_equal(gwp_event_type_name(GWP_EVENT_ANSWERED), "answered");
	assert_string_equal(gwp_event_type_name((enum gwp_event_type)99), "unknown");
}

static void
test_config_validation(void **state)
{
	gwp_config *cfg = NULL;

	assert_int_equal(gwp_config_new(NULL), GWP_ERR_INVAL);
	assert_int_equal(gwp_config_new(&cfg), GWP_OK);
	assert_int_equal(gwp_config_add_listen(cfg, GWP_TRANSPORT_UDP, "localhost", 5060),
			 GWP_ERR_INVAL);
	assert_int_equal(gwp_config_add_listen(cfg, GWP_TRANSPORT_UDP, "127.0.0.1", 0),
			 GWP_ERR_INVAL);
	assert_int_equal(gwp_config_add_listen(cfg, GWP_TRANSPORT_UDP, "127.0.0.1", 70000),
			 GWP_ERR_INVAL);
	assert_int_equal(gwp_config_add_listen(cfg, (enum gwp_transport)7, "127.0.0.1", 5060),
			 GWP_ERR_INVAL);
	assert_int_equal(gwp_config_add_listen(cfg, GWP_TRANSPORT_TCP, "::1", 5060), GWP_OK);
	assert_int_equal(gwp_config_set_domain(cfg, "bad domain"), GWP_ERR_INVAL);
	assert_int_equal(gwp_config_set_domain(cfg, "helpdesk.test"), GWP_OK);
	assert_int_equal(gwp_config_set_tls(cfg, "", "key.pem"), GWP_ERR_INVAL);
	assert_int_equal(gwp_config_set_default_timeout(cfg, 0), GWP_ERR_INVAL);
	assert_int_equal(gwp_config_set_route_handler(cfg, NULL, NULL), GWP_ERR_INVAL);
	gwp_config_free(cfg);
	gwp_config_free(NULL);
}

static gwp_proxy *
proxy_make(unsigned port, enum gwp_transport tp, int with_route)
{
	gwp_config *cfg = NULL;
	gwp_proxy *p = NULL;

	assert_int_equal(gwp_config_new(&cfg), GWP_OK);
	assert_int_equal(gwp_config_add_listen(cfg, tp, "127.0.0.1", port), GWP_OK);
	if (with_route)
		assert_int_equal(gwp_config_set_route_handler(cfg, route_nothing, NULL), GWP_OK);
	if (with_route)
		assert_int_equal(gwp_proxy_new(&p, cfg), GWP_OK);
	else
		assert_int_equal(gwp_proxy_new(&p, cfg), GWP_ERR_INVAL);
	gwp_config_free(cfg);
	return p;
}

static void
test_proxy_lifecycle(void **state)
{
	gwp_config *cfg = NULL;
	gwp_proxy *p = NULL, *q;
	unsigned port = free_port();
	int fd = -1;

	assert_int_equal(gwp_config_new(&cfg), GWP_OK);
	assert_int_equal(gwp_config_set_route_handler(cfg, route_nothing, NULL), GWP_OK);
	assert_int_equal(gwp_proxy_new(&p, cfg), GWP_ERR_INVAL); /* no listener */
	gwp_config_free(cfg);
	assert_null(proxy_make(port, GWP_TRANSPORT_UDP, 0));

	p = proxy_make(port, GWP_TRANSPORT_UDP, 1);
	assert_int_equal(gwp_proxy_dispatch(p), GWP_ERR_STATE);
	assert_int_equal(gwp_proxy_stop(p), GWP_ERR_STATE);
	assert_int_equal(gwp_proxy_start(p), GWP_OK);
	assert_int_equal(gwp_proxy_start(p), GWP_ERR_STATE);
	assert_int_equal(gwp_proxy_dispatch(p), GWP_ERR_STATE); /* thread mode */

	/* the same address cannot be bound twice */
	q = proxy_make(port, GWP_TRANSPORT_UDP, 1);
	assert_int_equal(gwp_proxy_start(q), GWP_ERR_BIND);
	gwp_proxy_free(q);

	assert_int_equal(gwp_proxy_stop(p), GWP_OK);
	/* stopped, it can run again, this time embedded */
	assert_int_equal(gwp_proxy_attach(p, &fd), GWP_OK);
	assert_true(fd >= 0);
	assert_int_equal(gwp_proxy_dispatch(p), 0);
	gwp_proxy_free(p); /* stops it */
}

static void
test_tls_needs_certificate(void **state)
{
	gwp_proxy *p = proxy_make(free_port(), GWP_TRANSPORT_TLS, 1);

	assert_int_equal(gwp_proxy_start(p), GWP_ERR_TLS);
	gwp_proxy_free(p);
}

static void
test_tls_listener(void **state)
{
	char dir[] = "/tmp/gwp-tls-test-XXXXXX", cmd[1024], cert[256], key[256];
	gwp_config *cfg = NULL;
	gwp_proxy *p = NULL;
	unsigned port = free_port();

	assert_non_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 "
		 "-subj /CN=127.0.0.1 >/dev/null 2>&1",
		 key, cert);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(gwp_config_new(&cfg), GWP_OK);
	assert_int_equal(gwp_config_add_listen(cfg, GWP_TRANSPORT_TLS, "127.0.0.1", port), 0);
	assert_int_equal(gwp_config_set_tls(cfg, cert, key), GWP_OK);
	assert_int_equal(gwp_config_set_route_handler(cfg, route_nothing, NULL), GWP_OK);
	assert_int_equal(gwp_proxy_new(&p, cfg), GWP_OK);
	assert_int_equal(gwp_proxy_start(p), GWP_OK);
	/* a TLS client completes the handshake with our certificate */
	snprintf(cmd, sizeof(cmd),
		 "timeout 10 openssl s_client -connect 127.0.0.1:%u -CAfile %s "
		 "-verify_return_error </dev/null >/dev/null 2>&1",
		 port, cert);
	assert_int_equal(system(cmd), 0);
	gwp_proxy_free(p);
	/* nothing of the key is left behind in /tmp by the proxy */
	snprintf(cmd, sizeof(cmd), "rm -r %s", dir);
	assert_int_equal(system(cmd), 0);
	gwp_config_free(cfg);
}

/* A request as the SIP thread hands it to the application. */
static struct gwp_request *
request_make(gwp_proxy *p)
{
	struct gwp_request *req = calloc(1, sizeof(*req));

	assert_non_null(req);
	gwp_proxy_ref(p);
	req->proxy = p;
	req->txn_id = 42;
	return req;
}

static struct gwp_request *
inbox_take(gwp_proxy *p)
{
	void *ptr = NULL;
	int kind = -1;

	assert_int_equal(gwp_queue_pop(&p->inbox, &kind, &ptr), 1);
	assert_int_equal(kind, GWP_Q_ANSWER);
	return ptr;
}

static void
test_answers(void **state)
{
	gwp_proxy *p = proxy_make(free_port(), GWP_TRANSPORT_UDP, 1);
	struct gwp_request *req = request_make(p), *got;
	void *ptr;
	int kind;

	assert_int_equal(gwp_request_add_target(req, "tel:+123", 0), GWP_ERR_INVAL);
	assert_int_equal(gwp_request_add_target(req, "sip:", 0), GWP_ERR_INVAL);
	assert_int_equal(gwp_request_add_target(req, "sip:a@127.0.0.1:5311", 1500), GWP_OK);
	assert_int_equal(gwp_request_add_target(req, "sips:b@example.com", 0), GWP_OK);
	assert_int_equal(gwp_request_forward(req, GWP_FORK_PARALLEL), GWP_OK);
	got = inbox_take(p);
	assert_ptr_equal(got, req);
	assert_int_equal(got->action, GWP_ACT_FORWARD);
	assert_int_equal(got->mode, GWP_FORK_PARALLEL);
	assert_int_equal(got->n_targets, 2);
	assert_string_equal(got->targets[0].uri, "sip:a@127.0.0.1:5311");
	assert_int_equal(got->targets[0].timeout_ms, 1500);
	gwp_request_free(got);

	/* forwarding nowhere turns into a 500 for the caller */
	req = request_make(p);
	assert_int_equal(gwp_request_forward(req, GWP_FORK_SEQUENTIAL), GWP_ERR_NOTARGET);
	got = inbox_take(p);
	assert_int_equal(got->action, GWP_ACT_RESPOND);
	assert_int_equal(got->code, 500);
	gwp_request_free(got);

	req = request_make(p);
	assert_int_equal(gwp_request_respond(req, 99, NULL), GWP_ERR_INVAL);
	got = inbox_take(p);
	assert_int_equal(got->code, 500);
	gwp_request_free(got);

	req = request_make(p);
	assert_int_equal(gwp_request_respond(req, 486, "All Busy"), GWP_OK);
	got = inbox_take(p);
	assert_int_equal(got->code, 486);
	assert_string_equal(got->reason, "All Busy");
	gwp_request_free(got);
	assert_int_equal(gwp_queue_pop(&p->inbox, &kind, &ptr), 0);

	/* a request answered after gwp_proxy_free() kept the proxy allocated
	 * until then; the late answer is refused and frees both */
	req = request_make(p);
	gwp_proxy_free(p);
	assert_int_equal(p->refs, 1);
	assert_int_equal(gwp_request_respond(req, 480, NULL), GWP_ERR_STATE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strerror),        cmocka_unit_test(test_config_validation),
	    cmocka_unit_test(test_proxy_lifecycle), cmocka_unit_test(test_tls_needs_certificate),
	    cmocka_unit_test(test_tls_listener),    cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
