/*
 * tree.c - the console tree:
 *
 *   Greenwich > <domain> > Servers > <server> > Status | Registrations | Connections
 *                        > Users > <user> > Contacts | Watchers   (tree_nodes.c)
 *                        > Local users > <user@domain>
 *                        > Policies > <rule> | Federation > <domain>   (tree_nodes.c)
 *
 * and the verbs that work on it (ls, cd, show, set, new, delete, refresh, pwd).  Status,
 * Registrations and Connections ask greenwichd over its control socket (server.c).
 * Nodes whose data is not reachable in this version answer "not available yet" with
 * exit code 4; nothing is invented.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "mmc.h"

static const char *const node_types[] = {
    [N_ROOT] = "root",
    [N_DOMAIN] = "domain",
    [N_SERVERS] = "servers",
    [N_SERVER] = "server",
    [N_STATUS] = "status",
    [N_REGISTRATIONS] = "registrations",
    [N_CONNECTIONS] = "connections",
    [N_USERS] = "users",
    [N_LOCALUSERS] = "local-users",
    [N_LOCALUSER] = "local-user",
    [N_POLICIES] = "policies",
    [N_FEDERATION] = "federation",
    [N_USER] = "user",
    [N_CONTACTS] = "contacts",
    [N_CONTACT] = "contact",
    [N_WATCHERS] = "watchers",
    [N_WATCHER] = "watcher",
    [N_RULE] = "rule",
    [N_FEDDOMAIN] = "federated-domain",
};

/* Why a node has no data yet, or NULL when it has. */
static const char *
node_unavailable(enum mmc_node t)
{
	(void)t; /* every node has live data now */
	return NULL;
}

const char *
mmc_domain_label(const struct mmc *m)
{
	if (m->conf->domain_name[0])
		return m->conf->domain_name;
	return m->conf->domains.v[0];
}

static const char *
server_label(const struct mmc *m, char *buf, size_t len)
{
	if (m->conf->server_name[0])
		return m->conf->server_name;
	if (gethostname(buf, len) < 0)
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
	return buf;
}

struct aor_fwd {
	mmc_child_fn *cb;
	void *arg;
};

static void
aor_forward(const char *aor, void *arg)
{
	struct aor_fwd *f = arg;
	f->cb(aor, N_LOCALUSER, f->arg);
}

int
mmc_tree_children(struct mmc *m, char *const *path, size_t n, enum mmc_node type, mmc_child_fn *cb,
		  void *arg)
{
	char host[256];

	switch (type) {
	case N_ROOT:
		cb(mmc_domain_label(m), N_DOMAIN, arg);
		return 0;
	case N_DOMAIN:
		cb("Servers", N_SERVERS, arg);
		cb("Users", N_USERS, arg);
		cb("Local users", N_LOCALUSERS, arg);
		cb("Policies", N_POLICIES, arg);
		cb("Federation", N_FEDERATION, arg);
		return 0;
	case N_SERVERS:
		cb(server_label(m, host, sizeof(host)), N_SERVER, arg);
		return 0;
	case N_SERVER:
		cb("Status", N_STATUS, arg);
		cb("Registrations", N_REGISTRATIONS, arg);
		cb("Connections", N_CONNECTIONS, arg);
		return 0;
	case N_LOCALUSERS: {
		struct aor_fwd f = {cb, arg};
		return mmc_local_user_each(m->conf, aor_forward, &f);
	}
	default:
		return mmc_node_children(m, path, n, type, cb, arg);
	}
}

struct find {
	const char *want;
	char *found;
	enum mmc_node type;
};

static void
find_cb(const char *name, enum mmc_node type, void *arg)
{
	struct find *f = arg;
	if (f->found == NULL && strcasecmp(name, f->want) == 0) {
		f->found = strdup(name);
		f->type = type;
	}
}

void
mmc_tree_free_path(char **path, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(path[i]);
	free(path);
}

/* Type of the node at path (names already canonical), or -ENOENT. */
static int
path_type(struct mmc *m, char **path, size_t n, enum mmc_node *typep)
{
	enum mmc_node t = N_ROOT;

	for (size_t i = 0; i < n; i++) {
		struct find f = {path[i], NULL, N_ROOT};
		if (mmc_node_dynamic(t)) { /* any name: looked up when used */
			t = t == N_USERS ? N_USER : t == N_POLICIES ? N_RULE : N_FEDDOMAIN;
			continue;
		}
		mmc_tree_children(m, path, i, t, find_cb, &f);
		if (f.found == NULL)
			return -ENOENT;
		free(path[i]);
		path[i] = f.found;
		t = f.type;
	}
	*typep = t;
	return 0;
}

/* Resolve spec (absolute "/a/b", relative "b", "..", "") against the current node. */
int
mmc_tree_resolve(struct mmc *m, const char *spec, char ***pathp, size_t *np, enum mmc_node *typep)
{
	char **path = calloc(16, sizeof(*path));
	char *copy = strdup(spec ? spec : ""), *save = NULL;
	size_t n = 0;
	int ret = 0;

	if (path == NULL || copy == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	if (copy[0] != '/')
		for (; n < m->cwd_n; n++)
			path[n] = strdup(m->cwd[n]);
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			if (n > 0)
				free(path[--n]);
			continue;
		}
		if (n >= 7) {
			ret = -ENOENT;
			goto done;
		}
		path[n++] = strdup(tok);
	}
	ret = path_type(m, path, n, typep);
done:
	free(copy);
	if (ret < 0) {
		mmc_tree_free_path(path, n);
		return ret;
	}
	*pathp = path;
	*np = n;
	return 0;
}

char *
mmc_tree_prompt(const struct mmc *m)
{
	size_t len = 32;
	char *p;

	for (size_t i = 0; i < m->cwd_n; i++)
		len += strlen(m->cwd[i]) + 3;
	p = malloc(len);
	if (p == NULL)
		return NULL;
	strcpy(p, "Greenwich");
	for (size_t i = 0; i < m->cwd_n; i++) {
		strcat(p, " > ");
		strcat(p, m->cwd[i]);
	}
	strcat(p, "> ");
	return p;
}

/* A resolved node: its canonical path below the root and its type. */
struct node {
	char **path;
	size_t n;
	enum mmc_node t;
};

/* Resolve one PATH argument, printing the error. */
static int
arg_node(struct mmc *m, const char *spec, struct node *nd)
{
	if (mmc_tree_resolve(m, spec, &nd->path, &nd->n, &nd->t) < 0)
		return mmc_fail(MMC_EXIT_NOTFOUND, "no such node: %s", spec);
	return MMC_EXIT_OK;
}

static const char *
node_name(const struct node *nd)
{
	return nd->n ? nd->path[nd->n - 1] : "Greenwich";
}

static int
node_unavailable_err(const struct node *nd)
{
	return mmc_unavailable(node_name(nd), node_unavailable(nd->t));
}

struct ls_state {
	struct mmc_table *t;
	json_object *arr;
};

static void
ls_cb(const char *name, enum mmc_node type, void *arg)
{
	struct ls_state *s = arg;
	if (s->arr) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "type", json_object_new_string(node_types[type]));
		json_object_array_add(s->arr, o);
	} else {
		mmc_table_add(s->t, (const char *const[]){name, node_types[type]});
	}
}

/* The live nodes: greenwichd's state, asked for each time. */
static int
live_node(struct mmc *m, enum mmc_node t)
{
	if (t == N_STATUS)
		return mmc_server_status(m);
	if (t == N_REGISTRATIONS)
		return mmc_server_registrations(m, NULL);
	return mmc_server_connections(m);
}

static bool
is_live(enum mmc_node t)
{
	return t == N_STATUS || t == N_REGISTRATIONS || t == N_CONNECTIONS;
}

static int
ls_node(struct mmc *m, const struct node *nd)
{
	struct ls_state s = {NULL, NULL};
	int ret;

	if (is_live(nd->t))
		return live_node(m, nd->t);
	if (nd->t == N_USERS)
		return mmc_users_cmd(m, 1, (char *[]){"list", NULL});
	if (mmc_node_mine(nd->t) && nd->t != N_USER)
		return mmc_node_show(m, nd->path, nd->n, nd->t);
	if (node_unavailable(nd->t))
		return node_unavailable_err(nd);
	if (nd->t == N_POLICIES || nd->t == N_FEDERATION)
		return mmc_policy_node(m, nd->t);
	if (mmc_json)
		s.arr = json_object_new_array();
	else
		s.t = mmc_table_new(2, (const char *const[]){"NAME", "TYPE"});
	ret = mmc_tree_children(m, nd->path, nd->n, nd->t, ls_cb, &s) < 0 ? MMC_EXIT_FAIL
									  : MMC_EXIT_OK;
	if (s.arr)
		mmc_json_print(s.arr);
	if (s.t)
		mmc_table_print(s.t, stdout);
	mmc_table_free(s.t);
	return ret;
}

int
mmc_cmd_ls(struct mmc *m, int argc, char **argv)
{
	struct node nd;
	int ret = arg_node(m, argc > 1 ? argv[1] : "", &nd);

	if (ret != MMC_EXIT_OK)
		return ret;
	ret = ls_node(m, &nd);
	mmc_tree_free_path(nd.path, nd.n);
	return ret;
}

int
mmc_cmd_cd(struct mmc *m, int argc, char **argv)
{
	struct node nd;

	int ret = arg_node(m, argc > 1 ? argv[1] : "/", &nd);

	if (ret == MMC_EXIT_OK && (ret = mmc_node_exists(m, nd.path, nd.n, nd.t)) != MMC_EXIT_OK)
		mmc_tree_free_path(nd.path, nd.n);
	if (ret != MMC_EXIT_OK)
		return ret;
	for (size_t i = 0; i < m->cwd_n; i++)
		free(m->cwd[i]);
	for (size_t i = 0; i < nd.n; i++)
		m->cwd[i] = nd.path[i];
	m->cwd_n = nd.n;
	free(nd.path);
	return MMC_EXIT_OK;
}

int
mmc_cmd_pwd(struct mmc *m, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("/");
	for (size_t i = 0; i < m->cwd_n; i++)
		printf("%s%s", m->cwd[i], i + 1 < m->cwd_n ? "/" : "");
	printf("\n");
	return MMC_EXIT_OK;
}

static void
join_list(const struct gw_strlist *l, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? ", " : "", l->v[i]);
}

static int
show_props(struct mmc *m, enum mmc_node t)
{
	struct mmc_props *p = mmc_props_new();
	char buf[1024], host[256];

	if (t == N_ROOT) {
		mmc_props_add(p, "product", "Greenwich " PACKAGE_VERSION);
		mmc_props_add(p, "configuration", m->conf_path);
		join_list(&m->conf->domains, buf, sizeof(buf));
		mmc_props_add(p, "sip-domains", buf);
		mmc_props_add(p, "ad-domain",
			      m->conf->domain_name[0] ? m->conf->domain_name : "(not joined)");
	} else {
		mmc_props_add(p, "name", server_label(m, host, sizeof(host)));
		join_list(&m->conf->udp, buf, sizeof(buf));
		mmc_props_add(p, "udp", buf);
		join_list(&m->conf->tcp, buf, sizeof(buf));
		mmc_props_add(p, "tcp", buf);
		join_list(&m->conf->tls, buf, sizeof(buf));
		mmc_props_add(p, "tls", buf);
		mmc_props_add(p, "state-directory", m->conf->state_dir);
		mmc_props_add(p, "control-socket", m->conf->control_socket);
	}
	mmc_props_print(p);
	return MMC_EXIT_OK;
}

/* In Users, `show NAME` shows that directory user. */
static bool
in_users(struct mmc *m, int argc, char **argv)
{
	struct node nd;
	bool yes;

	if (argc != 2 || strchr(argv[1], '/') || argv[1][0] == '.' ||
	    mmc_tree_resolve(m, "", &nd.path, &nd.n, &nd.t) < 0)
		return false;
	yes = nd.t == N_USERS;
	mmc_tree_free_path(nd.path, nd.n);
	return yes;
}

int
mmc_cmd_show(struct mmc *m, int argc, char **argv)
{
	struct node nd;

	if (in_users(m, argc, argv))
		return mmc_users_cmd(m, 2, (char *[]){"show", argv[1], NULL});
	int ret = arg_node(m, argc > 1 ? argv[1] : "", &nd);

	if (ret != MMC_EXIT_OK)
		return ret;
	if (nd.t == N_ROOT || nd.t == N_SERVER)
		ret = show_props(m, nd.t);
	else if (nd.t == N_DOMAIN)
		ret = mmc_domain_show(m, 1, argv);
	else if (nd.t == N_LOCALUSER)
		ret = mmc_local_user_show(m->conf, node_name(&nd));
	else if (mmc_node_mine(nd.t))
		ret = mmc_node_show(m, nd.path, nd.n, nd.t);
	else
		ret = ls_node(m, &nd);
	mmc_tree_free_path(nd.path, nd.n);
	return ret;
}

static bool
settable(enum mmc_node t, const char *p)
{
	if (t == N_LOCALUSER)
		return !strcmp(p, "password");
	if (t == N_DOMAIN)
		return !strcmp(p, "enabled-group") || !strcmp(p, "dcs");
	return mmc_node_settable(t, p);
}

static int
set_password(struct mmc *m, const char *aor, const char *value)
{
	char pw[512];
	int ret;

	if (value != NULL) {
		snprintf(pw, sizeof(pw), "%s", value);
	} else if ((ret = mmc_read_new_secret(false, "New password: ", pw, sizeof(pw))) !=
		   MMC_EXIT_OK) {
		return ret;
	}
	ret = mmc_local_user_password(m->conf, aor, pw);
	OPENSSL_cleanse(pw, sizeof(pw));
	return ret;
}

/* set [PATH] PROPERTY [VALUE] */
int
mmc_cmd_set(struct mmc *m, int argc, char **argv)
{
	struct node nd;
	int ret, a = 1;

	if (argc < 2 || argc > 4) {
		return mmc_fail(MMC_EXIT_USAGE, "usage: set [PATH] PROPERTY [VALUE]");
	}
	ret = arg_node(m, "", &nd);
	if (ret == MMC_EXIT_OK && argc > 2 && !settable(nd.t, argv[1])) {
		mmc_tree_free_path(nd.path, nd.n);
		ret = arg_node(m, argv[a++], &nd);
	}
	if (ret != MMC_EXIT_OK)
		return ret;
	const char *p = a < argc ? argv[a] : "", *v = a + 1 < argc ? argv[a + 1] : NULL;
	if (node_unavailable(nd.t)) {
		ret = node_unavailable_err(&nd);
	} else if (!settable(nd.t, p)) {
		mmc_err("'%s' is not a property that can be set here%s", p,
			nd.t == N_LOCALUSER   ? " (try: set password)"
			: nd.t == N_DOMAIN    ? " (try: set enabled-group GROUP, set dcs HOST,...)"
			: nd.t == N_RULE      ? " (try: set text TEXT, set priority N)"
			: nd.t == N_FEDDOMAIN ? " (try: set setting allow|block)"
			: nd.t == N_WATCHER   ? " (try: set rule allow|block)"
					      : "");
		ret = MMC_EXIT_USAGE;
	} else if (nd.t == N_LOCALUSER) {
		ret = set_password(m, node_name(&nd), v);
	} else if (mmc_node_mine(nd.t)) {
		ret = mmc_node_set(m, nd.path, nd.n, nd.t, p, v);
	} else {
		ret = mmc_domain_set(m, p, v ? v : "");
	}
	mmc_tree_free_path(nd.path, nd.n);
	return ret;
}

static bool
creatable(enum mmc_node parent)
{
	return parent == N_LOCALUSERS || parent == N_CONTACTS || parent == N_WATCHERS ||
	       parent == N_POLICIES || parent == N_FEDERATION;
}

/* new PATH [ARG...]: under Local users, a user's Contacts or Watchers, Policies, Federation. */
int
mmc_cmd_new(struct mmc *m, int argc, char **argv)
{
	char *slash, *parent;
	struct node nd;
	int ret;

	if (argc < 2) {
		return mmc_fail(
		    MMC_EXIT_USAGE,
		    "usage: new PATH (for example: new \"Local users/bob@example.com\")");
	}
	parent = strdup(argv[1]);
	slash = parent ? strrchr(parent, '/') : NULL;
	const char *name = slash ? argv[1] + (slash - parent) + 1 : argv[1];
	if (slash)
		*slash = '\0';
	ret = arg_node(m, slash ? (parent[0] ? parent : "/") : "", &nd);
	free(parent);
	if (ret != MMC_EXIT_OK)
		return ret;
	if (node_unavailable(nd.t)) {
		ret = node_unavailable_err(&nd);
	} else if (!creatable(nd.t) || name[0] == '\0') {
		ret = mmc_fail(MMC_EXIT_USAGE,
			       "objects can only be created under Local users, "
			       "a user's Contacts or Watchers, Policies and Federation");
	} else if (nd.t != N_LOCALUSERS) {
		ret = mmc_node_new(m, nd.path, nd.n, nd.t, name, argc - 2, argv + 2);
	} else if (argc > 2) {
		ret = mmc_fail(MMC_EXIT_USAGE, "usage: new \"Local users/USER@DOMAIN\"");
	} else {
		char *av[] = {"add", (char *)name};
		ret = mmc_local_user(m->conf, 2, av);
	}
	mmc_tree_free_path(nd.path, nd.n);
	return ret;
}

int
mmc_cmd_delete(struct mmc *m, int argc, char **argv)
{
	struct node nd;
	int ret;

	if (argc != 2) {
		return mmc_fail(MMC_EXIT_USAGE, "usage: delete PATH");
	}
	ret = arg_node(m, argv[1], &nd);
	if (ret != MMC_EXIT_OK)
		return ret;
	if (node_unavailable(nd.t)) {
		ret = node_unavailable_err(&nd);
	} else if (nd.t == N_CONTACT || nd.t == N_WATCHER || nd.t == N_RULE ||
		   nd.t == N_FEDDOMAIN) {
		ret = mmc_node_delete(m, nd.path, nd.n, nd.t);
	} else if (nd.t != N_LOCALUSER) {
		ret = mmc_fail(MMC_EXIT_USAGE, "only local users, contacts, watchers, rules and "
					       "federated domains can be deleted");
	} else {
		char *av[] = {"remove", nd.path[nd.n - 1]};
		ret = mmc_local_user(m->conf, 2, av);
	}
	mmc_tree_free_path(nd.path, nd.n);
	return ret;
}

int
mmc_cmd_refresh(struct mmc *m, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int ret = mmc_reload_conf(m);
	if (ret == MMC_EXIT_OK) {
		struct node nd;
		/* The node we are on may be gone (a deleted user, a new domain). */
		if (mmc_tree_resolve(m, "", &nd.path, &nd.n, &nd.t) < 0) {
			printf("the current node is gone; back at the top\n");
			for (size_t i = 0; i < m->cwd_n; i++)
				free(m->cwd[i]);
			m->cwd_n = 0;
		} else {
			if (is_live(nd.t))
				ret = live_node(m, nd.t);
			mmc_tree_free_path(nd.path, nd.n);
		}
	}
	return ret;
}
