/*
 * tree_nodes.c - the console tree below Users, Policies and Federation:
 *
 *   Users > <user> > Contacts > <uri>      (the user's server-stored contact list)
 *                  > Watchers > <uri>      (allow/block rules for who sees the presence)
 *   Policies > <rule name>
 *   Federation > <domain>
 *
 * A user node is any name (looked up in AD when shown); rules and domains come from the
 * policy store (polstore.c), contacts and watchers from the presence tables (presence.c).
 * Each verb maps onto the one-shot command that does the same, so both behave alike.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mmc.h"

bool
mmc_node_dynamic(enum mmc_node parent)
{
	return parent == N_USERS || parent == N_POLICIES || parent == N_FEDERATION;
}

bool
mmc_node_mine(enum mmc_node t)
{
	return t >= N_USER;
}

struct fwd {
	mmc_child_fn *cb;
	void *arg;
	enum mmc_node type;
};

static void
fwd_cb(const char *name, void *arg)
{
	struct fwd *f = arg;

	f->cb(name, f->type, f->arg);
}

/* users of the lists and local accounts: what completion offers under Users */
static void
user_children(struct mmc *m, struct fwd *f)
{
	mmc_local_user_each(m->conf, fwd_cb, f);
	mmc_presence_owners(m, fwd_cb, f);
}

int
mmc_node_children(struct mmc *m, char *const *path, size_t n, enum mmc_node t, mmc_child_fn *cb,
		  void *arg)
{
	struct fwd f = {cb, arg, N_USER};

	switch (t) {
	case N_USERS:
		user_children(m, &f);
		return 0;
	case N_USER:
		cb("Contacts", N_CONTACTS, arg);
		cb("Watchers", N_WATCHERS, arg);
		return 0;
	case N_CONTACTS:
	case N_WATCHERS:
		f.type = t == N_CONTACTS ? N_CONTACT : N_WATCHER;
		return mmc_presence_each(m, path[n - 2], t == N_CONTACTS, fwd_cb, &f);
	case N_POLICIES:
	case N_FEDERATION:
		f.type = t == N_POLICIES ? N_RULE : N_FEDDOMAIN;
		mmc_policy_each(m, t == N_FEDERATION, fwd_cb, &f, false);
		return 0;
	default:
		return 0;
	}
}

struct seek {
	const char *want;
	bool found;
};

static void
seek_cb(const char *name, void *arg)
{
	struct seek *s = arg;

	s->found = s->found || strcasecmp(name, s->want) == 0;
}

/* cd into a rule or a federated domain: it must exist (the store is read once). */
int
mmc_node_exists(struct mmc *m, char *const *path, size_t n, enum mmc_node t)
{
	struct seek s = {NULL, false};
	int ret;

	if (t != N_RULE && t != N_FEDDOMAIN)
		return MMC_EXIT_OK;
	s.want = path[n - 1];
	ret = mmc_policy_each(m, t == N_FEDDOMAIN, seek_cb, &s, true);
	if (ret != MMC_EXIT_OK)
		return ret;
	if (!s.found)
		return mmc_fail(MMC_EXIT_NOTFOUND, "no %s %s", t == N_RULE ? "rule" : "domain",
				path[n - 1]);
	return MMC_EXIT_OK;
}

/* The user@domain of the user node at path[i]. */
static const char *
owner_of(struct mmc *m, char *const *path, size_t i, char *buf, size_t len)
{
	mmc_user_aor(m, path[i], buf, len);
	return buf;
}

/* Run a command of the table's handlers with these words. */
static int
run(struct mmc *m, int (*fn)(struct mmc *, int, char **), const char *const *words)
{
	int argc = 0;

	while (words[argc])
		argc++;
	return fn(m, argc, (char **)words);
}

int
mmc_node_show(struct mmc *m, char *const *path, size_t n, enum mmc_node t)
{
	char aor[300];
	const char *leaf = path[n - 1];

	switch (t) {
	case N_USER:
		return run(m, mmc_users_cmd, (const char *[]){"show", leaf, NULL});
	case N_CONTACTS:
	case N_WATCHERS:
		return run(m, mmc_presence_cmd,
			   (const char *[]){t == N_CONTACTS ? "contacts" : "acl",
					    owner_of(m, path, n - 2, aor, sizeof(aor)), NULL});
	case N_CONTACT:
	case N_WATCHER:
		return mmc_presence_entry_show(m, owner_of(m, path, n - 3, aor, sizeof(aor)),
					       t == N_CONTACT, leaf);
	case N_RULE:
		return run(m, mmc_policy, (const char *[]){"show", leaf, NULL});
	case N_FEDDOMAIN:
		return mmc_federation_show(m, leaf);
	default:
		return mmc_fail(MMC_EXIT_USAGE, "nothing to show here");
	}
}

bool
mmc_node_settable(enum mmc_node t, const char *p)
{
	if (t == N_RULE)
		return !strcmp(p, "text") || !strcmp(p, "priority");
	if (t == N_FEDDOMAIN)
		return !strcmp(p, "setting");
	if (t == N_WATCHER)
		return !strcmp(p, "rule");
	return false;
}

static bool
allow_or_block(const char *v)
{
	return v && (!strcmp(v, "allow") || !strcmp(v, "block"));
}

int
mmc_node_set(struct mmc *m, char *const *path, size_t n, enum mmc_node t, const char *prop,
	     const char *v)
{
	char aor[300];
	const char *leaf = path[n - 1];

	if (v == NULL || v[0] == '\0')
		return mmc_fail(MMC_EXIT_USAGE, "set %s needs a value", prop);
	if (t == N_RULE && !strcmp(prop, "text"))
		return run(m, mmc_policy, (const char *[]){"set", leaf, v, NULL});
	if (t == N_RULE)
		return run(m, mmc_policy, (const char *[]){"move", leaf, "--priority", v, NULL});
	if (!allow_or_block(v))
		return mmc_fail(MMC_EXIT_USAGE, "%s is allow or block", prop);
	if (t == N_FEDDOMAIN)
		return run(m, mmc_federation, (const char *[]){v, leaf, NULL});
	return run(m, mmc_presence_cmd,
		   (const char *[]){v, owner_of(m, path, n - 3, aor, sizeof(aor)), leaf, NULL});
}

/* new PARENT/NAME [ARG...]: a contact (--group G --name N), a watcher (allow|block),
 * a rule (its text, which names it NAME), a federated domain (allow|block). */
int
mmc_node_new(struct mmc *m, char *const *path, size_t n, enum mmc_node parent, const char *name,
	     int argc, char **argv)
{
	char aor[300];
	const char *how = argc > 0 ? argv[0] : "allow";

	if (parent == N_CONTACTS) {
		const char *w[8] = {"contact-add", owner_of(m, path, n - 2, aor, sizeof(aor)),
				    name};
		for (int i = 0; i < argc && i < 4; i++)
			w[3 + i] = argv[i];
		return argc > 4 ? mmc_fail(MMC_EXIT_USAGE, "new CONTACT [--group G] [--name N]")
				: run(m, mmc_presence_cmd, w);
	}
	if (parent == N_POLICIES)
		return argc != 1 ? mmc_fail(MMC_EXIT_USAGE, "usage: new Policies/NAME TEXT|-")
				 : mmc_policy_new(m, name, argv[0]);
	if (argc > 1 || !allow_or_block(how))
		return mmc_fail(MMC_EXIT_USAGE, "usage: new PATH [allow|block]");
	if (parent == N_FEDERATION)
		return run(m, mmc_federation, (const char *[]){how, name, NULL});
	return run(m, mmc_presence_cmd,
		   (const char *[]){how, owner_of(m, path, n - 2, aor, sizeof(aor)), name, NULL});
}

int
mmc_node_delete(struct mmc *m, char *const *path, size_t n, enum mmc_node t)
{
	char aor[300];
	const char *leaf = path[n - 1];

	if (t == N_RULE)
		return run(m, mmc_policy, (const char *[]){"delete", leaf, NULL});
	if (t == N_FEDDOMAIN)
		return run(m, mmc_federation, (const char *[]){"remove", leaf, NULL});
	return run(m, mmc_presence_cmd,
		   (const char *[]){t == N_CONTACT ? "contact-remove" : "acl-remove",
				    owner_of(m, path, n - 3, aor, sizeof(aor)), leaf, NULL});
}
