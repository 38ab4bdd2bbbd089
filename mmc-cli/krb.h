/*
 * krb.h - Kerberos helpers of greenwich-mmc (krb.c) and the LDAP checks (ldapcheck.c).
 */
#ifndef GW_MMC_KRB_H
#define GW_MMC_KRB_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct mmc_keytab {
	bool has_sip, has_http;
	char machine[300]; /* NAME$@REALM, "" if none */
	int entries;
	int machine_kvno; /* highest key version of the machine account's entries, 0 if none */
};

bool mmc_krb_have_ticket(char *princ, size_t len);
int mmc_keytab_read(const char *path, const char *fqdn, const char *realm, struct mmc_keytab *kt,
		    char *err, size_t errlen);
int mmc_krb_kinit(const char *keytab, const char *principal, char *ccname, size_t cclen, char *err,
		  size_t errlen);
void mmc_krb_destroy(const char *ccname);

/* ldapcheck.c: one LDAP connection to a DC for `domain test`. */
struct mmc_ldap;
int mmc_ldap_open(const char *dc, struct mmc_ldap **lp, char *err, size_t errlen);
void mmc_ldap_close(struct mmc_ldap *l);
/* The libldap handle (an OpenLDAP LDAP *), for the policy store. */
struct ldap *mmc_ldap_handle(struct mmc_ldap *l);
/* rootDSE (anonymous): the DC's currentTime and defaultNamingContext. */
int mmc_ldap_rootdse(struct mmc_ldap *l, time_t *dc_time, char *base, size_t blen, char *err,
		     size_t errlen);
/* SASL/GSSAPI bind with the credentials in ccname (signing and sealing). */
int mmc_ldap_gssapi(struct mmc_ldap *l, const char *ccname, char *err, size_t errlen);
/* Does the account sam (NAME$) have the SPN spn?  1 yes, 0 no, <0 error. */
int mmc_ldap_has_spn(struct mmc_ldap *l, const char *base, const char *sam, const char *spn,
		     char *err, size_t errlen);

#endif
