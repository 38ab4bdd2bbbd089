/*
 * ad_ctx.c - the libgwad context: configuration, credentials, DCs, cache, the
 * Greenwich group, statistics and the blocking calls.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ad_conn.h"
#include "ad_ctx.h"

void
ad_config_init(struct ad_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->use_srv = true;
	cfg->ldap_port = 389;
	cfg->connect_timeout_ms = 3000;
	cfg->query_timeout_ms = 10000;
	cfg->retry_interval_ms = 2000;
	cfg->cache_ttl = 300;
	cfg->cache_negative_ttl = 60;
	cfg->cache_size = 1000;
	cfg->workers = 2;
}

static int
config_check(const struct ad_config *cfg, char *reason)
{
	const char *bad = NULL;

	if (cfg->domain == NULL || cfg->domain[0] == '\0')
		bad = "domain is required";
	else if (cfg->keytab == NULL || cfg->keytab[0] == '\0')
		bad = "keytab is required";
	else if (!cfg->use_srv && (cfg->servers == NULL || cfg->servers[0] == NULL))
		bad = "no SRV lookup and no servers: no way to find a DC";
	else if (cfg->connect_timeout_ms <= 0 || cfg->query_timeout_ms <= 0 ||
		 cfg->retry_interval_ms < 0)
		bad = "timeouts must be positive";
	else if (cfg->cache_ttl < 0 || cfg->cache_negative_ttl < 0 ||
		 cfg->cache_offline_max_age < 0)
		bad = "cache lifetimes must not be negative";
	else if (cfg->workers < 1 || cfg->workers > 64)
		bad = "workers must be between 1 and 64";
	else if (cfg->ldap_port <= 0 || cfg->ldap_port > 65535)
		bad = "bad LDAP port";
	if (bad != NULL)
		ad_reason_set(reason, "%s", bad);
	return bad != NULL ? -AD_ERR_CONFIG : 0;
}

/* Copies the strings of @in into @ctx, with defaults for realm and base DN. */
static int
config_copy(struct ad_ctx *ctx, const struct ad_config *in)
{
	struct ad_config *cfg = &ctx->cfg;
	char dn[1024], *s;
	size_t i, n = 0;

	*cfg = *in;
	if (ad_domain_to_dn(in->domain, dn, sizeof(dn)) < 0)
		return -AD_ERR_CONFIG;
	ctx->strs[0] = strdup(in->domain);
	ctx->strs[1] = strdup(in->realm ? in->realm : in->domain);
	ctx->strs[2] = strdup(in->base_dn ? in->base_dn : dn);
	ctx->strs[3] = strdup(in->keytab);
	ctx->strs[4] = in->principal ? strdup(in->principal) : NULL;
	ctx->strs[5] = in->group ? strdup(in->group) : NULL;
	ctx->strs[6] = in->cache_file ? strdup(in->cache_file) : NULL;
	while (in->servers != NULL && in->servers[n] != NULL)
		n++;
	ctx->servers = calloc(n + 1, sizeof(char *));
	for (i = 0; ctx->servers != NULL && i < n; i++)
		if ((ctx->servers[i] = strdup(in->servers[i])) == NULL)
			return -ENOMEM;
	for (i = 0; i < 4; i++)
		if (ctx->strs[i] == NULL)
			return -ENOMEM;
	if (ctx->servers == NULL || (in->principal && !ctx->strs[4]) ||
	    (in->group && !ctx->strs[5]) || (in->cache_file && !ctx->strs[6]))
		return -ENOMEM;
	if (in->realm == NULL)
		for (s = ctx->strs[1]; *s != '\0'; s++)
			*s = (char)toupper((unsigned char)*s);
	cfg->domain = ctx->strs[0];
	cfg->realm = ctx->strs[1];
	cfg->base_dn = ctx->strs[2];
	cfg->keytab = ctx->strs[3];
	cfg->principal = ctx->strs[4];
	cfg->group = ctx->strs[5];
	cfg->cache_file = ctx->strs[6];
	cfg->servers = (const char *const *)ctx->servers;
	return 0;
}

int
ad_ctx_alloc(const struct ad_config *cfg, struct ad_ctx **ctxp, char *reason)
{
	struct ad_ctx *ctx = NULL;
	int ret;

	ret = config_check(cfg, reason);
	if (ret < 0)
		return ret;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return -ENOMEM;
	ctx->efd = -1;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->work_cond, NULL);
	pthread_cond_init(&ctx->done_cond, NULL);
	ctx->todo_tail = &ctx->todo;
	ctx->done_tail = &ctx->done;
	ret = config_copy(ctx, cfg);
	if (ret < 0) {
		ad_reason_set(reason, "%s", ad_strerror(ret));
		goto done;
	}
	ret = ad_krb5_alloc(&ctx->cfg, &ctx->krb, reason);
	if (ret < 0)
		goto done;
	ctx->dcs = ad_dcs_alloc(&ctx->cfg);
	ctx->cache =
	    ad_cache_alloc(cfg->cache_size, cfg->cache_ttl * 1000, cfg->cache_negative_ttl * 1000);
	ret = ctx->dcs != NULL && ctx->cache != NULL ? 0 : -ENOMEM;
	if (ret == 0 && ctx->cfg.cache_file != NULL) {
		ret = ad_store_open(ctx->cfg.cache_file, ctx->cfg.cache_size, &ctx->store, reason);
		if (ret == 0)
			ret = ad_store_load(ctx->store, ctx->cache, reason);
		if (ret >= 0)
			ctx->loaded = ret;
		ret = ret < 0 ? ret : 0;
	}
	if (ret == 0)
		ret = ad_workers_start(ctx, reason);
done:
	if (ret < 0)
		ad_ctx_free(ctx);
	else
		*ctxp = ctx;
	return ret;
}

void
ad_ctx_free(struct ad_ctx *ctx)
{
	size_t i;

	if (ctx == NULL)
		return;
	ad_workers_stop(ctx);
	if (ctx->efd >= 0)
		close(ctx->efd);
	ad_cache_free(ctx->cache);
	ad_store_close(ctx->store);
	ad_dcs_free(ctx->dcs);
	ad_krb5_free(ctx->krb);
	for (i = 0; i < sizeof(ctx->strs) / sizeof(ctx->strs[0]); i++)
		free(ctx->strs[i]);
	for (i = 0; ctx->servers != NULL && ctx->servers[i] != NULL; i++)
		free(ctx->servers[i]);
	free(ctx->servers);
	pthread_cond_destroy(&ctx->done_cond);
	pthread_cond_destroy(&ctx->work_cond);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

const struct ad_config *
ad_ctx_config(const struct ad_ctx *ctx)
{
	return &ctx->cfg;
}

struct ad_krb5 *
ad_ctx_krb5(const struct ad_ctx *ctx)
{
	return ctx->krb;
}

struct ad_dcs *
ad_ctx_dcs(const struct ad_ctx *ctx)
{
	return ctx->dcs;
}

int
ad_ctx_group_sid(struct ad_ctx *ctx, struct ad_conn *conn, char *out, size_t outlen, char *reason)
{
	const char *group = ctx->cfg.group;
	int ret = 0;

	out[0] = '\0';
	if (group == NULL || group[0] == '\0')
		return 0;
	if (strncasecmp(group, "S-1-", 4) == 0) {
		snprintf(out, outlen, "%s", group);
		return 0;
	}
	pthread_mutex_lock(&ctx->lock);
	snprintf(out, outlen, "%s", ctx->group_sid);
	pthread_mutex_unlock(&ctx->lock);
	if (out[0] != '\0')
		return 0;
	ret = ad_ldap_group_sid(conn, group, out, outlen, reason);
	if (ret == 0) {
		pthread_mutex_lock(&ctx->lock);
		snprintf(ctx->group_sid, sizeof(ctx->group_sid), "%s", out);
		pthread_mutex_unlock(&ctx->lock);
	}
	return ret;
}

void
ad_cache_flush(struct ad_ctx *ctx)
{
	ad_cache_clear(ctx->cache);
	if (ctx->store != NULL)
		(void)ad_store_forget(ctx->store, NULL, NULL, 0);
}

int
ad_cache_flush_user(struct ad_ctx *ctx, const struct ad_query *query)
{
	char *key = ad_cache_key(query), **keys = NULL;
	size_t n = 0;
	int ret = -ENOMEM;

	if (key == NULL)
		return -ENOMEM;
	ret = ad_cache_forget(ctx->cache, key, &keys, &n);
	if (ret >= 0 && ctx->store != NULL && ad_store_forget(ctx->store, key, keys, n) < 0)
		ret = -AD_ERR_CONFIG;
	ad_strv_free(keys, n);
	free(key);
	return ret;
}

void
ad_stats_get(struct ad_ctx *ctx, struct ad_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	pthread_mutex_lock(&ctx->lock);
	stats->cache_hits = ctx->hits;
	stats->cache_misses = ctx->misses;
	stats->fail_fast = ctx->fail_fast;
	stats->stale = ctx->stale;
	stats->offline = ctx->offline_count;
	stats->is_offline = ctx->offline;
	stats->cache_loaded = ctx->loaded;
	pthread_mutex_unlock(&ctx->lock);
	stats->ldap_binds = ad_dcs_binds(ctx->dcs);
	ad_krb5_state(ctx->krb, NULL, &stats->kinits);
	stats->cache_entries = ad_cache_count(ctx->cache);
	ad_dcs_last(ctx->dcs, stats->dc, sizeof(stats->dc));
}
