/*
 * policy_src.c - where greenwichd's rules come from, and noticing that they changed.
 *
 * Joined to a domain: a thread of its own reads the rules, the federation settings and the
 * members of every group the rules name from AD (libgwpolad over libgwad's connection with
 * the machine account).  It polls the DC's highestCommittedUSN every poll-interval seconds
 * and reads again when it moved (or on SIGHUP); a read whose rules, federation settings and
 * members are what is in force already changes nothing (the directory moves all day for
 * other reasons).  Each new read is put in force and written
 * to <state-directory>/policy-cache (atomically), which is loaded at start, so the last
 * good rules stay in force while AD cannot be reached, across restarts too.
 * Without a domain: the [policy] rules-file, read again when it changes.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <ldap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gwad.h"
#include "gwd.h"
#include "gwpolicy_ad.h"
#include "log.h"
#include "sip_policy.h"

struct src {
	struct gwd *g;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, kick;
	/* rules file */
	struct stat st;
	/* AD */
	struct ad_ctx *ctx;
	struct ad_conn *conn;
	char **servers;
	char keytab[600];
	char base[512];
	char container[600];
	uint64_t usn;
	char *last; /* the rules in force, as snap_text() wrote them (joined servers) */
	char dc[300];
	bool down; /* the last poll failed (logged once) */
	char cache[600];
};

static struct src src = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static struct pol_snap *
snap_new(const char *source)
{
	struct pol_snap *s = calloc(1, sizeof(*s));

	if (s)
		snprintf(s->source, sizeof(s->source), "%s", source);
	return s;
}

/* Index of sid in s->sids, added when missing; SIZE_MAX on ENOMEM. */
static size_t
snap_sid(struct pol_snap *s, const char *sid)
{
	char **nv;

	for (size_t i = 0; i < s->nsids; i++)
		if (strcmp(s->sids[i], sid) == 0)
			return i;
	if ((nv = realloc(s->sids, (s->nsids + 1) * sizeof(*nv))) == NULL)
		return SIZE_MAX;
	s->sids = nv;
	if ((nv[s->nsids] = strdup(sid)) == NULL)
		return SIZE_MAX;
	return s->nsids++;
}

/* ---- the disk cache */

/* The snapshot as the cache file holds it (rules, federation, members); malloc'd. */
static int
snap_text(const struct pol_snap *s, char **out)
{
	char *rules = NULL, *fed = NULL, *buf = NULL;
	size_t len = 0;
	FILE *fp;
	int ret = pol_set_text(s->set, &rules);

	if (ret == 0)
		ret = pol_fed_text(&s->fed, &fed);
	if (ret == 0 && (fp = open_memstream(&buf, &len)) == NULL)
		ret = -errno;
	if (ret == 0) {
		fprintf(fp,
			"# greenwichd: the last policy read from Active Directory\n%%rules\n%s"
			"%%federation\n%s%%members\n",
			rules, fed);
		for (size_t i = 0; i < s->nmembers; i++)
			fprintf(fp, "%s %s\n", s->sids[s->members[i].sid], s->members[i].aor);
		if (fclose(fp) != 0)
			ret = -errno;
	}
	free(rules);
	free(fed);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	*out = buf;
	return 0;
}

static int
cache_write(const char *text)
{
	char tmp[700];
	FILE *fp;
	int ret = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", src.cache);
	if ((fp = fopen(tmp, "w")) != NULL) {
		fputs(text, fp);
		ret = fflush(fp) == 0 && fsync(fileno(fp)) == 0 ? 0 : -errno;
		if (fclose(fp) != 0 && ret == 0)
			ret = -errno;
		if (ret == 0 && rename(tmp, src.cache) < 0)
			ret = -errno;
		if (ret < 0)
			unlink(tmp);
	} else {
		ret = -errno;
	}
	if (ret < 0)
		log_warnx("event=policy-cache-failed file=%s reason=\"%s\"", src.cache,
			  strerror(-ret));
	return ret;
}

static int
cache_members(struct pol_snap *s, char *text)
{
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		size_t idx;
		if (sp == NULL)
			return -EINVAL;
		*sp = '\0';
		if ((idx = snap_sid(s, l)) == SIZE_MAX || pol_snap_member_add(s, sp + 1, idx) < 0)
			return -ENOMEM;
	}
	pol_snap_sort(s);
	return 0;
}

/* The three parts of the cache file, split in place. */
static int
cache_parse(struct pol_snap *s, char *text)
{
	char *r = strstr(text, "%rules\n"), *f = strstr(text, "\n%federation\n");
	char *m = strstr(text, "\n%members\n");
	struct pol_error perr = {0};
	int ret;

	if (r == NULL || f == NULL || m == NULL || !(r < f && f < m))
		return -EINVAL;
	r += strlen("%rules\n");
	f[1] = '\0';
	f += strlen("\n%federation\n");
	m[1] = '\0';
	m += strlen("\n%members\n");
	ret = pol_set_parse(r, strlen(r), &s->set, &perr);
	if (ret == 0)
		ret = pol_fed_parse_text(f, &s->fed);
	return ret < 0 ? ret : cache_members(s, m);
}

static int
cache_load(void)
{
	struct pol_snap *s = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *fp = fopen(src.cache, "r");
	int ret;

	if (fp == NULL)
		return errno == ENOENT ? 0 : -errno;
	ret = getdelim(&text, &len, '\0', fp) < 0 ? -EIO : 0;
	fclose(fp);
	if (ret == 0 && (s = snap_new("cache")) == NULL)
		ret = -ENOMEM;
	if (ret == 0)
		ret = cache_parse(s, text);
	if (ret == 0) {
		sip_policy_install(s);
		s = NULL;
	} else {
		log_warnx("event=policy-cache-unusable file=%s reason=\"%s\"", src.cache,
			  pol_strerror(ret));
	}
	pol_snap_free(s);
	free(text);
	return ret;
}

/* ---- AD */

static void
member_cb(const char *aor, void *arg)
{
	void **a = arg;
	struct pol_snap *s = a[0];
	size_t idx = *(size_t *)a[1];

	if (pol_snap_member_add(s, aor, idx) < 0)
		*(int *)a[2] = -ENOMEM;
}

/* Read everything into a new snapshot. */
static int
ad_read(LDAP *ld, struct pol_snap *s, char *reason)
{
	int ret = pol_ad_load(ld, src.container, &s->set, &s->fed, reason);

	for (size_t i = 0; ret == 0 && i < pol_set_group_count(s->set); i++) {
		size_t idx = snap_sid(s, pol_set_group_sid(s->set, i));
		int err = 0;
		void *a[3] = {s, &idx, &err};
		if (idx == SIZE_MAX)
			return -ENOMEM;
		ret = pol_ad_group_members(ld, src.base, s->sids[idx], member_cb, a, reason);
		if (ret == -ENOENT)
			ret = 0; /* a group that is gone has no members */
		if (ret == 0)
			ret = err;
	}
	pol_snap_sort(s);
	return ret;
}

static int
ad_poll_op(LDAP *ld, void *arg, char *reason)
{
	bool force = *(bool *)arg;
	struct pol_snap *s = NULL;
	uint64_t usn = 0;
	const char *dc = ad_conn_dc(src.conn);
	int ret = pol_ad_usn(ld, &usn, reason);

	if (ret == 0 && src.container[0] == '\0')
		ret = pol_ad_container(ld, src.container, sizeof(src.container), reason);
	if (ret < 0 || (!force && usn == src.usn && strcmp(dc, src.dc) == 0))
		goto done;
	if ((s = snap_new("ad")) == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	char *text = NULL;
	if ((ret = ad_read(ld, s, reason)) == 0 && (ret = snap_text(s, &text)) == 0) {
		/* the directory changes all day (logons, passwords, other objects): the rules
		 * are put in force again only when what they are made of changed */
		if (force || src.last == NULL || strcmp(text, src.last) != 0) {
			cache_write(text);
			sip_policy_install(s);
			s = NULL;
			free(src.last);
			src.last = text;
			text = NULL;
		} else {
			log_debug("event=policy-unchanged usn=%" PRIu64, usn);
		}
		src.usn = usn;
		snprintf(src.dc, sizeof(src.dc), "%s", dc);
	}
	free(text);
done:
	pol_snap_free(s);
	return ret == -ENOTCONN ? -AD_ERR_UNAVAILABLE : ret;
}

static void
ad_poll(bool force)
{
	char reason[AD_REASON_LEN] = "";
	int ret = ad_conn_call(src.conn, ad_poll_op, &force, reason);

	if (ret < 0 && !src.down)
		log_warnx("event=policy-ad-unreachable reason=\"%s\" note=\"the last rules stay "
			  "in force\"",
			  reason[0] ? reason : ad_strerror(ret));
	else if (ret == 0 && src.down)
		log_notice("event=policy-ad-reachable dc=%s", src.dc);
	src.down = ret < 0;
}

static int
ad_setup(struct gwd *g)
{
	const struct gw_conf *c = g->conf;
	struct ad_config cfg;
	char reason[AD_REASON_LEN] = "";
	int ret;

	if ((src.servers = calloc(c->domain_dcs.n + 1, sizeof(char *))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->domain_dcs.n; i++)
		src.servers[i] = c->domain_dcs.v[i];
	snprintf(src.keytab, sizeof(src.keytab), "%s", c->domain_keytab);
	if (src.keytab[0] == '\0')
		snprintf(src.keytab, sizeof(src.keytab), "%s/greenwich.keytab", c->state_dir);
	ad_config_init(&cfg);
	cfg.domain = c->domain_name;
	cfg.realm = c->domain_realm[0] ? c->domain_realm : NULL;
	cfg.servers = c->domain_dcs.n ? (const char *const *)src.servers : NULL;
	cfg.keytab = src.keytab;
	cfg.workers = 1;
	cfg.retry_interval_ms = 500;
	if (ad_domain_to_dn(c->domain_name, src.base, sizeof(src.base)) < 0 ||
	    (ret = ad_ctx_alloc(&cfg, &src.ctx, reason)) < 0) {
		log_err("event=policy-failed reason=\"%s\"", reason[0] ? reason : "bad domain");
		return -EINVAL;
	}
	src.conn = ad_conn_alloc(src.ctx);
	return src.conn ? 0 : -ENOMEM;
}

/* ---- the rules file */

static void
file_check(bool force)
{
	const char *path = src.g->conf->policy_rules_file;
	struct pol_error perr = {0};
	struct pol_snap *s;
	struct stat st;
	int ret;

	if (stat(path, &st) < 0) {
		if (force || src.st.st_ino)
			log_warnx("event=policy-file-missing file=%s reason=\"%s\" note=\"the last "
				  "rules stay in force\"",
				  path, strerror(errno));
		src.st.st_ino = 0;
		return;
	}
	if (!force && st.st_ino == src.st.st_ino && st.st_size == src.st.st_size &&
	    st.st_mtim.tv_sec == src.st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == src.st.st_mtim.tv_nsec)
		return;
	src.st = st;
	if ((s = snap_new("file")) == NULL)
		return;
	ret = pol_set_load_file(path, &s->set, &perr);
	if (ret == 0 && pol_snap_conf_fed(s, src.g->conf) < 0) {
		pol_snap_free(s);
		return;
	}
	if (ret < 0) {
		log_err("event=policy-file-invalid file=%s line=%u column=%u reason=\"%s\" "
			"note=\"the last good rules stay in force\"",
			path, perr.line, perr.column, perr.msg[0] ? perr.msg : pol_strerror(ret));
		pol_snap_free(s);
		return;
	}
	sip_policy_install(s);
}

/* ---- the thread */

static void *
src_thread(void *arg)
{
	bool ad = arg != NULL, force = true, stop = false;
	int interval = src.g->conf->policy_poll_interval;

	while (!stop) {
		struct timespec until;

		if (ad)
			ad_poll(force);
		else
			file_check(force);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += interval;
		pthread_mutex_lock(&src.lock);
		while (!src.stop && !src.kick &&
		       pthread_cond_timedwait(&src.cond, &src.lock, &until) != ETIMEDOUT)
			;
		stop = src.stop;
		force = src.kick;
		src.kick = false;
		pthread_mutex_unlock(&src.lock);
	}
	return NULL;
}

int
policy_src_start(struct gwd *g)
{
	const struct gw_conf *c = g->conf;
	bool ad = c->domain_name[0] != '\0';
	int ret;

	src.g = g;
	snprintf(src.cache, sizeof(src.cache), "%s/policy-cache", c->state_dir);
	if (!ad && c->policy_rules_file[0] == '\0') {
		log_info("event=policy source=default note=\"no domain and no rules file: internal "
			 "senders allowed, everyone else denied\"");
		return 0;
	}
	if (ad && (ret = ad_setup(g)) < 0)
		return ret;
	if (ad)
		cache_load();
	else
		file_check(true);
	if ((ret = -pthread_create(&src.thread, NULL, src_thread, ad ? (void *)&src : NULL)) < 0)
		return ret;
	src.running = true;
	return 0;
}

void
policy_src_stop(void)
{
	if (src.running) {
		pthread_mutex_lock(&src.lock);
		src.stop = true;
		pthread_cond_signal(&src.cond);
		pthread_mutex_unlock(&src.lock);
		pthread_join(src.thread, NULL);
		src.running = false;
	}
	ad_conn_free(src.conn);
	ad_ctx_free(src.ctx);
	free(src.servers);
	free(src.last);
	src.conn = NULL;
	src.ctx = NULL;
	src.servers = NULL;
	src.last = NULL;
}

void
policy_src_kick(void)
{
	pthread_mutex_lock(&src.lock);
	src.kick = true;
	pthread_cond_signal(&src.cond);
	pthread_mutex_unlock(&src.lock);
}
