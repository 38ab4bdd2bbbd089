/* The nta agent: listeners, TLS credentials and the default leg. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/su_tag.h>

#include "gwp_internal.h"

static void
listen_url(const struct gwp_listen *l, char *buf, size_t len)
{
	static const char *const tp[] = {"udp", "tcp", "tls"};
	const char *scheme = l->tp == GWP_TRANSPORT_TLS ? "sips" : "sip";

	if (strchr(l->host, ':'))
		snprintf(buf, len, "%s:[%s]:%u;transport=%s", scheme, l->host, l->port, tp[l->tp]);
	else
		snprintf(buf, len, "%s:%s:%u;transport=%s", scheme, l->host, l->port, tp[l->tp]);
}

/* Append the contents of file 'from' to the open stream 'to'. */
static int
file_append(FILE *to, const char *from)
{
	char buf[4096];
	size_t n;
	FILE *in = fopen(from, "r");

	if (!in)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, to) != n)
			break;
	n = ferror(in) || ferror(to);
	fclose(in);
	return n ? -1 : 0;
}

static int
pem_write(const char *dir, const char *name, const char *a, const char *b)
{
	char path[512];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	rc = file_append(f, a);
	if (rc == 0 && b)
		rc = file_append(f, b);
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* Sofia 1.12 reads TLS credentials from a directory holding agent.pem (key
 * and certificate) and cafile.pem; build one privately for the agent. */
static int
tls_dir_make(struct gwp_proxy *p)
{
	char tmpl[] = "/tmp/gwp-tls-XXXXXX";

	if (!mkdtemp(tmpl))
		return GWP_ERR_TLS;
	p->tls_dir = strdup(tmpl);
	if (!p->tls_dir) {
		rmdir(tmpl);
		return GWP_ERR_NOMEM;
	}
	if (pem_write(tmpl, "agent.pem", p->cfg.tls_key, p->cfg.tls_cert) < 0 ||
	    pem_write(tmpl, "cafile.pem", p->cfg.tls_cert, NULL) < 0)
		return GWP_ERR_TLS;
	return GWP_OK;
}

static void
tls_dir_remove(struct gwp_proxy *p)
{
	char path[512];

	if (!p->tls_dir)
		return;
	snprintf(path, sizeof(path), "%s/agent.pem", p->tls_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cafile.pem", p->tls_dir);
	unlink(path);
	rmdir(p->tls_dir);
	free(p->tls_dir);
	p->tls_dir = NULL;
}

static int
has_tls(const struct gwp_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_listens; i++)
		if (cfg->listens[i].tp == GWP_TRANSPORT_TLS)
			return 1;
	return 0;
}

static int
listen_error(const struct gwp_listen *l)
{
	return l->tp == GWP_TRANSPORT_TLS ? GWP_ERR_TLS : GWP_ERR_BIND;
}

/* Messages nta matched to no transaction or leg: responses only, since the
 * default leg takes every request. A proxy relays responses only through the
 * client transactions it made, so drop them here rather than leave them to
 * nta's default (1.12.11 discards them, but some Sofia versions ACK and BYE
 * a stray 2xx to INVITE towards its Contact: a reflector). */
static int
agent_stray(nta_agent_magic_t *magic, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	msg_destroy(msg);
	return 0;
}

static int
agent_listen(struct gwp_proxy *p)
{
	char buf[300];
	const char *url = buf;
	size_t i;

	listen_url(&p->cfg.listens[0], buf, sizeof(buf));
	p->agent = nta_agent_create(p->root, URL_STRING_MAKE(url), agent_stray, NULL, NTATAG_UA(0),
				    NTATAG_SERVER_RPORT(1), NTATAG_CANCEL_487(1),
				    TAG_IF(p->tls_dir, TPTAG_CERTIFICATE(p->tls_dir)), TAG_END());
	if (!p->agent)
		return listen_error(&p->cfg.listens[0]);
	for (i = 1; i < p->cfg.n_listens; i++) {
		listen_url(&p->cfg.listens[i], buf, sizeof(buf));
		if (nta_agent_add_tport(p->agent, URL_STRING_MAKE(url),
					TAG_IF(p->tls_dir, TPTAG_CERTIFICATE(p->tls_dir)),
					TAG_END()) < 0)
			return listen_error(&p->cfg.listens[i]);
	}
	return GWP_OK;
}

static int
leg_request(struct gwp_proxy *p, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	return gwp_incoming_request(p, leg, irq, sip);
}

int
gwp_agent_open(struct gwp_proxy *p)
{
	int rc = GWP_OK;

	if (has_tls(&p->cfg)) {
		if (!p->cfg.tls_cert)
			return GWP_ERR_TLS;
		rc = tls_dir_make(p);
	}
	if (rc == GWP_OK)
		rc = agent_listen(p);
	tls_dir_remove(p);
	if (rc != GWP_OK)
		return rc;
	p->leg = nta_leg_tcreate(p->agent, leg_request, p, NTATAG_NO_DIALOG(1), TAG_END());
	return p->leg ? GWP_OK : GWP_ERR_SIP;
}

void
gwp_agent_close(struct gwp_proxy *p)
{
	if (p->leg)
		nta_leg_destroy(p->leg);
	p->leg = NULL;
	if (p->agent)
		nta_agent_destroy(p->agent);
	p->agent = NULL;
	tls_dir_remove(p);
}
