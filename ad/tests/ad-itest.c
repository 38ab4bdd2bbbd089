/*
 * ad-itest.c - libgwad against a real Samba AD DC (run by t-addc.sh inside the DC's
 * domain). Usage: ad-itest KEYTAB SYNCDIR. Checks every fixture user, the enabled-group
 * logic, fail-over, asynchronous lookups through the descriptor, and (with t-addc.sh
 * stopping and starting the DC at the sync points) the cache and fail-fast behaviour
 * while the DC is down and the recovery once it is back. Prints "ok"/"FAIL" lines.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gwad.h"

#define UNIX_2020 1577836800LL

static int fails, checks;
static const char *keytab, *syncdir, *domain;

static bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	fails += !ok;
	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return ok;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Tells t-addc.sh we reached @name and waits until it says go. */
static void
sync_point(const char *name)
{
	char path[4096];
	int i, fd;

	snprintf(path, sizeof(path), "%s/%s.ready", syncdir, name);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/%s.go", syncdir, name);
	for (i = 0; i < 1800 && access(path, F_OK) != 0; i++)
		usleep(100000);
}

static int ticket_lifetime;

static struct ad_ctx *
ctx_make(const char *group, const char *const *servers, int ttl)
{
	struct ad_config cfg;
	struct ad_ctx *ctx = NULL;
	char reason[AD_REASON_LEN] = "";
	int ret;

	ad_config_init(&cfg);
	cfg.domain = domain;
	cfg.keytab = keytab;
	cfg.group = group;
	cfg.servers = servers;
	cfg.use_srv = servers == NULL;
	cfg.cache_ttl = ttl;
	cfg.retry_interval_ms = 500;
	cfg.connect_timeout_ms = 2000;
	cfg.ticket_lifetime = ticket_lifetime;
	ret = ad_ctx_alloc(&cfg, &ctx, reason);
	check(ret == 0, "context (group %s, %s): %s %s", group ? group : "none",
	      servers ? "servers" : "SRV", ad_strerror(ret), reason);
	if (ret != 0)
		exit(1);
	return ctx;
}

/* A blocking lookup that must end with @expect; returns the user (or NULL). */
static struct ad_user *
look(struct ad_ctx *ctx, enum ad_query_type type, const char *value, int expect)
{
	struct ad_query q = {type, value};
	struct ad_user *u = NULL;
	char reason[AD_REASON_LEN] = "";
	int ret = ad_user_lookup(ctx, &q, &u, reason);

	check(ret == expect && (ret == 0) == (u != NULL), "lookup %s: %s (want %s) %s", value,
	      ad_strerror(ret), ad_strerror(expect), reason);
	return u;
}

static void
check_str(const char *what, const char *got, const char *want)
{
	bool ok = want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0;

	check(ok, "%s is %s (got %s)", what, want ? want : "(none)", got ? got : "(none)");
}

static void
fixtures_sip(struct ad_ctx *ctx)
{
	struct ad_user *u;
	char want[256];

	u = look(ctx, AD_QUERY_SIP_URI, "sip:alice@corp.example.com", 0);
	if (u != NULL) {
		check_str("alice's sAMAccountName", u->sam, "alice");
		check_str("alice's URI (from mail)", u->sip_uri, "sip:alice@corp.example.com");
		check(u->alias_count == 0, "alice has no aliases");
		check(strncmp(u->sid, "S-1-5-21-", 9) == 0, "alice's SID %s", u->sid);
		check(ad_user_check(u) == 0, "alice may use Greenwich");
		snprintf(want, sizeof(want), "alice@%s", domain);
		check_str("alice's UPN", u->upn, want);
	}
	ad_user_free(u);
	u = look(ctx, AD_QUERY_SIP_URI, "sip:robert@corp.example.com", 0);
	if (u != NULL) {
		check_str("robert", u->sam, "bob");
		check_str("bob's primary URI (SIP: proxyAddress)", u->sip_uri,
			  "sip:robert@corp.example.com");
		check(u->alias_count == 1, "bob has one alias");
		if (u->alias_count == 1)
			check_str("bob's alias", u->aliases[0], "sip:bobby@corp.example.com");
		check_str("bob's mail", u->mail, "bob@corp.example.com");
		check(ad_user_check(u) == 0, "bob may use Greenwich");
	}
	ad_user_free(u);
	u = look(ctx, AD_QUERY_SIP_URI, "SIP:Bobby@Corp.Example.com", 0);
	if (u != NULL)
		check_str("the alias (other case)", u->sam, "bob");
	ad_user_free(u);
	look(ctx, AD_QUERY_SIP_URI, "sip:bob@corp.example.com", -AD_ERR_NOT_FOUND);
	look(ctx, AD_QUERY_SIP_URI, "sip:dave@corp.example.com", -AD_ERR_NOT_FOUND);
	look(ctx, AD_QUERY_SIP_URI, "sip:nobody@corp.example.com", -AD_ERR_NOT_FOUND);
	look(ctx, AD_QUERY_SIP_URI, "sip:*@corp.example.com", -AD_ERR_NOT_FOUND);
}

static void
fixtures_state(struct ad_ctx *ctx)
{
	struct ad_user *u;

	u = look(ctx, AD_QUERY_SAM, "dave", 0);
	if (u != NULL) {
		check(u->sip_uri == NULL && u->mail == NULL, "dave has no SIP URI and no mail");
		check(ad_user_check(u) == -AD_ERR_NOT_ENABLED, "dave is not enabled");
	}
	ad_user_free(u);
	u = look(ctx, AD_QUERY_SIP_URI, "sip:erin@corp.example.com", 0);
	if (u != NULL) {
		check(u->flags & AD_USER_DISABLED, "erin is disabled (uac %u)", u->uac);
		check(ad_user_check(u) == -AD_ERR_DISABLED, "erin is refused as disabled");
	}
	ad_user_free(u);
	u = look(ctx, AD_QUERY_SIP_URI, "sip:frank@corp.example.com", 0);
	if (u != NULL) {
		check(u->flags & AD_USER_EXPIRED, "frank is expired");
		check(u->account_expires == UNIX_2020, "frank expired on 2020-01-01 (%lld)",
		      (long long)u->account_expires);
		check(ad_user_check(u) == -AD_ERR_EXPIRED, "frank is refused as expired");
	}
	ad_user_free(u);
	u = look(ctx, AD_QUERY_SAM, "Bob", 0);
	if (u != NULL)
		check_str("sAMAccountName Bob's URI", u->sip_uri, "sip:robert@corp.example.com");
	ad_user_free(u);
	/* AD_QUERY_ANY: an account name, or a UPN, mail or proxyAddresses sip: value */
	static const char *const any_bob[] = {
	    "bob", "bob@corp.example.com", "sip:bobby@corp.example.com", "robert@corp.example.com"};
	for (size_t i = 0; i < sizeof(any_bob) / sizeof(any_bob[0]); i++) {
		u = look(ctx, AD_QUERY_ANY, any_bob[i], 0);
		if (u != NULL)
			check_str(any_bob[i], u->sam, "bob");
		ad_user_free(u);
	}
	u = look(ctx, AD_QUERY_ANY, "carol@corp.example.com", 0);
	if (u != NULL)
		check_str("carol by UPN", u->sam, "carol");
	ad_user_free(u);
	look(ctx, AD_QUERY_ANY, "nobody@corp.example.com", -AD_ERR_NOT_FOUND);
	look(ctx, AD_QUERY_ANY, "sip:*@corp.example.com", -AD_ERR_NOT_FOUND);
}

/* carol is in Greenwich Users only through Support inside Staff. */
static void
fixtures_nested(struct ad_ctx *ctx, struct ad_ctx *staff)
{
	struct ad_user *c = look(ctx, AD_QUERY_UPN, "carol@corp.example.com", 0);
	struct ad_user *a = look(staff, AD_QUERY_SAM, "alice", 0);
	struct ad_user *cs = look(staff, AD_QUERY_SAM, "carol", 0);
	size_t i, extra = 0;

	if (c != NULL) {
		check(ad_user_check(c) == 0, "carol is enabled through nested groups");
		check_str("carol's URI", c->sip_uri, "sip:carol@corp.example.com");
	}
	if (a != NULL)
		check(ad_user_check(a) == -AD_ERR_NOT_ENABLED, "alice is not in Staff");
	if (cs != NULL)
		check(ad_user_check(cs) == 0, "carol is in Staff (through Support)");
	for (i = 0; a != NULL && cs != NULL && i < cs->group_count; i++)
		extra += !ad_user_has_sid(a, cs->group_sids[i]);
	check(extra >= 2, "carol has Support and Staff in tokenGroups, alice not (%zu)", extra);
	ad_user_free(c);
	ad_user_free(a);
	ad_user_free(cs);
}

/* Without a group everyone with a SIP URI is enabled; a group given by SID works. */
static void
groups_other(const char *const *servers)
{
	struct ad_ctx *any = ctx_make(NULL, servers, 300), *bysid;
	struct ad_user *u = look(any, AD_QUERY_SAM, "alice", 0), *d;
	char sid[200] = "";

	if (u != NULL) {
		check(ad_user_check(u) == 0, "no group: alice enabled (found through the list)");
		snprintf(sid, sizeof(sid), "%.*s-513", (int)(strrchr(u->sid, '-') - u->sid),
			 u->sid);
	}
	ad_user_free(u);
	d = look(any, AD_QUERY_SAM, "dave", 0);
	if (d != NULL)
		check(ad_user_check(d) == -AD_ERR_NOT_ENABLED, "no group: dave (no URI) not");
	ad_user_free(d);
	u = look(any, AD_QUERY_SAM, "Administrator", 0);
	if (u != NULL)
		check(ad_user_check(u) == -AD_ERR_NOT_ENABLED, "no group: Administrator not");
	ad_user_free(u);
	ad_ctx_free(any);
	bysid = ctx_make(sid, servers, 300);
	u = look(bysid, AD_QUERY_SAM, "bob", 0);
	if (u != NULL)
		check(ad_user_check(u) == 0, "group by SID (Domain Users %s): bob enabled", sid);
	ad_user_free(u);
	ad_ctx_free(bysid);
}

static void
listing(struct ad_ctx *ctx)
{
	struct ad_user **users = NULL;
	char reason[AD_REASON_LEN] = "";
	size_t i, n = 0, seen = 0;
	int ret = ad_user_list(ctx, &users, &n, reason);

	check(ret == 0, "listing: %s %s", ad_strerror(ret), reason);
	for (i = 0; i < n; i++) {
		const char *s = users[i]->sam;

		if (strcmp(s, "bob") == 0 && users[i]->sip_uri != NULL &&
		    strcmp(users[i]->sip_uri, "sip:robert@corp.example.com") == 0)
			seen |= 1;
		if (strcmp(s, "erin") == 0 && (users[i]->flags & AD_USER_DISABLED))
			seen |= 2;
		if (strcmp(s, "carol") == 0 && ad_user_check(users[i]) == 0)
			seen |= 4;
		if (strcmp(s, "dave") == 0 || strcmp(s, "alice") == 0 || strcmp(s, "frank") == 0)
			seen |= strcmp(s, "dave") == 0 ? 8 : s[0] == 'a' ? 16 : 32;
		check(strchr(s, '$') == NULL, "listing holds no computer account (%s)", s);
	}
	check(seen == 63, "listing of %zu users has all six fixtures with their flags", n);
	ad_user_list_free(users, n);
}

struct async_res {
	int done, status;
	char sam[64];
};

static void
async_cb(int status, struct ad_user *user, const char *reason, void *arg)
{
	struct async_res *r = arg;

	r->done++;
	r->status = status;
	snprintf(r->sam, sizeof(r->sam), "%s", user ? user->sam : reason);
	ad_user_free(user);
}

/* Sends lookups, then polls the descriptor and dispatches until all have completed. */
static int
async_run(struct ad_ctx *ctx, const char *const *uris, size_t n, struct async_res *res, int *sent)
{
	struct pollfd pfd = {ad_fd(ctx), POLLIN, 0};
	int64_t t0 = now_ms();
	size_t i, done = 0;

	for (i = 0; i < n; i++) {
		struct ad_query q = {AD_QUERY_SIP_URI, uris[i]};

		memset(&res[i], 0, sizeof(res[i]));
		sent[i] = ad_lookup_send(ctx, &q, async_cb, &res[i]);
	}
	while (now_ms() - t0 < 20000) {
		for (done = 0, i = 0; i < n; i++)
			done += res[i].done;
		if (done == n)
			break;
		if (poll(&pfd, 1, 1000) > 0)
			ad_dispatch(ctx);
	}
	return (int)(now_ms() - t0);
}

static void
async_lookups(struct ad_ctx *ctx)
{
	static const char *const uris[] = {
	    "sip:alice@corp.example.com", "sip:bobby@corp.example.com",
	    "sip:carol@corp.example.com", "sip:ghost@corp.example.com"};
	static const char *const want[] = {"alice", "bob", "carol", NULL};
	struct async_res res[4];
	int sent[4], i;

	async_run(ctx, uris, 4, res, sent);
	for (i = 0; i < 4; i++) {
		check(sent[i] == 0, "async %s queued (%d)", uris[i], sent[i]);
		check(res[i].done == 1, "async %s completed once through the fd", uris[i]);
		if (want[i] != NULL)
			check(res[i].status == 0 && strcmp(res[i].sam, want[i]) == 0,
			      "async %s is %s (%s)", uris[i], want[i], res[i].sam);
		else
			check(res[i].status == -AD_ERR_NOT_FOUND, "async %s not found", uris[i]);
	}
	async_run(ctx, uris, 4, res, sent);
	for (i = 0; i < 4; i++)
		check(sent[i] == AD_LOOKUP_DONE && res[i].done == 1,
		      "async %s again: answered at once from the cache", uris[i]);
	check(ad_dispatch(ctx) == 0, "nothing left to dispatch");
}

/* Credentials of 366 s are acquired again (and connections bound again) after 6 s. */
static void
renewal(void)
{
	struct ad_ctx *ctx;
	struct ad_user *u;
	struct ad_stats st;

	ticket_lifetime = 366;
	ctx = ctx_make(NULL, NULL, 300);
	ticket_lifetime = 0;
	u = look(ctx, AD_QUERY_SAM, "alice", 0);
	ad_user_free(u);
	usleep(6500 * 1000);
	u = look(ctx, AD_QUERY_SAM, "bob", 0);
	ad_user_free(u);
	ad_stats_get(ctx, &st);
	check(st.kinits == 2 && st.ldap_binds == 2,
	      "short tickets acquired again before expiry (%llu kinits, %llu binds)",
	      (unsigned long long)st.kinits, (unsigned long long)st.ldap_binds);
	ad_ctx_free(ctx);
}

/* Bad configuration and bad calls give clear errors. */
static void
bad_input(void)
{
	struct ad_config cfg;
	struct ad_ctx *ctx = NULL;
	struct ad_query q = {AD_QUERY_SAM, "alice"}, empty = {AD_QUERY_SAM, ""};
	char reason[AD_REASON_LEN] = "";
	int ret;

	ad_config_init(&cfg);
	cfg.keytab = keytab;
	ret = ad_ctx_alloc(&cfg, &ctx, reason);
	check(ret == -AD_ERR_CONFIG && ctx == NULL, "no domain: %s (%s)", ad_strerror(ret), reason);
	cfg.domain = domain;
	cfg.keytab = "/nonexistent/gw.keytab";
	ret = ad_ctx_alloc(&cfg, &ctx, reason);
	check(ret == -AD_ERR_KRB5 && ctx == NULL, "missing keytab: %s (%s)", ad_strerror(ret),
	      reason);
	ctx = ctx_make("No Such Group", NULL, 300);
	look(ctx, AD_QUERY_SAM, "alice", -AD_ERR_GROUP);
	check(ad_lookup_send(ctx, &q, NULL, NULL) == -EINVAL, "no callback: EINVAL");
	check(ad_lookup_send(ctx, &empty, async_cb, NULL) == -EINVAL, "empty query: EINVAL");
	ad_ctx_free(ctx);
}

/* A lookup that must fail with -AD_ERR_UNAVAILABLE within @max_ms. */
static void
look_unavailable(struct ad_ctx *ctx, enum ad_query_type type, const char *value, int max_ms)
{
	int64_t t0 = now_ms();
	struct ad_user *u = look(ctx, type, value, -AD_ERR_UNAVAILABLE);
	int ms = (int)(now_ms() - t0);

	check(ms < max_ms, "%s failed fast (%d ms)", value, ms);
	ad_user_free(u);
}

static void
dc_down(struct ad_ctx *ctx, struct ad_ctx *shortttl)
{
	static const char *const uri[] = {"sip:nobody2@corp.example.com"};
	struct ad_user *u;
	struct ad_stats st;
	struct async_res res;
	int sent, ms;

	u = look(shortttl, AD_QUERY_SAM, "alice", 0);
	ad_user_free(u);
	sync_point("stop");
	u = look(ctx, AD_QUERY_SIP_URI, "sip:alice@corp.example.com", 0);
	check(u != NULL && strcmp(u->sam, "alice") == 0, "DC down: alice from the cache");
	ad_user_free(u);
	look(ctx, AD_QUERY_SIP_URI, "sip:nobody@corp.example.com", -AD_ERR_NOT_FOUND);
	/* never looked up (frank and erin are known by their URIs: cached by name too) */
	look_unavailable(ctx, AD_QUERY_SAM, "nobody3", 3000);
	look_unavailable(ctx, AD_QUERY_SAM, "nobody4", 100);
	u = look(ctx, AD_QUERY_SAM, "erin", 0);
	check(u != NULL && ad_user_check(u) == -AD_ERR_DISABLED,
	      "DC down: erin (looked up by URI) known by name, still disabled");
	ad_user_free(u);
	ad_stats_get(ctx, &st);
	check(st.fail_fast >= 1, "the second one failed without trying (%llu fail-fast)",
	      (unsigned long long)st.fail_fast);
	ms = async_run(ctx, uri, 1, &res, &sent);
	check(res.done == 1 && res.status == -AD_ERR_UNAVAILABLE && ms < 3000,
	      "DC down: async lookup completes with unavailable in %d ms (%s)", ms,
	      sent == AD_LOOKUP_DONE ? "at once" : "through the fd");
	usleep(1100 * 1000);
	u = look(shortttl, AD_QUERY_SAM, "alice", 0);
	check(u != NULL && strcmp(u->sam, "alice") == 0,
	      "DC down, TTL over: alice's last known answer");
	ad_user_free(u);
	u = look(shortttl, AD_QUERY_SIP_URI, "sip:alice@corp.example.com", 0);
	check(u != NULL, "... and by her URI, though only looked up by name");
	ad_user_free(u);
	ad_stats_get(shortttl, &st);
	check(st.stale >= 2 && st.is_offline && st.offline == 1,
	      "stale answers counted (%llu), offline once (%llu)", (unsigned long long)st.stale,
	      (unsigned long long)st.offline);
	look_unavailable(shortttl, AD_QUERY_SAM, "nobody5", 3000);
	sync_point("start");
	usleep(600 * 1000);
	u = look(ctx, AD_QUERY_SAM, "frank", 0);
	check(u != NULL && (u->flags & AD_USER_EXPIRED), "DC back: frank found again");
	ad_user_free(u);
	u = look(shortttl, AD_QUERY_SAM, "alice", 0);
	ad_user_free(u);
	ad_stats_get(shortttl, &st);
	check(!st.is_offline, "DC back: online again");
	async_run(ctx, uri, 1, &res, &sent);
	check(sent == 0 && res.status == -AD_ERR_NOT_FOUND, "DC back: async lookup through the fd");
	ad_stats_get(ctx, &st);
	check(st.ldap_binds >= 2 && st.kinits == 1,
	      "same context reconnected (%llu binds, %llu kinit, DC %s)",
	      (unsigned long long)st.ldap_binds, (unsigned long long)st.kinits, st.dc);
}

int
main(int argc, char **argv)
{
	static const char *const servers[] = {"dc9.corp.example.com", "dc1.corp.example.com", NULL};
	struct ad_ctx *ctx, *staff, *async, *shortttl;
	struct ad_stats st;

	if (argc != 3 || getenv("ADDC_DNS_DOMAIN") == NULL) {
		fprintf(stderr, "usage: ad-itest KEYTAB SYNCDIR (in the DC's domain)\n");
		return 2;
	}
	keytab = argv[1];
	syncdir = argv[2];
	domain = getenv("ADDC_DNS_DOMAIN");
	/* The library must not need (or touch) the process's credential cache. */
	setenv("KRB5CCNAME", "FILE:/nonexistent/gwad-itest-ccache", 1);
	ctx = ctx_make("Greenwich Users", NULL, 300);
	staff = ctx_make("Staff", NULL, 300);
	fixtures_sip(ctx);
	fixtures_state(ctx);
	fixtures_nested(ctx, staff);
	ad_stats_get(ctx, &st);
	check(strcmp(st.dc, "dc1.corp.example.com:389") == 0, "DC found by SRV: %s", st.dc);
	check(st.cache_entries > 0 && st.kinits == 1, "%zu answers cached, one kinit",
	      st.cache_entries);
	look(ctx, AD_QUERY_SIP_URI, "sip:nobody@corp.example.com", -AD_ERR_NOT_FOUND);
	ad_stats_get(ctx, &st);
	check(st.cache_hits >= 1, "negative answer from the cache (%llu hits)",
	      (unsigned long long)st.cache_hits);
	groups_other(servers);
	listing(staff);
	async = ctx_make("Greenwich Users", servers, 300);
	async_lookups(async);
	renewal();
	bad_input();
	shortttl = ctx_make("Greenwich Users", NULL, 1);
	dc_down(ctx, shortttl);
	ad_ctx_free(shortttl);
	ad_ctx_free(async);
	ad_ctx_free(staff);
	ad_ctx_free(ctx);
	printf("# %d checks, %d failed\n", checks, fails);
	return fails ? 1 : 0;
}
