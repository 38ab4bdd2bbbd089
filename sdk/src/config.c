/* gwp_config: the settings of a proxy, copied into it by gwp_proxy_new(). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "gwp_internal.h"

char *
gwp_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

GWP_EXPORT int
gwp_config_new(gwp_config **out)
{
	struct gwp_config *cfg;

	if (!out)
		return GWP_ERR_INVAL;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return GWP_ERR_NOMEM;
	cfg->default_timeout = GWP_DEFAULT_TIMEOUT_MS;
	cfg->max_dialogs = GWP_DEFAULT_MAX_DIALOGS;
	cfg->dialog_idle_s = GWP_DEFAULT_DIALOG_IDLE_S;
	*out = cfg;
	return GWP_OK;
}

void
gwp_config_clear(struct gwp_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_listens; i++)
		free(cfg->listens[i].host);
	free(cfg->listens);
	free(cfg->domain);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->auth_realm);
	memset(cfg, 0, sizeof(*cfg));
}

GWP_EXPORT void
gwp_config_free(gwp_config *cfg)
{
	if (!cfg)
		return;
	gwp_config_clear(cfg);
	free(cfg);
}

static int
host_is_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

GWP_EXPORT int
gwp_config_add_listen(gwp_config *cfg, enum gwp_transport tp, const char *host, unsigned port)
{
	struct gwp_listen *l;
	char *h;

	if (!cfg || !host || !host_is_literal(host) || port == 0 || port > 65535)
		return GWP_ERR_INVAL;
	if (tp != GWP_TRANSPORT_UDP && tp != GWP_TRANSPORT_TCP && tp != GWP_TRANSPORT_TLS)
		return GWP_ERR_INVAL;
	h = strdup(host);
	if (!h)
		return GWP_ERR_NOMEM;
	l = realloc(cfg->listens, (cfg->n_listens + 1) * sizeof(*l));
	if (!l) {
		free(h);
		return GWP_ERR_NOMEM;
	}
	cfg->listens = l;
	l[cfg->n_listens].tp = tp;
	l[cfg->n_listens].host = h;
	l[cfg->n_listens].port = port;
	cfg->n_listens++;
	return GWP_OK;
}

static int
replace_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return GWP_ERR_NOMEM;
	free(*slot);
	*slot = copy;
	return GWP_OK;
}

GWP_EXPORT int
gwp_config_set_tls(gwp_config *cfg, const char *cert_file, const char *key_file)
{
	int rc;

	if (!cfg || !cert_file || !key_file || !*cert_file || !*key_file)
		return GWP_ERR_INVAL;
	rc = replace_string(&cfg->tls_cert, cert_file);
	if (rc == GWP_OK)
		rc = replace_string(&cfg->tls_key, key_file);
	return rc;
}

GWP_EXPORT int
gwp_config_set_domain(gwp_config *cfg, const char *domain)
{
	if (!cfg || !domain || !*domain || strpbrk(domain, " \t\r\n<>;:@"))
		return GWP_ERR_INVAL;
	return replace_string(&cfg->domain, domain);
}

GWP_EXPORT int
gwp_config_set_route_handler(gwp_config *cfg, gwp_route_fn fn, void *arg)
{
	if (!cfg || !fn)
		return GWP_ERR_INVAL;
	cfg->route_fn = fn;
	cfg->route_arg = arg;
	return GWP_OK;
}

GWP_EXPORT int
gwp_config_set_event_handler(gwp_config *cfg, gwp_event_fn fn, void *arg)
{
	if (!cfg)
		return GWP_ERR_INVAL;
	cfg->event_fn = fn;
	cfg->event_arg = arg;
	return GWP_OK;
}

GWP_EXPORT int
gwp_config_set_registrar(gwp_config *cfg, int enable)
{
	if (!cfg)
		return GWP_ERR_INVAL;
	cfg->registrar = enable != 0;
	return GWP_OK;
}

GWP_EXPORT int
gwp_config_set_default_timeout(gwp_config *cfg, unsigned ms)
{
	if (!cfg || ms == 0)
		return GWP_ERR_INVAL;
	cfg->default_timeout = ms;
	return GWP_OK;
}

GWP_EXPORT int
gwp_config_set_dialog_limits(gwp_config *cfg, unsigned max, unsigned idle_s)
{
	if (!cfg || max == 0 || idle_s == 0)
		return GWP_ERR_INVAL;
	cfg->max_dialogs = max;
	cfg->dialog_idle_s = idle_s;
	return GWP_OK;
}

static int
realm_valid(const char *realm)
{
	const unsigned char *s;

	if (!realm || !*realm || strlen(realm) > 128)
		return 0;
	for (s = (const unsigned char *)realm; *s; s++)
		if (*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

GWP_EXPORT int
gwp_config_set_auth(gwp_config *cfg, const char *realm, unsigned methods, gwp_auth_fn fn, void *arg)
{
	int rc;

	if (!cfg || !fn || !realm_valid(realm) ||
	    (methods & ~(unsigned)(GWP_AUTH_REGISTER | GWP_AUTH_INVITE | GWP_AUTH_MESSAGE)))
		return GWP_ERR_INVAL;
	rc = replace_string(&cfg->auth_realm, realm);
	if (rc != GWP_OK)
		return rc;
	cfg->auth_methods = methods;
	cfg->auth_fn = fn;
	cfg->auth_arg = arg;
	return GWP_OK;
}

GWP_EXPORT int
gwp_digest_ha1(const char *username, const char *realm, const char *password, char out[33])
{
	const char *parts[3] = {username, realm, password};

	if (!username || !realm || !password || !out)
		return GWP_ERR_INVAL;
	gwp_md5_hex(parts, 3, out);
	return GWP_OK;
}

int
gwp_config_copy(struct gwp_config *dst, const struct gwp_config *src)
{
	size_t i;
	int rc = GWP_OK;

	memset(dst, 0, sizeof(*dst));
	for (i = 0; i < src->n_listens && rc == GWP_OK; i++)
		rc = gwp_config_add_listen(dst, src->listens[i].tp, src->listens[i].host,
					   src->listens[i].port);
	if (rc == GWP_OK && src->domain)
		rc = replace_string(&dst->domain, src->domain);
	if (rc == GWP_OK && src->tls_cert)
		rc = gwp_config_set_tls(dst, src->tls_cert, src->tls_key);
	dst->route_fn = src->route_fn;
	dst->route_arg = src->route_arg;
	dst->event_fn = src->event_fn;
	dst->event_arg = src->event_arg;
	dst->registrar = src->registrar;
	dst->default_timeout = src->default_timeout;
	dst->max_dialogs = src->max_dialogs;
	dst->dialog_idle_s = src->dialog_idle_s;
	if (rc == GWP_OK && src->auth_realm)
		rc = replace_string(&dst->auth_realm, src->auth_realm);
	dst->auth_methods = src->auth_methods;
	dst->auth_fn = src->auth_fn;
	dst->auth_arg = src->auth_arg;
	if (rc != GWP_OK)
		gwp_config_clear(dst);
	return rc;
}
