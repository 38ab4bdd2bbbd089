/*
 * local_user.c - `greenwich-mmc local-user add|remove|list`: Digest accounts
 * for users outside the domain, stored as HA1 hashes in the server's database.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "gwconf.h"
#include "mmc.h"
#include "gwstore.h"

static int
print_account(const struct gwstore_account *a, void *arg)
{
	json_object *arr = arg;

	if (mmc_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "aor", json_object_new_string(a->aor));
		json_object_object_add(o, "realm", json_object_new_string(a->realm));
		json_object_array_add(arr, o);
	} else {
		printf("%-40s %s\n", a->aor, a->realm);
	}
	return 0;
}

/* A change done: a line for people, {"aor":..,"change":..[,"realm":..]} with --json. */
static int
report(const char *aor, const char *change, const char *realm)
{
	if (mmc_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "aor", json_object_new_string(aor));
		json_object_object_add(o, "change", json_object_new_string(change));
		if (realm)
			json_object_object_add(o, "realm", json_object_new_string(realm));
		mmc_json_print(o);
	} else if (realm) {
		printf("local user %s %s (realm %s)\n", aor, change, realm);
	} else {
		printf("local user %s %s\n", aor, change);
	}
	return MMC_EXIT_OK;
}

static int
valid_aor(const struct gw_conf *c, const char *aor)
{
	const char *at = strchr(aor, '@');

	if (at == NULL || at == aor || strchr(at + 1, '@') || strpbrk(aor, " \t:;<>\"")) {
		mmc_fail(MMC_EXIT_USAGE, "'%s' is not a user@domain address", aor);
		return -1;
	}
	if (!gw_conf_serves(c, at + 1)) {
		mmc_fail(MMC_EXIT_USAGE, "domain '%s' is not served (see [server] domains)",
			 at + 1);
		return -1;
	}
	return 0;
}

static int
db_open(const struct gw_conf *c, struct gwstore **db)
{
	char err[600];

	mkdir(c->state_dir, 0750);
	if (gwstore_open_conf(db, c, GWSTORE_STATE, err, sizeof(err)) < 0) {
		mmc_fail(MMC_EXIT_FAIL, "cannot open the account database: %s", err);
		return -1;
	}
	mmc_state_db_own(c);
	return 0;
}

int
mmc_local_user(const struct gw_conf *c, int argc, char **argv)
{
	struct gwstore *db = NULL;
	char pw[512];
	bool pw_stdin = false;
	int ret = MMC_EXIT_USAGE;

	if (argc < 1) {
		return mmc_fail(MMC_EXIT_USAGE,
				"usage: greenwich-mmc local-user "
				"add|passwd|remove|list [USER@DOMAIN] [--password-stdin]");
	}
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--password-stdin") == 0)
			pw_stdin = true;
	if (db_open(c, &db) < 0)
		return MMC_EXIT_FAIL;
	if (strcmp(argv[0], "list") == 0) {
		json_object *arr = json_object_new_array();
		ret =
		    gwstore_account_each(db, print_account, arr) < 0 ? MMC_EXIT_FAIL : MMC_EXIT_OK;
		if (mmc_json)
			mmc_json_print(arr);
		else
			json_object_put(arr);
	} else if (strcmp(argv[0], "add") == 0 && argc >= 2) {
		if (valid_aor(c, argv[1]) < 0) {
			ret = MMC_EXIT_USAGE;
		} else if ((ret = mmc_read_new_secret(pw_stdin, "Password: ", pw, sizeof(pw))) !=
			   MMC_EXIT_OK) {
			/* said why */
		} else if (gwstore_account_set(db, argv[1], gw_conf_realm(c), pw) < 0) {
			ret = mmc_fail(MMC_EXIT_FAIL, "cannot store %s", argv[1]);
		} else {
			ret = report(argv[1], "added", gw_conf_realm(c));
			mmc_audit(c, "local-user add", argv[1], "password", "set", NULL);
		}
		OPENSSL_cleanse(pw, sizeof(pw));
	} else if (strcmp(argv[0], "passwd") == 0 && argc >= 2) {
		/* an existing account only: asked first, so a typo in the name is no prompt */
		struct gwstore_account a;
		if (valid_aor(c, argv[1]) < 0)
			ret = MMC_EXIT_USAGE;
		else if (gwstore_account_get(db, argv[1], &a) == -ENOENT)
			ret = mmc_fail(MMC_EXIT_NOTFOUND, "no local user %s", argv[1]);
		else if ((ret = mmc_read_new_secret(pw_stdin, "New password: ", pw, sizeof(pw))) ==
			 MMC_EXIT_OK)
			ret = mmc_local_user_password(c, argv[1], pw);
		OPENSSL_cleanse(pw, sizeof(pw));
	} else if (strcmp(argv[0], "remove") == 0 && argc >= 2) {
		int rc = gwstore_account_remove(db, argv[1]);
		if (rc == -ENOENT) {
			ret = mmc_fail(MMC_EXIT_NOTFOUND, "no local user %s", argv[1]);
		} else if (rc < 0) {
			ret = mmc_fail(MMC_EXIT_FAIL, "cannot remove %s", argv[1]);
		} else {
			ret = report(argv[1], "removed", NULL);
			mmc_audit(c, "local-user remove", argv[1], NULL);
		}
	} else if (!strcmp(argv[0], "add") || !strcmp(argv[0], "remove") ||
		   !strcmp(argv[0], "passwd")) {
		mmc_fail(ret, "local-user %s needs USER@DOMAIN", argv[0]);
	} else {
		mmc_fail(ret, "unknown local-user command '%s'", argv[0]);
	}
	gwstore_close(db);
	return ret;
}

struct each {
	mmc_aor_fn *cb;
	void *arg;
};

static int
each_cb(const struct gwstore_account *a, void *arg)
{
	struct each *e = arg;
	e->cb(a->aor, e->arg);
	return 0;
}

/* Calls cb with each local account's address, in order. */
int
mmc_local_user_each(const struct gw_conf *c, mmc_aor_fn *cb, void *arg)
{
	struct gwstore *db = NULL;
	struct each e = {cb, arg};
	int ret;

	if (db_open(c, &db) < 0)
		return -EIO;
	ret = gwstore_account_each(db, each_cb, &e);
	gwstore_close(db);
	return ret;
}

/* Look an account up (and set a new password when pw is not NULL); an exit code. */
static int
account_get(const struct gw_conf *c, const char *aor, struct gwstore_account *a, const char *pw)
{
	struct gwstore *db = NULL;
	int rc;

	if (db_open(c, &db) < 0)
		return MMC_EXIT_FAIL;
	rc = gwstore_account_get(db, aor, a);
	if (rc == 0 && pw != NULL)
		rc = gwstore_account_set(db, aor, gw_conf_realm(c), pw);
	gwstore_close(db);
	if (rc == -ENOENT)
		return mmc_fail(MMC_EXIT_NOTFOUND, "no local user %s", aor);
	if (rc < 0)
		return mmc_fail(MMC_EXIT_FAIL, "cannot %s %s", pw ? "store" : "read", aor);
	return MMC_EXIT_OK;
}

/* The properties of one account (never its hashes). */
int
mmc_local_user_show(const struct gw_conf *c, const char *aor)
{
	struct gwstore_account a;
	int rc = account_get(c, aor, &a, NULL);

	if (rc != MMC_EXIT_OK)
		return rc;
	const char *rows[][2] = {{"aor", a.aor},
				 {"realm", a.realm},
				 {"md5", a.ha1_md5[0] ? "yes" : "no"},
				 {"sha-256", a.ha1_sha256[0] ? "yes" : "no"},
				 {"password", "(set; change it with: set password)"}};
	struct mmc_props *p = mmc_props_new();
	for (size_t i = 0; i < (mmc_json ? 4u : 5u); i++)
		mmc_props_add(p, rows[i][0], rows[i][1]);
	mmc_props_print(p);
	return MMC_EXIT_OK;
}

/* A new password for an existing account, hashed for the realm now in effect. */
int
mmc_local_user_password(const struct gw_conf *c, const char *aor, const char *pw)
{
	struct gwstore_account a;
	int rc = account_get(c, aor, &a, pw);

	if (rc != MMC_EXIT_OK)
		return rc;
	if (mmc_json)
		report(aor, "password changed", NULL);
	else
		printf("password of %s changed\n", aor);
	mmc_audit(c, "local-user password", aor, NULL);
	return MMC_EXIT_OK;
}
