/* The proxy embedded in the application's loop (gwp_proxy_attach + poll +
 * gwp_proxy_dispatch), through the public API only. A raw UDP socket plays
 * the caller, another one an operator that answers 200, a third one an
 * operator that never answers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <greenwich/proxy.h>

struct world {
	gwp_proxy *proxy;
	int fd; /* the proxy's pollable descriptor */
	int caller, live, silent;
	unsigned port, live_port, silent_port, dead_port;
	char events[2048]; /* "type:target-user:status " in order */
	gwp_request *deferred;
	int seq;
	int live_got;         /* requests the live operator received */
	char last[4096];      /* the caller's last final response */
	char challenge[4096]; /* the last 401/407 */
};

static struct world w;

static unsigned
port_base(void)
{
	const char *base = getenv("GWP_PORT_BASE");

	return (base ? (unsigned)atoi(base) : 5300) + 94;
}

static int
udp_bind(unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(s >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return s;
}

static void
target_add(gwp_request *req, unsigned port, unsigned timeout_ms)
{
	char uri[64];

	snprintf(uri, sizeof(uri), "sip:op@127.0.0.1:%u", port);
	assert_int_equal(gwp_request_add_target(req, uri, timeout_ms), GWP_OK);
}

static void *
late_answer(void *arg)
{
	usleep(100 * 1000);
	gwp_request_respond(arg, 480, "Answered Later");
	return NULL;
}

static void
route(void *arg, gwp_request *req)
{
	const char *user = gwp_request_user(req);

	assert_string_equal(gwp_request_method(req), "MESSAGE");
	if (strcmp(user, "reject") == 0) {
		assert_string_equal(gwp_request_header(req, "Subject"), "test");
		gwp_request_respond(req, 403, "Nope");
	} else if (strcmp(user, "defer") == 0) {
		w.deferred = req;
	} else if (strcmp(user, "fwd") == 0) {
		target_add(req, w.live_port, 0);
		gwp_request_forward(req, GWP_FORK_SEQUENTIAL);
	} else if (strcmp(user, "parallel") == 0) {
		target_add(req, w.dead_port, 0);
		target_add(req, w.live_port, 0);
		gwp_request_forward(req, GWP_FORK_PARALLEL);
	} else if (strcmp(user, "allow") == 0) {
		/* the sender chose the next hop and we trust it: the Route wins */
		assert_non_null(gwp_request_route(req));
		assert_int_equal(gwp_request_allow_route(req), GWP_OK);
		target_add(req, w.silent_port, 0);
		gwp_request_forward(req, GWP_FORK_SEQUENTIAL);
	} else if (strcmp(user, "secret") == 0) {
		if (!gwp_request_auth_user(req)) {
			assert_int_equal(gwp_request_challenge(req), GWP_OK);
			return;
		}
		assert_string_equal(gwp_request_auth_user(req), "tester");
		target_add(req, w.live_port, 0);
		gwp_request_forward(req, GWP_FORK_SEQUENTIAL);
	} else if (strcmp(user, "slow") == 0) {
		target_add(req, w.silent_port, 300);
		target_add(req, w.live_port, 0);
		gwp_request_forward(req, GWP_FORK_SEQUENTIAL);
	} else {
		gwp_request_respond(req, 404, NULL);
	}
}

static void
on_event(void *arg, const gwp_event *ev)
{
	size_t len = strlen(w.events);
	const char *t = gwp_event_target(ev);
	unsigned port = (unsigned)atoi(strrchr(t, ':') + 1);

	assert_string_equal(gwp_event_method(ev), "MESSAGE");
	snprintf(w.events + len, sizeof(w.events) - len, "%s:%s:%d ",
		 gwp_event_type_name(gwp_event_type(ev)),
		 port == w.live_port   ? "live"
		 : port == w.dead_port ? "dead"
				       : "silent",
		 gwp_event_status(ev));
}

static void
send_to(int s, unsigned port, const char *text)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(sendto(s, text, strlen(text), 0, (struct sockaddr *)&sa, sizeof(sa)) > 0);
}

/* The live operator answers 200, copying the headers a response needs. */
static void
operator_answer(void)
{
	char req[4096], resp[4096] = "SIP/2.0 200 OK\r\n", *line, *save = NULL;
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	ssize_t n = recvfrom(w.live, req, sizeof(req) - 1, 0, (struct sockaddr *)&from, &len);

	assert_true(n > 0);
	req[n] = '\0';
	w.live_got++;
	assert_non_null(strstr(req, "Max-Forwards: 68")); /* 69 from the caller, minus one */
	for (line = strtok_r(req, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (!strncmp(line, "Via:", 4) || !strncmp(line, "From:", 5) ||
		    !strncmp(line, "To:", 3) || !strncmp(line, "Call-ID:", 8) ||
		    !strncmp(line, "CSeq:", 5)) {
			strcat(resp, line);
			strcat(resp, "\r\n");
		}
	}
	strcat(resp, "Content-Length: 0\r\n\r\n");
	send_to(w.live, ntohs(from.sin_port), resp);
}

/* Run the application's loop until the caller gets a final response. */
static int
run_until_final(void)
{
	char buf[4096];
	int status = 0, i;

	for (i = 0; i < 500 && status < 200; i++) {
		struct pollfd fds[3] = {
		    {w.fd, POLLIN, 0}, {w.caller, POLLIN, 0}, {w.live, POLLIN, 0}};

		assert_true(poll(fds, 3, 20) >= 0);
		if (fds[0].revents)
			assert_true(gwp_proxy_dispatch(w.proxy) >= 0);
		if (fds[2].revents)
			operator_answer();
		if (fds[1].revents) {
			ssize_t n = recv(w.caller, buf, sizeof(buf) - 1, 0);

			assert_true(n > 12);
			buf[n] = '\0';
			status = atoi(buf + 8);
			if (status >= 200)
				memcpy(w.last, buf, (size_t)n + 1);
			if (status == 401 || status == 407)
				memcpy(w.challenge, buf, (size_t)n + 1);
		}
	}
	/* events written just after the response may still be queued */
	for (i = 0; i < 5; i++) {
		struct pollfd fd = {w.fd, POLLIN, 0};

		if (poll(&fd, 1, 20) > 0)
			gwp_proxy_dispatch(w.proxy);
	}
	return status;
}

/* Send a request with extra header lines (each ending in CRLF). */
static int
call_with(const char *method, const char *user, const char *host, int max_forwards,
	  const char *extra)
{
	char text[2048];

	w.seq++;
	snprintf(text, sizeof(text),
		 "%s sip:%s@%s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-emb-%d\r\n"
		 "Max-Forwards: %d\r\nFrom: <sip:tester@127.0.0.1>;tag=t%d\r\n"
		 "To: <sip:%s@%s>\r\nCall-ID: emb-%d@127.0.0.1\r\nCSeq: 1 %s\r\n%s"
		 "Subject: test\r\nContent-Length: 0\r\n\r\n",
		 method, user, host, w.port + 1, w.seq, max_forwards, w.seq, user, host, w.seq,
		 method, extra);
	send_to(w.caller, w.port, text);
	w.events[0] = '\0';
	w.live_got = 0;
	return run_until_final();
}

static int
call(const char *method, const char *user, const char *host, int max_forwards)
{
	return call_with(method, user, host, max_forwards, "");
}

static int
lookup_ha1(void *arg, const char *user, const char *realm, char *ha1, size_t size)
{
	if (strcmp(user, "tester") != 0 || size < 33)
		return -1;
	return gwp_digest_ha1(user, realm, "tester-pw", ha1);
}

static int
setup(void **state)
{
	gwp_config *cfg = NULL;

	memset(&w, 0, sizeof(w));
	w.port = port_base();
	w.live_port = w.port + 2;
	w.silent_port = w.port + 3;
	w.dead_port = w.port + 4;
	w.caller = udp_bind(w.port + 1);
	w.live = udp_bind(w.live_port);
	w.silent = udp_bind(w.silent_port);
	assert_int_equal(gwp_config_new(&cfg), GWP_OK);
	assert_int_equal(gwp_config_add_listen(cfg, GWP_TRANSPORT_UDP, "127.0.0.1", w.port), 0);
	assert_int_equal(gwp_config_set_domain(cfg, "embedded.test"), GWP_OK);
	assert_int_equal(gwp_config_set_route_handler(cfg, route, NULL), GWP_OK);
	assert_int_equal(gwp_config_set_event_handler(cfg, on_event, NULL), GWP_OK);
	/* no method is challenged by itself: the route callback asks for it */
	assert_int_equal(gwp_config_set_auth(cfg, "embedded.test", 0, lookup_ha1, NULL), GWP_OK);
	assert_int_equal(gwp_proxy_new(&w.proxy, cfg), GWP_OK);
	gwp_config_free(cfg);
	assert_int_equal(gwp_proxy_attach(w.proxy, &w.fd), GWP_OK);
	return 0;
}

static int
teardown(void **state)
{
	assert_int_equal(gwp_proxy_stop(w.proxy), GWP_OK);
	gwp_proxy_free(w.proxy);
	close(w.caller);
	close(w.live);
	close(w.silent);
	return 0;
}

static void
test_reject(void **state)
{
	assert_int_equal(call("MESSAGE", "reject", "127.0.0.1", 69), 403);
	assert_string_equal(w.events, "");
	assert_int_equal(call("MESSAGE", "nobody", "embedded.test", 69), 404);
}

static void
test_not_ours(void **state)
{
	assert_int_equal(call("MESSAGE", "fwd", "example.com", 69), 404); /* foreign domain */
	assert_int_equal(call("MESSAGE", "fwd", "127.0.0.1", 0), 483);    /* too many hops */
	assert_int_equal(call("SUBSCRIBE", "fwd", "127.0.0.1", 69), 405);
	assert_int_equal(call("REGISTER", "op", "embedded.test", 69), 405); /* registrar off */
}

static void
test_deferred_from_another_thread(void **state)
{
	pthread_t th;
	char msg[1024];

	/* the route callback keeps the request; answer it from a thread */
	w.deferred = NULL;
	w.seq++;
	snprintf(msg, sizeof(msg),
		 "MESSAGE sip:defer@127.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-def-%d\r\n"
		 "Max-Forwards: 69\r\nFrom: <sip:t@127.0.0.1>;tag=d%d\r\n"
		 "To: <sip:defer@127.0.0.1>\r\nCall-ID: def-%d\r\nCSeq: 1 MESSAGE\r\n"
		 "Content-Length: 0\r\n\r\n",
		 w.port + 1, w.seq, w.seq, w.seq);
	send_to(w.caller, w.port, msg);
	while (!w.deferred) {
		struct pollfd fd = {w.fd, POLLIN, 0};

		assert_true(poll(&fd, 1, 1000) > 0);
		gwp_proxy_dispatch(w.proxy);
	}
	snprintf(msg, sizeof(msg), "def-%d", w.seq);
	assert_string_equal(gwp_request_call_id(w.deferred), msg);
	assert_int_equal(pthread_create(&th, NULL, late_answer, w.deferred), 0);
	assert_int_equal(run_until_final(), 480);
	pthread_join(th, NULL);
}

static void
test_forward_and_events(void **state)
{
	assert_int_equal(call("MESSAGE", "fwd", "127.0.0.1", 69), 200);
	assert_string_equal(w.events, "trying:live:0 answered:live:200 ended:live:0 ");
}

static void
test_parallel(void **state)
{
	assert_int_equal(call("MESSAGE", "parallel", "embedded.test", 69), 200);
	/* both are tried at once; the dead one fails (ICMP), the live one answers */
	assert_non_null(strstr(w.events, "trying:dead:0 trying:live:0 "));
	assert_non_null(strstr(w.events, "answered:live:200 ended:live:0 "));
	assert_non_null(strstr(w.events, "failed:dead:"));
}

static void
test_sequential_timeout(void **state)
{
	assert_int_equal(call("MESSAGE", "slow", "127.0.0.1", 69), 200);
	assert_string_equal(w.events, "trying:silent:0 failed:silent:408 trying:live:0 "
				      "answered:live:200 ended:live:0 ");
}

static void
test_preloaded_route(void **state)
{
	char route[128];

	snprintf(route, sizeof(route), "Route: <sip:127.0.0.1:%u;lr>\r\n", w.live_port);
	/* not accepted by the application: 403, and the Route's host gets nothing */
	assert_int_equal(call_with("MESSAGE", "fwd", "127.0.0.1", 69, route), 403);
	assert_int_equal(w.live_got, 0);
	assert_string_equal(w.events, "");
	/* accepted: sent to the Route's hop (live), the target as Request-URI */
	assert_int_equal(call_with("MESSAGE", "allow", "127.0.0.1", 69, route), 200);
	assert_int_equal(w.live_got, 1);
}

/* MD5 of "a:b:c" through the public API: gwp_digest_ha1() joins with ':'. */
static void
md5_3(const char *a, const char *b, const char *c, char out[33])
{
	assert_int_equal(gwp_digest_ha1(a, b, c, out), GWP_OK);
}

static void
credentials(char *out, size_t len, const char *pw, const char *nc, const char *uri_user)
{
	char nonce[128] = "", ha1[33], ha2[33], resp[33], a[256], b[64], c[64];
	const char *n = strstr(w.challenge, "nonce=\"");

	assert_non_null(n);
	snprintf(nonce, sizeof(nonce), "%.*s", (int)strcspn(n + 7, "\""), n + 7);
	md5_3("tester", "embedded.test", pw, ha1);
	md5_3("MESSAGE", "sip", uri_user, ha2); /* MD5("MESSAGE:sip:secret@...") */
	snprintf(a, sizeof(a), "%s:%s", ha1, nonce);
	snprintf(b, sizeof(b), "%s:cn", nc);
	snprintf(c, sizeof(c), "auth:%s", ha2);
	md5_3(a, b, c, resp);
	snprintf(out, len,
		 "Proxy-Authorization: Digest username=\"tester\", realm=\"embedded.test\", "
		 "nonce=\"%s\", uri=\"sip:%s\", response=\"%s\", qop=auth, nc=%s, "
		 "cnonce=\"cn\"\r\n",
		 nonce, uri_user, resp, nc);
}

static void
test_challenge_from_callback(void **state)
{
	char auth[512], first[512];

	assert_int_equal(call("MESSAGE", "secret", "127.0.0.1", 69), 407);
	assert_non_null(strstr(w.last, "Proxy-Authenticate: Digest realm=\"embedded.test\""));
	assert_int_equal(w.live_got, 0);
	credentials(first, sizeof(first), "tester-pw", "00000001", "secret@127.0.0.1");
	assert_int_equal(call_with("MESSAGE", "secret", "127.0.0.1", 69, first), 200);
	assert_int_equal(w.live_got, 1);
	/* the same credentials again: replayed nonce-count, a new challenge */
	assert_int_equal(call_with("MESSAGE", "secret", "127.0.0.1", 69, first), 407);
	assert_int_equal(w.live_got, 0);
	/* a wrong password, and credentials for another Request-URI */
	credentials(auth, sizeof(auth), "guess", "00000001", "secret@127.0.0.1");
	assert_int_equal(call_with("MESSAGE", "secret", "127.0.0.1", 69, auth), 403);
	credentials(auth, sizeof(auth), "tester-pw", "00000001", "fwd@127.0.0.1");
	assert_int_equal(call_with("MESSAGE", "secret", "127.0.0.1", 69, auth), 400);
	assert_int_equal(w.live_got, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reject),
	    cmocka_unit_test(test_not_ours),
	    cmocka_unit_test(test_deferred_from_another_thread),
	    cmocka_unit_test(test_forward_and_events),
	    cmocka_unit_test(test_parallel),
	    cmocka_unit_test(test_sequential_timeout),
	    cmocka_unit_test(test_preloaded_route),
	    cmocka_unit_test(test_challenge_from_callback),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
