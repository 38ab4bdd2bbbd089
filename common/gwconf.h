/*
 * gwconf.h - greenwich.conf: the server's INI configuration file.
 *
 * Every key is one row of a table (section, name, type, default, bounds) in
 * gwconf.c; greenwich.conf(5) documents the same rows.  Parsing is strict: an
 * unknown section or key, or a bad value, is an error naming file, line and key.
 */
#ifndef GW_CONF_H
#define GW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct gw_strlist {
	char **v;
	size_t n;
};

/* The sign-in schemes of [auth] schemes. */
enum gw_scheme { GW_SCHEME_KERBEROS, GW_SCHEME_NTLM, GW_SCHEME_DIGEST };
#define GW_SCHEMES_MAX 3
struct gw_schemes {
	enum gw_scheme v[GW_SCHEMES_MAX]; /* offered, in this order, each once */
	size_t n;
};

struct gw_conf {
	/* [server] */
	struct gw_strlist udp; /* listen addresses host:port */
	struct gw_strlist tcp;
	struct gw_strlist tls;
	struct gw_strlist domains; /* served SIP domains */
	int workers;               /* SIP worker threads, 0 = one per core */
	char *state_dir;
	char *pid_file;
	char *control_socket;
	char *server_name; /* our host name in Record-Route/Via, "" = first address */
	/* [tls] */
	char *tls_certificate;
	char *tls_key;
	char *tls_ca_file;    /* trust anchors for partner servers, "" = no verification */
	bool tls_verify_peer; /* ask TLS clients for a certificate (needs ca-file) */
	/* [log] */
	int log_level;
	int syslog_facility;
	/* [registrar] */
	int min_expires;
	int max_expires;
	int default_expires;
	int max_contacts;
	/* [limits] */
	int max_message_size;
	int conn_idle_timeout;  /* seconds */
	int message_timeout;    /* seconds */
	int conn_per_source;    /* TCP/TLS connections per client address, 0 = no cap */
	int handoff_per_source; /* requests per client address queued for worker 0 */
	int calls_per_source;   /* proxied requests in progress per client address and worker */
	int dialogs_per_source; /* live dialogs the proxy routes per client address */
	int signin_pending_max;
	int max_im_size;
	/* [presence] */
	int presence_max_document;
	int presence_max_expires;
	int presence_max_subs;
	int presence_max_subs_watcher;
	int presence_max_subs_source;
	/* [auth] */
	char *realm; /* "" = the first served domain */
	struct gw_strlist digest_algorithms;
	int nonce_lifetime;
	int guess_limit; /* failed sign-ins per account per window */
	int guess_source_limit;
	int guess_window; /* seconds */
	bool local_accounts;
	struct gw_schemes auth_schemes;
	struct gw_strlist digest_disabled_domains;
	char *sipae_realm;
	struct gw_strlist sipae_transports; /* "tls", "tcp": where Kerberos/NTLM may be used */
	int sa_lifetime;
	/* [proxy] */
	int invite_timeout;
	int max_dialogs;          /* live dialogs routed at once, reservations included */
	struct gw_strlist routes; /* user@domain=sip:host:port service addresses */
	/* [domain] */
	char *domain_name;                /* DNS domain joined, "" = not joined */
	char *domain_realm;               /* Kerberos realm, "" = the name in capitals */
	char *domain_fqdn;                /* our host name in the domain (sip/<fqdn>) */
	char *domain_keytab;              /* "" = <state-directory>/greenwich.keytab */
	char *domain_sip_keytab;          /* "" = Kerberos sign-in with domain_keytab */
	struct gw_strlist domain_dcs;     /* DCs to use when DNS SRV finds none */
	char *domain_enabled_group;       /* name or SID; "" = everyone with a SIP URI */
	int domain_cache_ttl;             /* seconds a directory answer is fresh */
	int domain_cache_negative_ttl;    /* seconds a "no such user" is fresh */
	int domain_cache_offline_max_age; /* stale answers used while no DC answers; 0 = any */
	int domain_cache_size;            /* most answers kept (memory and disk) */
	/* [policy] */
	char *policy_rules_file; /* rules for a server without a domain, "" = none */
	struct gw_strlist policy_internal_networks; /* CIDR list: network location "internal" */
	int policy_poll_interval;                   /* seconds between checks for changed rules */
	/* [federation] (servers without a domain; joined servers read AD) */
	struct gw_strlist federation_allow;
	struct gw_strlist federation_block;
	/* [store] */
	char *store_backend;  /* "sqlite" or "postgresql" */
	char *store_conninfo; /* libpq connection string */
	int store_pool_size;  /* PostgreSQL connections of one process at most */
	/* [pool] (front ends sharing one PostgreSQL store) */
	char *pool_secret_file; /* the shared secret of the front-end hops; "" = no pool */
	char *pool_id;          /* this front end's name; "" = the host name */
	char *pool_address;     /* host:port the others reach it at; "" = first tcp (tls) */
	char *pool_transport;   /* "tcp" or "tls": how the front ends speak to one another */
	int pool_heartbeat;     /* seconds between heartbeats */
	int pool_dead_after;    /* seconds without one: out of the pool */
};

/* Parse `path` into a freshly allocated configuration.  On failure returns
 * NULL and writes a one-line reason ("file:line: ...") into err. */
struct gw_conf *gw_conf_load(const char *path, char *err, size_t errlen);
/* The built-in defaults, as if from an empty file. */
struct gw_conf *gw_conf_defaults(void);
void gw_conf_free(struct gw_conf *conf);

/* True when `domain` is one of the served SIP domains (case-insensitive). */
bool gw_conf_serves(const struct gw_conf *conf, const char *domain);
/* True when scheme is offered in [auth] schemes. */
bool gw_conf_scheme(const struct gw_conf *conf, enum gw_scheme scheme);
/* "Kerberos", "NTLM" or "Digest": the name on the wire and in the file. */
const char *gw_scheme_name(enum gw_scheme scheme);
/* Whether Kerberos and NTLM may be used over transport ("tls" or "tcp"): [auth] sipae-transports.
 */
bool gw_conf_sipae_transport(const struct gw_conf *conf, const char *transport);
/* The application server a service address (user@domain) is forwarded to, or NULL. */
const char *gw_conf_route(const struct gw_conf *conf, const char *aor);
/* The Digest realm in effect. */
const char *gw_conf_realm(const struct gw_conf *conf);

/* When a changed key takes effect: on the next start, or at a reload
 * (SIGHUP, greenwich-mmc server reload) through the daemon's apply hook. */
enum gw_conf_reload { GW_RELOAD_RESTART, GW_RELOAD_LIVE };

/* One row of the table, for documentation (`greenwichd --print-config-keys`,
 * which the man page and example checks read) and for reload. */
struct gw_conf_key_info {
	const char *section;
	const char *name;
	const char *type; /* string, number, boolean, list, level, facility, schemes */
	const char *defval;
	long min, max; /* numbers only */
	enum gw_conf_reload reload;
	const char *help;
};
size_t gw_conf_keys(const struct gw_conf_key_info **keys);
/* Print the table, one key per line, fields separated by tabs:
 * section, name, type, default, min, max, reload (live/restart), help. */
void gw_conf_print_keys(FILE *fp);
/* The keys whose values differ between a and b, in table order: calls fn for
 * each with its row.  Returns how many differ. */
size_t gw_conf_diff(const struct gw_conf *a, const struct gw_conf *b,
		    void (*fn)(const struct gw_conf_key_info *key, void *arg), void *arg);

#endif
