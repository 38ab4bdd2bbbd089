/*
 * ad_entry.h - reading user entries and searching, over any bound LDAP handle: the
 * machine account's connections (ad_ldap.c) and a caller's session (ad_session*.c) use
 * the same searches and the same decoding.
 */
#ifndef AD_ENTRY_H
#define AD_ENTRY_H

#include <ldap.h>

#include "ad_private.h"

/* The attributes of a user entry that ad_entry_user() decodes. */
extern char *ad_entry_user_attrs[];

/* An LDAP result code that means the server is gone or not answering. */
bool ad_ldap_gone(int lrc);

/* -AD_ERR_UNAVAILABLE, -AD_ERR_DENIED, -AD_ERR_NOT_FOUND or -AD_ERR_LDAP for a result code
 * that is not LDAP_SUCCESS. */
int ad_ldap_err(int lrc);

/* One search with a time limit; LDAP_NO_SUCH_OBJECT is an empty answer. @host names the
 * DC in the reason. 0, -AD_ERR_UNAVAILABLE or -AD_ERR_LDAP. */
int ad_ldap_search(LDAP *ld, const char *host, int timeout_ms, const char *base, int scope,
		   const char *filter, char **attrs, LDAPControl **ctrls, LDAPMessage **resp,
		   char *reason);

/* The first value of an attribute (malloc'd), or NULL. */
char *ad_entry_str(LDAP *ld, LDAPMessage *e, const char *name);

/* Binary SIDs of an attribute as text (free with ad_strv_free()). */
int ad_entry_sids(LDAP *ld, LDAPMessage *e, const char *name, char ***sidsp, size_t *countp);

/* The attributes of a user entry (no tokenGroups yet). */
int ad_entry_user(LDAP *ld, LDAPMessage *e, struct ad_user **userp);

/* The search filter of a query. 0 or -EINVAL. */
int ad_query_filter(const struct ad_query *q, char *filter, size_t len);

/* The one user of @res that matches @q (a SIP URI must be one of the user's own):
 * 0, -AD_ERR_NOT_FOUND or -AD_ERR_AMBIGUOUS. */
int ad_query_pick(LDAP *ld, LDAPMessage *res, const struct ad_query *q, struct ad_user **userp);

/* tokenGroups and the computed lockout bit of @u (a base search of its entry). */
int ad_user_tokens(LDAP *ld, const char *host, int timeout_ms, struct ad_user *u, char *reason);

/* The cookie of the next page of a paged search (NULL after the last one). */
int ad_page_cookie(LDAP *ld, LDAPMessage *res, struct berval **cookiep, char *reason);

#endif /* AD_ENTRY_H */
