/*
 * domain.c - `greenwich-mmc domain join|leave|show`: the server's membership of an
 * Active Directory domain.  The join itself is adcli's (computer account, password,
 * SPN HTTP/<fqdn>, keytab); sip/<fqdn> goes to an account of its own (sipacct.c) unless
 * --sip-on-computer; this file picks the names, gets the administrator's credentials to
 * them, places the keytabs (owner = the server's user, mode 0600) and writes the [domain]
 * section of greenwich.conf.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "krb.h"
#include "mmc.h"
#include "sipacct.h"

struct creds {
	const char *user;
	bool pw_stdin;
	char password[512];
	bool use_ccache;
};

void
mmc_domain_keytab_path(const struct gw_conf *c, char *buf, size_t len)
{
	if (c->domain_keytab[0])
		snprintf(buf, len, "%s", c->domain_keytab);
	else
		snprintf(buf, len, "%s/greenwich.keytab", c->state_dir);
}

void
mmc_domain_realm(const struct gw_conf *c, char *buf, size_t len)
{
	const char *src = c->domain_realm[0] ? c->domain_realm : c->domain_name;
	size_t i = 0;

	for (; src[i] && i + 1 < len; i++)
		buf[i] = (char)toupper((unsigned char)src[i]);
	buf[i] = '\0';
}

static bool
valid_dns_name(const char *s)
{
	if (s[0] == '\0' || s[0] == '.' || s[0] == '-' || strlen(s) > 253 || !strchr(s, '.'))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	return true;
}

/* The password from stdin, a prompt, or else the caller's Kerberos ticket. */
static int
get_creds(struct creds *cr, const char *realm)
{
	char prompt[600], princ[512];

	if (cr->pw_stdin) {
		if (mmc_read_secret(true, "", cr->password, sizeof(cr->password)) < 0) {
			return mmc_fail(MMC_EXIT_USAGE, "--password-stdin: no password on stdin");
		}
		return MMC_EXIT_OK;
	}
	if (mmc_krb_have_ticket(princ, sizeof(princ))) {
		cr->use_ccache = true;
		if (!mmc_json)
			printf("using the Kerberos ticket of %s\n", princ);
		return MMC_EXIT_OK;
	}
	if (!isatty(STDIN_FILENO)) {
		mmc_err("no Kerberos ticket and no password: run `kinit %s@%s` first, or give the "
			"password on stdin with --password-stdin",
			cr->user, realm);
		return MMC_EXIT_AUTH;
	}
	snprintf(prompt, sizeof(prompt), "Password for %s@%s: ", cr->user, realm);
	if (mmc_read_secret(false, prompt, cr->password, sizeof(cr->password)) < 0) {
		return mmc_fail(MMC_EXIT_USAGE, "an empty password is not allowed");
	}
	return MMC_EXIT_OK;
}

static int
push(char **argv, int *n, const char *a)
{
	argv[(*n)++] = (char *)a;
	argv[*n] = NULL;
	return 0;
}

static void
add_creds(char **argv, int *n, const struct creds *cr)
{
	if (cr->use_ccache) {
		push(argv, n, "--login-ccache");
	} else {
		push(argv, n, "--login-user");
		push(argv, n, cr->user);
		push(argv, n, "--stdin-password");
	}
}

/* Copy tmpl into buf with {user} and {domain} replaced. */
static void
subst(char *buf, size_t len, const char *tmpl, const char *user, const char *domain)
{
	size_t o = 0;

	while (*tmpl && o + 1 < len) {
		const char *v = !strncmp(tmpl, "{user}", 6)     ? user
				: !strncmp(tmpl, "{domain}", 8) ? domain
								: NULL;
		if (v) {
			o += (size_t)snprintf(buf + o, len - o, "%s", v);
			tmpl += v == user ? 6 : 8;
		} else {
			buf[o++] = *tmpl++;
		}
	}
	buf[o < len ? o : len - 1] = '\0';
}

/* Turn adcli's complaint into what the admin should do; returns the exit code. */
static int
explain_adcli(const char *what, const char *domain, const char *user, const char *text)
{
	static const struct {
		const char *needle;
		int code;
		const char *advice;
	} known[] = {
	    {"Preauthentication failed", MMC_EXIT_AUTH,
	     "the domain refused the password of {user}: check it and try again"},
	    {"Password incorrect", MMC_EXIT_AUTH,
	     "the domain refused the password of {user}: check it and try again"},
	    {"not found in Kerberos database", MMC_EXIT_AUTH,
	     "the domain has no user {user}: give an administrator with --user"},
	    {"Clock skew", MMC_EXIT_FAIL,
	     "this server's clock differs too much from the DC's: synchronize it (NTP)"},
	    {"Insufficient access", MMC_EXIT_AUTH,
	     "access denied: {user} may not manage computer accounts in this domain"},
	    {"No computer account", MMC_EXIT_NOTFOUND,
	     "the domain has no computer account for this server"},
	    {"discover domain", MMC_EXIT_UNREACHABLE,
	     "no domain controller found for {domain}: check the domain name and DNS "
	     "(SRV _ldap._tcp.dc._msdcs.{domain}), or name a DC with --dc"},
	    {"Couldn't find usable domain controller", MMC_EXIT_UNREACHABLE,
	     "no domain controller of {domain} found or answering: check the domain name, "
	     "DNS (SRV _ldap._tcp.dc._msdcs.{domain}) and the network, or name a DC with --dc"},
	    {"Cannot find KDC", MMC_EXIT_UNREACHABLE,
	     "no Kerberos server (KDC) found for {domain}: check the domain name and DNS"},
	    {"Cannot contact any KDC", MMC_EXIT_UNREACHABLE,
	     "no Kerberos server (KDC) of {domain} answers: check the network"},
	    {"Couldn't resolve host name", MMC_EXIT_UNREACHABLE,
	     "the domain controller's name does not resolve: check --dc and DNS"},
	    {"Couldn't connect", MMC_EXIT_UNREACHABLE,
	     "cannot reach the domain controller of {domain}: check --dc and the network"},
	};
	char last[512] = "";
	const char *p = text ? text : "";

	/* adcli's last non-empty line says what went wrong. */
	for (const char *l = p; *l; l += strcspn(l, "\n"), l += *l == '\n')
		if (strcspn(l, "\n") > 0)
			snprintf(last, sizeof(last), "%.*s", (int)strcspn(l, "\n"), l);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcasestr(p, known[i].needle) == NULL)
			continue;
		char msg[512];
		subst(msg, sizeof(msg), known[i].advice, user, domain);
		mmc_err("%s failed: %s", what, msg);
		fprintf(stderr, "  (adcli: %s)\n", last);
		return known[i].code;
	}
	mmc_err("%s failed: %s", what, last[0] ? last : "adcli gave no reason");
	return MMC_EXIT_FAIL;
}

/* The server's user: `greenwich` when it exists, else root. */
static void
server_owner(uid_t *uid, gid_t *gid, const char **name)
{
	struct passwd *pw = getpwnam("greenwich");

	*uid = pw ? pw->pw_uid : 0;
	*gid = pw ? pw->pw_gid : 0;
	*name = pw ? "greenwich" : "root";
}

struct join {
	const char *domain, *dc, *ou, *fqdn_opt, *keytab_opt, *sip_account;
	char fqdn[300], keytab[1024], realm[300], tmpdir[1100], tmpkt[1200];
	char sip_keytab[1100];
	bool sip_on_computer;
	struct mmc_sipacct sa;
	struct creds cr;
};

static int
join_parse(struct join *j, int argc, char **argv)
{
	static const struct option opts[] = {{"domain", required_argument, NULL, 'd'},
					     {"dc", required_argument, NULL, 's'},
					     {"ou", required_argument, NULL, 'o'},
					     {"user", required_argument, NULL, 'U'},
					     {"password-stdin", no_argument, NULL, 'p'},
					     {"fqdn", required_argument, NULL, 'f'},
					     {"keytab", required_argument, NULL, 'k'},
					     {"sip-account", required_argument, NULL, 'a'},
					     {"sip-on-computer", no_argument, NULL, 'C'},
					     {NULL, 0, NULL, 0}};
	int c;

	j->cr.user = "Administrator";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			j->domain = optarg;
			break;
		case 's':
			j->dc = optarg;
			break;
		case 'o':
			j->ou = optarg;
			break;
		case 'U':
			j->cr.user = optarg;
			break;
		case 'p':
			j->cr.pw_stdin = true;
			break;
		case 'f':
			j->fqdn_opt = optarg;
			break;
		case 'k':
			j->keytab_opt = optarg;
			break;
		case 'a':
			j->sip_account = optarg;
			break;
		case 'C':
			j->sip_on_computer = true;
			break;
		default:
			return mmc_fail(MMC_EXIT_USAGE, "%s: unknown or incomplete option '%s'",
					argv[0], argv[optind - 1]);
		}
	}
	if (optind < argc) {
		return mmc_fail(MMC_EXIT_USAGE, "%s: unexpected argument '%s'", argv[0],
				argv[optind]);
	}
	return MMC_EXIT_OK;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Our name in the domain: --fqdn, [server] server-name when inside it, else host.domain */
static void
join_fqdn(struct join *j, const struct gw_conf *c)
{
	const char *sn = c->server_name;
	size_t ls = strlen(sn), ld = strlen(j->domain);
	char host[256] = "localhost";

	if (j->fqdn_opt) {
		snprintf(j->fqdn, sizeof(j->fqdn), "%s", j->fqdn_opt);
	} else if (ls > ld + 1 && sn[ls - ld - 1] == '.' && !strcasecmp(sn + ls - ld, j->domain)) {
		snprintf(j->fqdn, sizeof(j->fqdn), "%s", sn);
	} else {
		gethostname(host, sizeof(host) - 1);
		host[strcspn(host, ".")] = '\0';
		snprintf(j->fqdn, sizeof(j->fqdn), "%s.%s", host, j->domain);
	}
	lower(j->fqdn);
}

static int
join_check(struct join *j, struct mmc *m)
{
	if (j->domain == NULL) {
		return mmc_fail(MMC_EXIT_USAGE,
				"domain join needs --domain DOMAIN (for example corp.example.com)");
	}
	if (!valid_dns_name(j->domain)) {
		return mmc_fail(MMC_EXIT_USAGE,
				"'%s' is not a DNS domain name (for example corp.example.com)",
				j->domain);
	}
	if (m->conf->domain_name[0] && strcasecmp(m->conf->domain_name, j->domain)) {
		return mmc_fail(
		    MMC_EXIT_REFUSED,
		    "this server is joined to %s: run `greenwich-mmc domain leave` first",
		    m->conf->domain_name);
	}
	join_fqdn(j, m->conf);
	if (!valid_dns_name(j->fqdn)) {
		return mmc_fail(MMC_EXIT_USAGE, "'%s' is not a host name: give one with --fqdn",
				j->fqdn);
	}
	for (size_t i = 0; j->domain[i] && i + 1 < sizeof(j->realm); i++)
		j->realm[i] = (char)toupper((unsigned char)j->domain[i]);
	if (j->keytab_opt)
		snprintf(j->keytab, sizeof(j->keytab), "%s", j->keytab_opt);
	else
		mmc_domain_keytab_path(m->conf, j->keytab, sizeof(j->keytab));
	if (j->sip_account && j->sip_on_computer) {
		return mmc_fail(MMC_EXIT_USAGE,
				"--sip-account and --sip-on-computer exclude each other");
	}
	if (j->sip_account && (!j->sip_account[0] || strlen(j->sip_account) > 20 ||
			       strpbrk(j->sip_account, "\"/[]:;|=,+*?<>@ "))) {
		return mmc_fail(
		    MMC_EXIT_USAGE,
		    "--sip-account: '%s' is not an account name (20 characters at most)",
		    j->sip_account);
	}
	if (!j->sip_on_computer)
		snprintf(j->sip_keytab, sizeof(j->sip_keytab), "%s/sip.keytab", m->conf->state_dir);
	return MMC_EXIT_OK;
}

/* A private directory beside the keytab: a failed join leaves no keytab behind. */
static int
join_tmpdir(struct join *j)
{
	char dir[1024];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", j->keytab);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	mkdir(dir, 0750);
	snprintf(j->tmpdir, sizeof(j->tmpdir), "%s/.greenwich-join.XXXXXX", dir);
	if (mkdtemp(j->tmpdir) == NULL) {
		mmc_err("cannot create a directory in %s: %s", dir, strerror(errno));
		return MMC_EXIT_FAIL;
	}
	snprintf(j->tmpkt, sizeof(j->tmpkt), "%s/keytab", j->tmpdir);
	return MMC_EXIT_OK;
}

/* adcli VERB --domain D [--domain-controller DC] */
static void
adcli_argv(char **argv, int *n, const char *verb, const char *domain, const char *dc)
{
	push(argv, n, "adcli");
	push(argv, n, verb);
	push(argv, n, "--domain");
	push(argv, n, domain);
	if (dc) {
		push(argv, n, "--domain-controller");
		push(argv, n, dc);
	}
}

/* Run adcli with the credentials; an exit code.  *gone: the computer account was missing. */
static int
adcli_exec(char **argv, const struct creds *cr, const char *what, const char *domain, bool *gone)
{
	struct mmc_proc_out po;
	int rc = mmc_run(argv, cr->use_ccache ? NULL : cr->password, &po);

	if (rc == -ENOENT) {
		mmc_err("adcli is not installed (Debian package adcli)");
		rc = MMC_EXIT_FAIL;
	} else if (rc != 0 && gone && po.err && strcasestr(po.err, "No computer account")) {
		*gone = true;
		rc = MMC_EXIT_OK;
	} else if (rc != 0) {
		rc = explain_adcli(what, domain, cr->user, po.err);
	}
	mmc_proc_out_free(&po);
	return rc;
}

static int
join_run_adcli(struct join *j)
{
	char *argv[32];
	int n = 0;

	adcli_argv(argv, &n, "join", j->domain, j->dc);
	if (j->ou) {
		push(argv, &n, "--domain-ou");
		push(argv, &n, j->ou);
	}
	push(argv, &n, "--host-fqdn");
	push(argv, &n, j->fqdn);
	push(argv, &n, "--host-keytab");
	push(argv, &n, j->tmpkt);
	if (j->sip_on_computer) {
		push(argv, &n, "--service-name");
		push(argv, &n, "sip");
	}
	push(argv, &n, "--service-name");
	push(argv, &n, "HTTP");
	add_creds(argv, &n, &j->cr);
	return adcli_exec(argv, &j->cr, "domain join", j->domain, NULL);
}

static int
join_install(struct join *j, const char **owner)
{
	uid_t uid;
	gid_t gid;

	server_owner(&uid, &gid, owner);
	if (chown(j->tmpkt, uid, gid) < 0 || chmod(j->tmpkt, 0600) < 0 ||
	    rename(j->tmpkt, j->keytab) < 0) {
		mmc_err("cannot install the keytab as %s: %s", j->keytab, strerror(errno));
		return MMC_EXIT_FAIL;
	}
	return MMC_EXIT_OK;
}

/* sip/<fqdn> on an account of its own, its keys in the sip keytab (sipacct.c). */
static int
join_sip_account(struct join *j)
{
	struct mmc_sipacct *a = &j->sa;
	const char *owner;
	char err[1400];

	a->domain = j->domain;
	a->realm = j->realm;
	a->dc = j->dc;
	a->fqdn = j->fqdn;
	a->admin = j->cr.user;
	a->password = j->cr.use_ccache ? NULL : j->cr.password;
	a->keytab = j->sip_keytab;
	server_owner(&a->uid, &a->gid, &owner);
	snprintf(a->account, sizeof(a->account), "%s", j->sip_account ? j->sip_account : "");
	if (j->sip_on_computer) {
		/* AD refuses a second holder of sip/: the account of its own goes first */
		if (mmc_sipacct_leave(a, err, sizeof(err)) < 0) {
			mmc_err("cannot take sip/%s back from its account: %s", j->fqdn, err);
			return MMC_EXIT_FAIL;
		}
		return MMC_EXIT_OK;
	}
	if (mmc_sipacct_join(a, err, sizeof(err)) < 0) {
		mmc_err("joined, but sip/%s has no account of its own: %s", j->fqdn, err);
		return MMC_EXIT_FAIL;
	}
	return MMC_EXIT_OK;
}

static int
join_write_conf(struct join *j, struct mmc *m)
{
	const char *kv[] = {"name",   j->domain, "realm",      j->realm,      "fqdn", j->fqdn,
			    "keytab", j->keytab, "sip-keytab", j->sip_keytab, "dcs",  j->dc};
	char err[1200];

	if (mmc_conf_update(m->conf_path, "domain", kv, j->dc ? 6 : 5, false, err, sizeof(err)) <
	    0) {
		mmc_err("joined, but the settings could not be saved: %s", err);
		return MMC_EXIT_FAIL;
	}
	return mmc_reload_conf(m);
}

static void
join_report(const struct join *j, const struct mmc *m, const char *owner)
{
	mmc_audit(m->conf, "domain join", j->domain, "fqdn", j->fqdn, "keytab", j->keytab,
		  "sip-account", j->sip_on_computer ? "" : j->sa.account, NULL);
	if (mmc_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "domain", json_object_new_string(j->domain));
		json_object_object_add(o, "realm", json_object_new_string(j->realm));
		json_object_object_add(o, "fqdn", json_object_new_string(j->fqdn));
		json_object_object_add(o, "keytab", json_object_new_string(j->keytab));
		json_object_object_add(o, "keytab-owner", json_object_new_string(owner));
		json_object_object_add(o, "sip-keytab", json_object_new_string(j->sip_keytab));
		json_object_object_add(o, "sip-account",
				       j->sip_on_computer ? NULL
							  : json_object_new_string(j->sa.account));
		json_object_object_add(o, "configuration", json_object_new_string(m->conf_path));
		mmc_json_print(o);
		return;
	}
	printf("joined %s as %s\n", j->domain, j->fqdn);
	if (j->sip_on_computer) {
		printf("  service principals sip/%s, HTTP/%s\n", j->fqdn, j->fqdn);
	} else {
		printf("  service principal HTTP/%s\n", j->fqdn);
		printf("  sip/%s on the account %s of its own (key version %d)\n", j->fqdn,
		       j->sa.account, j->sa.kvno);
		printf("  sip keytab %s (owner %s, mode 0600)\n", j->sip_keytab, owner);
	}
	printf("  keytab %s (owner %s, mode 0600)\n", j->keytab, owner);
	printf("  settings written to [domain] of %s\n", m->conf_path);
	printf("check with: greenwich-mmc domain test\n");
}

int
mmc_domain_join(struct mmc *m, int argc, char **argv)
{
	struct join j;
	const char *owner = "root";
	int ret;

	memset(&j, 0, sizeof(j));
	ret = join_parse(&j, argc, argv);
	if (ret == MMC_EXIT_OK)
		ret = join_check(&j, m);
	if (ret == MMC_EXIT_OK)
		ret = get_creds(&j.cr, j.realm);
	if (ret == MMC_EXIT_OK)
		ret = join_tmpdir(&j);
	if (ret == MMC_EXIT_OK && j.sip_on_computer)
		ret = join_sip_account(&j);
	if (ret == MMC_EXIT_OK)
		ret = join_run_adcli(&j);
	if (ret == MMC_EXIT_OK)
		ret = join_install(&j, &owner);
	if (j.tmpdir[0]) {
		unlink(j.tmpkt);
		rmdir(j.tmpdir);
	}
	if (ret == MMC_EXIT_OK && !j.sip_on_computer)
		ret = join_sip_account(&j);
	if (ret == MMC_EXIT_OK)
		ret = join_write_conf(&j, m);
	if (ret == MMC_EXIT_OK)
		join_report(&j, m, owner);
	OPENSSL_cleanse(j.cr.password, sizeof(j.cr.password));
	return ret;
}

static int
leave_parse(struct creds *cr, int argc, char **argv)
{
	static const struct option opts[] = {{"user", required_argument, NULL, 'U'},
					     {"password-stdin", no_argument, NULL, 'p'},
					     {NULL, 0, NULL, 0}};
	int c;

	cr->user = "Administrator";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'U') {
			cr->user = optarg;
		} else if (c == 'p') {
			cr->pw_stdin = true;
		} else {
			return mmc_fail(MMC_EXIT_USAGE, "leave: unknown or incomplete option '%s'",
					argv[optind - 1]);
		}
	}
	if (optind < argc) {
		return mmc_fail(MMC_EXIT_USAGE, "leave: unexpected argument '%s'", argv[optind]);
	}
	return MMC_EXIT_OK;
}

static int
leave_adcli(const struct gw_conf *c, const struct creds *cr)
{
	char *argv[16];
	int n = 0, rc;
	bool gone = false;

	adcli_argv(argv, &n, "delete-computer", c->domain_name,
		   c->domain_dcs.n ? c->domain_dcs.v[0] : NULL);
	add_creds(argv, &n, cr);
	push(argv, &n, c->domain_fqdn); /* with a dot: adcli takes it as the host's FQDN */
	rc = adcli_exec(argv, cr, "domain leave", c->domain_name, &gone);
	if (gone && !mmc_json)
		printf("the domain had no computer account for %s any more\n", c->domain_fqdn);
	return rc;
}

/* Deletes the account of its own of sip/ (a failure is said, the leave goes on). */
static void
leave_sip_account(const struct gw_conf *c, const struct creds *cr, const char *realm, char *name,
		  size_t len)
{
	struct mmc_sipacct a = {.domain = c->domain_name,
				.realm = realm,
				.dc = c->domain_dcs.n ? c->domain_dcs.v[0] : NULL,
				.fqdn = c->domain_fqdn,
				.admin = cr->user,
				.password = cr->use_ccache ? NULL : cr->password};
	char err[1400];

	if (mmc_sipacct_leave(&a, err, sizeof(err)) < 0)
		mmc_err("the account of sip/%s was not deleted: %s", c->domain_fqdn, err);
	snprintf(name, len, "%s", a.account);
}

int
mmc_domain_leave(struct mmc *m, int argc, char **argv)
{
	struct creds cr;
	char keytab[1024], realm[300], err[1200], domain[300], sipacct[21] = "";
	char fqdn[300];
	int ret;

	memset(&cr, 0, sizeof(cr));
	ret = leave_parse(&cr, argc, argv);
	if (ret != MMC_EXIT_OK)
		return ret;
	if (!m->conf->domain_name[0] || !m->conf->domain_fqdn[0]) {
		mmc_err("this server is not joined to a domain ([domain] name and fqdn are empty)");
		return MMC_EXIT_FAIL;
	}
	snprintf(domain, sizeof(domain), "%s", m->conf->domain_name);
	snprintf(fqdn, sizeof(fqdn), "%s", m->conf->domain_fqdn); /* the reload empties it */
	mmc_domain_realm(m->conf, realm, sizeof(realm));
	mmc_domain_keytab_path(m->conf, keytab, sizeof(keytab));
	ret = get_creds(&cr, realm);
	if (ret == MMC_EXIT_OK)
		ret = leave_adcli(m->conf, &cr);
	if (ret == MMC_EXIT_OK && m->conf->domain_sip_keytab[0])
		leave_sip_account(m->conf, &cr, realm, sipacct, sizeof(sipacct));
	OPENSSL_cleanse(cr.password, sizeof(cr.password));
	if (ret != MMC_EXIT_OK)
		return ret;
	if (unlink(keytab) < 0 && errno != ENOENT)
		mmc_err("cannot remove %s: %s", keytab, strerror(errno));
	if (m->conf->domain_sip_keytab[0] && unlink(m->conf->domain_sip_keytab) < 0 &&
	    errno != ENOENT)
		mmc_err("cannot remove %s: %s", m->conf->domain_sip_keytab, strerror(errno));
	if (mmc_conf_update(m->conf_path, "domain", NULL, 0, true, err, sizeof(err)) < 0) {
		mmc_err("left the domain, but the settings could not be removed: %s", err);
		return MMC_EXIT_FAIL;
	}
	mmc_audit(m->conf, "domain leave", domain, "sip-account", sipacct, NULL);
	ret = mmc_reload_conf(m);
	if (ret == MMC_EXIT_OK && mmc_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "left", json_object_new_string(domain));
		if (sipacct[0])
			json_object_object_add(o, "sip-account-deleted",
					       json_object_new_string(sipacct));
		mmc_json_print(o);
	} else if (ret == MMC_EXIT_OK) {
		printf("left %s: computer account deleted, keytab %s removed, [domain] settings "
		       "removed\n",
		       domain, keytab);
		if (sipacct[0])
			printf("  the account %s of sip/%s deleted\n", sipacct, fqdn);
	}
	return ret;
}

/* Puts the keytab's owner and mode back after adcli rewrote it. */
static void
keytab_keep_owner(const char *keytab, const struct stat *st)
{
	if (chown(keytab, st->st_uid, st->st_gid) < 0 || chmod(keytab, st->st_mode & 07777) < 0)
		mmc_err("cannot keep the owner and mode of %s: %s", keytab, strerror(errno));
}

/* With the machine password renewed, the sip/ account's too (sipacct.c): bound as the
 * machine, whom join let reset it.  greenwichd's acceptor reads the keytab file at each
 * sign-in (MIT's FILE: keytab), so nothing is reloaded, as for the machine keytab. */
static int
renew_sip_account(const struct gw_conf *c, const char *realm, const char *machine_keytab,
		  const char *machine, struct mmc_sipacct *a)
{
	struct stat st;
	char err[1400], kvno[16];

	*a = (struct mmc_sipacct){.domain = c->domain_name,
				  .realm = realm,
				  .dc = c->domain_dcs.n ? c->domain_dcs.v[0] : NULL,
				  .fqdn = c->domain_fqdn,
				  .keytab = c->domain_sip_keytab,
				  .uid = getuid(),
				  .gid = getgid()};
	if (stat(c->domain_sip_keytab, &st) == 0) {
		a->uid = st.st_uid; /* keeps its owner */
		a->gid = st.st_gid;
	}
	if (mmc_sipacct_renew(a, machine_keytab, machine, err, sizeof(err)) < 0) {
		mmc_audit(c, "domain renew", a->account[0] ? a->account : "sip/", "result",
			  "failed", NULL);
		a->kvno = 0;
		return mmc_fail(MMC_EXIT_FAIL,
				"the machine password was renewed, but not the password of the "
				"account of sip/%s: %s",
				c->domain_fqdn, err);
	}
	snprintf(kvno, sizeof(kvno), "%d", a->kvno);
	mmc_audit(c, "domain renew", a->account, "kvno", kvno, "keytab", a->keytab, NULL);
	return MMC_EXIT_OK;
}

static void
renew_report(const struct gw_conf *c, const char *machine, int before, int after, bool forced,
	     const struct mmc_sipacct *sip)
{
	char b[16], a[16];

	snprintf(b, sizeof(b), "%d", before);
	snprintf(a, sizeof(a), "%d", after);
	if (after != before)
		mmc_audit(c, "domain renew", machine, "kvno", a, "old_kvno", b, NULL);
	if (mmc_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "domain", json_object_new_string(c->domain_name));
		json_object_object_add(o, "account", json_object_new_string(machine));
		json_object_object_add(o, "renewed", json_object_new_boolean(after != before));
		json_object_object_add(o, "kvno", json_object_new_int(after));
		json_object_object_add(o, "old_kvno", json_object_new_int(before));
		if (sip->kvno > 0) {
			json_object_object_add(o, "sip_account",
					       json_object_new_string(sip->account));
			json_object_object_add(o, "sip_kvno", json_object_new_int(sip->kvno));
		}
		mmc_json_print(o);
	} else if (after != before) {
		printf("the password of %s was renewed (key version %d, was %d)\n", machine, after,
		       before);
		if (sip->kvno > 0)
			printf("the password of %s (sip/%s) was renewed (key version %d), its keys "
			       "in %s\n",
			       sip->account, c->domain_fqdn, sip->kvno, sip->keytab);
	} else {
		printf("the password of %s is not due for renewal yet (key version %d)%s\n",
		       machine, after, forced ? "" : "; --force renews it now");
	}
}

/* domain renew [--force] [--if-joined]: `adcli update` with the machine account's own
 * keytab changes its password when it is older than adcli's lifetime (30 days), or at
 * once with --force; the keytab keeps its owner and mode.  When it did, and sip/ has an
 * account of its own ([domain] sip-keytab), that account's password is renewed too. */
int
mmc_domain_renew(struct mmc *m, int argc, char **argv)
{
	const struct gw_conf *c = m->conf;
	struct creds cr = {0};
	struct mmc_keytab kt;
	struct mmc_sipacct sip = {.account = ""};
	struct stat st;
	char keytab[1024], realm[300], err[1200], *av[20];
	int n = 0, before, ret;
	bool force = false, if_joined = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else if (!strcmp(argv[i], "--if-joined"))
			if_joined = true;
		else
			return mmc_fail(MMC_EXIT_USAGE,
					"usage: domain renew [--force] [--if-joined]");
	}
	if (!c->domain_name[0] || !c->domain_fqdn[0]) {
		if (!if_joined)
			return mmc_fail(MMC_EXIT_FAIL,
					"this server is not joined to a domain ([domain] "
					"name and fqdn are empty)");
		if (!mmc_json)
			printf("not joined to a domain: no machine account to renew\n");
		return MMC_EXIT_OK;
	}
	mmc_domain_realm(c, realm, sizeof(realm));
	mmc_domain_keytab_path(c, keytab, sizeof(keytab));
	if (mmc_keytab_read(keytab, c->domain_fqdn, realm, &kt, err, sizeof(err)) < 0 ||
	    stat(keytab, &st) < 0)
		return mmc_fail(MMC_EXIT_AUTH, "%s", err);
	if (!kt.machine[0])
		return mmc_fail(MMC_EXIT_AUTH,
				"%s has no key of the machine account (NAME$): join "
				"the domain again",
				keytab);
	before = kt.machine_kvno;
	cr.user = kt.machine;
	cr.use_ccache = true; /* no password on stdin: adcli logs in with the keytab */
	adcli_argv(av, &n, "update", c->domain_name, c->domain_dcs.n ? c->domain_dcs.v[0] : NULL);
	push(av, &n, "--host-fqdn");
	push(av, &n, c->domain_fqdn);
	push(av, &n, "--host-keytab");
	push(av, &n, keytab);
	if (force)
		push(av, &n, "--computer-password-lifetime=0");
	ret = adcli_exec(av, &cr, "domain renew", c->domain_name, NULL);
	keytab_keep_owner(keytab, &st);
	if (ret != MMC_EXIT_OK) {
		mmc_audit(c, "domain renew", kt.machine, "result", "failed", NULL);
		return ret;
	}
	if (mmc_keytab_read(keytab, c->domain_fqdn, realm, &kt, err, sizeof(err)) < 0)
		return mmc_fail(MMC_EXIT_FAIL, "renewed, but the keytab cannot be read: %s", err);
	if (kt.machine_kvno != before && c->domain_sip_keytab[0] &&
	    renew_sip_account(c, realm, keytab, kt.machine, &sip) != MMC_EXIT_OK) {
		snprintf(err, sizeof(err), "%d", kt.machine_kvno);
		mmc_audit(c, "domain renew", kt.machine, "kvno", err, NULL);
		return MMC_EXIT_FAIL;
	}
	renew_report(c, cr.user, before, kt.machine_kvno, force, &sip);
	return MMC_EXIT_OK;
}
