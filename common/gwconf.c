/*
 * gwconf.c - the greenwich.conf parser: one table row per key.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwconf.h"
#include "log.h"

enum conf_type { T_STR, T_INT, T_BOOL, T_LIST, T_LEVEL, T_FACILITY, T_SCHEMES };

static const char *const type_names[] = {
    [T_STR] = "string",  [T_INT] = "number",        [T_BOOL] = "boolean",    [T_LIST] = "list",
    [T_LEVEL] = "level", [T_FACILITY] = "facility", [T_SCHEMES] = "schemes",
};

struct conf_opt {
	const char *section;
	const char *name;
	enum conf_type type;
	size_t off;
	const char *defval;
	long min, max;
	const char *help;
	enum gw_conf_reload reload; /* LIVE: the daemon applies it at reload */
};

/* the reload column: RESTART, or LIVE when the daemon applies a new value at
 * reload (its hook, daemon/main.c) */
#define RESTART GW_RELOAD_RESTART
#define LIVE GW_RELOAD_LIVE

#define O(f) offsetof(struct gw_conf, f)

static const struct conf_opt conf_opts[] = {
    {"server", "udp", T_LIST, O(udp), "127.0.0.1:5060", 0, 0,
     "UDP listen addresses (host:port, [v6]:port), comma separated", RESTART},
    {"server", "tcp", T_LIST, O(tcp), "127.0.0.1:5060", 0, 0, "TCP listen addresses", RESTART},
    {"server", "tls", T_LIST, O(tls), "", 0, 0, "TLS listen addresses (needs [tls])", RESTART},
    {"server", "domains", T_LIST, O(domains), "localdomain", 0, 0, "served SIP domains", RESTART},
    {"server", "workers", T_INT, O(workers), "0", 0, 64,
     "SIP worker threads; 0 means one per CPU core", RESTART},
    {"server", "state-directory", T_STR, O(state_dir), "/var/lib/greenwich", 0, 0,
     "where the SQLite databases (and the keytab, caches, TLS files) live", RESTART},
    {"server", "pid-file", T_STR, O(pid_file), "/run/greenwich/greenwichd.pid", 0, 0,
     "pid file written when running as a daemon", RESTART},
    {"server", "control-socket", T_STR, O(control_socket), "/run/greenwich/control.sock", 0, 0,
     "Unix socket for greenwich-mmc", RESTART},
    {"server", "server-name", T_STR, O(server_name), "", 0, 0,
     "host name used in Record-Route; empty means the first listen address", RESTART},
    {"tls", "certificate", T_STR, O(tls_certificate), "", 0, 0, "PEM certificate chain", RESTART},
    {"tls", "key", T_STR, O(tls_key), "", 0, 0, "PEM private key", RESTART},
    {"tls", "ca-file", T_STR, O(tls_ca_file), "", 0, 0,
     "PEM trust anchors for partner servers; empty: peers are not verified", RESTART},
    {"tls", "verify-peer", T_BOOL, O(tls_verify_peer), "yes", 0, 0,
     "ask TLS clients for a certificate (a verified one identifies a partner server)", RESTART},
    {"log", "level", T_LEVEL, O(log_level), "info", 0, 0, "error, warning, notice, info or debug",
     LIVE},
    {"log", "syslog-facility", T_FACILITY, O(syslog_facility), "daemon", 0, 0,
     "syslog facility: daemon, user, auth, local0..local7", RESTART},
    {"registrar", "min-expires", T_INT, O(min_expires), "60", 1, 86400,
     "shorter registrations get 423 Interval Too Brief", RESTART},
    {"registrar", "max-expires", T_INT, O(max_expires), "86400", 1, 604800,
     "longer registrations are shortened to this", RESTART},
    {"registrar", "default-expires", T_INT, O(default_expires), "3600", 1, 604800,
     "expiry when the client asks for none", RESTART},
    {"registrar", "max-contacts", T_INT, O(max_contacts), "10", 1, 1000,
     "devices one address of record may register", RESTART},
    {"limits", "max-message-size", T_INT, O(max_message_size), "65536", 1024, 16777216,
     "largest SIP message accepted, in bytes", RESTART},
    {"limits", "max-im-size", T_INT, O(max_im_size), "16384", 1, 16777216,
     "largest MESSAGE body; larger ones get 413", RESTART},
    {"limits", "connection-idle-timeout", T_INT, O(conn_idle_timeout), "60", 5, 86400,
     "seconds a TCP/TLS connection without a registration may stay silent", RESTART},
    {"limits", "message-timeout", T_INT, O(message_timeout), "10", 1, 600,
     "seconds a TCP/TLS client has to finish a message it began", RESTART},
    {"limits", "connections-per-source", T_INT, O(conn_per_source), "128", 0, 100000,
     "TCP/TLS connections one client address may hold at once (0: no cap)", LIVE},
    {"limits", "handoff-per-source", T_INT, O(handoff_per_source), "256", 0, 100000,
     "requests from one client address that may wait for worker 0 at once (0: no cap)", LIVE},
    {"limits", "calls-per-source", T_INT, O(calls_per_source), "128", 0, 100000,
     "proxied requests from one client address a worker may have in progress at once "
     "(0: no cap)",
     LIVE},
    {"limits", "dialogs-per-source", T_INT, O(dialogs_per_source), "5000", 0, 10000000,
     "live dialogs (calls, subscriptions, REFERs the proxy routes) one client address may "
     "hold (0: no cap)",
     LIVE},
    {"limits", "signin-pending-max", T_INT, O(signin_pending_max), "1024", 2, 100000,
     "Kerberos/NTLM sign-ins being checked at once", RESTART},
    {"presence", "max-document-size", T_INT, O(presence_max_document), "16384", 256, 1048576,
     "largest presence or SOAP document accepted, in bytes; larger ones get 413", RESTART},
    {"presence", "max-expires", T_INT, O(presence_max_expires), "3600", 60, 86400,
     "longer publications and subscriptions are shortened to this", RESTART},
    {"presence", "max-subscriptions", T_INT, O(presence_max_subs), "100000", 1, 10000000,
     "subscriptions held at once; more get 503", RESTART},
    {"presence", "max-subscriptions-per-watcher", T_INT, O(presence_max_subs_watcher), "500", 1,
     1000000, "subscriptions one watcher may hold", RESTART},
    {"presence", "max-subscriptions-per-source", T_INT, O(presence_max_subs_source), "2000", 1,
     10000000, "subscriptions from one client address", RESTART},
    {"auth", "realm", T_STR, O(realm), "", 0, 0,
     "Digest realm; empty means the first served domain", RESTART},
    {"auth", "digest-algorithms", T_LIST, O(digest_algorithms), "SHA-256,MD5", 0, 0,
     "Digest algorithms offered, in order: SHA-256, MD5", RESTART},
    {"auth", "nonce-lifetime", T_INT, O(nonce_lifetime), "30", 10, 86400,
     "seconds a Digest nonce stays fresh", RESTART},
    {"auth", "guess-limit", T_INT, O(guess_limit), "5", 0, 1000,
     "failed sign-ins of one account per guess-window before it is held back; 0: none", LIVE},
    {"auth", "guess-source-limit", T_INT, O(guess_source_limit), "20", 0, 100000,
     "failed sign-ins from one address per guess-window before it is held back; 0: none", LIVE},
    {"auth", "guess-window", T_INT, O(guess_window), "1800", 10, 86400,
     "seconds over which failed sign-ins are counted", LIVE},
    {"auth", "local-accounts", T_BOOL, O(local_accounts), "yes", 0, 0,
     "accept Digest sign-in of local accounts", RESTART},
    {"auth", "schemes", T_SCHEMES, O(auth_schemes), "Kerberos,NTLM,Digest", 0, 0,
     "sign-in schemes offered, in order: Kerberos, NTLM (both need [domain]), Digest", RESTART},
    {"auth", "digest-disabled-domains", T_LIST, O(digest_disabled_domains), "", 0, 0,
     "served domains whose users may not sign in with Digest", RESTART},
    {"auth", "sipae-realm", T_STR, O(sipae_realm), "SIP Communications Service", 0, 0,
     "realm of the Kerberos and NTLM challenges (MS-SIPAE)", RESTART},
    {"auth", "sipae-transports", T_LIST, O(sipae_transports), "tls", 0, 0,
     "transports over which Kerberos and NTLM are offered and accepted: tls, tcp", RESTART},
    {"auth", "sa-lifetime", T_INT, O(sa_lifetime), "28800", 300, 604800,
     "seconds a Kerberos or NTLM sign-in stays valid before the client signs in again", RESTART},
    {"proxy", "invite-timeout", T_INT, O(invite_timeout), "180", 5, 3600,
     "seconds a forked INVITE may ring before 408", RESTART},
    {"proxy", "max-dialogs", T_INT, O(max_dialogs), "50000", 1, 10000000,
     "calls and subscriptions routed at once (ringing, answered or going on); more get 503",
     RESTART},
    {"proxy", "routes", T_LIST, O(routes), "", 0, 0,
     "service addresses forwarded to application servers: user@domain=sip:host:port", RESTART},
    {"domain", "name", T_STR, O(domain_name), "", 0, 0,
     "DNS name of the Active Directory domain joined; empty means not joined", RESTART},
    {"domain", "realm", T_STR, O(domain_realm), "", 0, 0,
     "Kerberos realm; empty means the domain name in capitals", RESTART},
    {"domain", "fqdn", T_STR, O(domain_fqdn), "", 0, 0,
     "this server's host name in the domain (SPNs sip/<fqdn>, HTTP/<fqdn>)", RESTART},
    {"domain", "keytab", T_STR, O(domain_keytab), "", 0, 0,
     "machine keytab; empty means <state-directory>/greenwich.keytab", RESTART},
    {"domain", "sip-keytab", T_STR, O(domain_sip_keytab), "", 0, 0,
     "keytab of an account of its own for sip/<fqdn>; empty: the machine keytab", RESTART},
    {"domain", "dcs", T_LIST, O(domain_dcs), "", 0, 0,
     "domain controllers to use when DNS SRV finds none, in order", RESTART},
    {"domain", "enabled-group", T_STR, O(domain_enabled_group), "", 0, 0,
     "group (name or SID) allowed to use Greenwich; empty: everyone with a SIP URI", RESTART},
    {"domain", "cache-ttl", T_INT, O(domain_cache_ttl), "300", 1, 86400,
     "seconds a user looked up in the directory is used before asking a DC again", RESTART},
    {"domain", "cache-negative-ttl", T_INT, O(domain_cache_negative_ttl), "60", 0, 86400,
     "seconds a \"no such user\" answer is used before asking a DC again", RESTART},
    {"domain", "cache-offline-max-age", T_INT, O(domain_cache_offline_max_age), "0", 0, 31536000,
     "while no DC answers, expired answers at most this old are used; 0: any age", RESTART},
    {"domain", "cache-size", T_INT, O(domain_cache_size), "10000", 100, 1000000,
     "most directory answers kept in memory and in the cache file", RESTART},
    {"policy", "rules-file", T_STR, O(policy_rules_file), "", 0, 0,
     "policy rules of a server without a domain; empty: none (joined: rules from AD)", RESTART},
    {"policy", "internal-networks", T_LIST, O(policy_internal_networks), "", 0, 0,
     "networks whose senders count as inside (CIDR, comma separated)", RESTART},
    {"policy", "poll-interval", T_INT, O(policy_poll_interval), "5", 1, 3600,
     "seconds between checks for changed rules in AD or in the rules file", RESTART},
    {"federation", "allow", T_LIST, O(federation_allow), "", 0, 0,
     "partner domains of a server without a domain (joined: settings from AD)", RESTART},
    {"federation", "block", T_LIST, O(federation_block), "", 0, 0,
     "blocked domains of a server without a domain (joined: settings from AD)", RESTART},
    {"store", "backend", T_STR, O(store_backend), "sqlite", 0, 0,
     "where registrations, presence, contact lists and local accounts live: sqlite or "
     "postgresql",
     RESTART},
    {"store", "conninfo", T_STR, O(store_conninfo), "", 0, 0,
     "PostgreSQL connection string (libpq; host=a,b target_session_attrs=read-write follows "
     "a promoted standby)",
     RESTART},
    {"store", "pool-size", T_INT, O(store_pool_size), "4", 1, 64,
     "PostgreSQL connections each greenwichd or greenwich-mmc keeps at most", RESTART},
    {"pool", "secret-file", T_STR, O(pool_secret_file), "", 0, 0,
     "file with the secret the front ends of a pool share (at least 32 bytes); empty: "
     "not in a pool",
     RESTART},
    {"pool", "id", T_STR, O(pool_id), "", 0, 0,
     "this front end's name in the pool; empty: the host name", RESTART},
    {"pool", "address", T_STR, O(pool_address), "", 0, 0,
     "host:port where the other front ends reach this one; empty: the first tcp address "
     "(tls with transport = tls)",
     RESTART},
    {"pool", "transport", T_STR, O(pool_transport), "tcp", 0, 0,
     "how the front ends send one another requests: tcp, or tls (verified with [tls] "
     "ca-file)",
     RESTART},
    {"pool", "heartbeat", T_INT, O(pool_heartbeat), "2", 1, 60,
     "seconds between two records of this front end's heartbeat in the store", RESTART},
    {"pool", "dead-after", T_INT, O(pool_dead_after), "10", 2, 3600,
     "seconds without a heartbeat after which a front end is out: its users get 480", RESTART},
};

#define N_OPTS (sizeof(conf_opts) / sizeof(conf_opts[0]))

static void
conf_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *
str_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void
strlist_clear(struct gw_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
strlist_parse(struct gw_strlist *l, const char *value)
{
	char *copy = strdup(value);
	char *save = NULL;
	int ret = 0;

	if (copy == NULL)
		return -ENOMEM;
	strlist_clear(l);
	for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
		if (nv == NULL) {
			ret = -ENOMEM;
			break;
		}
		l->v = nv;
		l->v[l->n] = strdup(tok);
		if (l->v[l->n] == NULL) {
			ret = -ENOMEM;
			break;
		}
		l->n++;
	}
	free(copy);
	return ret;
}

static int
bool_parse(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
	    !strcasecmp(v, "off")) {
		*out = false;
		return 0;
	}
	return -1;
}

static const char *const scheme_names[] = {
    [GW_SCHEME_KERBEROS] = "Kerberos",
    [GW_SCHEME_NTLM] = "NTLM",
    [GW_SCHEME_DIGEST] = "Digest",
};

const char *
gw_scheme_name(enum gw_scheme scheme)
{
	return (unsigned)scheme < GW_SCHEMES_MAX ? scheme_names[scheme] : "?";
}

/* "Kerberos, NTLM, Digest" in any order, each at most once. */
static int
schemes_parse(struct gw_schemes *out, const char *value, char *err, size_t errlen)
{
	struct gw_strlist l = {0};
	struct gw_schemes s = {.n = 0};
	int ret = -1;

	if (strlist_parse(&l, value) < 0) {
		conf_err(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < l.n; i++) {
		size_t k;
		for (k = 0; k < GW_SCHEMES_MAX; k++)
			if (strcasecmp(l.v[i], scheme_names[k]) == 0)
				break;
		if (k == GW_SCHEMES_MAX) {
			conf_err(err, errlen, "'%s' is not Kerberos, NTLM or Digest", l.v[i]);
			goto done;
		}
		for (size_t j = 0; j < s.n; j++)
			if (s.v[j] == (enum gw_scheme)k) {
				conf_err(err, errlen, "%s is named twice", scheme_names[k]);
				goto done;
			}
		s.v[s.n++] = (enum gw_scheme)k;
	}
	*out = s;
	ret = 0;
done:
	strlist_clear(&l);
	return ret;
}

/* Store one value; returns 0 or -1 with a reason in err. */
static int
opt_set(struct gw_conf *conf, const struct conf_opt *o, const char *value, char *err, size_t errlen)
{
	void *field = (char *)conf + o->off;

	switch (o->type) {
	case T_STR: {
		char *s = strdup(value);
		if (s == NULL) {
			conf_err(err, errlen, "out of memory");
			return -1;
		}
		free(*(char **)field);
		*(char **)field = s;
		return 0;
	}
	case T_INT: {
		char *end = NULL;
		errno = 0;
		long n = strtol(value, &end, 10);
		if (errno || end == value || *end != '\0') {
			conf_err(err, errlen, "'%s' is not a number", value);
			return -1;
		}
		if (n < o->min || n > o->max) {
			conf_err(err, errlen, "%ld is out of range %ld..%ld", n, o->min, o->max);
			return -1;
		}
		*(int *)field = (int)n;
		return 0;
	}
	case T_BOOL:
		if (bool_parse(value, (bool *)field) < 0) {
			conf_err(err, errlen, "'%s' is not yes or no", value);
			return -1;
		}
		return 0;
	case T_LIST:
		if (strlist_parse((struct gw_strlist *)field, value) < 0) {
			conf_err(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	case T_LEVEL: {
		int l = log_level_parse(value);
		if (l < 0) {
			conf_err(err, errlen,
				 "'%s' is not a log level (error, warning, notice, info, debug)",
				 value);
			return -1;
		}
		*(int *)field = l;
		return 0;
	}
	case T_SCHEMES:
		return schemes_parse((struct gw_schemes *)field, value, err, errlen);
	case T_FACILITY: {
		int f = log_facility_parse(value);
		if (f < 0) {
			conf_err(err, errlen, "'%s' is not a syslog facility", value);
			return -1;
		}
		*(int *)field = f;
		return 0;
	}
	}
	return -1;
}

struct gw_conf *
gw_conf_defaults(void)
{
	struct gw_conf *conf = calloc(1, sizeof(*conf));
	char err[256];

	if (conf == NULL)
		return NULL;
	for (size_t i = 0; i < N_OPTS; i++) {
		if (opt_set(conf, &conf_opts[i], conf_opts[i].defval, err, sizeof(err)) < 0) {
			gw_conf_free(conf);
			return NULL;
		}
	}
	return conf;
}

static bool
section_known(const char *name)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcmp(conf_opts[i].section, name) == 0)
			return true;
	return false;
}

static const struct conf_opt *
opt_find(const char *section, const char *name)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (!strcmp(conf_opts[i].section, section) && !strcmp(conf_opts[i].name, name))
			return &conf_opts[i];
	return NULL;
}

/* Cross-key rules that one row alone cannot state. */
static int
conf_validate(const struct gw_conf *conf, const char *path, char *err, size_t errlen)
{
	if (conf->min_expires > conf->max_expires) {
		conf_err(err, errlen, "%s: [registrar] min-expires is larger than max-expires",
			 path);
		return -1;
	}
	if (conf->default_expires < conf->min_expires ||
	    conf->default_expires > conf->max_expires) {
		conf_err(
		    err, errlen,
		    "%s: [registrar] default-expires must lie between min-expires and max-expires",
		    path);
		return -1;
	}
	if (conf->domains.n == 0) {
		conf_err(err, errlen, "%s: [server] domains: at least one SIP domain is needed",
			 path);
		return -1;
	}
	if (conf->udp.n + conf->tcp.n + conf->tls.n == 0) {
		conf_err(err, errlen, "%s: [server]: no udp, tcp or tls listen address", path);
		return -1;
	}
	if (conf->tls.n && (!conf->tls_certificate[0] || !conf->tls_key[0])) {
		conf_err(err, errlen, "%s: [server] tls needs [tls] certificate and key", path);
		return -1;
	}
	if (conf->tls_ca_file[0] && !conf->tls.n) {
		conf_err(err, errlen, "%s: [tls] ca-file needs [server] tls listen addresses",
			 path);
		return -1;
	}
	if (conf->federation_allow.n && !conf->tls_ca_file[0]) {
		/* a partner's server that nobody verified could be anyone */
		conf_err(err, errlen,
			 "%s: [federation] allow needs [tls] ca-file: partner servers must be "
			 "verified",
			 path);
		return -1;
	}
	for (size_t i = 0; i < conf->routes.n; i++) {
		const char *r = conf->routes.v[i];
		const char *eq = strchr(r, '=');
		if (eq == NULL || eq == r || !strchr(r, '@') || strchr(r, '@') > eq ||
		    (strncasecmp(eq + 1, "sip:", 4) != 0 && strncasecmp(eq + 1, "sips:", 5) != 0)) {
			conf_err(err, errlen,
				 "%s: [proxy] routes: '%s' is not user@domain=sip:host[:port]",
				 path, r);
			return -1;
		}
	}
	for (size_t i = 0; i < conf->digest_algorithms.n; i++) {
		const char *a = conf->digest_algorithms.v[i];
		if (strcasecmp(a, "SHA-256") && strcasecmp(a, "MD5")) {
			conf_err(err, errlen,
				 "%s: [auth] digest-algorithms: '%s' is not SHA-256 or MD5", path,
				 a);
			return -1;
		}
	}
	if (strcasecmp(conf->store_backend, "sqlite") != 0 &&
	    strcasecmp(conf->store_backend, "postgresql") != 0) {
		conf_err(err, errlen, "%s: [store] backend: '%s' is not sqlite or postgresql", path,
			 conf->store_backend);
		return -1;
	}
	if (conf->pool_secret_file[0] && strcasecmp(conf->store_backend, "postgresql") != 0) {
		conf_err(err, errlen,
			 "%s: [pool] secret-file: a pool needs [store] backend = "
			 "postgresql",
			 path);
		return -1;
	}
	if (strcasecmp(conf->pool_transport, "tcp") != 0 &&
	    strcasecmp(conf->pool_transport, "tls") != 0) {
		conf_err(err, errlen, "%s: [pool] transport: '%s' is not tcp or tls", path,
			 conf->pool_transport);
		return -1;
	}
	if (conf->pool_secret_file[0] && strcasecmp(conf->pool_transport, "tls") == 0 &&
	    (conf->tls.n == 0 || !conf->tls_ca_file[0])) {
		conf_err(err, errlen,
			 "%s: [pool] transport = tls needs a TLS listener ([server] tls) "
			 "and [tls] ca-file to verify the other front ends",
			 path);
		return -1;
	}
	if (conf->pool_secret_file[0] && conf->pool_dead_after <= conf->pool_heartbeat) {
		conf_err(err, errlen, "%s: [pool] dead-after must be longer than [pool] heartbeat",
			 path);
		return -1;
	}
	if (strcasecmp(conf->store_backend, "postgresql") == 0 && !conf->store_conninfo[0]) {
		conf_err(err, errlen, "%s: [store] backend postgresql needs [store] conninfo",
			 path);
		return -1;
	}
	if (conf->sipae_transports.n == 0) {
		conf_err(err, errlen, "%s: [auth] sipae-transports: name tls, tcp or both", path);
		return -1;
	}
	for (size_t i = 0; i < conf->sipae_transports.n; i++) {
		const char *a = conf->sipae_transports.v[i];
		if (strcasecmp(a, "tls") && strcasecmp(a, "tcp")) {
			conf_err(err, errlen, "%s: [auth] sipae-transports: '%s' is not tls or tcp",
				 path, a);
			return -1;
		}
	}
	return 0;
}

/* Whether Kerberos and NTLM may be used over `transport` ("tls" or "tcp"). */
bool
gw_conf_sipae_transport(const struct gw_conf *conf, const char *transport)
{
	for (size_t i = 0; i < conf->sipae_transports.n; i++)
		if (strcasecmp(conf->sipae_transports.v[i], transport) == 0)
			return true;
	return false;
}

bool
gw_conf_scheme(const struct gw_conf *conf, enum gw_scheme scheme)
{
	for (size_t i = 0; i < conf->auth_schemes.n; i++)
		if (conf->auth_schemes.v[i] == scheme)
			return true;
	return false;
}

struct gw_conf *
gw_conf_load(const char *path, char *err, size_t errlen)
{
	struct gw_conf *conf = NULL;
	FILE *fp = NULL;
	char line[4096];
	char section[64] = "";
	char why[256];
	int lineno = 0;
	bool ok = false;

	fp = fopen(path, "r");
	if (fp == NULL) {
		conf_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		goto done;
	}
	conf = gw_conf_defaults();
	if (conf == NULL) {
		conf_err(err, errlen, "%s: out of memory", path);
		goto done;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			conf_err(err, errlen, "%s:%d: line too long", path, lineno);
			goto done;
		}
		char *s = str_trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (e == NULL || e[1] != '\0') {
				conf_err(err, errlen, "%s:%d: malformed section header", path,
					 lineno);
				goto done;
			}
			*e = '\0';
			char *name = str_trim(s + 1);
			if (!section_known(name)) {
				conf_err(err, errlen, "%s:%d: unknown section [%s]", path, lineno,
					 name);
				goto done;
			}
			snprintf(section, sizeof(section), "%s", name);
			continue;
		}
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			conf_err(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
			goto done;
		}
		*eq = '\0';
		char *key = str_trim(s);
		char *value = str_trim(eq + 1);
		if (section[0] == '\0') {
			conf_err(err, errlen, "%s:%d: key '%s' outside of any [section]", path,
				 lineno, key);
			goto done;
		}
		const struct conf_opt *o = opt_find(section, key);
		if (o == NULL) {
			conf_err(err, errlen, "%s:%d: unknown key '%s' in [%s]", path, lineno, key,
				 section);
			goto done;
		}
		if (opt_set(conf, o, value, why, sizeof(why)) < 0) {
			conf_err(err, errlen, "%s:%d: [%s] %s: %s", path, lineno, section, key,
				 why);
			goto done;
		}
	}
	if (ferror(fp)) {
		conf_err(err, errlen, "%s: read error", path);
		goto done;
	}
	if (conf_validate(conf, path, err, errlen) < 0)
		goto done;
	ok = true;
done:
	if (fp != NULL)
		fclose(fp);
	if (!ok) {
		gw_conf_free(conf);
		conf = NULL;
	}
	return conf;
}

void
gw_conf_free(struct gw_conf *conf)
{
	if (conf == NULL)
		return;
	for (size_t i = 0; i < N_OPTS; i++) {
		void *field = (char *)conf + conf_opts[i].off;
		if (conf_opts[i].type == T_STR)
			free(*(char **)field);
		else if (conf_opts[i].type == T_LIST)
			strlist_clear((struct gw_strlist *)field);
	}
	free(conf);
}

bool
gw_conf_serves(const struct gw_conf *conf, const char *domain)
{
	if (domain == NULL)
		return false;
	for (size_t i = 0; i < conf->domains.n; i++)
		if (strcasecmp(conf->domains.v[i], domain) == 0)
			return true;
	return false;
}

const char *
gw_conf_route(const struct gw_conf *conf, const char *aor)
{
	size_t len = strlen(aor);

	for (size_t i = 0; i < conf->routes.n; i++) {
		const char *r = conf->routes.v[i];
		if (strncasecmp(r, aor, len) == 0 && r[len] == '=')
			return r + len + 1;
	}
	return NULL;
}

const char *
gw_conf_realm(const struct gw_conf *conf)
{
	if (conf->realm && conf->realm[0])
		return conf->realm;
	return conf->domains.v[0];
}

size_t
gw_conf_keys(const struct gw_conf_key_info **keys)
{
	static struct gw_conf_key_info info[N_OPTS];

	for (size_t i = 0; i < N_OPTS; i++) {
		info[i].section = conf_opts[i].section;
		info[i].name = conf_opts[i].name;
		info[i].type = type_names[conf_opts[i].type];
		info[i].defval = conf_opts[i].defval;
		info[i].min = conf_opts[i].min;
		info[i].max = conf_opts[i].max;
		info[i].reload = conf_opts[i].reload;
		info[i].help = conf_opts[i].help;
	}
	*keys = info;
	return N_OPTS;
}

void
gw_conf_print_keys(FILE *fp)
{
	const struct gw_conf_key_info *k;
	size_t n = gw_conf_keys(&k);

	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s\t%s\t%s\t%s\t%ld\t%ld\t%s\t%s\n", k[i].section, k[i].name,
			k[i].type, k[i].defval, k[i].min, k[i].max,
			k[i].reload == GW_RELOAD_LIVE ? "live" : "restart", k[i].help);
}

static bool
strlist_equal(const struct gw_strlist *a, const struct gw_strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static bool
opt_equal(const struct conf_opt *o, const struct gw_conf *a, const struct gw_conf *b)
{
	const void *fa = (const char *)a + o->off, *fb = (const char *)b + o->off;

	switch (o->type) {
	case T_STR:
		return strcmp(*(char *const *)fa, *(char *const *)fb) == 0;
	case T_INT:
	case T_LEVEL:
	case T_FACILITY:
		return *(const int *)fa == *(const int *)fb;
	case T_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case T_LIST:
		return strlist_equal(fa, fb);
	case T_SCHEMES: {
		const struct gw_schemes *x = fa, *y = fb;
		return x->n == y->n && memcmp(x->v, y->v, x->n * sizeof(x->v[0])) == 0;
	}
	}
	return false;
}

size_t
gw_conf_diff(const struct gw_conf *a, const struct gw_conf *b,
	     void (*fn)(const struct gw_conf_key_info *key, void *arg), void *arg)
{
	const struct gw_conf_key_info *keys;
	size_t changed = 0;

	gw_conf_keys(&keys);
	for (size_t i = 0; i < N_OPTS; i++) {
		if (opt_equal(&conf_opts[i], a, b))
			continue;
		changed++;
		if (fn)
			fn(&keys[i], arg);
	}
	return changed;
}
