/*
 * ad_session.h - a caller's session (ad_session.c: connect and bind; ad_session_dir.c:
 * users, groups, proxyAddresses, SPNs; ad_session_sd.c: security descriptors, schema).
 */
#ifndef AD_SESSION_H
#define AD_SESSION_H

#include "ad_entry.h"

struct ad_session {
	LDAP *ld;
	int timeout_ms;
	bool bound;
	time_t dc_time;
	char dc[300];
	char base[512];
};

/* A search with the session's time limit. */
int ad_session_search(struct ad_session *s, const char *base, int scope, const char *filter,
		      char **attrs, LDAPControl **ctrls, LDAPMessage **resp, char *reason);

/* A modify operation; the error of its result code, with @what in the reason. */
int ad_session_modify(struct ad_session *s, const char *dn, LDAPMod **mods, LDAPControl **ctrls,
		      const char *what, char *reason);

#endif /* AD_SESSION_H */
