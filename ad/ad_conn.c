/*
 * ad_conn.c - one LDAP connection to a domain controller: DC candidates (the last good
 * one, DNS SRV, the configured list), SASL/GSSAPI bind with signing and sealing,
 * fail-over, and the "DCs are down, fail fast" window shared by all connections.
 */
#include "config.h"

#include <errno.h>
#include <ldap.h>
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ad_conn.h"

#define AD_MIN_SSF 56 /* integrity and confidentiality (sealing) */

struct ad_dcs {
	pthread_mutex_t lock;
	const struct ad_config *cfg;
	int64_t down_until_ms;
	char last[300];
	uint64_t binds;
};

struct ad_dcs *
ad_dcs_alloc(const struct ad_config *cfg)
{
	struct ad_dcs *dcs = calloc(1, sizeof(*dcs));

	if (dcs != NULL) {
		pthread_mutex_init(&dcs->lock, NULL);
		dcs->cfg = cfg;
	}
	return dcs;
}

void
ad_dcs_free(struct ad_dcs *dcs)
{
	if (dcs == NULL)
		return;
	pthread_mutex_destroy(&dcs->lock);
	free(dcs);
}

bool
ad_dcs_down(struct ad_dcs *dcs)
{
	bool down;

	pthread_mutex_lock(&dcs->lock);
	down = dcs->down_until_ms > ad_now_ms();
	pthread_mutex_unlock(&dcs->lock);
	return down;
}

static void
dcs_mark(struct ad_dcs *dcs, const char *good)
{
	pthread_mutex_lock(&dcs->lock);
	if (good != NULL) {
		ad_str_copy(dcs->last, sizeof(dcs->last), good);
		dcs->down_until_ms = 0;
		dcs->binds++;
	} else {
		dcs->down_until_ms = ad_now_ms() + dcs->cfg->retry_interval_ms;
	}
	pthread_mutex_unlock(&dcs->lock);
}

void
ad_dcs_last(struct ad_dcs *dcs, char *out, size_t outlen)
{
	pthread_mutex_lock(&dcs->lock);
	ad_str_copy(out, outlen, dcs->last);
	pthread_mutex_unlock(&dcs->lock);
}

uint64_t
ad_dcs_binds(struct ad_dcs *dcs)
{
	uint64_t n;

	pthread_mutex_lock(&dcs->lock);
	n = dcs->binds;
	pthread_mutex_unlock(&dcs->lock);
	return n;
}

/* Appends "host:port" to the candidate list unless it is there already. */
static void
cand_add(char (*cand)[300], size_t *n, size_t max, const char *host, unsigned port)
{
	char hp[300];
	size_t i;

	snprintf(hp, sizeof(hp), "%s:%u", host, port);
	for (i = 0; i < *n; i++)
		if (strcasecmp(cand[i], hp) == 0)
			return;
	if (*n < max)
		ad_str_copy(cand[(*n)++], sizeof(cand[0]), hp);
}

/* The DCs to try, in order: the last good one, SRV records, the configured list. */
static size_t
dcs_candidates(struct ad_dcs *dcs, char (*cand)[300], size_t max, char *reason)
{
	const struct ad_config *cfg = dcs->cfg;
	struct ad_srv *srv = NULL;
	size_t i, n = 0, nsrv = 0;

	pthread_mutex_lock(&dcs->lock);
	if (dcs->last[0] != '\0')
		ad_str_copy(cand[n++], sizeof(cand[0]), dcs->last);
	pthread_mutex_unlock(&dcs->lock);
	if (cfg->use_srv &&
	    ad_srv_lookup(cfg->domain, cfg->connect_timeout_ms, &srv, &nsrv, reason) == 0)
		for (i = 0; i < nsrv; i++)
			cand_add(cand, &n, max, srv[i].target, srv[i].port);
	free(srv);
	for (i = 0; cfg->servers != NULL && cfg->servers[i] != NULL; i++)
		cand_add(cand, &n, max, cfg->servers[i], (unsigned)cfg->ldap_port);
	return n;
}

static int
sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	sasl_interact_t *it;

	for (it = in; it->id != SASL_CB_LIST_END; it++) {
		it->result = "";
		it->len = 0;
	}
	return LDAP_SUCCESS;
}

static int
ldap_setup(LDAP *ld, const struct ad_config *cfg)
{
	struct timeval net = {cfg->connect_timeout_ms / 1000,
			      (cfg->connect_timeout_ms % 1000) * 1000};
	struct timeval op = {cfg->query_timeout_ms / 1000, (cfg->query_timeout_ms % 1000) * 1000};
	int v3 = LDAP_VERSION3;
	int lrc = 0;

	lrc |= ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	lrc |= ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	lrc |= ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
	lrc |= ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op);
	lrc |= ldap_set_option(ld, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON);
	lrc |= ldap_set_option(ld, LDAP_OPT_X_SASL_SECPROPS, "minssf=56");
	return lrc == LDAP_SUCCESS ? 0 : -AD_ERR_LDAP;
}

/* One DC: connect and bind. -AD_ERR_UNAVAILABLE when it does not answer. */
static int
conn_bind(struct ad_conn *conn, const char *hostport, char *reason)
{
	const struct ad_config *cfg = conn->cfg;
	char uri[320];
	ber_len_t ssf = 0;
	LDAP *ld = NULL;
	int lrc, ret;

	snprintf(uri, sizeof(uri), "ldap://%.299s", hostport);
	if (ldap_initialize(&ld, uri) != LDAP_SUCCESS || ldap_setup(ld, cfg) < 0) {
		ad_reason_set(reason, "%s: cannot set up the LDAP handle", uri);
		ret = -AD_ERR_LDAP;
		goto done;
	}
	lrc = ldap_sasl_interactive_bind_s(ld, NULL, "GSSAPI", NULL, NULL, LDAP_SASL_QUIET,
					   sasl_interact, NULL);
	if (lrc != LDAP_SUCCESS) {
		ad_reason_set(reason, "%s: SASL/GSSAPI bind: %s", uri, ldap_err2string(lrc));
		ret = ad_ldap_gone(lrc) ? -AD_ERR_UNAVAILABLE : -AD_ERR_BIND;
		goto done;
	}
	if (ldap_get_option(ld, LDAP_OPT_X_SASL_SSF, &ssf) != LDAP_OPT_SUCCESS ||
	    ssf < AD_MIN_SSF) {
		ad_reason_set(reason, "%s: SASL security layer too weak (ssf %lu)", uri,
			      (unsigned long)ssf);
		ret = -AD_ERR_BIND;
		goto done;
	}
	conn->ld = ld;
	ld = NULL;
	ad_str_copy(conn->host, sizeof(conn->host), hostport);
	ret = 0;
done:
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return ret;
}

void
ad_conn_drop(struct ad_conn *conn)
{
	if (conn->ld != NULL)
		ldap_unbind_ext_s(conn->ld, NULL, NULL);
	conn->ld = NULL;
	conn->host[0] = '\0';
}

/* Connects to the first DC that answers, unless already connected. */
static int
conn_open(struct ad_conn *conn, char *reason)
{
	char cand[16][300];
	size_t i, n;
	int ret;

	if (conn->ld != NULL && time(NULL) < conn->renew_at)
		return 0;
	/* Credentials about to expire: bind again with fresh ones. */
	ad_conn_drop(conn);
	if (ad_dcs_down(conn->dcs)) {
		ad_reason_set(reason, "no domain controller answered recently");
		return -AD_ERR_UNAVAILABLE;
	}
	ret = ad_krb5_ensure(conn->krb, reason);
	if (ret == 0)
		ret = ad_krb5_thread_use(conn->krb, reason);
	if (ret < 0)
		goto done;
	n = dcs_candidates(conn->dcs, cand, 16, reason);
	ret = n == 0 ? -AD_ERR_UNAVAILABLE : 0;
	for (i = 0; i < n; i++) {
		ret = conn_bind(conn, cand[i], reason);
		if (ret == 0) {
			ad_krb5_state(conn->krb, &conn->renew_at, NULL);
			dcs_mark(conn->dcs, cand[i]);
			break;
		}
	}
done:
	if (ret == -AD_ERR_UNAVAILABLE)
		dcs_mark(conn->dcs, NULL);
	return ret;
}

struct ad_conn *
ad_conn_alloc(struct ad_ctx *ctx)
{
	struct ad_conn *conn = calloc(1, sizeof(*conn));

	if (conn != NULL) {
		conn->ctx = ctx;
		conn->cfg = ad_ctx_config(ctx);
		conn->krb = ad_ctx_krb5(ctx);
		conn->dcs = ad_ctx_dcs(ctx);
	}
	return conn;
}

void
ad_conn_free(struct ad_conn *conn)
{
	if (conn == NULL)
		return;
	ad_conn_drop(conn);
	free(conn);
}

int
ad_conn_run(struct ad_conn *conn, ad_conn_op *op, void *arg, char *reason)
{
	int attempt, ret = -AD_ERR_UNAVAILABLE;

	for (attempt = 0; attempt < 2; attempt++) {
		ret = conn_open(conn, reason);
		if (ret < 0)
			break;
		ret = op(conn, arg, reason);
		if (ret != -AD_ERR_UNAVAILABLE)
			break;
		/* The DC went away: the next attempt fails over. */
		ad_conn_drop(conn);
	}
	return ret;
}

struct call_arg {
	ad_ldap_fn *fn;
	void *arg;
};

static int
call_op(struct ad_conn *conn, void *arg, char *reason)
{
	struct call_arg *ca = arg;

	return ca->fn(conn->ld, ca->arg, reason);
}

int
ad_conn_call(struct ad_conn *conn, ad_ldap_fn *fn, void *arg, char *reason)
{
	struct call_arg ca = {fn, arg};

	return ad_conn_run(conn, call_op, &ca, reason);
}

const char *
ad_conn_dc(const struct ad_conn *conn)
{
	return conn->host;
}
