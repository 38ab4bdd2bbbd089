/*
 * sipae_itest.h - shared by the parts of sipae-itest.
 */
#ifndef GW_SIPAE_ITEST_H
#define GW_SIPAE_ITEST_H

#include <stdbool.h>

extern int itest_fails;
void itest_check(bool ok, const char *what);
bool itest_has_sid(char **sids, const char *sid);
int itest_krb(const char *keytab, const char *fqdn, const char *support_sid);
int itest_krb_token(const char *fqdn, const char *path);
int itest_krb_skew(const char *keytab, const char *path);

#endif
