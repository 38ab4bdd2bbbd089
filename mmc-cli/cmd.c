/*
 * cmd.c - the command table of greenwich-mmc: one row per command, shared by the
 * one-shot mode, the console, its tab completion, `help` and the bash completion.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "complete.h"
#include "mmc.h"

static int cmd_help(struct mmc *m, int argc, char **argv);
static int cmd_shell(struct mmc *m, int argc, char **argv);
static int cmd_version(struct mmc *m, int argc, char **argv);
static int cmd_complete(struct mmc *m, int argc, char **argv);

static int
cmd_local_user(struct mmc *m, int argc, char **argv)
{
	return mmc_local_user(m->conf, argc, argv);
}

/* The console's action verbs are the server commands without the noun. */
static int
cmd_console_server(struct mmc *m, int argc, char **argv)
{
	return mmc_server_cmd(m, argc, argv);
}

static const struct mmc_cmd commands[] = {
    {"domain join",
     "--domain DOMAIN [--dc HOST] [--ou OU] [--user USER] [--password-stdin] "
     "[--fqdn FQDN] [--keytab FILE] [--sip-account NAME | --sip-on-computer]",
     "join this server to an AD domain (computer account, keytab; sip/ on an account of its own)",
     MMC_CMD_AD_CREDS, mmc_domain_join, NULL},
    {"domain leave", "[--user USER] [--password-stdin]",
     "delete the computer account, the sip/ account, the keytabs and the [domain] settings",
     MMC_CMD_AD_CREDS, mmc_domain_leave, NULL},
    {"domain renew", "[--force] [--if-joined]",
     "renew the machine account's password (adcli update, when due or --force; keytab kept)", 0,
     mmc_domain_renew, NULL},
    {"domain test", "", "check keytab, domain controller, Kerberos, LDAP bind, clock and SPN", 0,
     mmc_domain_test, NULL},
    {"domain show", "", "the domain settings of this server and the delegated groups", 0,
     mmc_domain_show, NULL},
    {"domain delegate", "[--remove] GROUP",
     "let an AD group manage Greenwich policy and users without being Domain Admins (ACEs)",
     MMC_CMD_AD_CREDS, mmc_domain_delegate, NULL},
    {"local-user add", "USER@DOMAIN [--password-stdin]", "add a local account or set its password",
     0, cmd_local_user, NULL},
    {"local-user passwd", "USER@DOMAIN [--password-stdin]",
     "a new password for a local account (asked twice on a terminal)", 0, cmd_local_user, NULL},
    {"local-user remove", "USER@DOMAIN", "remove a local account", 0, cmd_local_user, NULL},
    {"local-user list", "", "list the local accounts", 0, cmd_local_user, NULL},
    {"server status", "[--front-end ID]", "uptime, version, domain and counters of greenwichd", 0,
     mmc_server_cmd, NULL},
    {"pool status", "",
     "the front ends of the pool from the store: address, heartbeat age, load, health", 0,
     mmc_pool_cmd, NULL},
    {"server registrations", "[USER] [--front-end ID]", "signed-in devices, per user", 0,
     mmc_server_cmd, NULL},
    {"server connections", "[--front-end ID]", "TCP and TLS connections of signed-in devices", 0,
     mmc_server_cmd, NULL},
    {"server sign-out", "USER", "sign a user out everywhere (remove every registration)", 0,
     mmc_server_cmd, NULL},
    {"server signout", "USER", "same as sign-out", MMC_CMD_HIDDEN, mmc_server_cmd, NULL},
    {"server reload", "[--front-end ID]", "reload the configuration and policies (as SIGHUP)", 0,
     mmc_server_cmd, NULL},
    {"server log-level", "LEVEL [--front-end ID]",
     "change the log level of greenwichd (error ... debug)", 0, mmc_server_cmd, NULL},
    {"server flush-cache", "[USER] [--front-end ID]",
     "drop greenwichd's cached directory answers (all, or one user's): AD changes count at once", 0,
     mmc_server_cmd, NULL},
    {"users list", "[--filter TEXT] [--enabled|--disabled]",
     "directory users with a SIP URI and whether they may use Greenwich (paged search)", 0,
     mmc_users_cmd, NULL},
    {"users show", "USER",
     "SIP URI, aliases, enabled, groups, signed-in devices and presence of a user", 0,
     mmc_users_cmd, NULL},
    {"users enable", "USER", "add a user to the Greenwich group (enabled-group)", 0, mmc_users_cmd,
     NULL},
    {"users disable", "USER", "remove a user from the Greenwich group", 0, mmc_users_cmd, NULL},
    {"users set-uri", "USER URI",
     "set a user's SIP URI (proxyAddresses SIP:, unique, aliases kept)", 0, mmc_users_cmd, NULL},
    {"users reset-uri", "USER",
     "remove the SIP: proxyAddresses value: the user's SIP URI is sip:<mail> again", 0,
     mmc_users_cmd, NULL},
    {"users contacts", "USER@DOMAIN", "a user's server-stored contact list (presence buddies)", 0,
     mmc_presence_cmd, NULL},
    {"users contact-add", "USER@DOMAIN URI [--group GROUP] [--name NAME]",
     "add a contact to a user's list (signed-in devices get it at once)", 0, mmc_presence_cmd,
     NULL},
    {"users contact-remove", "USER@DOMAIN URI", "remove a contact from a user's list", 0,
     mmc_presence_cmd, NULL},
    {"users acl", "USER@DOMAIN", "who may or may not see a user's presence (own rules)", 0,
     mmc_presence_cmd, NULL},
    {"users allow", "USER@DOMAIN WATCHER-URI", "let a watcher see the user's presence", 0,
     mmc_presence_cmd, NULL},
    {"users block", "USER@DOMAIN WATCHER-URI",
     "block a watcher: it sees the user offline (polite blocking)", 0, mmc_presence_cmd, NULL},
    {"users acl-remove", "USER@DOMAIN WATCHER-URI", "forget the rule for a watcher", 0,
     mmc_presence_cmd, NULL},
    {"policy list", "", "policy rules in the order they are tried", 0, mmc_policy, NULL},
    {"policy show", "NAME", "the text of a rule", 0, mmc_policy, NULL},
    {"policy add", "TEXT|- [--force] [--dry-run]",
     "add a rule (group names become SIDs; no priority: the next free one); - reads stdin",
     MMC_CMD_AD_CREDS, mmc_policy, NULL},
    {"policy set", "NAME TEXT|- [--force] [--dry-run]", "replace the text of a rule",
     MMC_CMD_AD_CREDS, mmc_policy, NULL},
    {"policy remove", "NAME [--yes] [--dry-run]", "delete a rule (asks on a terminal)",
     MMC_CMD_AD_CREDS, mmc_policy, NULL},
    {"policy delete", "NAME [--yes] [--dry-run]", "same as remove", MMC_CMD_AD_CREDS, mmc_policy,
     NULL},
    {"policy move", "NAME --before OTHER | --after OTHER | --priority N [--dry-run]",
     "change where a rule is tried", MMC_CMD_AD_CREDS, mmc_policy, NULL},
    {"policy test",
     "--from URI --to URI --class im|presence|call|other [--arrival HOW] [--network NET]",
     "the decision for a request and the rule that makes it", 0, mmc_policy, NULL},
    {"federation list", "", "partner domains allowed or blocked (and invalid stored entries)", 0,
     mmc_federation, NULL},
    {"federation allow", "DOMAIN", "allow a partner domain", MMC_CMD_AD_CREDS, mmc_federation,
     NULL},
    {"federation block", "DOMAIN", "block a domain", MMC_CMD_AD_CREDS, mmc_federation, NULL},
    {"federation remove", "DOMAIN", "forget a domain's setting (any stored entry, as listed)",
     MMC_CMD_AD_CREDS, mmc_federation, NULL},
    {"audit", "[--since TIME]",
     "changes made with greenwich-mmc: when, who (Kerberos principal), what", 0, mmc_audit_cmd,
     NULL},
    {"ls", "[PATH]", "list a node of the console tree", 0, mmc_cmd_ls, NULL},
    {"show", "[PATH]", "properties of a node", 0, mmc_cmd_show, NULL},
    {"properties", "[PATH]", "same as show", 0, mmc_cmd_show, NULL},
    {"set", "[PATH] PROPERTY [VALUE]", "change a property (a password is prompted for)", 0,
     mmc_cmd_set, NULL},
    {"new", "PATH", "create an object (a local user: Local users/USER@DOMAIN)", 0, mmc_cmd_new,
     NULL},
    {"delete", "PATH", "delete an object", 0, mmc_cmd_delete, NULL},
    {"cd", "PATH", "go to a node of the console tree", MMC_CMD_CONSOLE, mmc_cmd_cd, NULL},
    {"pwd", "", "where you are in the console tree", MMC_CMD_CONSOLE, mmc_cmd_pwd, NULL},
    {"refresh", "", "read the configuration again, show live data again", MMC_CMD_CONSOLE,
     mmc_cmd_refresh, NULL},
    {"sign-out", "USER", "sign a user out everywhere", MMC_CMD_CONSOLE, cmd_console_server, NULL},
    {"reload", "[--front-end ID]", "greenwichd reloads its configuration", MMC_CMD_CONSOLE,
     cmd_console_server, NULL},
    {"enable", "USER", "enable a directory user for Greenwich", MMC_CMD_CONSOLE, mmc_users_cmd,
     NULL},
    {"disable", "USER", "disable a directory user for Greenwich", MMC_CMD_CONSOLE, mmc_users_cmd,
     NULL},
    {"set-uri", "USER URI", "set a directory user's SIP URI", MMC_CMD_CONSOLE, mmc_users_cmd, NULL},
    {"reset-uri", "USER", "a directory user's SIP URI from mail again", MMC_CMD_CONSOLE,
     mmc_users_cmd, NULL},
    {"log-level", "LEVEL [--front-end ID]", "change greenwichd's log level", MMC_CMD_CONSOLE,
     cmd_console_server, NULL},
    {"shell", "", "the interactive console", 0, cmd_shell, NULL},
    {"complete", "LINE", "print the completions of a partial command line (for shells)",
     MMC_CMD_HIDDEN, cmd_complete, NULL},
    {"help", "[COMMAND]", "this help, or the commands starting with COMMAND", 0, cmd_help, NULL},
    {"version", "", "print the version", 0, cmd_version, NULL},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

size_t
mmc_commands(const struct mmc_cmd **cmds)
{
	*cmds = commands;
	return N_COMMANDS;
}

/* How many grammar words of c match argv (all of them, or 0). */
static int
grammar_match(const struct mmc_cmd *c, int argc, char **argv)
{
	const char *g = c->grammar;
	int n = 0;

	while (*g) {
		size_t len = strcspn(g, " ");
		if (n >= argc || strlen(argv[n]) != len || strncmp(argv[n], g, len) != 0)
			return 0;
		n++;
		g += len;
		g += *g == ' ';
	}
	return n;
}

static bool
starts_with_word(const char *grammar, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(grammar, prefix, n) == 0 && (grammar[n] == ' ' || grammar[n] == '\0');
}

/* Do commands a and b begin with the same word (their group: server, users, ...)? */
static bool
same_group(const char *a, const char *b)
{
	size_t n = strcspn(a, " ");

	return n == strcspn(b, " ") && strncmp(a, b, n) == 0;
}

static void
usage_line(FILE *fp, const struct mmc_cmd *c)
{
	char g[200];

	snprintf(g, sizeof(g), "%s%s%s", c->grammar, c->args[0] ? " " : "", c->args);
	if (strlen(g) > 32)
		fprintf(fp, "  %s\n  %-32s ", g, "");
	else
		fprintf(fp, "  %-32s ", g);
	fprintf(fp, "%s%s\n", c->help, c->flags & MMC_CMD_CONSOLE ? " (console)" : "");
}

/* The commands by group, each group where its first command stands in the table. */
void
mmc_usage(FILE *fp, const char *prefix)
{
	if (prefix == NULL)
		fprintf(
		    fp,
		    "usage: greenwich-mmc [--config FILE] [--socket PATH] [--json] COMMAND ...\n"
		    "       greenwich-mmc [--config FILE]     (the console, on a terminal)\n"
		    "commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		size_t first = 0;
		while (!same_group(commands[first].grammar, commands[i].grammar))
			first++;
		if (first < i)
			continue; /* its group was listed with its first command */
		for (size_t k = i; k < N_COMMANDS; k++) {
			const struct mmc_cmd *c = &commands[k];
			if (!same_group(c->grammar, commands[i].grammar) ||
			    (prefix && !starts_with_word(c->grammar, prefix)) ||
			    c->flags & MMC_CMD_HIDDEN)
				continue;
			usage_line(fp, c);
		}
	}
	if (prefix == NULL)
		fprintf(fp,
			"exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 not available yet,\n"
			"            5 credentials refused or missing, access denied,\n"
			"            6 domain unreachable or greenwichd not running,\n"
			"            7 refused: conflicts with what is stored, or needs --force\n");
}

int
mmc_dispatch(struct mmc *m, int argc, char **argv)
{
	const struct mmc_cmd *best = NULL;
	int words = 0;

	if (argc < 1)
		return MMC_EXIT_OK;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		int n = grammar_match(&commands[i], argc, argv);
		if (n > words) {
			words = n;
			best = &commands[i];
		}
	}
	if (best == NULL) {
		bool noun = false;
		for (size_t i = 0; i < N_COMMANDS && !noun; i++)
			noun = starts_with_word(commands[i].grammar, argv[0]);
		if (noun && argc > 1)
			mmc_fail(MMC_EXIT_USAGE, "unknown %s command '%s'; %s commands:", argv[0],
				 argv[1], argv[0]);
		else if (noun)
			mmc_fail(MMC_EXIT_USAGE, "%s needs a command:", argv[0]);
		else
			mmc_fail(MMC_EXIT_USAGE, "unknown command '%s' (try help)", argv[0]);
		if (noun)
			mmc_usage(stderr, argv[0]);
		return MMC_EXIT_USAGE;
	}
	if ((best->flags & MMC_CMD_CONSOLE) && !m->interactive) {
		return mmc_fail(MMC_EXIT_USAGE,
				"'%s' only works in the console (greenwich-mmc shell)",
				best->grammar);
	}
	if (best->unavailable)
		return mmc_unavailable(best->grammar, best->unavailable);
	return best->run(m, argc - words + 1, argv + words - 1);
}

int
mmc_reload_conf(struct mmc *m)
{
	char err[600];
	struct gw_conf *c = gw_conf_load(m->conf_path, err, sizeof(err));

	if (c == NULL) {
		mmc_err("%s", err);
		return MMC_EXIT_FAIL;
	}
	gw_conf_free(m->conf);
	m->conf = c;
	return MMC_EXIT_OK;
}

static int
cmd_help(struct mmc *m, int argc, char **argv)
{
	(void)m;
	if (argc < 2) {
		mmc_usage(stdout, NULL);
		return MMC_EXIT_OK;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (starts_with_word(commands[i].grammar, argv[1])) {
			mmc_usage(stdout, argv[1]);
			return MMC_EXIT_OK;
		}
	return mmc_fail(MMC_EXIT_NOTFOUND, "no command '%s' (try help)", argv[1]);
}

static int
cmd_shell(struct mmc *m, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (m->interactive) {
		mmc_err("already in the console");
		return MMC_EXIT_USAGE;
	}
	return mmc_console(m);
}

static int
cmd_version(struct mmc *m, int argc, char **argv)
{
	(void)m;
	(void)argc;
	(void)argv;
	printf("greenwich-mmc " PACKAGE_VERSION "\n");
	return MMC_EXIT_OK;
}

/* For the bash completion: candidates one per line, nodes with children ending in "/". */
static int
cmd_complete(struct mmc *m, int argc, char **argv)
{
	struct mmc_cands c = {.mark_dirs = true};
	char *partial = NULL;

	if (argc != 2)
		return MMC_EXIT_USAGE;
	if (mmc_complete_words(m, argv[1], &c, &partial) < 0)
		return MMC_EXIT_FAIL;
	for (size_t i = 0; i < c.n; i++)
		printf("%s\n", c.v[i]);
	mmc_cands_free(&c);
	free(partial);
	return MMC_EXIT_OK;
}
