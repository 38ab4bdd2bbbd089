/*
 * polstore.h - the policy store of greenwich-mmc (polstore.c): AD or the rules file.
 */
#ifndef GW_MMC_POLSTORE_H
#define GW_MMC_POLSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "gwconf.h"
#include "gwpolicy.h"

struct ad_session;
struct ldap;

struct polstore {
	bool ad; /* in AD, else in the rules file at path */
	const char *path;
	struct ad_session *ses; /* bound with the administrator's own ticket */
	struct ldap *ld;        /* its LDAP handle, for libgwpolad */
	char base[512];         /* the domain's naming context */
	char container[600];    /* CN=Greenwich,CN=Services,CN=Configuration,... */
	char who[300];          /* the administrator's principal */
	struct pol_set *set;    /* the rules, groups named as they are called now */
	struct pol_fed fed;
	char err[600];
};

/* Open and load; need_ad: federation (only in AD).  0 or -errno with s->err. */
int polstore_open(struct polstore *s, const struct gw_conf *c, bool need_ad);
void polstore_close(struct polstore *s);
/* A command's exit code for a store return; prints the error. */
int polstore_exit(const struct polstore *s, int ret);
/* Rule text with group names allowed; s->err says what is wrong. */
int polstore_parse_rule(struct polstore *s, const char *text, struct pol_rule **out);
/* Write the rule called name (already changed in s->set); create: it is new. */
int polstore_put(struct polstore *s, const char *name, bool create);
/* Remove the rule called name (already deleted from s->set). */
int polstore_delete(struct polstore *s, const char *name);
/* Federation: allow 1, block 0, remove -1. */
int polstore_fed(struct polstore *s, const char *domain, int allow);
/* Federation values exactly as stored ("allow D", "block D", or anything else someone put
 * there); free each and the array. */
int polstore_fed_raw(struct polstore *s, char ***valsp, size_t *np);
/* Delete one stored federation value, byte for byte. */
int polstore_fed_delete_raw(struct polstore *s, const char *value);
/* The SIDs of the rules' groups that aor is a member of (nested); free each and the array. */
int polstore_groups_of(struct polstore *s, const char *aor, char ***sidsp, size_t *np);

#endif
