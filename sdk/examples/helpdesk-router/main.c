/* helpdesk-router: calls to sip:helpdesk@<domain> go to the least-loaded
 * operator. An example program of the Greenwich kit (libgreenwich-proxy).
 *
 * usage: helpdesk-router -c helpdesk.conf [-e] [-p operator:password]...
 *   -e  run embedded in our own poll() loop instead of the library's thread
 *   -p  set an operator's password (after the file; visible in ps: prefer
 *       'password' lines in a file only the router can read)
 *
 * Operators register with Digest credentials (the library's authentication
 * hook): the user name must be the operator's own name, and an operator
 * without a password cannot register. Callers are not authenticated.
 */
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "router.h"

static int
proxy_setup(struct hd_router *r, gwp_proxy **out)
{
	gwp_config *cfg = NULL;
	size_t i;
	int rc;

	rc = gwp_config_new(&cfg);
	for (i = 0; rc == 0 && i < r->conf.n_listen; i++)
		rc = gwp_config_add_listen(cfg, (enum gwp_transport)r->conf.listen[i].transport,
					   r->conf.listen[i].host, r->conf.listen[i].port);
	if (rc == 0)
		rc = gwp_config_set_domain(cfg, r->conf.domain);
	if (rc == 0 && r->conf.tls_cert[0])
		rc = gwp_config_set_tls(cfg, r->conf.tls_cert, r->conf.tls_key);
	if (rc == 0)
		rc = gwp_config_set_route_handler(cfg, hd_route, r);
	if (rc == 0)
		rc = gwp_config_set_event_handler(cfg, hd_event, r);
	if (rc == 0)
		rc = gwp_config_set_registrar(cfg, 1);
	if (rc == 0)
		rc = gwp_config_set_auth(cfg, r->conf.realm, GWP_AUTH_REGISTER, hd_auth, r);
	if (rc == 0)
		rc = gwp_proxy_new(out, cfg);
	gwp_config_free(cfg);
	return rc;
}

/* Embedded mode: our loop polls the proxy's descriptor and the signals. */
static int
loop_embedded(gwp_proxy *p, int sfd)
{
	struct pollfd fds[2];
	int rc, fd;

	rc = gwp_proxy_attach(p, &fd);
	if (rc != 0)
		return rc;
	fds[0].fd = fd;
	fds[0].events = POLLIN;
	fds[1].fd = sfd;
	fds[1].events = POLLIN;
	for (;;) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (fds[0].revents)
			gwp_proxy_dispatch(p);
	}
	return 0;
}

static int
loop_thread(gwp_proxy *p, int sfd)
{
	struct signalfd_siginfo si;
	int rc = gwp_proxy_start(p);

	if (rc != 0)
		return rc;
	while (read(sfd, &si, sizeof(si)) < 0 && errno == EINTR)
		;
	return 0;
}

int
main(int argc, char **argv)
{
	struct hd_router r;
	const char *conf = NULL;
	const char *passwords[32];
	size_t n_passwords = 0, i;
	gwp_proxy *p = NULL;
	char err[256];
	sigset_t set;
	int opt, embedded = 0, sfd, rc;

	while ((opt = getopt(argc, argv, "c:ep:h")) != -1) {
		if (opt == 'c')
			conf = optarg;
		else if (opt == 'e')
			embedded = 1;
		else if (opt == 'p' && n_passwords < sizeof(passwords) / sizeof(passwords[0]))
			passwords[n_passwords++] = optarg;
		else
			break;
	}
	if (!conf) {
		fprintf(stderr,
			"usage: %s -c helpdesk.conf [-e] [-p operator:password]...\n"
			"(libgreenwich-proxy %s)\n",
			argv[0], gwp_version());
		return 2;
	}
	memset(&r, 0, sizeof(r));
	hd_table_init(&r.table, 1);
	if (hd_conf_load(&r.conf, &r.table, conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		hd_table_free(&r.table);
		return 1;
	}
	for (i = 0; i < n_passwords; i++) {
		char name[64];
		const char *colon = strchr(passwords[i], ':');
		size_t len = colon ? (size_t)(colon - passwords[i]) : 0;

		if (len > 0 && len < sizeof(name)) {
			memcpy(name, passwords[i], len);
			name[len] = '\0';
		}
		if (len == 0 || len >= sizeof(name) ||
		    hd_op_set_password(&r.table, name, colon + 1) < 0) {
			fprintf(stderr, "-p %s: not operator:password of a known operator\n",
				passwords[i]);
			hd_table_free(&r.table);
			return 1;
		}
	}
	/* Block the signals before any thread starts, then read them from a fd. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	rc = sfd < 0 ? GWP_ERR_INVAL : proxy_setup(&r, &p);
	if (rc == 0)
		rc = embedded ? loop_embedded(p, sfd) : loop_thread(p, sfd);
	if (rc != 0)
		fprintf(stderr, "helpdesk-router: %s\n", gwp_strerror(rc));
	gwp_proxy_free(p);
	hd_router_free(&r);
	if (sfd >= 0)
		close(sfd);
	return rc == 0 ? 0 : 1;
}
