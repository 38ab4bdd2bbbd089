/*
 * tlsfiles.c - Sofia's TLS transport loads "agent.pem" (private key and
 * certificate chain) and "cafile.pem" from one directory.  greenwich.conf
 * names a certificate and a key file, as admins keep them; this joins them
 * into a private directory under the state directory at start-up.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gwd.h"
#include "tlsfiles.h"

static int
append_file(int out, const char *path, char *err, size_t errlen)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "[tls] cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			close(fd);
			snprintf(err, errlen, "cannot write TLS files: %s", strerror(errno));
			return -1;
		}
	close(fd);
	return n < 0 ? -1 : 0;
}

static int
check_pem(const char *path, bool key, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	void *obj;

	if (fp == NULL) {
		snprintf(err, errlen, "[tls] cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	obj = key ? (void *)PEM_read_PrivateKey(fp, NULL, NULL, NULL)
		  : (void *)PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (obj == NULL) {
		snprintf(err, errlen, "[tls] %s is not a PEM %s", path,
			 key ? "private key" : "certificate");
		return -1;
	}
	if (key)
		EVP_PKEY_free(obj);
	else
		X509_free(obj);
	return 0;
}

int
tlsfiles_prepare(struct gwd *g, char *err, size_t errlen)
{
	const struct gw_conf *c = g->conf;
	char path[600];
	int fd;

	if (c->tls.n == 0)
		return 0;
	if (check_pem(c->tls_certificate, false, err, errlen) < 0 ||
	    check_pem(c->tls_key, true, err, errlen) < 0)
		return -1;
	snprintf(g->tls_dir, sizeof(g->tls_dir), "%s/tls", c->state_dir);
	if (mkdir(g->tls_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", g->tls_dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/agent.pem", g->tls_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	int ret = append_file(fd, c->tls_key, err, errlen);
	if (ret == 0)
		ret = append_file(fd, c->tls_certificate, err, errlen);
	close(fd);
	return ret;
}
