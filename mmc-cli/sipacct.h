/*
 * sipacct.h - greenwichd's sip/ service principals on an account of their own
 * (sipacct.c): made or taken at `domain join`, its keys in <state>/sip.keytab.
 */
#ifndef GW_MMC_SIPACCT_H
#define GW_MMC_SIPACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct mmc_sipacct {
	const char *domain, *realm, *dc, *fqdn;
	const char *container; /* DN for a new account; NULL: beside the computer account */
	const char *admin;     /* the administrator's user name */
	const char *password;  /* the administrator's password; NULL: the caller's ticket */
	const char *keytab;    /* where the keys go (replaced; the previous kvno kept) */
	uid_t uid;             /* the keytab's owner */
	gid_t gid;
	char account[21]; /* in: NAME or "" for gwsip-<host>; out: the name used */
	int kvno;         /* out */
};

/* Creates or takes the account, sets a new random password, writes the keytab. 0 or -1
 * with err set. */
int mmc_sipacct_join(struct mmc_sipacct *a, char *err, size_t errlen);

/* `domain renew`: bound as the machine (@machine, NAME$@REALM, from @machine_keytab), a
 * new random password on the user account that holds sip/<fqdn> (its name to
 * a->account), its keys written to a->keytab beside the previous kvno's (a->admin and
 * a->password unused).  0 or -1 with err set. */
int mmc_sipacct_renew(struct mmc_sipacct *a, const char *machine_keytab, const char *machine,
		      char *err, size_t errlen);

/* Deletes the user account that holds sip/<fqdn> (its name to a->account; "" when
 * none does, or the computer account).  0 or -1 with err set. */
int mmc_sipacct_leave(struct mmc_sipacct *a, char *err, size_t errlen);

#endif
