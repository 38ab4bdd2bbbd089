/*
 * domain_test.c - `greenwich-mmc domain test` and `domain show`: is the join healthy?
 * Each check prints OK or FAILED with the reason and what to do:
 *   keytab (readable, holds sip/<fqdn>), domain controller (found, ports 389 and 88),
 *   clock (the DC's currentTime), kerberos (machine credentials from the keytab),
 *   ldap (SASL/GSSAPI bind), spn (sip/ and HTTP/<fqdn> on the computer account).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "gwad.h"
#include "krb.h"
#include "mmc.h"

#define MAX_SKEW 300 /* seconds Kerberos tolerates by default */

struct report {
	json_object *arr;
	int failed;
};

static void check(struct report *r, const char *name, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
check(struct report *r, const char *name, bool ok, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	r->failed += !ok;
	if (r->arr) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "check", json_object_new_string(name));
		json_object_object_add(o, "ok", json_object_new_boolean(ok));
		json_object_object_add(o, "detail", json_object_new_string(why));
		json_object_array_add(r->arr, o);
	} else {
		printf("%-18s %-7s %s\n", name, ok ? "OK" : "FAILED", why);
	}
	fflush(stdout);
}

/* [domain] dcs first, else DNS SRV _ldap._tcp.dc._msdcs.<domain>. */
int
mmc_dc_find(const struct gw_conf *c, char *dc, size_t len)
{
	if (c->domain_dcs.n) {
		snprintf(dc, len, "%s", c->domain_dcs.v[0]);
		return 0;
	}
	return ad_dc_find(c->domain_name, 0, dc, len, NULL) < 0 ? -ENOENT : 0;
}

/* TCP connect with a timeout; 0 or -errno, reason in err. */
static int
tcp_probe(const char *host, const char *port, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int rc = getaddrinfo(host, port, &hints, &ai), ret = -EHOSTUNREACH;

	if (rc != 0) {
		snprintf(err, errlen, "%s does not resolve: %s", host, gai_strerror(rc));
		return -ENOENT;
	}
	for (struct addrinfo *a = ai; a && ret < 0; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, 0), soerr = 0;
		socklen_t sl = sizeof(soerr);
		struct pollfd p = {fd, POLLOUT, 0};
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			ret = 0;
		else if (errno == EINPROGRESS && poll(&p, 1, 3000) == 1 &&
			 getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0)
			ret = soerr ? -soerr : 0;
		else
			ret = errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		close(fd);
	}
	freeaddrinfo(ai);
	if (ret < 0)
		snprintf(err, errlen, "%s port %s: %s", host, port, strerror(-ret));
	return ret;
}

struct dt {
	const struct gw_conf *c;
	char realm[300], keytab[1024], dc[600], ccname[300];
	struct mmc_keytab kt, skt; /* skt: [domain] sip-keytab's, when set */
	bool kt_ok, dc_ok, krb_ok;
	struct ad_session *ses; /* rootDSE read, bound by check_ldap_spn() */
};

static void
check_keytab(struct report *r, struct dt *t)
{
	char err[1200];

	if (mmc_keytab_read(t->keytab, t->c->domain_fqdn, t->realm, &t->kt, err, sizeof(err)) < 0) {
		check(r, "keytab", false,
		      "%s (run as root or the server's user; after a lost "
		      "keytab join again)",
		      err);
		return;
	}
	const char *skt = t->c->domain_sip_keytab;
	if (skt[0] &&
	    mmc_keytab_read(skt, t->c->domain_fqdn, t->realm, &t->skt, err, sizeof(err)) < 0) {
		check(r, "keytab", false, "sip-keytab: %s (join again)", err);
		return;
	}
	bool has_sip = skt[0] ? t->skt.has_sip : t->kt.has_sip;
	t->kt_ok = has_sip && t->kt.machine[0];
	if (!t->kt.machine[0])
		check(r, "keytab", false, "%s holds no machine account (NAME$@%s): join again",
		      t->keytab, t->realm);
	else if (!has_sip)
		check(r, "keytab", false, "%s has no key for sip/%s@%s: join again",
		      skt[0] ? skt : t->keytab, t->c->domain_fqdn, t->realm);
	else if (skt[0])
		check(r, "keytab", true, "%s: %s (%d keys); %s: sip/%s (%d keys)", t->keytab,
		      t->kt.machine, t->kt.entries, skt, t->c->domain_fqdn, t->skt.entries);
	else
		check(r, "keytab", true, "%s: %s, sip/%s (%d keys)", t->keytab, t->kt.machine,
		      t->c->domain_fqdn, t->kt.entries);
}

static void
check_dc(struct report *r, struct dt *t)
{
	char e1[700] = "", e2[700] = "";

	if (mmc_dc_find(t->c, t->dc, sizeof(t->dc)) < 0) {
		check(r, "domain controller", false,
		      "none found: DNS has no SRV _ldap._tcp.dc._msdcs.%s and [domain] dcs is "
		      "empty (fix DNS or set dcs)",
		      t->c->domain_name);
		return;
	}
	int l = tcp_probe(t->dc, "389", e1, sizeof(e1)), k = tcp_probe(t->dc, "88", e2, sizeof(e2));
	t->dc_ok = l == 0 && k == 0;
	if (t->dc_ok)
		check(r, "domain controller", true, "%s answers on LDAP (389) and Kerberos (88)",
		      t->dc);
	else
		check(r, "domain controller", false, "%s%s%s: check the network and firewall", e1,
		      e1[0] && e2[0] ? "; " : "", e2);
}

static void
check_clock(struct report *r, struct dt *t)
{
	char err[AD_REASON_LEN] = "";

	if (!t->dc_ok) {
		check(r, "clock", false, "not checked: no domain controller answers");
		return;
	}
	if (ad_session_open(t->dc, 5000, &t->ses, err) < 0) {
		check(r, "clock", false, "cannot read the DC's time: %s", err);
		return;
	}
	long skew = (long)(time(NULL) - ad_session_dc_time(t->ses));
	check(r, "clock", labs(skew) <= MAX_SKEW,
	      labs(skew) <= MAX_SKEW ? "%+ld s from %s"
				     : "%+ld s from %s, more than Kerberos allows (300 s): "
				       "synchronize this server's clock (NTP)",
	      skew, t->dc);
}

static void
check_kerberos(struct report *r, struct dt *t)
{
	char err[700];

	if (!t->kt_ok) {
		check(r, "kerberos", false, "not checked: the keytab is not usable");
		return;
	}
	if (mmc_krb_kinit(t->keytab, t->kt.machine, t->ccname, sizeof(t->ccname), err,
			  sizeof(err)) < 0) {
		check(r, "kerberos", false, "no ticket for %s: %s (a stale keytab: join again)",
		      t->kt.machine, err);
		return;
	}
	t->krb_ok = true;
	check(r, "kerberos", true, "ticket for %s", t->kt.machine);
}

/* With [domain] sip-keytab: HTTP/ on the computer account, sip/ on one account, not it. */
static void
check_sip_owner(struct report *r, struct dt *t, const char *computer)
{
	char err[AD_REASON_LEN] = "", spn[600], owner[300];
	int has, n;

	snprintf(spn, sizeof(spn), "HTTP/%s", t->c->domain_fqdn);
	has = ad_session_has_spn(t->ses, computer, spn, err);
	if (has <= 0) {
		check(r, "spn", false, "%s", has < 0 ? err : "the computer account has no HTTP/");
		return;
	}
	snprintf(spn, sizeof(spn), "sip/%s", t->c->domain_fqdn);
	n = ad_session_spn_owner(t->ses, spn, owner, sizeof(owner), err);
	if (n < 0)
		check(r, "spn", false, "%s", err);
	else if (n != 1)
		check(r, "spn", false, "%d accounts hold %s: join again", n, spn);
	else if (!strcasecmp(owner, computer))
		check(r, "spn", false,
		      "%s is on the computer account %s, whose key host/ tickets share: join "
		      "again",
		      spn, computer);
	else
		check(r, "spn", true, "%s has HTTP/%s; %s alone has %s", computer,
		      t->c->domain_fqdn, owner, spn);
}

static void
check_ldap_spn(struct report *r, struct dt *t)
{
	char err[AD_REASON_LEN] = "", sam[300], spn[600];

	if (!t->krb_ok || t->ses == NULL) {
		check(r, "ldap", false, "not checked: %s",
		      t->krb_ok ? "no domain controller answers" : "no Kerberos ticket");
		check(r, "spn", false, "not checked: no LDAP connection");
		return;
	}
	if (ad_session_bind(t->ses, t->ccname, err) < 0) {
		check(r, "ldap", false, "GSSAPI bind to %s failed: %s", t->dc, err);
		check(r, "spn", false, "not checked: no LDAP connection");
		return;
	}
	check(r, "ldap", true, "GSSAPI bind to %s (signed and sealed), base %s", t->dc,
	      ad_session_base(t->ses));
	snprintf(sam, sizeof(sam), "%.*s", (int)strcspn(t->kt.machine, "@"), t->kt.machine);
	if (t->c->domain_sip_keytab[0]) {
		check_sip_owner(r, t, sam);
		return;
	}
	const char *svc[] = {"sip", "HTTP"};
	for (int i = 0; i < 2; i++) {
		snprintf(spn, sizeof(spn), "%s/%s", svc[i], t->c->domain_fqdn);
		int has = ad_session_has_spn(t->ses, sam, spn, err);
		if (has < 0) {
			check(r, "spn", false, "%s", err);
			return;
		}
		if (!has) {
			check(r, "spn", false, "%s has no SPN %s: join again", sam, spn);
			return;
		}
	}
	check(r, "spn", true, "%s has sip/%s and HTTP/%s", sam, t->c->domain_fqdn,
	      t->c->domain_fqdn);
}

int
mmc_domain_test(struct mmc *m, int argc, char **argv)
{
	struct report r = {NULL, 0};
	struct dt t;

	if (argc > 1) {
		return mmc_fail(MMC_EXIT_USAGE, "domain test: unexpected argument '%s'", argv[1]);
	}
	if (!m->conf->domain_name[0] || !m->conf->domain_fqdn[0]) {
		mmc_err("this server is not joined to a domain: run `greenwich-mmc domain join "
			"--domain DOMAIN --user Administrator` first");
		return MMC_EXIT_FAIL;
	}
	memset(&t, 0, sizeof(t));
	t.c = m->conf;
	mmc_domain_realm(m->conf, t.realm, sizeof(t.realm));
	mmc_domain_keytab_path(m->conf, t.keytab, sizeof(t.keytab));
	if (mmc_json)
		r.arr = json_object_new_array();
	check_keytab(&r, &t);
	check_dc(&r, &t);
	check_clock(&r, &t);
	check_kerberos(&r, &t);
	check_ldap_spn(&r, &t);
	ad_session_close(t.ses);
	mmc_krb_destroy(t.ccname);
	if (r.arr) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "domain", json_object_new_string(m->conf->domain_name));
		json_object_object_add(o, "dc", json_object_new_string(t.dc));
		json_object_object_add(o, "ok", json_object_new_boolean(r.failed == 0));
		json_object_object_add(o, "checks", r.arr);
		mmc_json_print(o);
	} else {
		printf("%s\n", r.failed ? "some checks FAILED" : "all checks OK");
	}
	return r.failed ? MMC_EXIT_FAIL : MMC_EXIT_OK;
}

int
mmc_domain_show(struct mmc *m, int argc, char **argv)
{
	const struct gw_conf *c = m->conf;
	char keytab[1024], realm[300], dcs[1024] = "";
	struct mmc_props *p;

	(void)argv;
	if (argc > 1) {
		return mmc_fail(MMC_EXIT_USAGE, "domain show takes no argument");
	}
	mmc_domain_keytab_path(c, keytab, sizeof(keytab));
	mmc_domain_realm(c, realm, sizeof(realm));
	for (size_t i = 0; i < c->domain_dcs.n; i++)
		snprintf(dcs + strlen(dcs), sizeof(dcs) - strlen(dcs), "%s%s", i ? ", " : "",
			 c->domain_dcs.v[i]);
	const char *rows[][2] = {{"joined", c->domain_name[0] ? "yes" : "no"},
				 {"name", c->domain_name},
				 {"realm", realm},
				 {"fqdn", c->domain_fqdn},
				 {"keytab", keytab},
				 {"dcs", dcs},
				 {"enabled-group", c->domain_enabled_group}};
	p = mmc_props_new();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		mmc_props_add(p, rows[i][0], rows[i][1]);
	if (c->domain_name[0]) {
		/* who may manage Greenwich besides Domain Admins (domain delegate), from AD */
		char *groups = mmc_delegated_groups(c);
		for (char *nl = groups ? strchr(groups, '\n') : NULL; nl; nl = strchr(nl, '\n'))
			*nl = ',';
		mmc_props_add(p, "delegated-to",
			      groups == NULL ? "unknown (needs a Kerberos ticket and a DC)"
			      : groups[0]    ? groups
					     : "none");
		free(groups);
	}
	mmc_props_print(p);
	return MMC_EXIT_OK;
}

/* `set enabled-group G` / `set dcs A,B` on the domain node: written to greenwich.conf. */
int
mmc_domain_set(struct mmc *m, const char *key, const char *value)
{
	const char *kv[] = {key, value[0] ? value : NULL};
	char err[1200];

	if (strpbrk(value, "\r\n")) {
		return mmc_fail(MMC_EXIT_USAGE, "a value cannot span lines");
	}
	if (!strcmp(key, "enabled-group") && value[0] && m->conf->domain_name[0]) {
		int ret = mmc_users_group_check(m, value);
		if (ret != MMC_EXIT_OK) {
			mmc_err("[domain] enabled-group left as it was");
			return ret;
		}
	}
	if (mmc_conf_update(m->conf_path, "domain", kv, 1, false, err, sizeof(err)) < 0) {
		mmc_err("%s", err);
		return MMC_EXIT_FAIL;
	}
	if (mmc_reload_conf(m) != MMC_EXIT_OK)
		return MMC_EXIT_FAIL;
	printf("[domain] %s = %s\n", key, value);
	mmc_audit(m->conf, "set", key, "value", value, NULL);
	return MMC_EXIT_OK;
}
