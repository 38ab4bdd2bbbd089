/*
 * gwad.h - libgwad, Greenwich's Active Directory client.
 *
 * Finds domain controllers (DNS SRV, then a configured list), binds with SASL/GSSAPI
 * (signing and sealing) as the machine account from a keytab, and looks up users by SIP
 * URI, sAMAccountName or userPrincipalName. Answers are cached (TTL, bounded size); when
 * no DC answers, the last known answer is used whatever its TTL (see ad_config), and the
 * cache may be kept on disk so that it survives a restart.
 *
 * Two ways to use it:
 * - asynchronous, for an event loop that must never block (greenwichd's su_root):
 *   ad_lookup_send() queues the LDAP work on worker threads; completions are signalled
 *   on ad_fd(), which the caller watches for reading and drains with ad_dispatch(); the
 *   callbacks run in the thread that calls ad_dispatch().
 * - blocking, for the command line: ad_user_lookup(), ad_user_list().
 * A program that acts as the person running it (greenwich-mmc) opens an ad_session
 * instead: one LDAP connection to a DC bound with that person's own Kerberos ticket, so
 * AD decides what they may read and change; the same searches, and the writes the
 * console makes (group members, proxyAddresses, security descriptors).
 *
 * Errors are 0 or a negative code: -errno, or -AD_ERR_* (above #AD_ERR_BASE); see
 * ad_strerror(). Calls that can fail for a reason worth showing also fill a caller's
 * buffer with a human-readable reason. The library never logs and never prints.
 */
#ifndef GWAD_H
#define GWAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/** Base of libgwad's own error codes; they are returned negated (-AD_ERR_NOT_FOUND). */
#define AD_ERR_BASE 0x4144000

/** libgwad's error codes, returned negated. */
enum ad_err {
	AD_ERR_UNAVAILABLE = AD_ERR_BASE, /**< no domain controller answers (503 material) */
	AD_ERR_NOT_FOUND,                 /**< no such user */
	AD_ERR_AMBIGUOUS,                 /**< more than one user matches */
	AD_ERR_DISABLED,                  /**< the account is disabled */
	AD_ERR_LOCKED_OUT,                /**< the account is locked out */
	AD_ERR_EXPIRED,                   /**< the account has expired */
	AD_ERR_NOT_ENABLED,               /**< no SIP URI, or not in the Greenwich group */
	AD_ERR_KRB5,                      /**< Kerberos failure (keytab, principal, KDC reply) */
	AD_ERR_BIND,                      /**< the SASL/GSSAPI bind failed or was too weak */
	AD_ERR_LDAP,                      /**< an LDAP operation failed */
	AD_ERR_DNS,                       /**< no usable SRV records */
	AD_ERR_PARSE,                     /**< malformed data (DNS packet, SID, attribute) */
	AD_ERR_CONFIG,                    /**< invalid configuration */
	AD_ERR_GROUP,                     /**< the configured Greenwich group does not exist */
	AD_ERR_DENIED,                    /**< the bound account may not do this */
	AD_ERR_LAST
};

/**
 * ad_strerror() - a short text for a return code.
 * @param err 0, -errno or -AD_ERR_* (the sign is ignored).
 * @return a static string, never NULL.
 */
const char *ad_strerror(int err);

/** Length of the reason buffers that the API fills. */
#define AD_REASON_LEN 256

/** Configuration of a context; ad_config_init() sets the defaults. */
struct ad_config {
	const char *domain;         /**< DNS domain (corp.example.com); required */
	const char *realm;          /**< Kerberos realm; default: the domain in capitals */
	const char *base_dn;        /**< search base; default: DC=... of the domain */
	const char *const *servers; /**< fallback DC host names (NULL-terminated), or NULL */
	bool use_srv;               /**< locate DCs by SRV first (default true) */
	int ldap_port;              /**< port for the fallback servers (default 389) */
	const char *keytab;         /**< keytab with the machine account; required */
	const char *principal;      /**< client principal; default: the keytab's NAME$ entry */
	const char *group;          /**< Greenwich group (name or S-1-5-... SID), or NULL */
	int ticket_lifetime;        /**< seconds asked for the machine's TGT (0: KDC's) */
	int connect_timeout_ms;     /**< TCP connect and DNS timeout (default 3000) */
	int query_timeout_ms;       /**< timeout of each LDAP operation (default 10000) */
	int retry_interval_ms;      /**< after all DCs failed, fail fast this long (2000) */
	int cache_ttl;              /**< seconds a found user stays cached (default 300) */
	int cache_negative_ttl;     /**< seconds a "not found" stays cached (default 60) */
	int cache_offline_max_age;  /**< while no DC answers, expired (stale) answers at most
					 this many seconds old are used; 0: any age (default) */
	size_t cache_size;          /**< most cached answers, least recently used go (1000) */
	const char *cache_file;     /**< SQLite file keeping the cache across restarts (created
					 0600, loaded by ad_ctx_alloc()), or NULL (default) */
	int workers;                /**< worker threads (default 2) */
};

/**
 * ad_config_init() - fills @p cfg with the defaults (no domain, no keytab).
 * @param cfg the configuration to fill.
 */
void ad_config_init(struct ad_config *cfg);

/** User account flags (struct ad_user.flags). */
enum ad_user_flag {
	AD_USER_DISABLED = 1 << 0,    /**< userAccountControl ACCOUNTDISABLE */
	AD_USER_LOCKED_OUT = 1 << 1,  /**< locked out (computed UAC or lockoutTime) */
	AD_USER_EXPIRED = 1 << 2,     /**< accountExpires is in the past */
	AD_USER_SIP_ENABLED = 1 << 3, /**< has a SIP URI and is in the Greenwich group, if any */
};

/** A directory user. Every string is owned by the struct; free with ad_user_free(). */
struct ad_user {
	char *dn;                /**< distinguished name */
	char *sam;               /**< sAMAccountName */
	char *upn;               /**< userPrincipalName, or NULL */
	char *display_name;      /**< displayName, or NULL */
	char *mail;              /**< mail, or NULL */
	char *sip_uri;           /**< primary SIP URI ("sip:user@domain"), or NULL */
	char **aliases;          /**< other SIP URIs ("sip:..."), @ref alias_count of them */
	size_t alias_count;      /**< number of aliases */
	char *sid;               /**< objectSid as text (S-1-5-21-...) */
	char **group_sids;       /**< tokenGroups (nested memberships) as text SIDs */
	size_t group_count;      /**< number of group SIDs */
	uint32_t uac;            /**< userAccountControl */
	int64_t account_expires; /**< accountExpires as Unix time; 0 = never */
	unsigned flags;          /**< enum ad_user_flag bits */
};

/**
 * ad_user_free() - frees a user and everything in it.
 * @param user the user, or NULL.
 */
void ad_user_free(struct ad_user *user);

/**
 * ad_user_check() - may this user use Greenwich?
 * @param user a user from a lookup.
 * @return 0, or -AD_ERR_DISABLED, -AD_ERR_LOCKED_OUT, -AD_ERR_EXPIRED, -AD_ERR_NOT_ENABLED.
 */
int ad_user_check(const struct ad_user *user);

/**
 * ad_user_has_sid() - is @p sid the user's own SID or in the user's tokenGroups?
 * @param user a user.
 * @param sid a text SID.
 * @return true when it is.
 */
bool ad_user_has_sid(const struct ad_user *user, const char *sid);

/**
 * ad_user_has_uri() - is @p uri the user's primary SIP URI or one of the aliases?
 * Compared case-insensitively; "sip:" may be left out of @p uri.
 * @param user a user.
 * @param uri a SIP URI.
 * @return true when it is.
 */
bool ad_user_has_uri(const struct ad_user *user, const char *uri);

/** What a lookup searches by. */
enum ad_query_type {
	AD_QUERY_SIP_URI, /**< SIP URI, "sip:" optional, case-insensitive */
	AD_QUERY_SAM,     /**< sAMAccountName */
	AD_QUERY_UPN,     /**< userPrincipalName */
	AD_QUERY_ANY,     /**< sAMAccountName; with an '@', userPrincipalName, mail or a
			       proxyAddresses sip: value ("sip:" optional) */
};

/** A lookup. */
struct ad_query {
	enum ad_query_type type; /**< what @ref value is */
	const char *value;       /**< the URI or name; copied by the calls that take it */
};

/* ---- Text helpers (no I/O) ---- */

/**
 * ad_filter_escape() - escapes a value for an LDAP search filter (RFC 4515: *, (, ), \,
 * and control characters).
 * @param in the value.
 * @param out receives the escaped value.
 * @param outlen size of @p out.
 * @return 0 or -ENOSPC.
 */
int ad_filter_escape(const char *in, char *out, size_t outlen);

/**
 * ad_domain_to_dn() - "DC=corp,DC=example,DC=com" from "corp.example.com".
 * @return 0, -EINVAL (empty domain) or -ENOSPC.
 */
int ad_domain_to_dn(const char *domain, char *out, size_t outlen);

/**
 * ad_sid_to_str() - a binary SID (objectSid, tokenGroups, an ACE's) as text, "S-1-5-21-...".
 * @return 0, -AD_ERR_PARSE or -ENOSPC.
 */
int ad_sid_to_str(const unsigned char *bin, size_t len, char *out, size_t outlen);

/** Longest binary SID: 8 bytes and 15 sub-authorities. */
#define AD_SID_MAX 68

/**
 * ad_sid_from_str() - the binary form of a text SID ("S-1-5-21-...").
 * @param text the SID.
 * @param out receives the binary SID (#AD_SID_MAX bytes are enough).
 * @param outlen size of @p out.
 * @param lenp receives its length.
 * @return 0, -AD_ERR_PARSE or -ENOSPC.
 */
int ad_sid_from_str(const char *text, unsigned char *out, size_t outlen, size_t *lenp);

/**
 * ad_proxy_select() - the SIP URIs of a user from its proxyAddresses values and mail: the
 * "SIP:" value (capital prefix) is the primary URI, other "sip:" values are aliases; with
 * no "SIP:" value the first other one is primary, and with no sip value at all, "sip:" +
 * mail. Output URIs all start with a lower-case "sip:".
 * @param proxies the proxyAddresses values as stored.
 * @param n how many.
 * @param mail the mail attribute, or NULL.
 * @param primaryp receives the primary URI (malloc'd), or NULL when there is none.
 * @param aliasesp receives the aliases (free with ad_strv_free()).
 * @param countp receives the number of aliases.
 * @return 0 or -ENOMEM.
 */
int ad_proxy_select(const char *const *proxies, size_t n, const char *mail, char **primaryp,
		    char ***aliasesp, size_t *countp);

/**
 * ad_strv_free() - frees an array of @p n strings and the array.
 * @param v the array, or NULL.
 * @param n its length.
 */
void ad_strv_free(char **v, size_t n);

/**
 * ad_dc_find() - the domain controller to try first: the best DNS SRV record of
 * _ldap._tcp.dc._msdcs.<domain> (lowest priority, then highest weight).
 * @param domain the DNS domain.
 * @param timeout_ms DNS timeout (0: 3000).
 * @param dc receives the DC's host name.
 * @param len size of @p dc.
 * @param reason receives a reason on failure (#AD_REASON_LEN bytes), or NULL.
 * @return 0, -AD_ERR_DNS (no such records) or -AD_ERR_UNAVAILABLE (DNS did not answer).
 */
int ad_dc_find(const char *domain, int timeout_ms, char *dc, size_t len, char *reason);

/** A library context: configuration, credentials, connections, cache, workers. */
struct ad_ctx;

/**
 * ad_ctx_alloc() - makes a context and starts its worker threads.
 * No network traffic happens before the first lookup.
 * @param cfg configuration (copied).
 * @param ctxp receives the context.
 * @param reason receives a reason on failure (#AD_REASON_LEN bytes), or NULL.
 * @return 0, -AD_ERR_CONFIG, -ENOMEM or another -errno.
 */
int ad_ctx_alloc(const struct ad_config *cfg, struct ad_ctx **ctxp, char *reason);

/**
 * ad_ctx_free() - stops the workers (after their current LDAP operation) and frees the
 * context. Queued lookups are dropped without their callbacks. Not from a callback.
 * @param ctx the context, or NULL.
 */
void ad_ctx_free(struct ad_ctx *ctx);

/**
 * ad_fd() - the completion descriptor; readable when ad_dispatch() has work.
 * @param ctx the context.
 * @return a file descriptor owned by the context.
 */
int ad_fd(const struct ad_ctx *ctx);

/**
 * Completion of an asynchronous lookup.
 * @param status 0 or a negative code (-AD_ERR_NOT_FOUND, -AD_ERR_UNAVAILABLE, ...).
 * @param user the user on success (the callback owns it: ad_user_free()), else NULL.
 * @param reason a human-readable reason when @p status is an error, else "".
 * @param arg the caller's argument.
 */
typedef void ad_lookup_fn(int status, struct ad_user *user, const char *reason, void *arg);

/** ad_lookup_send() returned: the callback has already run. */
#define AD_LOOKUP_DONE 1

/**
 * ad_lookup_send() - starts a lookup without blocking.
 * A cached answer, or while the DCs are known to be down the last known (stale) answer or
 * else -AD_ERR_UNAVAILABLE, completes at once: the callback runs before this returns and
 * the return is #AD_LOOKUP_DONE. A lookup that a worker finds no DC for is answered from
 * the stale answer too, if there is one.
 * Otherwise the work is queued (return 0) and the callback runs from ad_dispatch().
 * @param ctx the context.
 * @param query the lookup (copied).
 * @param cb the callback, called exactly once unless the return is negative.
 * @param arg passed to @p cb.
 * @return 0 (queued), #AD_LOOKUP_DONE, or -EINVAL / -ENOMEM (callback not called).
 */
int ad_lookup_send(struct ad_ctx *ctx, const struct ad_query *query, ad_lookup_fn *cb, void *arg);

/**
 * ad_dispatch() - runs the callbacks of finished lookups, in the caller's thread.
 * Call it when ad_fd() is readable; it never blocks.
 * @param ctx the context.
 * @return the number of callbacks run.
 */
int ad_dispatch(struct ad_ctx *ctx);

/**
 * ad_user_lookup() - blocking lookup (cache first, then a worker does the LDAP work).
 * @param ctx the context.
 * @param query the lookup.
 * @param userp receives the user on success (free with ad_user_free()).
 * @param reason receives a reason on failure (#AD_REASON_LEN bytes), or NULL.
 * @return 0, -AD_ERR_NOT_FOUND, -AD_ERR_UNAVAILABLE, ...
 */
int ad_user_lookup(struct ad_ctx *ctx, const struct ad_query *query, struct ad_user **userp,
		   char *reason);

/**
 * ad_user_list() - blocking listing of every user account (paged LDAP search), with
 * the same fields and flags as a lookup. Not cached.
 * @param ctx the context.
 * @param usersp receives an array of users (free with ad_user_list_free()).
 * @param countp receives the number of users.
 * @param reason receives a reason on failure (#AD_REASON_LEN bytes), or NULL.
 * @return 0 or a negative code.
 */
int ad_user_list(struct ad_ctx *ctx, struct ad_user ***usersp, size_t *countp, char *reason);

/**
 * ad_user_list_free() - frees a listing.
 * @param users the array from ad_user_list(), or NULL.
 * @param count its length.
 */
void ad_user_list_free(struct ad_user **users, size_t count);

/** What ad_ldap_user_each() lists. */
struct ad_list_opts {
	const char *base_dn;  /**< search base (the domain's naming context); required */
	const char *group_dn; /**< DN of the Greenwich group, or NULL: every user with a SIP
				   URI is enabled */
	const char *text;     /**< only users whose sAMAccountName, displayName or a SIP URI
				   contains it (any case), or NULL for all */
	int enabled;          /**< 0: all; 1: only users enabled for Greenwich (a SIP URI, and
				   a nested member of @ref group_dn); -1: only the others */
	int page_size;        /**< entries per page (paged results control); 0: 500 */
	int timeout_ms;       /**< each page's time limit; 0: 10000 */
};

/**
 * Called once per listed user.
 * @param user the user (the callback owns it: ad_user_free()); no tokenGroups, and
 *        AD_USER_SIP_ENABLED set from the Greenwich group's nested membership.
 * @param arg the caller's argument.
 * @return 0 to go on, anything else stops the listing (and is returned).
 */
typedef int ad_user_each_fn(struct ad_user *user, void *arg);

struct ldap;

/**
 * ad_ldap_user_each() - blocking, paged listing (simple paged results control, so past a
 * Windows DC's MaxPageSize of 1000) of the users with a SIP URI (proxyAddresses sip: or
 * mail) over a connection the caller has bound (e.g. with an administrator's own
 * Kerberos ticket). One paged search when @ref ad_list_opts.enabled picks a side or no
 * group is given, else two (the group's nested members, then the others); never a
 * search per user. Each user is reported once.
 * @param ld a bound LDAP handle (OpenLDAP's LDAP *).
 * @param opts what to list.
 * @param cb called for each user, in the thread of the caller.
 * @param arg passed to @p cb.
 * @param reason receives a reason on failure (#AD_REASON_LEN bytes), or NULL.
 * @return 0, the callback's nonzero return, -AD_ERR_LDAP, -AD_ERR_UNAVAILABLE (the
 *         connection went), -EINVAL or -ENOMEM.
 */
int ad_ldap_user_each(struct ldap *ld, const struct ad_list_opts *opts, ad_user_each_fn *cb,
		      void *arg, char *reason);

/** The machine account's own LDAP connection (fail-over, bound with the keytab). */
struct ad_conn;

/**
 * ad_conn_alloc() - a connection of its own to the context's DCs, for work other than
 * user lookups (greenwichd reads its policies over one). It connects on first use.
 * @param ctx the context (outlives the connection).
 * @return the connection, or NULL (out of memory).
 */
struct ad_conn *ad_conn_alloc(struct ad_ctx *ctx);

/**
 * ad_conn_free() - closes and frees a connection.
 * @param conn the connection, or NULL.
 */
void ad_conn_free(struct ad_conn *conn);

/**
 * Work on a bound connection.
 * @param ld the bound LDAP handle (OpenLDAP's LDAP *).
 * @param arg the caller's argument.
 * @param reason a reason buffer (#AD_REASON_LEN bytes).
 * @return 0, or a negative code; -AD_ERR_UNAVAILABLE says the DC went away.
 */
typedef int ad_ldap_fn(struct ldap *ld, void *arg, char *reason);

/**
 * ad_conn_call() - runs @p fn on the connection, connecting (DNS SRV, then the configured
 * DCs, with fail-over) and binding as the machine account first if needed; when @p fn
 * returns -AD_ERR_UNAVAILABLE, connects to the next DC and runs it once more.
 * Blocking; one thread at a time per connection.
 * @return what @p fn returned, or the connection's error (-AD_ERR_UNAVAILABLE, ...).
 */
int ad_conn_call(struct ad_conn *conn, ad_ldap_fn *fn, void *arg, char *reason);

/**
 * ad_conn_dc() - the DC the connection is bound to now, or "".
 */
const char *ad_conn_dc(const struct ad_conn *conn);

/* ---- A session as the person running the program (greenwich-mmc) ---- */

/** One LDAP connection to one DC, bound with a caller's Kerberos credentials. */
struct ad_session;

/**
 * ad_session_open() - connects to @p dc and reads its rootDSE anonymously (the DC's clock
 * and the domain's naming context). Nothing is bound yet: see ad_session_bind().
 * @param dc the DC's host name (as in its ldap/<name> service principal).
 * @param timeout_ms connect and operation timeout (0: 10000).
 * @param sp receives the session.
 * @param reason receives a reason on failure (#AD_REASON_LEN bytes), or NULL.
 * @return 0, -AD_ERR_UNAVAILABLE (the DC does not answer), -AD_ERR_LDAP or -ENOMEM.
 */
int ad_session_open(const char *dc, int timeout_ms, struct ad_session **sp, char *reason);

/**
 * ad_session_bind() - SASL/GSSAPI bind with signing and sealing (a weaker layer is
 * refused) with the credentials of a credential cache.
 * @param s the session.
 * @param ccache the credential cache ("MEMORY:..."), or NULL for the caller's own
 *        (KRB5CCNAME or the default one: "bind with the caller's ticket").
 * @param reason receives a reason on failure (#AD_REASON_LEN bytes), or NULL.
 * @return 0, -AD_ERR_BIND (refused, or no usable ticket) or -AD_ERR_UNAVAILABLE.
 */
int ad_session_bind(struct ad_session *s, const char *ccache, char *reason);

/** ad_session_close() - unbinds and frees a session (NULL is fine). */
void ad_session_close(struct ad_session *s);

/** The DC's host name. */
const char *ad_session_dc(const struct ad_session *s);

/** The domain's naming context (defaultNamingContext of the rootDSE). */
const char *ad_session_base(const struct ad_session *s);

/** The DC's clock (currentTime of the rootDSE) when the session was opened. */
time_t ad_session_dc_time(const struct ad_session *s);

/**
 * ad_session_ldap() - the bound LDAP handle (OpenLDAP's LDAP *), for libraries that
 * keep their own objects in AD (libgwpolad) and for ad_ldap_user_each().
 */
struct ldap *ad_session_ldap(struct ad_session *s);

/**
 * ad_session_lookup() - finds one user the way a context's lookups do (the same search,
 * the same rule that a SIP URI must be one of the user's own, the same
 * -AD_ERR_AMBIGUOUS when two users match), with tokenGroups and flags.
 * @param s a bound session.
 * @param query the lookup.
 * @param group_sid the Greenwich group's SID: AD_USER_SIP_ENABLED is set when the user has
 *        a SIP URI and (when @p group_sid is not NULL or "") is a nested member of it.
 * @param userp receives the user (free with ad_user_free()).
 * @param reason receives a reason on failure (#AD_REASON_LEN bytes), or NULL.
 * @return 0, -AD_ERR_NOT_FOUND, -AD_ERR_AMBIGUOUS, -AD_ERR_LDAP, -AD_ERR_UNAVAILABLE, ...
 */
int ad_session_lookup(struct ad_session *s, const struct ad_query *query, const char *group_sid,
		      struct ad_user **userp, char *reason);

/**
 * ad_session_group() - a group by sAMAccountName, cn or SID ("S-1-...").
 * @param dn receives its DN (@p dnlen bytes), or NULL.
 * @param sid receives its SID (@p sidlen bytes), or NULL.
 * @return 0, -AD_ERR_GROUP (no such group, or more than one), or another error.
 */
int ad_session_group(struct ad_session *s, const char *name, char *dn, size_t dnlen, char *sid,
		     size_t sidlen, char *reason);

/**
 * ad_session_sid_names() - the sAMAccountNames of the objects with the given SIDs (e.g. a
 * user's group_sids), sorted; SIDs that name nothing are left out.
 * @param names receives the names (free with ad_strv_free()).
 * @param countp receives how many.
 * @return 0 or a negative code.
 */
int ad_session_sid_names(struct ad_session *s, char *const *sids, size_t n, char ***names,
			 size_t *countp, char *reason);

/**
 * ad_session_member_set() - adds @p member_dn to, or removes it from, the member attribute
 * of @p group_dn.
 * @return 1 (changed), 0 (it was so already: a member, or not a direct member),
 *         -AD_ERR_DENIED, -AD_ERR_NOT_FOUND, -AD_ERR_LDAP, ...
 */
int ad_session_member_set(struct ad_session *s, const char *group_dn, const char *member_dn,
			  bool add, char *reason);

/**
 * ad_session_proxies() - an object's proxyAddresses values as stored, and its mail.
 * @param proxiesp receives the values (free with ad_strv_free()).
 * @param countp receives how many.
 * @param mailp receives mail (malloc'd), or NULL when it has none; may be NULL.
 * @return 0, -AD_ERR_NOT_FOUND or another error.
 */
int ad_session_proxies(struct ad_session *s, const char *dn, char ***proxiesp, size_t *countp,
		       char **mailp, char *reason);

/**
 * ad_session_proxies_change() - deletes the values @p del (as stored) from an object's
 * proxyAddresses and adds @p add (or nothing when NULL), in one modify operation.
 * @return 0, -AD_ERR_DENIED, -AD_ERR_LDAP, ...
 */
int ad_session_proxies_change(struct ad_session *s, const char *dn, char *const *del, size_t ndel,
			      const char *add, char *reason);

/**
 * ad_session_has_spn() - does the computer account @p sam (NAME$) have the service
 * principal name @p spn (compared without regard to case)?
 * @return 1 yes, 0 no, -AD_ERR_NOT_FOUND (no such computer), or another error.
 */
int ad_session_has_spn(struct ad_session *s, const char *sam, const char *spn, char *reason);

/** The account of its own for greenwichd's sip/ SPNs (ad_session_sip_account()). */
struct ad_sip_account {
	const char *computer;  /**< the joined computer account, NAME$ */
	const char *account;   /**< sAMAccountName of the user account (20 characters at most) */
	const char *container; /**< DN it is created in; NULL: the computer account's */
	char **spns;           /**< its SPNs, NULL-terminated (sip/<fqdn>, sip/<HOST>) */
	const char *password;  /**< its new password (printable ASCII) */
};

/**
 * ad_session_sip_account() - removes @p a->spns from the computer account, creates the
 * user account when it does not exist (disabled until it has a password), sets its
 * password (unicodePwd: the session's layer must seal), and replaces its SPNs with
 * @p a->spns, userAccountControl with NORMAL_ACCOUNT|DONT_EXPIRE_PASSWORD and
 * msDS-SupportedEncryptionTypes with AES128|AES256, and grants the computer account the
 * Reset Password right on it (an ACE in its DACL: `domain renew` rotates the password).
 * @param kvno its msDS-KeyVersionNumber after the password change
 * @return 0 or an error (reason says which step).
 */
int ad_session_sip_account(struct ad_session *s, const struct ad_sip_account *a, int *kvno,
			   char *reason);

/**
 * ad_session_spn_remove() - removes the SPNs @p spns from the account @p sam (those it
 * does not have are no error).  @return 0, 0 as well when there is no such account.
 */
int ad_session_spn_remove(struct ad_session *s, const char *sam, char *const *spns, size_t n,
			  char *reason);

/**
 * ad_session_spn_owner() - how many accounts hold the SPN @p spn (0, 1, or more: AD
 * should refuse that); @p sam gets the sAMAccountName of one of them ("" when none).
 */
int ad_session_spn_owner(struct ad_session *s, const char *spn, char *sam, size_t samlen,
			 char *reason);

/**
 * ad_session_sip_password() - sets a new password (unicodePwd, replaced: the Reset
 * Password right, which join grants the computer account) on the user account @p sam
 * and reads its new key version into @p kvno.  The session must be sealed.
 * @return 0, -AD_ERR_NOT_FOUND, -AD_ERR_DENIED, ...
 */
int ad_session_sip_password(struct ad_session *s, const char *sam, const char *password, int *kvno,
			    char *reason);

/** ad_session_account_delete() - deletes the user account @p sam: 1, 0 when none. */
int ad_session_account_delete(struct ad_session *s, const char *sam, char *reason);

/**
 * ad_session_sd_get() - the DACL part of an object's nTSecurityDescriptor (read with the
 * SD_FLAGS control, so the bound account needs only READ_CONTROL), self-relative.
 * @param sdp receives the descriptor (malloc'd).
 * @param lenp receives its length.
 * @return 0, -AD_ERR_NOT_FOUND (no such object), -AD_ERR_DENIED (not readable), ...
 */
int ad_session_sd_get(struct ad_session *s, const char *dn, unsigned char **sdp, size_t *lenp,
		      char *reason);

/**
 * ad_session_sd_set() - writes an object's DACL (a self-relative security descriptor
 * whose DACL is the one to keep; SD_FLAGS control: DACL only).
 * @return 0, -AD_ERR_DENIED (no WRITE_DAC, or AD refused the descriptor), ...
 */
int ad_session_sd_set(struct ad_session *s, const char *dn, const unsigned char *sd, size_t len,
		      char *reason);

/** ACE types and flags of ad_ace (MS-DTYP 2.4.4). */
#define AD_ACE_ALLOWED 0
#define AD_ACE_ALLOWED_OBJECT 5
#define AD_ACE_CI 0x02        /**< container inherit */
#define AD_ACE_IO 0x08        /**< inherit only */
#define AD_ACE_INHERITED 0x10 /**< inherited from a parent */
/** The control access right mask bit (ADS_RIGHT_DS_CONTROL_ACCESS). */
#define AD_RIGHT_CONTROL_ACCESS 0x00000100u

/** One access-allowed ACE to add (object GUIDs as 16 bytes in AD's byte order, or NULL). */
struct ad_ace {
	uint8_t type, flags;
	uint32_t mask;
	const unsigned char *object, *inherited;
	unsigned char sid[AD_SID_MAX];
	size_t sidlen;
};

/** A self-relative security descriptor (malloc'd bytes). */
struct ad_sd {
	unsigned char *p;
	size_t len;
};

/**
 * ad_sd_edit() - a new descriptor (self-relative, DACL only, for ad_session_sd_set()) from
 * @p old: without the explicit ACEs of @p drop_sid (when not NULL), with @p add (when not
 * NULL) before the first inherited ACE unless the same ACE is there already.
 * @param out receives the new descriptor (free out->p).
 * @param changed false when the new DACL is the old one.
 * @return 0, -EINVAL (malformed), -ENOMEM.
 */
int ad_sd_edit(const struct ad_sd *old, const struct ad_ace *add, const unsigned char *drop_sid,
	       size_t drop_len, struct ad_sd *out, bool *changed);

/** ad_sd_acl() - the DACL of a descriptor (*aclp NULL when none): 0 or -EINVAL. */
int ad_sd_acl(const struct ad_sd *sd, const unsigned char **aclp, size_t *acl_len);

/** ad_ace_sid() - the SID of the ACE at @p p (@p size bytes), NULL for other layouts. */
const unsigned char *ad_ace_sid(const unsigned char *p, size_t size, size_t *lenp);

/**
 * ad_session_schema_guid() - the schemaIDGUID of an attribute or class, by its
 * lDAPDisplayName ("proxyAddresses", "user").
 * @param guid receives the 16 bytes.
 * @return 0, -AD_ERR_NOT_FOUND or another error.
 */
int ad_session_schema_guid(struct ad_session *s, const char *name, unsigned char guid[16],
			   char *reason);

/**
 * ad_cache_flush() - forgets every cached answer, the stale ones and those in the cache
 * file too: the next lookups ask a DC. Safe from any thread.
 * @param ctx the context.
 */
void ad_cache_flush(struct ad_ctx *ctx);

/**
 * ad_cache_flush_user() - forgets the cached answers about one user: the answer for
 * @p query and, when it names a known user, the user's answers under every key (SIP URIs,
 * sAMAccountName, userPrincipalName), in memory and in the cache file. Safe from any
 * thread. A lookup already under way may still store what it finds.
 * @param ctx the context.
 * @param query what the user was looked up by.
 * @return the number of answers forgotten (0: nothing was cached), -ENOMEM or
 *         -AD_ERR_CONFIG (the cache file could not be written).
 */
int ad_cache_flush_user(struct ad_ctx *ctx, const struct ad_query *query);

/** Counters of a context (ad_stats_get()). */
struct ad_stats {
	uint64_t cache_hits;   /**< lookups answered from the cache */
	uint64_t cache_misses; /**< lookups that went to a worker */
	uint64_t ldap_binds;   /**< successful SASL binds (new connections) */
	uint64_t kinits;       /**< credentials acquired from the keytab */
	uint64_t fail_fast;    /**< lookups refused at once while the DCs were down */
	uint64_t stale;        /**< lookups answered by an expired answer: no DC answered */
	uint64_t offline;      /**< times the DCs became unreachable (directory offline) */
	bool is_offline;       /**< the last DC contact failed: stale answers are in use */
	size_t cache_entries;  /**< answers in the cache now */
	int cache_loaded;      /**< answers loaded from the cache file at start */
	char dc[256];          /**< the DC of the last successful bind, or "" */
};

/**
 * ad_stats_get() - copies the context's counters.
 * @param ctx the context.
 * @param stats receives the counters.
 */
void ad_stats_get(struct ad_ctx *ctx, struct ad_stats *stats);

#endif /* GWAD_H */
