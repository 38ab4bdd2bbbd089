/*
 * anchor.c - the sign-in row's anchors: how fast greenwichd's own sign-in
 * primitives run in a plain loop, with no SIP around them.
 *
 *   anchor challenges N NBDOMAIN NBCOMPUTER DNSDOMAIN DNSCOMPUTER
 *       N lines "CHAL-HEX CHALLENGE-MESSAGE-HEX" (sipae_ntlm_challenge), for
 *       tokens.py to answer as a client would.
 *   anchor ntlm THREADS < "CHAL-HEX AUTHENTICATE-HEX" lines
 *       winbind authentications (sipae_ntlm_check) of every line, THREADS at once.
 *   anchor krb KEYTAB THREADS < AP-REQ hex lines
 *       GSSAPI accepts (sipae_krb_accept) of every token, THREADS at once.
 *
 * Prints "anchor what=... ok=N failed=N seconds=S rate=R cpu_us=C" (CPU of
 * this process per operation; the DC's and winbindd's CPU are not in it).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "gwsipae.h"

#define TOKEN_MAX 16384

struct item {
	uint8_t chal[8];
	uint8_t *buf;
	size_t len;
};

struct run {
	struct item *v;
	size_t n;
	atomic_size_t next;
	atomic_size_t ok, failed;
	struct sipae_krb *krb; /* NULL: NTLM */
};

static int
hex_item(const char *hex, struct item *it)
{
	uint8_t tmp[TOKEN_MAX];
	int n = sipae_unhex(tmp, sizeof(tmp), hex);

	if (n <= 0 || (it->buf = malloc((size_t)n)) == NULL)
		return -EINVAL;
	memcpy(it->buf, tmp, (size_t)n);
	it->len = (size_t)n;
	return 0;
}

/* Every line of stdin: "[CHAL-HEX ]DATA-HEX". */
static int
read_items(struct run *r, int with_chal)
{
	static char line[2 * TOKEN_MAX + 64];
	size_t cap = 0;

	while (fgets(line, sizeof(line), stdin)) {
		char *data = strtok(line, " \n"), *chal = NULL;
		if (data == NULL)
			continue;
		if (with_chal) {
			chal = data;
			data = strtok(NULL, " \n");
		}
		if (r->n == cap) {
			cap = cap ? 2 * cap : 256;
			struct item *nv = realloc(r->v, cap * sizeof(*nv));
			if (nv == NULL)
				return -ENOMEM;
			r->v = nv;
		}
		struct item *it = &r->v[r->n];
		memset(it, 0, sizeof(*it));
		if (data == NULL || hex_item(data, it) < 0 ||
		    (chal && sipae_unhex(it->chal, sizeof(it->chal), chal) != 8))
			return -EINVAL;
		r->n++;
	}
	return r->n > 0 ? 0 : -ENODATA;
}

static int
one_ntlm(const struct item *it)
{
	struct sipae_ntlm_auth a;
	struct sipae_ntlm_result res;
	char err[128];
	int ok;

	if (sipae_ntlm_parse_auth(it->buf, it->len, &a, err, sizeof(err)) < 0)
		return -EINVAL;
	memset(&res, 0, sizeof(res));
	ok = sipae_ntlm_check(&a, it->chal, &res) == 0 && res.refusal == SIPAE_OK;
	if (!ok)
		fprintf(stderr, "ntlm: %s\n", res.status);
	sipae_ntlm_result_free(&res);
	sipae_ntlm_auth_free(&a);
	return ok ? 0 : -EACCES;
}

static int
one_krb(struct sipae_krb *k, const struct item *it)
{
	struct sipae_krb_ctx *ctx = NULL;
	char who[256], err[256];
	time_t exp;
	int ret = sipae_krb_accept(k, it->buf, it->len, NULL, 0, &ctx, who, sizeof(who), &exp, NULL,
				   NULL, err, sizeof(err));

	if (ret < 0)
		fprintf(stderr, "krb: %s\n", err);
	sipae_krb_ctx_free(ctx);
	return ret;
}

static void *
run_main(void *arg)
{
	struct run *r = arg;
	size_t i;

	while ((i = atomic_fetch_add(&r->next, 1)) < r->n) {
		int ret = r->krb ? one_krb(r->krb, &r->v[i]) : one_ntlm(&r->v[i]);
		atomic_fetch_add(ret == 0 ? &r->ok : &r->failed, 1);
	}
	return NULL;
}

/* Seconds since t0 (CLOCK_MONOTONIC). */
static double
since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int
run_all(struct run *r, int nthreads, const char *what)
{
	pthread_t t[64];
	struct timespec t0;
	double c0 = cpu_s();

	clock_gettime(CLOCK_MONOTONIC, &t0);

	if (nthreads < 1 || nthreads > 64)
		return 2;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, run_main, r);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	double wall = since(&t0), cpu = cpu_s() - c0;
	size_t ok = atomic_load(&r->ok);
	printf("anchor what=%s ok=%zu failed=%zu seconds=%.2f rate=%.1f cpu_us=%.0f\n", what, ok,
	       atomic_load(&r->failed), wall, (double)ok / wall, ok ? cpu * 1e6 / (double)ok : 0);
	return ok > 0 && atomic_load(&r->failed) == 0 ? 0 : 1;
}

static int
challenges(int n, char **names)
{
	struct sipae_ntlm_names nm = {names[0], names[1], names[2], names[3]};

	for (int i = 0; i < n; i++) {
		uint8_t chal[8], *msg = NULL;
		size_t len = 0;
		char ch[17], *hex;
		if (sipae_ntlm_challenge(&nm, chal, &msg, &len) < 0 ||
		    (hex = malloc(2 * len + 1)) == NULL)
			return 1;
		sipae_hex(ch, chal, sizeof(chal));
		sipae_hex(hex, msg, len);
		printf("%s %s\n", ch, hex);
		free(hex);
		free(msg);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct run r = {0};
	char err[256];
	int ret = 2;

	if (sipae_init() < 0)
		return 2;
	if (argc == 7 && strcmp(argv[1], "challenges") == 0)
		return challenges(atoi(argv[2]), argv + 3);
	if (argc == 3 && strcmp(argv[1], "ntlm") == 0) {
		if (read_items(&r, 1) == 0)
			ret = run_all(&r, atoi(argv[2]), "ntlm");
	} else if (argc == 4 && strcmp(argv[1], "krb") == 0) {
		if (sipae_krb_open(&r.krb, argv[2], err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 2;
		}
		if (read_items(&r, 0) == 0)
			ret = run_all(&r, atoi(argv[3]), "krb");
		sipae_krb_close(r.krb);
	} else {
		fprintf(stderr, "usage: see anchor.c\n");
	}
	for (size_t i = 0; i < r.n; i++)
		free(r.v[i].buf);
	free(r.v);
	return ret;
}
