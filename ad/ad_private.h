/*
 * ad_private.h - libgwad internals shared by its files and its unit tests.
 */
#ifndef AD_PRIVATE_H
#define AD_PRIVATE_H

#include <pthread.h>
#include <stdarg.h>

#include "gwad.h"

/* ---- ad_util.c: text helpers, reasons, time */

/* Formats a reason into @reason (AD_REASON_LEN bytes) if it is not NULL. */
void ad_reason_set(char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copies @src into @dst (@size bytes), truncating. */
void ad_str_copy(char *dst, size_t size, const char *src);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t ad_now_ms(void);

/* The address part of a SIP URI: "sip:" or "sips:" removed (any case). */
#include "sipuri.h" /* gw_uri_addr() */

/* ---- ad_user.c: decoding directory attributes (pure) */

/* accountExpires / lockoutTime (100 ns since 1601) to Unix time; 0 for "never". */
int64_t ad_filetime_to_unix(int64_t ft);

/* The AD_USER_DISABLED / LOCKED_OUT / EXPIRED bits. @computed_uac < 0: not returned. */
unsigned ad_account_flags(uint32_t uac, int64_t computed_uac, int64_t lockout_time,
			  int64_t account_expires, time_t now);

/* Deep copy. NULL on allocation failure. */
struct ad_user *ad_user_dup(const struct ad_user *user);

/* ---- ad_srv.c: DNS SRV */

struct ad_srv {
	unsigned priority;
	unsigned weight;
	unsigned port;
	char target[256];
};

/* Parses a DNS answer to SRV records sorted by priority then weight (highest first). */
int ad_srv_parse(const unsigned char *msg, size_t len, struct ad_srv **srvp, size_t *countp);

/* Queries _ldap._tcp.dc._msdcs.<domain> (res_nquery). */
int ad_srv_lookup(const char *domain, int timeout_ms, struct ad_srv **srvp, size_t *countp,
		  char *reason);

/* ---- ad_cache.c: TTL + LRU cache of lookups, thread-safe */

struct ad_cache;

struct ad_cache *ad_cache_alloc(size_t max_entries, int ttl_ms, int negative_ttl_ms);
void ad_cache_free(struct ad_cache *cache);

/*
 * Looks @key up at time @now_ms. Returns 1 and a copy of the user (*userp) on a positive
 * hit, 1 and *userp = NULL on a negative hit, 0 on a miss (or expiry), -ENOMEM.
 * An expired answer is kept (stale) for ad_cache_get_stale().
 */
int ad_cache_get(struct ad_cache *cache, const char *key, int64_t now_ms, struct ad_user **userp);

/*
 * The last known answer for @key whatever its TTL, if it was stored at most @max_age_ms
 * before @now_ms (0: any age). Same returns as ad_cache_get().
 */
int ad_cache_get_stale(struct ad_cache *cache, const char *key, int64_t now_ms, int64_t max_age_ms,
		       struct ad_user **userp);

/* Stores a copy of @user (NULL: a negative answer) as answered at @now_ms. 0 or -ENOMEM. */
int ad_cache_put(struct ad_cache *cache, const char *key, const struct ad_user *user,
		 int64_t now_ms);

/*
 * Stores @user under @key (if not NULL) and under every key a lookup of the user may use:
 * its SIP URIs, sAMAccountName and UPN, so that a sign-in by account name also answers
 * routing by URI. 0 or -ENOMEM.
 */
int ad_cache_put_user(struct ad_cache *cache, const char *key, const struct ad_user *user,
		      int64_t now_ms);

/* The cache keys of a user (see ad_cache_put_user()); free with ad_strv_free(). */
int ad_user_keys(const struct ad_user *user, char ***keysp, size_t *countp);

/*
 * Drops @key and, when it holds a user, that user's every key (ad_user_keys(), also
 * returned in *keysp / *countp, free with ad_strv_free()). The number of answers
 * dropped, or -ENOMEM.
 */
int ad_cache_forget(struct ad_cache *cache, const char *key, char ***keysp, size_t *countp);

void ad_cache_clear(struct ad_cache *cache);
size_t ad_cache_count(struct ad_cache *cache);

/* The cache key of a query ("u:sip-addr-lowercase"), malloc'd; NULL on ENOMEM. */
char *ad_cache_key(const struct ad_query *query);

/* ---- ad_store.c: the cache on disk (SQLite), so that it survives a restart */

struct ad_store;

/*
 * Opens (creates, mode 0600) the cache file at @path, keeping at most @max_rows answers.
 * 0, -AD_ERR_CONFIG (with a reason) or -ENOMEM.
 */
int ad_store_open(const char *path, size_t max_rows, struct ad_store **storep, char *reason);
void ad_store_close(struct ad_store *store);

/* Puts every stored answer into @cache with its age; the number loaded, or < 0. */
int ad_store_load(struct ad_store *store, struct ad_cache *cache, char *reason);

/*
 * Writes a fresh answer for @key (@user NULL: not found, which removes the key) and the
 * user's other keys; called by the LDAP workers, never by the caller's event loop.
 * 0 or a negative code.
 */
int ad_store_put(struct ad_store *store, const char *key, const struct ad_user *user);

/* Removes the rows of @key and of @keys (@count of them); @key NULL and @count 0: every
 * row. 0 or -AD_ERR_CONFIG. */
int ad_store_forget(struct ad_store *store, const char *key, char *const *keys, size_t count);

/* ---- ad_krb5.c: machine credentials in a private memory ccache */

struct ad_krb5;

int ad_krb5_alloc(const struct ad_config *cfg, struct ad_krb5 **krbp, char *reason);
void ad_krb5_free(struct ad_krb5 *krb);

/* Makes sure valid credentials are in the ccache (acquires from the keytab if needed). */
int ad_krb5_ensure(struct ad_krb5 *krb, char *reason);

/* Makes this thread's GSSAPI use the library's ccache (gss_krb5_ccache_name). */
int ad_krb5_thread_use(struct ad_krb5 *krb, char *reason);

/* Read together (each unless NULL): when the credentials should be acquired
 * again (connections bound before go too), and how often they were acquired. */
void ad_krb5_state(struct ad_krb5 *krb, time_t *refresh_at, uint64_t *kinits);

/* ---- ad_ldap.c: one connection (owned by one worker) and the searches */

struct ad_dcs;

struct ad_dcs *ad_dcs_alloc(const struct ad_config *cfg);
void ad_dcs_free(struct ad_dcs *dcs);
/* True while the DCs are known to be down (fail fast). */
bool ad_dcs_down(struct ad_dcs *dcs);
void ad_dcs_last(struct ad_dcs *dcs, char *out, size_t outlen);
uint64_t ad_dcs_binds(struct ad_dcs *dcs);

/* Finds one user; *userp gets the user with tokenGroups and flags. */
int ad_conn_lookup(struct ad_conn *conn, const struct ad_query *query, struct ad_user **userp,
		   char *reason);

/* Lists all users (paged). */
int ad_conn_list(struct ad_conn *conn, struct ad_user ***usersp, size_t *countp, char *reason);

/* ---- ad_ctx.c: pieces of the context the other files need */

const struct ad_config *ad_ctx_config(const struct ad_ctx *ctx);
struct ad_krb5 *ad_ctx_krb5(const struct ad_ctx *ctx);
struct ad_dcs *ad_ctx_dcs(const struct ad_ctx *ctx);
/* The SID of the Greenwich group, resolving it over @conn if needed; NULL if none. */
int ad_ctx_group_sid(struct ad_ctx *ctx, struct ad_conn *conn, char *out, size_t outlen,
		     char *reason);

#endif /* AD_PRIVATE_H */
