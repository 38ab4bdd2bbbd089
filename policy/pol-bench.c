/*
 * pol-bench.c - micro-benchmark of pol_eval(): 100 rules, sender and recipient each in 50
 * groups, printed as decisions per second on one core.
 *
 * usage: pol-bench [iterations]     (default 2000000)
 *
 * Most rules name groups the parties are not in, so a decision walks nearly the whole set
 * before the last rules or the default decide: close to the worst case.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gwpolicy.h"

#define BENCH_RULES 100
#define BENCH_GROUPS 50
#define DOMAIN_SID "S-1-5-21-1004336348-1177238915-682003330"

struct bench {
	struct pol_set *set;
	char from_sids[BENCH_GROUPS][64], to_sids[BENCH_GROUPS][64];
	const char *from_ptrs[BENCH_GROUPS], *to_ptrs[BENCH_GROUPS];
};

/* Append rule number i: rules 0..97 name groups nobody here is in; the last two match. */
static int
bench_rule(char *buf, size_t size, int i)
{
	static const char *const classes[] = {"im", "call", "presence", "im, call"};
	int from_rid = 5000 + 2 * i, to_rid = 7000 + i;

	if (i == BENCH_RULES - 2)
		from_rid = 1000 + BENCH_GROUPS - 1; /* the sender's last group */
	if (i >= BENCH_RULES - 2)
		to_rid = 2000 + BENCH_GROUPS - 1;
	return snprintf(buf, size,
			"rule \"r%d\" priority %d {\n"
			"\tclass %s;\n"
			"\tfrom group " DOMAIN_SID "-%d \"G%d\", group " DOMAIN_SID "-%d, "
			"user sip:u%d@corp.example.com;\n"
			"\tto group " DOMAIN_SID "-%d \"T%d\", domain d%d.example.com;\n"
			"\texcept from network remote;\n"
			"\taction %s;\n}\n",
			i, 10 * (i + 1), classes[i % 4], from_rid, from_rid, from_rid + 1, i,
			to_rid, to_rid, i, i % 2 ? "deny 488 \"Not Here\"" : "allow");
}

static int
bench_setup(struct bench *b)
{
	size_t size = 64 * 1024, len = 0;
	char *text = malloc(size);
	struct pol_error err;
	int ret;

	if (text == NULL)
		return -ENOMEM;
	for (int i = 0; i < BENCH_RULES; i++)
		len += (size_t)bench_rule(text + len, size - len, i);
	for (int g = 0; g < BENCH_GROUPS; g++) {
		snprintf(b->from_sids[g], sizeof(b->from_sids[g]), DOMAIN_SID "-%d", 1000 + g);
		snprintf(b->to_sids[g], sizeof(b->to_sids[g]), DOMAIN_SID "-%d", 2000 + g);
		b->from_ptrs[g] = b->from_sids[g];
		b->to_ptrs[g] = b->to_sids[g];
	}
	ret = pol_set_parse(text, len, &b->set, &err);
	if (ret < 0)
		fprintf(stderr, "pol-bench: rules: %u:%u: %s\n", err.line, err.column, err.msg);
	free(text);
	return ret;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static const enum pol_class classes[] = {POL_CLASS_IM, POL_CLASS_CALL, POL_CLASS_PRESENCE};
	struct bench b;
	struct pol_request req;
	struct pol_decision d;
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
	unsigned long allowed = 0, by_rule = 0;
	double t0, secs;

	if (iters == 0 || bench_setup(&b) < 0)
		return 1;
	memset(&req, 0, sizeof(req));
	req.from.uri = "sip:alice@corp.example.com";
	req.from.sids = b.from_ptrs;
	req.from.nsids = BENCH_GROUPS;
	req.to.uri = "sip:bob@corp.example.com";
	req.to.sids = b.to_ptrs;
	req.to.nsids = BENCH_GROUPS;
	t0 = now();
	for (unsigned long i = 0; i < iters; i++) {
		req.req_class = classes[i % 3];
		req.zone = (i & 4) ? POL_ZONE_EXTERNAL : POL_ZONE_INTERNAL;
		req.net = (i & 8) ? POL_NET_REMOTE : POL_NET_INTERNAL;
		if (pol_eval(b.set, &req, &d) < 0)
			return 1;
		allowed += d.verdict == POL_ALLOW;
		by_rule += !d.by_default;
	}
	secs = now() - t0;
	printf("rules %zu, groups per party %d, decisions %lu (allowed %lu, by a rule %lu)\n",
	       pol_set_count(b.set), BENCH_GROUPS, iters, allowed, by_rule);
	printf("%.0f decisions per second, %.1f ns per decision\n", (double)iters / secs,
	       secs * 1e9 / (double)iters);
	pol_set_free(b.set);
	return allowed > 0 && by_rule > 0 && by_rule < iters ? 0 : 1;
}
