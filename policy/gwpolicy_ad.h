/*
 * gwpolicy_ad.h - policies and federation settings stored in Active Directory.
 *
 * Everything lives under CN=Greenwich,CN=Services in the forest's configuration partition,
 * which every DC of the forest replicates; no schema extension is needed:
 *
 *   CN=Greenwich,CN=Services,CN=Configuration,<forest>      container
 *     CN=Policies                                          container
 *       CN=<rule name>      msDS-App-Configuration, msDS-Settings = the rule's canonical text
 *     CN=Federation         msDS-App-Configuration, msDS-Settings = "allow D" / "block D" ...
 *
 * Groups are named in rule text by SID, so a renamed group keeps its rules; the current
 * names are looked up for display.  These calls work on an LDAP handle the caller has
 * bound (greenwichd: the machine account; greenwich-mmc: the administrator's own ticket, so
 * AD decides who may change policy).  They block, print nothing and log nothing.
 *
 * Errors: 0 or a negative errno: -EACCES (AD refused: no rights), -ENOENT (no such object),
 * -EEXIST, -ENOTCONN (the DC is gone or does not answer), -EINVAL, -ENOMEM, -EIO (any other
 * LDAP failure).  The calls that take a reason buffer (POL_AD_REASON_LEN bytes) say more.
 */
#ifndef GW_POLICY_AD_H
#define GW_POLICY_AD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldap.h>

#include "gwpolicy.h"

#define POL_AD_REASON_LEN 256
#define POL_AD_DN_MAX 512

/** The container's DN from the rootDSE (configurationNamingContext). */
int pol_ad_container(LDAP *ld, char *dn, size_t len, char *reason);
/** The DC's highestCommittedUSN: when it has not changed, nothing in the directory has. */
int pol_ad_usn(LDAP *ld, uint64_t *usn, char *reason);

/**
 * Read every rule (into a new set: free it with pol_set_free()) and the federation
 * settings.  A container that does not exist yet gives no rules and no settings (0).  A rule
 * object that does not parse is an error: the reason names it (keep the last good rules).
 */
int pol_ad_load(LDAP *ld, const char *container, struct pol_set **set, struct pol_fed *fed,
		char *reason);

/** Create the containers when missing (nothing is added when the Policies container is
 * there already, so an administrator who may only write below it can call it too). */
int pol_ad_prepare(LDAP *ld, const char *container, char *reason);
/** Store one rule's text (create: a new object, -EEXIST if taken; else replace its text). */
int pol_ad_rule_put(LDAP *ld, const char *container, const struct pol_rule *rule, bool create,
		    char *reason);
/** Delete one rule object. */
int pol_ad_rule_delete(LDAP *ld, const char *container, const char *name, char *reason);
/** Federation: allow (1), block (0) or remove (-1) domain. */
int pol_ad_fed_change(LDAP *ld, const char *container, const char *domain, int allow, char *reason);

/** The federation values exactly as stored ("allow D", "block D", or anything else someone
 * put there): free each and the array.  No Federation object: none (0). */
int pol_ad_fed_values(LDAP *ld, const char *container, char ***vals, size_t *n, char *reason);
/** Delete one stored federation value, byte for byte (-ENOENT when it is not there). */
int pol_ad_fed_delete_value(LDAP *ld, const char *container, const char *value, char *reason);

/** The SID of a group by sAMAccountName or cn, searched below base (a domain). */
int pol_ad_group_sid(LDAP *ld, const char *base, const char *name, char *sid, size_t len,
		     char *reason);
/** The current name (sAMAccountName) of the group with this SID. */
int pol_ad_group_name(LDAP *ld, const char *base, const char *sid, char *name, size_t len,
		      char *reason);

/** Called for each SIP address of a member (without "sip:", lower case). */
typedef void pol_member_fn(const char *aor, void *arg);
/**
 * Every user who is a member of the group, directly, through nested groups or through its
 * primary group (primaryGroupID: Domain Users, which memberOf does not list), with the SIP
 * address of each: its proxyAddresses "sip:" values, or mail when it has none.  A user may be
 * reported more than once.
 */
int pol_ad_group_members(LDAP *ld, const char *base, const char *sid, pol_member_fn *fn, void *arg,
			 char *reason);

/** Map an LDAP result code to the errno convention above. */
int pol_ad_errno(int lrc);

#endif
