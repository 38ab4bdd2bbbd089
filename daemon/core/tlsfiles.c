/*
 * tlsfiles.c - Sofia's TLS transport loads "agent.pem" (private key and
 * certificate chain) and "cafile.pem" from one directory.  greenwich.conf
 * names a certificate and a key file, as admins keep them; this joins them
 * into a private directory under the state directory at start-up, with a copy
 * of [tls] ca-file as cafile.pem (the trust anchors for partner servers).
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

#include "tlspolicy.h"
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

/* <tls_dir>/name: the concatenation of the files a and b (b may be NULL); 0 or -1. */
static int
write_joined(const char *dir, const char *name, const char *a, const char *b, char *err,
	     size_t errlen)
{
	char path[600];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	ret = append_file(fd, a, err, errlen);
	if (ret == 0 && b)
		ret = append_file(fd, b, err, errlen);
	close(fd);
	return ret;
}

int
tlsfiles_prepare(struct gwd *g, char *err, size_t errlen)
{
	const struct gw_conf *c = g->conf;
	char path[600];

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
	if (write_joined(g->tls_dir, "agent.pem", c->tls_key, c->tls_certificate, err, errlen) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/cafile.pem", g->tls_dir);
	if (c->tls_ca_file[0] == '\0') {
		unlink(path); /* left by an earlier configuration */
		tlspolicy_request_client_cert(false);
		return 0;
	}
	if (check_pem(c->tls_ca_file, false, err, errlen) < 0 ||
	    write_joined(g->tls_dir, "cafile.pem", c->tls_ca_file, NULL, err, errlen) < 0)
		return -1;
	tlspolicy_request_client_cert(c->tls_verify_peer);
	return 0;
}
