/*
 * unit.c - scratch files and socket addresses for the unit tests.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

int
unit_dir_make(char *out, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(out, len, "%s/gw-unit-XXXXXX", tmp) >= len)
		return -ENAMETOOLONG;
	return mkdtemp(out) ? 0 : -errno;
}

static int
_remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

void
unit_dir_remove(const char *dir)
{
	nftw(dir, _remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

int
unit_file_write(char *out, size_t len, const char *dir, const char *text)
{
	size_t n = strlen(text);
	int fd;
	int ret = 0;

	if ((size_t)snprintf(out, len, "%s/conf-XXXXXX", dir) >= len)
		return -ENAMETOOLONG;
	fd = mkstemp(out);
	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		ret = -EIO;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	return ret;
}

bool
unit_file_contains(const char *path, const void *needle, size_t n)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, len = 0, got;
	bool found = false;

	if (fp == NULL)
		return false;
	do {
		if (len == cap) {
			char *nb = realloc(buf, cap ? cap * 2 : 65536);
			if (nb == NULL)
				goto done;
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
	} while (got > 0);
	found = memmem(buf, len, needle, n) != NULL;
done:
	free(buf);
	fclose(fp);
	return found;
}

bool
unit_sockaddr(struct sockaddr_storage *ss, const char *ip, unsigned short port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return true;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return true;
	}
	return false;
}
