/*
 * statefile.c - files greenwich-mmc makes in the state directory belong to greenwichd.
 *
 * greenwich-mmc usually runs as root (an administrator's sudo), greenwichd as the
 * state directory's owner (the greenwich user): a database or log created by the
 * console must not end up root's, or greenwichd could not write it, nor readable
 * by others, as it holds Digest HA1s and presence.  Each such file, and the
 * journal files SQLite keeps beside a database, is given to the directory's owner
 * and group with mode 0640.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmc.h"

static void
own_one(const struct stat *dir, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return; /* SQLite's journal files come and go */
	if (geteuid() == 0 && (st.st_uid != dir->st_uid || st.st_gid != dir->st_gid) &&
	    chown(path, dir->st_uid, dir->st_gid) < 0)
		mmc_err("cannot give %s to the owner of the state directory: %s", path,
			strerror(errno));
	if ((st.st_mode & 07777) != 0640 && chmod(path, 0640) < 0)
		mmc_err("cannot make %s mode 0640: %s", path, strerror(errno));
}

void
mmc_state_file_own(const struct gw_conf *c, const char *path)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	struct stat dir;
	char p[1024];

	if (stat(c->state_dir, &dir) < 0)
		return;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		own_one(&dir, p);
	}
}

void
mmc_state_db_own(const struct gw_conf *c)
{
	char path[1024];

	if (strcasecmp(c->store_backend, "sqlite") != 0)
		return; /* the tables live in PostgreSQL: no file here */
	snprintf(path, sizeof(path), "%s/greenwich.db", c->state_dir);
	mmc_state_file_own(c, path);
}
