/*
 * test_tls_readbuf.c - an idle TLS connection's read buffer is given back and
 * freed with the connection (daemon/sofia/tls_readbuf.c), with the installed
 * Sofia and OpenSSL.
 *
 * A real nta agent on a loopback TLS listener (a throw-away P-256 certificate);
 * a client thread connects with OpenSSL and sends an OPTIONS.  Once Sofia has
 * read it, the connection's 16 kB buffer exists and none of it is resident;
 * a second request over the same connection (into the given-back pages) comes
 * whole; when the client goes, so does the buffer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ssl.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include "tls_readbuf.h"

static const char options[] = "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
			      "Via: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bK-readbuf-%d\r\n"
			      "Max-Forwards: 70\r\n"
			      "From: <sip:a@example.test>;tag=1\r\n"
			      "To: <sip:x@127.0.0.1>\r\n"
			      "Call-ID: readbuf-%d\r\n"
			      "CSeq: 1 OPTIONS\r\n"
			      "Content-Length: 0\r\n\r\n";

static atomic_int received, step;
static char last_call_id[64];
static struct sockaddr_in server;

static int
on_request(nta_agent_magic_t *magic, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	(void)magic, (void)agent;
	if (sip != NULL && sip->sip_call_id != NULL)
		snprintf(last_call_id, sizeof(last_call_id), "%s", sip->sip_call_id->i_id);
	atomic_fetch_add(&received, 1);
	msg_destroy(msg);
	return 0;
}

static void
wait_step(int n)
{
	while (atomic_load(&step) < n)
		usleep(1000);
}

static void
send_options(SSL *ssl, int n)
{
	char req[sizeof(options) + 32];
	int len = snprintf(req, sizeof(req), options, n, n);

	if (SSL_write(ssl, req, len) != len)
		fprintf(stderr, "client: SSL_write failed\n");
}

/* The client: connect, a request; after step 1 another; after step 2 it goes. */
static void *
client(void *arg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	(void)arg;
	if (ssl == NULL || s < 0 || connect(s, (struct sockaddr *)&server, sizeof(server)) < 0)
		goto out;
	SSL_set_fd(ssl, s);
	if (SSL_connect(ssl) != 1) {
		fprintf(stderr, "client: handshake failed\n");
		goto out;
	}
	send_options(ssl, 1);
	wait_step(1);
	send_options(ssl, 2);
	wait_step(2);
	SSL_shutdown(ssl);
out:
	if (s >= 0)
		close(s);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	atomic_store(&step, 3);
	return NULL;
}

/* Run the loop until *v is at least want, at most 10 s; the value then. */
static int
run_until(su_root_t *root, atomic_int *v, int want)
{
	for (int i = 0; i < 500 && atomic_load(v) < want; i++)
		su_root_step(root, 20);
	return atomic_load(v);
}

static size_t
buffers_now(size_t *resident)
{
	size_t n, r;

	tls_readbuf_stats(&n, &r);
	if (resident != NULL)
		*resident = r;
	return n;
}

static void
idle_buffer_given_back_and_freed(void **state)
{
	char dir[] = "/tmp/test_tls_readbuf.XXXXXX", cmd[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout %s/key.pem -out %s/cert.pem -days 2 -subj /CN=127.0.0.1 2>/dev/null && "
		 "cat %s/key.pem %s/cert.pem > %s/agent.pem",
		 dir, dir, dir, dir, dir);
	assert_int_equal(system(cmd), 0);

	su_init();
	su_root_t *root = su_root_create(NULL);
	assert_non_null(root);
	nta_agent_t *agent =
	    nta_agent_create(root, URL_STRING_MAKE("sips:127.0.0.1:0;transport=tls"), on_request,
			     NULL, TPTAG_CERTIFICATE(dir), TAG_END());
	assert_non_null(agent);
	tport_t *listener = tport_primaries(nta_agent_tports(agent));
	assert_non_null(listener);
	const su_addrinfo_t *ai = tport_get_address(listener);
	assert_non_null(ai);
	memcpy(&server, ai->ai_addr, sizeof(server));
	assert_int_equal(buffers_now(NULL), 0);

	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, client, NULL), 0);
	assert_int_equal(run_until(root, &received, 1), 1);
	assert_string_equal(last_call_id, "readbuf-1");
	size_t resident = 1;
	assert_int_equal(buffers_now(&resident), 1); /* the connection's */
	assert_int_equal(resident, 0);               /* read, copied out, given back */

	atomic_store(&step, 1);
	assert_int_equal(run_until(root, &received, 2), 2);
	assert_string_equal(last_call_id, "readbuf-2"); /* whole, through the new pages */
	assert_int_equal(buffers_now(&resident), 1);
	assert_int_equal(resident, 0);

	atomic_store(&step, 2);
	run_until(root, &step, 3);
	for (int i = 0; i < 500 && buffers_now(NULL) > 0; i++)
		su_root_step(root, 20);
	assert_int_equal(buffers_now(NULL), 0); /* freed with the connection */
	pthread_join(t, NULL);

	nta_agent_destroy(agent);
	su_root_destroy(root);
	su_deinit();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(idle_buffer_given_back_and_freed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
