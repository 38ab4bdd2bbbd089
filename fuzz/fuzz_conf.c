/*
 * fuzz_conf.c - greenwich.conf (common/gwconf.c): the INI parser with its
 * table of keys, values and bounds, and the cross-checks of conf_validate().
 * gw_conf_load() reads a path, so the input goes through a memfd.  A refusal
 * must say why; what is accepted must answer the daemon's questions, and its
 * Digest algorithms must be ones common/digest.c knows.
 */
#define _GNU_SOURCE
#include "config.h"

#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "digest.h"
#include "gwconf.h"

static int fd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("greenwich.conf", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_conf *c;
	char err[512] = "";

	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	c = gw_conf_load(path, err, sizeof(err));
	if (c == NULL) {
		FUZZ_ASSERT(err[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(c->domains.n >= 1 && c->domains.v[0] != NULL);
	FUZZ_ASSERT(gw_conf_serves(c, c->domains.v[0]));
	FUZZ_ASSERT(gw_conf_realm(c) != NULL);
	(void)gw_conf_scheme(c, GW_SCHEME_NTLM);
	(void)gw_conf_scheme(c, GW_SCHEME_DIGEST);
	(void)gw_conf_route(c, "helpdesk@corp.example.com");
	for (size_t i = 0; i < c->routes.n; i++)
		FUZZ_ASSERT(c->routes.v[i] != NULL);
	/* every algorithm the file names is one digest.c makes challenges with */
	for (size_t i = 0; i < c->digest_algorithms.n; i++) {
		int alg = gw_digest_alg_parse(c->digest_algorithms.v[i]);
		char ha1[65];
		FUZZ_ASSERT(alg >= 0);
		FUZZ_ASSERT(gw_digest_ha1(alg, ha1, "alice", gw_conf_realm(c), "secret") == 0);
		FUZZ_ASSERT(strlen(ha1) == gw_digest_hexlen(alg));
	}
	gw_conf_free(c);
	return 0;
}
