/*
 * krb.h - Kerberos helpers of greenwich-mmc (krb.c): the caller's ticket, the keytab.
 */
#ifndef GW_MMC_KRB_H
#define GW_MMC_KRB_H

#include <stdbool.h>
#include <stddef.h>

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
/* The same with a password (a MEMORY: cache as well). */
int mmc_krb_kinit_password(const char *principal, const char *password, char *ccname, size_t cclen,
			   char *err, size_t errlen);
void mmc_krb_destroy(const char *ccname);

#endif
