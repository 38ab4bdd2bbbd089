/*
 * ad_conn.h - an LDAP connection of libgwad (used by ad_conn.c and ad_ldap.c).
 */
#ifndef AD_CONN_H
#define AD_CONN_H

#include "ad_entry.h"

struct ad_conn {
	struct ad_ctx *ctx;
	const struct ad_config *cfg;
	struct ad_krb5 *krb;
	struct ad_dcs *dcs;
	LDAP *ld;
	time_t renew_at; /* the bind's credentials are refreshed then: bind again */
	char host[300];
};

/* An operation on a bound connection; -AD_ERR_UNAVAILABLE when the DC went away. */
typedef int ad_conn_op(struct ad_conn *conn, void *arg, char *reason);

/* Runs @op on a bound connection, connecting (with fail-over) and retrying once. */
int ad_conn_run(struct ad_conn *conn, ad_conn_op *op, void *arg, char *reason);

/* Closes the connection (the next operation connects again). */
void ad_conn_drop(struct ad_conn *conn);

/* The SID of group @name (sAMAccountName or cn) into @out. */
int ad_ldap_group_sid(struct ad_conn *conn, const char *name, char *out, size_t outlen,
		      char *reason);

#endif /* AD_CONN_H */
