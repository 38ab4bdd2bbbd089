/*
 * mmc.h - greenwich-mmc internals: exit codes, the command table, the console tree
 * and the helpers the commands share.
 */
#ifndef GW_MMC_H
#define GW_MMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

#include "gwconf.h"

/* Exit codes, documented in greenwich-mmc(8) and `greenwich-mmc help`. */
enum {
	MMC_EXIT_OK = 0,
	MMC_EXIT_FAIL = 1,        /* the operation failed (or a `domain test` check did) */
	MMC_EXIT_USAGE = 2,       /* bad command line or argument */
	MMC_EXIT_NOTFOUND = 3,    /* the named object does not exist */
	MMC_EXIT_UNAVAILABLE = 4, /* not available yet in this version (the reason is printed) */
	MMC_EXIT_AUTH = 5,        /* credentials refused, no Kerberos ticket, access denied */
	MMC_EXIT_UNREACHABLE = 6, /* unknown domain, no DC answers, greenwichd not running */
	MMC_EXIT_REFUSED = 7,     /* valid, but refused: a conflict with what is stored (a SIP
				   * URI another user holds, a name taken, a served domain as a
				   * partner) or a risky change without --force; nothing written */
};

extern bool mmc_json;
/* Set while completion asks AD on the side: mmc_fail() says nothing. */
extern bool mmc_quiet;

/* The state a command runs with. */
struct mmc {
	const char *conf_path;
	const char *socket_path; /* --socket: greenwichd's control socket */
	struct gw_conf *conf;
	bool interactive; /* inside the console */
	char *cwd[8];     /* console tree path below the root, cwd_n components */
	size_t cwd_n;
	const char *front_end; /* --front-end: the server command is for that front end */
	int fe_timeout;        /* --timeout: seconds to wait for it */
};

/* Command flags. */
#define MMC_CMD_AD_CREDS 0x1 /* asks for the credentials of a domain administrator */
#define MMC_CMD_CONSOLE 0x2  /* only meaningful inside the console */
#define MMC_CMD_HIDDEN 0x4   /* not in the help (plumbing for the shell completion) */

/* One row of the command table.  The handler gets argv[0] = the last grammar word. */
struct mmc_cmd {
	const char *grammar; /* "domain join" */
	const char *args;    /* "--domain DOMAIN [--dc HOST] ..." */
	const char *help;
	unsigned flags;
	int (*run)(struct mmc *m, int argc, char **argv);
	const char *unavailable; /* not NULL: why the command cannot work yet (exit 4) */
};

/* cmd.c */
size_t mmc_commands(const struct mmc_cmd **cmds);
int mmc_dispatch(struct mmc *m, int argc, char **argv);
void mmc_usage(FILE *fp, const char *prefix);
int mmc_reload_conf(struct mmc *m);

/* console.c */
int mmc_console(struct mmc *m);
int mmc_split_line(const char *line, char ***argvp, int *argcp);
void mmc_free_argv(char **argv, int argc);

/* tree.c: the console tree (Greenwich > domain > Servers | Users | Local users | ...) */
enum mmc_node {
	N_ROOT,
	N_DOMAIN,
	N_SERVERS,
	N_SERVER,
	N_STATUS,
	N_REGISTRATIONS,
	N_CONNECTIONS,
	N_USERS,
	N_LOCALUSERS,
	N_LOCALUSER,
	N_POLICIES,
	N_FEDERATION,
	N_USER,      /* Users/<user>: any name, looked up when used */
	N_CONTACTS,  /* Users/<user>/Contacts */
	N_CONTACT,   /* ... /Contacts/<uri> */
	N_WATCHERS,  /* Users/<user>/Watchers (allow/block rules) */
	N_WATCHER,   /* ... /Watchers/<uri> */
	N_RULE,      /* Policies/<name> */
	N_FEDDOMAIN, /* Federation/<domain> */
};
typedef void mmc_child_fn(const char *name, enum mmc_node type, void *arg);
int mmc_tree_children(struct mmc *m, char *const *path, size_t n, enum mmc_node type,
		      mmc_child_fn *cb, void *arg);
int mmc_tree_resolve(struct mmc *m, const char *spec, char ***pathp, size_t *np,
		     enum mmc_node *typep);
void mmc_tree_free_path(char **path, size_t n);
char *mmc_tree_prompt(const struct mmc *m);
int mmc_cmd_ls(struct mmc *m, int argc, char **argv);
int mmc_cmd_cd(struct mmc *m, int argc, char **argv);
int mmc_cmd_show(struct mmc *m, int argc, char **argv);
int mmc_cmd_set(struct mmc *m, int argc, char **argv);
int mmc_cmd_new(struct mmc *m, int argc, char **argv);
int mmc_cmd_delete(struct mmc *m, int argc, char **argv);
int mmc_cmd_refresh(struct mmc *m, int argc, char **argv);
int mmc_cmd_pwd(struct mmc *m, int argc, char **argv);
const char *mmc_domain_label(const struct mmc *m);

/* tree_nodes.c: the nodes below Users, Policies and Federation.  path/n: the node's
 * canonical path below the root; args: what follows PATH on the command line. */
bool mmc_node_dynamic(enum mmc_node parent);
int mmc_node_children(struct mmc *m, char *const *path, size_t n, enum mmc_node t, mmc_child_fn *cb,
		      void *arg);
bool mmc_node_mine(enum mmc_node t);
int mmc_node_exists(struct mmc *m, char *const *path, size_t n, enum mmc_node t);
int mmc_node_show(struct mmc *m, char *const *path, size_t n, enum mmc_node t);
bool mmc_node_settable(enum mmc_node t, const char *prop);
int mmc_node_set(struct mmc *m, char *const *path, size_t n, enum mmc_node t, const char *prop,
		 const char *value);
int mmc_node_new(struct mmc *m, char *const *path, size_t n, enum mmc_node parent, const char *name,
		 int argc, char **argv);
int mmc_node_delete(struct mmc *m, char *const *path, size_t n, enum mmc_node t);

/* out.c: aligned tables for people, json-c for scripts, messages */
struct mmc_table;
struct mmc_table *mmc_table_new(size_t ncols, const char *const *headers);
void mmc_table_add(struct mmc_table *t, const char *const *cells);
void mmc_table_print(struct mmc_table *t, FILE *fp);
void mmc_table_free(struct mmc_table *t);
void mmc_json_print(json_object *obj);
struct mmc_props;
struct mmc_props *mmc_props_new(void);
void mmc_props_add(struct mmc_props *p, const char *name, const char *value);
void mmc_props_print(struct mmc_props *p);
void mmc_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mmc_unavailable(const char *what, const char *reason);
int mmc_read_secret(bool from_stdin, const char *prompt, char *buf, size_t len);
/* A new password: from stdin, else asked twice on the terminal (a mismatch is refused).
 * 0, or an exit code with the error printed. */
int mmc_read_new_secret(bool from_stdin, const char *prompt, char *buf, size_t len);
/* A yes/no question on the terminal (stdin and stdout a tty); false without one. */
bool mmc_confirm(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool mmc_have_tty(void);

/* valid.c: checked before anything is written.  A domain name (RFC 1035 labels, two at
 * least, no wildcard): why says what is wrong. */
bool mmc_domain_name_valid(const char *d, char *why, size_t len);
/* One of this server's domains ([server] domains, [domain] name)? */
bool mmc_domain_ours(const struct gw_conf *c, const char *d);
/* A user's SIP URI: sip:user@domain, a served domain when [server] domains lists any; its
 * address (without sip:) into addr.  MMC_EXIT_OK, or MMC_EXIT_USAGE with the error printed. */
int mmc_sip_uri_check(const struct gw_conf *c, const char *uri, char *addr, size_t len);

/* statefile.c: give PATH (a file in the state directory greenwich-mmc made or opened)
 * and SQLite's journal files beside it to the state directory's owner, mode 0640. */
void mmc_state_file_own(const struct gw_conf *c, const char *path);
/* The same for the store's database file (greenwich.db) when the store is SQLite. */
void mmc_state_db_own(const struct gw_conf *c);

/* audit.c: every change through greenwich-mmc, to syslog (ident greenwich-mmc, facility
 * auth) and to <state-directory>/mmc-audit.log, one key=value line: who (the Kerberos
 * principal of the default ccache, else the Unix user), verb, object, detail. */
/* After verb and object: more KEY, VALUE pairs, then NULL (a NULL value is left out). */
void mmc_audit(const struct gw_conf *c, const char *verb, const char *object, ...)
    __attribute__((sentinel));
int mmc_audit_cmd(struct mmc *m, int argc, char **argv);

/* proc.c: run a tool (adcli) with a secret on its stdin; capture its output */
struct mmc_proc_out {
	char *out;
	char *err;
};
int mmc_run(char *const argv[], const char *input, struct mmc_proc_out *po);
void mmc_proc_out_free(struct mmc_proc_out *po);

/* conffile.c: rewrite one section of greenwich.conf, keeping everything else */
int mmc_conf_update(const char *path, const char *section, const char *const *kv, size_t nkv,
		    bool drop_section, char *err, size_t errlen);

/* domain.c, domain_test.c */
int mmc_domain_join(struct mmc *m, int argc, char **argv);
int mmc_domain_leave(struct mmc *m, int argc, char **argv);
int mmc_domain_renew(struct mmc *m, int argc, char **argv);
/* delegate.c */
int mmc_domain_delegate(struct mmc *m, int argc, char **argv);
/* The groups that may manage Greenwich (one a line, malloc'd), or NULL: not known. */
char *mmc_delegated_groups(const struct gw_conf *c);
int mmc_domain_show(struct mmc *m, int argc, char **argv);
int mmc_domain_test(struct mmc *m, int argc, char **argv);
int mmc_domain_set(struct mmc *m, const char *key, const char *value);
void mmc_domain_keytab_path(const struct gw_conf *c, char *buf, size_t len);
void mmc_domain_realm(const struct gw_conf *c, char *buf, size_t len);
int mmc_dc_find(const struct gw_conf *c, char *dc, size_t len);

/* ctl.c: greenwichd's control socket */
const char *mmc_ctl_path(const struct mmc *m);
json_object *mmc_ctl_req(const char *cmd, const char *key, const char *value);
int mmc_ctl_call(struct mmc *m, json_object *req, json_object **replyp);
int mmc_ctl_try(struct mmc *m, json_object *req, json_object **replyp);

/* remote.c: `server ... --front-end ID` through the store.  The commands another
 * front end runs; this host's front-end id ([pool] id, else the host name); ask
 * m->front_end to run req (not consumed), its reply line in *line (malloc'd). */
bool mmc_remote_allowed(const char *cmd);
void mmc_front_end_self(const struct mmc *m, char *buf, size_t len);
int mmc_remote_call(struct mmc *m, json_object *req, char **line, bool quiet);
/* An error on stderr; with --json also {"error":..,"exit":code} on stdout.  Returns code. */
int mmc_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* server.c */
void mmc_user_aor(const struct mmc *m, const char *user, char *buf, size_t len);
int mmc_server_cmd(struct mmc *m, int argc, char **argv);
int mmc_server_status(struct mmc *m);
int mmc_server_registrations(struct mmc *m, const char *user);
int mmc_server_connections(struct mmc *m);
int mmc_server_signout(struct mmc *m, const char *user);

/* users.c: list, show, enable, disable, set-uri (argv[0] the verb) */
int mmc_users_cmd(struct mmc *m, int argc, char **argv);
/* Call cb with the account name of each AD user starting with prefix (any case), at most
 * 200, read with the caller's own ticket; nothing (and no message) without one. */
void mmc_users_names(struct mmc *m, const char *prefix, void (*cb)(const char *, void *),
		     void *arg);
/* Is group (a name or S-1-... SID) a group in AD?  Binds with the admin's ticket; an exit
 * code, the error printed (not found: 3). */
int mmc_users_group_check(struct mmc *m, const char *group);
/* presence.c: users contacts|contact-add|contact-remove|acl|allow|block|acl-remove */
int mmc_presence_cmd(struct mmc *m, int argc, char **argv);
/* pool.c: `pool status` */
int mmc_pool_cmd(struct mmc *m, int argc, char **argv);
typedef void mmc_aor_fn(const char *aor, void *arg);
/* The console tree: a user's contacts or watchers; one entry's properties; list owners. */
int mmc_presence_each(struct mmc *m, const char *user, bool contacts, mmc_aor_fn *cb, void *arg);
int mmc_presence_entry_show(struct mmc *m, const char *user, bool contacts, const char *uri);
int mmc_presence_owners(struct mmc *m, mmc_aor_fn *cb, void *arg);
/* policy.c: policy and federation verbs */
int mmc_policy(struct mmc *m, int argc, char **argv);
int mmc_federation(struct mmc *m, int argc, char **argv);
/* ls / show of the Policies and Federation nodes */
int mmc_policy_node(struct mmc *m, enum mmc_node t);
/* The console tree: rule names or federated domains; a new named rule; a domain. */
int mmc_policy_each(struct mmc *m, bool fed, mmc_aor_fn *cb, void *arg, bool loud);
int mmc_policy_new(struct mmc *m, const char *name, const char *text);
int mmc_federation_show(struct mmc *m, const char *domain);

/* local_user.c */
int mmc_local_user(const struct gw_conf *c, int argc, char **argv);
int mmc_local_user_each(const struct gw_conf *c, mmc_aor_fn *cb, void *arg);
int mmc_local_user_show(const struct gw_conf *c, const char *aor);
int mmc_local_user_password(const struct gw_conf *c, const char *aor, const char *pw);

#endif
