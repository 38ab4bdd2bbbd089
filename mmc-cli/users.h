/*
 * users.h - directory users for greenwich-mmc's `users` commands (users.c talks to AD
 * through libgwad, users_out.c prints).
 */
#ifndef GW_MMC_USERS_H
#define GW_MMC_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

struct mmc;
struct ad_session;

/* A libgwad session to a DC bound with the caller's own ticket. */
struct ud {
	struct mmc *m;
	struct ad_session *ses;
	char group_dn[1024]; /* the enabled group, "" when none is configured */
	char group_sid[200]; /* its SID */
	char princ[300];     /* whose ticket */
};

struct mmc_dir_user {
	char *sam;
	char *dn;
	char *sip_uri; /* sip:..., or NULL */
	char **aliases;
	size_t naliases;
	char **proxies; /* proxyAddresses as stored */
	size_t nproxies;
	char **groups; /* names of its groups, nested ones too (users show) */
	size_t ngroups;
	bool disabled; /* the AD account is disabled */
	bool enabled;  /* may use Greenwich */
};

void mmc_dir_user_free(struct mmc_dir_user *du);
/* Where the SIP URI comes from: "proxyAddresses" (the SIP: value), "alias" (the first
 * other sip: value), "mail", or "none". */
const char *mmc_uri_source(const char *const *proxies, size_t n, bool has_uri);

/* users_out.c */
void mmc_users_print_list(const struct mmc_dir_user *v, size_t n);
void mmc_users_print_one(const struct mmc_dir_user *du, const char *group, const char *groups,
			 json_object *devices, json_object *presence);
int mmc_users_member_report(const struct mmc_dir_user *du, const char *group, bool add,
			    bool changed, bool now_enabled);

#endif
