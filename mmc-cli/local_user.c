/*
 * local_user.c - `greenwich-mmc local-user add|remove|list`: Digest accounts
 * for users outside the domain, stored as HA1 hashes in the server's database.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "gwconf.h"
#include "mmc.h"
#include "userdb.h"

static int
read_password(bool from_stdin, char *buf, size_t len)
{
	if (from_stdin) {
		if (fgets(buf, (int)len, stdin) == NULL)
			return -1;
		buf[strcspn(buf, "\r\n")] = '\0';
		return buf[0] ? 0 : -1;
	}
	char *p = getpass("Password: ");
	if (p == NULL || p[0] == '\0')
		return -1;
	snprintf(buf, len, "%s", p);
	OPENSSL_cleanse(p, strlen(p));
	return 0;
}

static int
print_account(const struct userdb_account *a, void *arg)
{
	bool *json_first = arg;

	if (mmc_json) {
		printf("%s{\"aor\":\"%s\",\"realm\":\"%s\"}", *json_first ? "" : ",", a->aor, a->realm);
		*json_first = false;
	} else {
		printf("%-40s %s\n", a->aor, a->realm);
	}
	return 0;
}

static int
valid_aor(const struct gw_conf *c, const char *aor)
{
	const char *at = strchr(aor, '@');

	if (at == NULL || at == aor || strchr(at + 1, '@') || strpbrk(aor, " \t:;<>\"")) {
		fprintf(stderr, "greenwich-mmc: '%s' is not a user@domain address\n", aor);
		return -1;
	}
	if (!gw_conf_serves(c, at + 1)) {
		fprintf(stderr, "greenwich-mmc: domain '%s' is not served (see [server] domains)\n",
			at + 1);
		return -1;
	}
	return 0;
}

int
mmc_local_user(const struct gw_conf *c, int argc, char **argv)
{
	struct userdb *db = NULL;
	char path[600], err[600], pw[512];
	bool pw_stdin = false;
	int ret = MMC_EXIT_USAGE;

	if (argc < 1) {
		fprintf(stderr, "usage: greenwich-mmc local-user add|remove|list [USER@DOMAIN] "
				"[--password-stdin]\n");
		return MMC_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--password-stdin") == 0)
			pw_stdin = true;
	mkdir(c->state_dir, 0750);
	snprintf(path, sizeof(path), "%s/greenwich.db", c->state_dir);
	if (userdb_open(&db, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "greenwich-mmc: cannot open the account database: %s\n", err);
		return MMC_EXIT_FAIL;
	}
	if (strcmp(argv[0], "list") == 0) {
		bool first = true;
		if (mmc_json)
			printf("[");
		ret = userdb_list(db, print_account, &first) < 0 ? MMC_EXIT_FAIL : MMC_EXIT_OK;
		if (mmc_json)
			printf("]\n");
	} else if (strcmp(argv[0], "add") == 0 && argc >= 2) {
		if (valid_aor(c, argv[1]) < 0) {
			ret = MMC_EXIT_USAGE;
		} else if (read_password(pw_stdin, pw, sizeof(pw)) < 0) {
			fprintf(stderr, "greenwich-mmc: an empty password is not allowed\n");
			ret = MMC_EXIT_USAGE;
		} else if (userdb_set(db, argv[1], gw_conf_realm(c), pw) < 0) {
			fprintf(stderr, "greenwich-mmc: cannot store %s\n", argv[1]);
			ret = MMC_EXIT_FAIL;
		} else {
			printf("local user %s added (realm %s)\n", argv[1], gw_conf_realm(c));
			ret = MMC_EXIT_OK;
		}
		OPENSSL_cleanse(pw, sizeof(pw));
	} else if (strcmp(argv[0], "remove") == 0 && argc >= 2) {
		int rc = userdb_remove(db, argv[1]);
		if (rc == -ENOENT)
			fprintf(stderr, "greenwich-mmc: no local user %s\n", argv[1]);
		else if (rc < 0)
			fprintf(stderr, "greenwich-mmc: cannot remove %s\n", argv[1]);
		else
			printf("local user %s removed\n", argv[1]);
		ret = rc == 0 ? MMC_EXIT_OK : rc == -ENOENT ? MMC_EXIT_NOTFOUND : MMC_EXIT_FAIL;
	} else {
		fprintf(stderr, "greenwich-mmc: unknown local-user command '%s'\n", argv[0]);
	}
	userdb_close(db);
	return ret;
}
