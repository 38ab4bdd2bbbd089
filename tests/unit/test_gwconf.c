/*
 * test_gwconf.c - greenwich.conf: defaults, every value type, every error
 * message (file, line, key), the cross-key rules and the helpers.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "gwconf.h"
#include "unit.h"

struct fixture {
	char dir[256];
	char path[512];
	char err[512];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || unit_dir_make(f->dir, sizeof(f->dir)) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unit_dir_remove(f->dir);
	free(f);
	return 0;
}

/* Write text to a fresh file and parse it. */
static struct gw_conf *
load_text(struct fixture *f, const char *text)
{
	f->err[0] = '\0';
	assert_int_equal(unit_file_write(f->path, sizeof(f->path), f->dir, text), 0);
	return gw_conf_load(f->path, f->err, sizeof(f->err));
}

static void
assert_list_equal(const struct gw_strlist *got, const struct gw_strlist *want)
{
	assert_int_equal(got->n, want->n);
	for (size_t i = 0; i < want->n; i++)
		assert_string_equal(got->v[i], want->v[i]);
}

/* Field by field; a new field must be added here too. */
static void
assert_conf_equal(const struct gw_conf *c, const struct gw_conf *w)
{
	assert_non_null(c);
	assert_list_equal(&c->udp, &w->udp);
	assert_list_equal(&c->tcp, &w->tcp);
	assert_list_equal(&c->tls, &w->tls);
	assert_list_equal(&c->domains, &w->domains);
	assert_int_equal(c->workers, w->workers);
	assert_string_equal(c->state_dir, w->state_dir);
	assert_string_equal(c->pid_file, w->pid_file);
	assert_string_equal(c->control_socket, w->control_socket);
	assert_string_equal(c->server_name, w->server_name);
	assert_string_equal(c->tls_certificate, w->tls_certificate);
	assert_string_equal(c->tls_key, w->tls_key);
	assert_int_equal(c->log_level, w->log_level);
	assert_int_equal(c->syslog_facility, w->syslog_facility);
	assert_int_equal(c->min_expires, w->min_expires);
	assert_int_equal(c->max_expires, w->max_expires);
	assert_int_equal(c->default_expires, w->default_expires);
	assert_int_equal(c->max_contacts, w->max_contacts);
	assert_int_equal(c->max_message_size, w->max_message_size);
	assert_int_equal(c->max_im_size, w->max_im_size);
	assert_string_equal(c->realm, w->realm);
	assert_list_equal(&c->digest_algorithms, &w->digest_algorithms);
	assert_int_equal(c->nonce_lifetime, w->nonce_lifetime);
	assert_int_equal(c->local_accounts, w->local_accounts);
	assert_int_equal(c->invite_timeout, w->invite_timeout);
	assert_int_equal(c->max_dialogs, w->max_dialogs);
}

#define LIST(n, ...)                                                                               \
	{                                                                                          \
		(char *[]){__VA_ARGS__}, n                                                         \
	}

/* The defaults greenwich.conf(5) documents. */
static const struct gw_conf documented_defaults = {
    .udp = LIST(1, "127.0.0.1:5060"),
    .tcp = LIST(1, "127.0.0.1:5060"),
    .tls = {NULL, 0},
    .domains = LIST(1, "localdomain"),
    .workers = 0,
    .state_dir = "/var/lib/greenwich",
    .pid_file = "/run/greenwich/greenwichd.pid",
    .control_socket = "/run/greenwich/control.sock",
    .server_name = "",
    .tls_certificate = "",
    .tls_key = "",
    .log_level = LOG_INFO,
    .syslog_facility = LOG_DAEMON,
    .min_expires = 60,
    .max_expires = 86400,
    .default_expires = 3600,
    .max_contacts = 10,
    .max_message_size = 65536,
    .max_im_size = 16384,
    .realm = "",
    .digest_algorithms = LIST(2, "SHA-256", "MD5"),
    .nonce_lifetime = 30,
    .local_accounts = true,
    .invite_timeout = 180,
    .max_dialogs = 50000,
};

static void
test_defaults(void **state)
{
	struct gw_conf *c = gw_conf_defaults();

	(void)state;
	assert_conf_equal(c, &documented_defaults);
	assert_string_equal(gw_conf_realm(c), "localdomain");
	gw_conf_free(c);
}

/* A file of comments and blank lines gives exactly the defaults. */
static void
test_empty_file_is_defaults(void **state)
{
	struct fixture *f = *state;
	struct gw_conf *c = load_text(f, "# nothing\n\n; still nothing\n   \n\t\n");

	assert_conf_equal(c, &documented_defaults);
	gw_conf_free(c);
}

/* Every key of the table, written back with its own default, is accepted. */
static void
test_every_key_takes_its_default(void **state)
{
	struct fixture *f = *state;
	const struct gw_conf_key_info *keys = NULL;
	size_t n = gw_conf_keys(&keys);
	char text[512];

	assert_true(n >= 20);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(keys[i].help);
		snprintf(text, sizeof(text), "[%s]\n%s = %s\n", keys[i].section, keys[i].name,
			 keys[i].defval);
		struct gw_conf *c = load_text(f, text);
		if (c == NULL)
			fail_msg("%s.%s = '%s': %s", keys[i].section, keys[i].name, keys[i].defval,
				 f->err);
		assert_conf_equal(c, &documented_defaults);
		gw_conf_free(c);
	}
}

static void
test_all_types(void **state)
{
	const struct gw_conf want = {
	    .udp = LIST(2, "127.0.0.1:5070", "[::1]:5070"),
	    .tcp = LIST(1, "127.0.0.2:5070"),
	    .tls = LIST(1, "127.0.0.1:5071"),
	    .domains = LIST(3, "Example.COM", "example.org", "corp.example"),
	    .workers = 64,
	    .state_dir = "/srv/green wich",
	    .pid_file = "/tmp/g.pid",
	    .control_socket = "/tmp/g.sock",
	    .server_name = "sip.example.com",
	    .tls_certificate = "/etc/g/cert.pem",
	    .tls_key = "/etc/g/key.pem",
	    .log_level = LOG_DEBUG,
	    .syslog_facility = LOG_LOCAL3,
	    .min_expires = 1,
	    .max_expires = 604800,
	    .default_expires = 604800,
	    .max_contacts = 1000,
	    .max_message_size = 1024,
	    .max_im_size = 16777216,
	    .realm = "corp",
	    .digest_algorithms = LIST(2, "md5", "sha-256"),
	    .nonce_lifetime = 10,
	    .local_accounts = false,
	    .invite_timeout = 3600,
	    .max_dialogs = 20,
	};
	struct fixture *f = *state;
	struct gw_conf *c = load_text(f, "# a full file\n"
					 "[ server ]\n"
					 "udp = 127.0.0.1:5070, [::1]:5070\n"
					 "tcp=127.0.0.2:5070\n"
					 "tls = 127.0.0.1:5071\n"
					 "domains = Example.COM ,example.org\tcorp.example\n"
					 "workers = 64\n"
					 "state-directory =  /srv/green wich  \n"
					 "pid-file = /tmp/g.pid\n"
					 "control-socket = /tmp/g.sock\n"
					 "server-name = sip.example.com\n"
					 "[tls]\n"
					 "certificate = /etc/g/cert.pem\n"
					 "key = /etc/g/key.pem\n"
					 "[log]\n"
					 "level = debug\n"
					 "syslog-facility = local3\n"
					 "[registrar]\n"
					 "min-expires = 1\n"
					 "max-expires = 604800\n"
					 "default-expires = 604800\n"
					 "max-contacts = 1000\n"
					 "[limits]\n"
					 "max-message-size = 1024\n"
					 "max-im-size = 16777216\n"
					 "[auth]\n"
					 "realm = corp\n"
					 "digest-algorithms = md5, sha-256\n"
					 "nonce-lifetime = 10\n"
					 "local-accounts = off\n"
					 "[proxy]\n"
					 "invite-timeout = 3600\n"
					 "max-dialogs = 20\n");

	if (c == NULL)
		fail_msg("%s", f->err);
	assert_conf_equal(c, &want);
	assert_string_equal(gw_conf_realm(c), "corp");
	gw_conf_free(c);
}

static void
test_bool_spellings(void **state)
{
	static const struct {
		const char *text;
		bool want;
	} cases[] = {
	    {"yes", true},    {"YES", true}, {"true", true}, {"True", true},
	    {"1", true},      {"on", true},  {"no", false},  {"No", false},
	    {"false", false}, {"0", false},  {"off", false}, {"OFF", false},
	};
	struct fixture *f = *state;
	char text[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* start from the opposite value so the assignment is visible */
		snprintf(text, sizeof(text), "[auth]\nlocal-accounts = %s\nlocal-accounts = %s\n",
			 cases[i].want ? "no" : "yes", cases[i].text);
		struct gw_conf *c = load_text(f, text);
		if (c == NULL)
			fail_msg("'%s': %s", cases[i].text, f->err);
		assert_int_equal(c->local_accounts, cases[i].want);
		gw_conf_free(c);
	}
}

static void
test_levels_and_facilities(void **state)
{
	static const struct {
		const char *key, *value;
		int want;
	} cases[] = {
	    {"level", "error", LOG_ERR},
	    {"level", "warning", LOG_WARNING},
	    {"level", "notice", LOG_NOTICE},
	    {"level", "info", LOG_INFO},
	    {"level", "debug", LOG_DEBUG},
	    {"syslog-facility", "daemon", LOG_DAEMON},
	    {"syslog-facility", "user", LOG_USER},
	    {"syslog-facility", "auth", LOG_AUTH},
	    {"syslog-facility", "local0", LOG_LOCAL0},
	    {"syslog-facility", "local7", LOG_LOCAL7},
	};
	struct fixture *f = *state;
	char text[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[log]\n%s = %s\n", cases[i].key, cases[i].value);
		struct gw_conf *c = load_text(f, text);
		if (c == NULL)
			fail_msg("%s = %s: %s", cases[i].key, cases[i].value, f->err);
		int got = cases[i].key[0] == 'l' ? c->log_level : c->syslog_facility;
		assert_int_equal(got, cases[i].want);
		gw_conf_free(c);
	}
}

/* A key given twice: the later line wins, lists are replaced, not appended. */
static void
test_last_value_wins(void **state)
{
	struct fixture *f = *state;
	struct gw_conf *c = load_text(f, "[server]\nworkers = 3\ndomains = a.example, b.example\n"
					 "[registrar]\nmax-contacts = 4\n"
					 "[server]\nworkers = 5\ndomains = c.example\n");

	assert_non_null(c);
	assert_int_equal(c->workers, 5);
	assert_int_equal(c->max_contacts, 4);
	assert_list_equal(&c->domains, &(struct gw_strlist)LIST(1, "c.example"));
	gw_conf_free(c);
}

/* One row per error: the file, what the message must hold. */
struct bad_case {
	const char *text;
	int line; /* 0: a file-level (cross-key) error without a line number */
	const char *want1, *want2;
};

static const struct bad_case bad_cases[] = {
    {"[server]\nudp = 127.0.0.1:5070\n[bogus]\n", 3, "unknown section [bogus]", NULL},
    {"[server]\nfoo = 1\n", 2, "unknown key 'foo' in [server]", NULL},
    {"[log]\nworkers = 1\n", 2, "unknown key 'workers' in [log]", NULL},
    {"# comment\nworkers = 2\n", 2, "key 'workers' outside of any [section]", NULL},
    {"[server]\nworkers = two\n", 2, "[server] workers:", "'two' is not a number"},
    {"[server]\nworkers = 4x\n", 2, "[server] workers:", "'4x' is not a number"},
    {"[server]\nworkers =\n", 2, "[server] workers:", "'' is not a number"},
    {"[server]\nworkers = 99999999999999999999999\n", 2, "[server] workers:", "is not a number"},
    {"[server]\nworkers = 65\n", 2, "[server] workers:", "65 is out of range 0..64"},
    {"[server]\nworkers = -1\n", 2, "[server] workers:", "-1 is out of range 0..64"},
    {"\n\n[registrar]\nmin-expires = 0\n", 4,
     "[registrar] min-expires:", "0 is out of range 1..86400"},
    {"[limits]\nmax-message-size = 1023\n", 2,
     "[limits] max-message-size:", "1023 is out of range 1024..16777216"},
    {"[auth]\nnonce-lifetime = 86401\n", 2, "[auth] nonce-lifetime:", "out of range 10..86400"},
    {"[auth]\nlocal-accounts = maybe\n", 2, "[auth] local-accounts:", "'maybe' is not yes or no"},
    {"[log]\nlevel = loud\n", 2, "[log] level:", "'loud' is not a log level"},
    {"[log]\nsyslog-facility = local9\n", 2,
     "[log] syslog-facility:", "'local9' is not a syslog facility"},
    {"[server\nworkers = 1\n", 1, "malformed section header", NULL},
    {"[server] extra\n", 1, "malformed section header", NULL},
    {"[]\n", 1, "unknown section []", NULL},
    {"[server]\nworkers 4\n", 2, "expected 'key = value'", NULL},
    {"[registrar]\nmin-expires = 600\nmax-expires = 300\n", 0,
     "[registrar] min-expires is larger than max-expires", NULL},
    {"[registrar]\ndefault-expires = 30\n", 0, "[registrar] default-expires must lie between",
     NULL},
    {"[registrar]\nmax-expires = 100\n", 0, "[registrar] default-expires must lie between", NULL},
    {"[server]\ndomains =\n", 0, "[server] domains: at least one SIP domain", NULL},
    {"[server]\ndomains = , ,\n", 0, "[server] domains: at least one SIP domain", NULL},
    {"[server]\nudp =\ntcp =\n", 0, "no udp, tcp or tls listen address", NULL},
    {"[server]\ntls = 127.0.0.1:5071\n", 0, "[server] tls needs [tls] certificate and key", NULL},
    {"[server]\ntls = 127.0.0.1:5071\n[tls]\ncertificate = /c.pem\n", 0,
     "[server] tls needs [tls] certificate and key", NULL},
    {"[server]\ntls = 127.0.0.1:5071\n[tls]\nkey = /k.pem\n", 0,
     "[server] tls needs [tls] certificate and key", NULL},
    {"[auth]\ndigest-algorithms = SHA-256, SHA-512-256\n", 0,
     "[auth] digest-algorithms: 'SHA-512-256' is not SHA-256 or MD5", NULL},
};

static void
check_bad(struct fixture *f, const struct bad_case *bc)
{
	char where[600];
	struct gw_conf *c = load_text(f, bc->text);

	if (c != NULL) {
		gw_conf_free(c);
		fail_msg("accepted: %s", bc->text);
	}
	if (bc->line > 0)
		snprintf(where, sizeof(where), "%s:%d: ", f->path, bc->line);
	else
		snprintf(where, sizeof(where), "%s: ", f->path);
	if (strncmp(f->err, where, strlen(where)) != 0)
		fail_msg("'%s' does not start with '%s'", f->err, where);
	if (strstr(f->err, bc->want1) == NULL)
		fail_msg("'%s' lacks '%s'", f->err, bc->want1);
	if (bc->want2 && strstr(f->err, bc->want2) == NULL)
		fail_msg("'%s' lacks '%s'", f->err, bc->want2);
	assert_null(strchr(f->err, '\n'));
}

static void
test_errors(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		check_bad(*state, &bad_cases[i]);
}

static void
test_line_too_long(void **state)
{
	struct fixture *f = *state;
	size_t n = 5000;
	char *text = malloc(n + 64);

	assert_non_null(text);
	strcpy(text, "[server]\nserver-name = ");
	size_t k = strlen(text);
	memset(text + k, 'a', n);
	strcpy(text + k + n, "\n");
	struct bad_case bc = {text, 2, "line too long", NULL};
	check_bad(f, &bc);
	free(text);
}

/* Values at both ends of a range are accepted. */
static void
test_bounds_inclusive(void **state)
{
	struct fixture *f = *state;
	struct gw_conf *c = load_text(f, "[server]\nworkers = 0\n[registrar]\nmax-contacts = 1\n"
					 "min-expires = 86400\nmax-expires = 86400\n"
					 "default-expires = 86400\n[auth]\nnonce-lifetime = 86400\n"
					 "[proxy]\ninvite-timeout = 5\nmax-dialogs = 1\n");

	if (c == NULL)
		fail_msg("%s", f->err);
	assert_int_equal(c->workers, 0);
	assert_int_equal(c->max_contacts, 1);
	assert_int_equal(c->min_expires, 86400);
	assert_int_equal(c->nonce_lifetime, 86400);
	assert_int_equal(c->invite_timeout, 5);
	assert_int_equal(c->max_dialogs, 1);
	gw_conf_free(c);
}

static void
test_tls_complete(void **state)
{
	struct fixture *f = *state;
	struct gw_conf *c = load_text(f, "[server]\nudp =\ntcp =\ntls = 127.0.0.1:5071\n"
					 "[tls]\ncertificate = /c.pem\nkey = /k.pem\n");

	if (c == NULL)
		fail_msg("%s", f->err);
	assert_int_equal(c->udp.n + c->tcp.n, 0);
	assert_list_equal(&c->tls, &(struct gw_strlist)LIST(1, "127.0.0.1:5071"));
	gw_conf_free(c);
}

static void
test_missing_file(void **state)
{
	struct fixture *f = *state;
	char path[600];

	snprintf(path, sizeof(path), "%s/does-not-exist.conf", f->dir);
	assert_null(gw_conf_load(path, f->err, sizeof(f->err)));
	assert_non_null(strstr(f->err, path));
	assert_non_null(strstr(f->err, "cannot open"));
}

static void
test_serves(void **state)
{
	struct fixture *f = *state;
	struct gw_conf *c = load_text(f, "[server]\ndomains = Example.COM, corp.example\n");

	assert_non_null(c);
	assert_true(gw_conf_serves(c, "example.com"));
	assert_true(gw_conf_serves(c, "EXAMPLE.com"));
	assert_true(gw_conf_serves(c, "Corp.Example"));
	assert_false(gw_conf_serves(c, "example.org"));
	assert_false(gw_conf_serves(c, "sub.example.com"));
	assert_false(gw_conf_serves(c, "example.co"));
	assert_false(gw_conf_serves(c, ""));
	assert_false(gw_conf_serves(c, NULL));
	/* no realm set: the first served domain, as written */
	assert_string_equal(gw_conf_realm(c), "Example.COM");
	gw_conf_free(c);
}

/* [auth] schemes is an ordered list of known schemes, each named once. */
static void
test_schemes(void **state)
{
	struct fixture *f = *state;
	struct gw_conf *c = load_text(f, "[auth]\nschemes = digest, NTLM\n");

	if (c == NULL)
		fail_msg("%s", f->err);
	assert_int_equal(c->auth_schemes.n, 2);
	assert_int_equal(c->auth_schemes.v[0], GW_SCHEME_DIGEST);
	assert_int_equal(c->auth_schemes.v[1], GW_SCHEME_NTLM);
	assert_true(gw_conf_scheme(c, GW_SCHEME_NTLM));
	assert_false(gw_conf_scheme(c, GW_SCHEME_KERBEROS));
	assert_string_equal(gw_scheme_name(GW_SCHEME_KERBEROS), "Kerberos");
	gw_conf_free(c);
	assert_null(load_text(f, "[auth]\nschemes = Kerberos, Basic\n"));
	assert_non_null(strstr(f->err, "'Basic' is not Kerberos, NTLM or Digest"));
	assert_null(load_text(f, "[auth]\nschemes = NTLM, ntlm\n"));
	assert_non_null(strstr(f->err, "NTLM is named twice"));
}

static void
count_key(const struct gw_conf_key_info *k, void *arg)
{
	char *seen = arg;

	strcat(seen, k->section);
	strcat(seen, ".");
	strcat(seen, k->name);
	strcat(seen, k->reload == GW_RELOAD_LIVE ? "=live " : "=restart ");
}

/* gw_conf_diff names exactly the keys whose values differ, with their reload column. */
static void
test_diff(void **state)
{
	struct fixture *f = *state;
	struct gw_conf *a = load_text(f, "[log]\nlevel = info\n");
	struct gw_conf *b =
	    load_text(f, "[log]\nlevel = debug\n[registrar]\nmax-contacts = 3\n[server]\n"
			 "domains = localdomain\n[auth]\nschemes = NTLM\n");
	char seen[512] = "";

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(gw_conf_diff(a, a, count_key, seen), 0);
	assert_string_equal(seen, "");
	assert_int_equal(gw_conf_diff(a, b, count_key, seen), 3);
	assert_string_equal(seen, "log.level=live registrar.max-contacts=restart "
				  "auth.schemes=restart ");
	gw_conf_free(a);
	gw_conf_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test_setup_teardown(test_empty_file_is_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_key_takes_its_default, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bool_spellings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_levels_and_facilities, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_last_value_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_line_too_long, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bounds_inclusive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_complete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_serves, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schemes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diff, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
