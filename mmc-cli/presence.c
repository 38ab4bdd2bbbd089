/*
 * presence.c - `users contacts|contact-add|contact-remove|acl|allow|block|acl-remove`:
 * a user's server-stored contact list and presence authorization list, in the presence
 * tables of the server's store (libgwstore, the code greenwichd uses).
 * After a change, a running greenwichd is told through its control socket
 * ({"cmd":"presence-changed"}), so the user's devices get the new contact list and
 * watchers what they may now see, at once.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "gwconf.h"
#include "mmc.h"
#include "gwstore.h"

/* A user or contact URI as the lists keep it; -1 when not user@domain. */
static int
aor_norm(const char *in, char *out, size_t len)
{
	const char *at;

	gwstore_uri_norm(out, len, in);
	at = strchr(out, '@');
	if (at == NULL || at == out || at[1] == '\0' || strchr(at + 1, '@') ||
	    strpbrk(out, " \t:\"<>")) {
		mmc_fail(MMC_EXIT_USAGE, "'%s' is not a user@domain address", in);
		return -1;
	}
	return 0;
}

static int
store_open(const struct mmc *m, struct gwstore **st)
{
	char err[700];

	mkdir(m->conf->state_dir, 0750);
	if (gwstore_open_conf(st, m->conf, GWSTORE_STATE, err, sizeof(err)) < 0)
		return mmc_fail(MMC_EXIT_FAIL, "cannot open the presence tables: %s", err);
	mmc_state_db_own(m->conf);
	return MMC_EXIT_OK;
}

/* Tell a running greenwichd; not running is fine (it reads the tables on use). */
static bool
push(struct mmc *m, const char *aor, const char *list)
{
	json_object *req = mmc_ctl_req("presence-changed", "aor", aor), *reply = NULL;
	bool told;

	json_object_object_add(req, "list", json_object_new_string(list));
	told = mmc_ctl_try(m, req, &reply) == MMC_EXIT_OK;
	if (!mmc_json && told)
		printf("greenwichd told: %s's %s sent to the signed-in devices\n", aor,
		       strcmp(list, "acl") ? "contact list" : "watchers");
	else if (!mmc_json)
		printf(
		    "greenwichd not reachable: the change applies when it next reads the list\n");
	json_object_put(reply);
	return told;
}

/* --json result of a change: {"user":..,"change":verb,"uri":..,"server_told":bool} */
static void
change_json(const char *owner, const char *verb, const char *other, bool told)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "user", json_object_new_string(owner));
	json_object_object_add(o, "change", json_object_new_string(verb));
	json_object_object_add(o, "uri", json_object_new_string(other));
	json_object_object_add(o, "server_told", json_object_new_boolean(told));
	mmc_json_print(o);
}

struct list_out {
	struct gwstore *st;
	const char *owner;
	json_object *arr;
};

/* Group ids ("2 5") to their names ("Colleagues,Other Contacts"). */
static void
group_names(struct gwstore *st, const char *owner, const char *ids, char *out, size_t len)
{
	char buf[256], *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", ids[0] ? ids : "1");
	out[0] = '\0';
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char name[128] = "~";
		int64_t id = strtoll(t, NULL, 10);
		if (id != 1 && gwstore_group_name(st, owner, id, name, sizeof(name)) < 0)
			snprintf(name, sizeof(name), "%s", t);
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
				      strcmp(name, "~") ? name : "Other Contacts");
	}
}

static void
contact_out(const char *uri, const char *name, const char *groups, int subscribed, void *arg)
{
	struct list_out *o = arg;
	char g[400];

	group_names(o->st, o->owner, groups, g, sizeof(g));
	if (mmc_json) {
		json_object *c = json_object_new_object();
		json_object_object_add(c, "uri", json_object_new_string(uri));
		json_object_object_add(c, "name", json_object_new_string(name));
		json_object_object_add(c, "groups", json_object_new_string(g));
		json_object_object_add(c, "subscribed", json_object_new_boolean(subscribed));
		json_object_array_add(o->arr, c);
	} else {
		printf("%-36s %-20s %s\n", uri, g, name);
	}
}

static void
acl_out(const char *watcher, const char *rule, void *arg)
{
	struct list_out *o = arg;

	if (mmc_json) {
		json_object *c = json_object_new_object();
		json_object_object_add(c, "watcher", json_object_new_string(watcher));
		json_object_object_add(c, "rule", json_object_new_string(rule));
		json_object_array_add(o->arr, c);
	} else {
		printf("%-40s %s\n", watcher, rule);
	}
}

static int
show(struct gwstore *st, const char *owner, bool contacts)
{
	struct list_out o = {st, owner, mmc_json ? json_object_new_array() : NULL};
	int ret = contacts ? gwstore_contacts_each(st, owner, contact_out, &o)
			   : gwstore_acl_each(st, owner, acl_out, &o);

	if (ret < 0) {
		json_object_put(o.arr);
		return mmc_fail(MMC_EXIT_FAIL, "cannot read the presence tables");
	}
	if (mmc_json) {
		json_object *r = json_object_new_object();
		json_object_object_add(r, "user", json_object_new_string(owner));
		json_object_object_add(r, contacts ? "contacts" : "acl", o.arr);
		mmc_json_print(r);
	} else if (!contacts) {
		printf("(users of the served domains not listed here see %s; others are pending)\n",
		       owner);
	}
	return MMC_EXIT_OK;
}

/* contact-add OWNER URI [--group G] [--name N] */
static int
contact_add(struct gwstore *st, const char *owner, const char *uri, int argc, char **argv)
{
	const char *group = NULL, *name = "";
	char gid[24] = "1";
	int64_t id = 0;

	for (int i = 0; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--group") == 0)
			group = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--name") == 0)
			name = argv[++i];
		else
			return mmc_fail(MMC_EXIT_USAGE, "unexpected argument '%s'", argv[i]);
	}
	if (group && strcmp(group, "~") && strcasecmp(group, "Other Contacts")) {
		id = gwstore_group_find(st, owner, group);
		if (id == 0 && gwstore_group_set(st, owner, &id, group) < 0)
			return mmc_fail(MMC_EXIT_FAIL, "cannot add the group %s", group);
		snprintf(gid, sizeof(gid), "%" PRId64, id);
	}
	if (gwstore_contact_set(st, owner, uri, name, gid, 1) < 0)
		return mmc_fail(MMC_EXIT_FAIL, "cannot store the contact");
	if (!mmc_json)
		printf("%s added to %s's contacts (group %s)\n", uri, owner, group ? group : "~");
	return MMC_EXIT_OK;
}

static int
contact_remove(struct gwstore *st, const char *owner, const char *uri)
{
	if (!gwstore_contact_has(st, owner, uri))
		return mmc_fail(MMC_EXIT_NOTFOUND, "%s is not on %s's contact list", uri, owner);
	if (gwstore_contact_delete(st, owner, uri) < 0)
		return mmc_fail(MMC_EXIT_FAIL, "cannot remove the contact");
	if (!mmc_json)
		printf("%s removed from %s's contacts\n", uri, owner);
	return MMC_EXIT_OK;
}

static int
acl_set(struct gwstore *st, const char *owner, const char *watcher, const char *rule)
{
	char old[32];

	if (rule == NULL && gwstore_acl_get(st, owner, watcher, old, sizeof(old)) == -ENOENT)
		return mmc_fail(MMC_EXIT_NOTFOUND, "%s has no rule for %s", owner, watcher);
	if (gwstore_acl_set(st, owner, watcher, rule) < 0)
		return mmc_fail(MMC_EXIT_FAIL, "cannot store the rule");
	if (mmc_json)
		return MMC_EXIT_OK;
	if (rule)
		printf("%s: %s %s\n", owner, rule, watcher);
	else
		printf("%s: rule for %s removed (was %s)\n", owner, watcher, old);
	return MMC_EXIT_OK;
}

static int
run(struct gwstore *st, const char *v, const char *owner, const char *other, int argc, char **argv)
{
	if (!strcmp(v, "contacts") || !strcmp(v, "acl"))
		return show(st, owner, v[0] == 'c');
	if (!strcmp(v, "contact-add"))
		return contact_add(st, owner, other, argc, argv);
	if (!strcmp(v, "contact-remove"))
		return contact_remove(st, owner, other);
	if (!strcmp(v, "acl-remove"))
		return acl_set(st, owner, other, NULL);
	return acl_set(st, owner, other, v); /* allow, block */
}

int
mmc_presence_cmd(struct mmc *m, int argc, char **argv)
{
	const char *v = argv[0];
	bool listing = !strcmp(v, "contacts") || !strcmp(v, "acl");
	char owner[256], other[256] = "";
	struct gwstore *st = NULL;
	int ret;

	if (argc < (listing ? 2 : 3) || (argc > (listing ? 2 : 3) && strcmp(v, "contact-add")))
		return mmc_fail(MMC_EXIT_USAGE, "usage: users %s USER@DOMAIN%s", v,
				listing                     ? ""
				: !strcmp(v, "contact-add") ? " URI [--group GROUP] [--name NAME]"
				: strncmp(v, "contact", 7)  ? " WATCHER-URI"
							    : " URI");
	if (aor_norm(argv[1], owner, sizeof(owner)) < 0 ||
	    (!listing && aor_norm(argv[2], other, sizeof(other)) < 0))
		return MMC_EXIT_USAGE;
	if (!gw_conf_serves(m->conf, strchr(owner, '@') + 1))
		return mmc_fail(MMC_EXIT_USAGE, "%s is not in a domain this server serves", owner);
	ret = store_open(m, &st);
	if (ret != MMC_EXIT_OK)
		return ret;
	ret = run(st, v, owner, other, argc - 3, argv + 3);
	if (ret == MMC_EXIT_OK && !listing) {
		/* every front end of a pool re-reads the list (PostgreSQL; SQLite:
		 * nothing to tell, the running server is pushed below) */
		char payload[320];
		snprintf(payload, sizeof(payload), "%s\t\t%s", owner,
			 strncmp(v, "contact", 7) ? "acl" : "contacts");
		gwstore_notify(st, GWSTORE_CHANNEL_LISTS, payload);
	}
	gwstore_close(st);
	if (ret == MMC_EXIT_OK && !listing) {
		char verb[40];
		snprintf(verb, sizeof(verb), "users %s", v);
		mmc_audit(m->conf, verb, owner, "uri", other, NULL);
		bool told = push(m, owner, strncmp(v, "contact", 7) ? "acl" : "contacts");
		if (mmc_json)
			change_json(owner, v, other, told);
	}
	return ret;
}

/* The console tree's views of the lists (tree_nodes.c). */
struct each_fwd {
	mmc_aor_fn *cb;
	void *arg;
	const char *want; /* show: only this entry */
	int found;
	struct gwstore *st;
	const char *owner;
};

static void
each_contact(const char *uri, const char *name, const char *groups, int subscribed, void *arg)
{
	struct each_fwd *f = arg;
	char g[400];

	if (f->want == NULL) {
		f->cb(uri, f->arg);
		return;
	}
	if (strcasecmp(uri, f->want) != 0)
		return;
	struct mmc_props *p = mmc_props_new();
	group_names(f->st, f->owner, groups, g, sizeof(g));
	mmc_props_add(p, "uri", uri);
	mmc_props_add(p, "name", name);
	mmc_props_add(p, "groups", g);
	mmc_props_add(p, "subscribed", subscribed ? "yes" : "no");
	mmc_props_print(p);
	f->found++;
}

static void
each_acl(const char *watcher, const char *rule, void *arg)
{
	struct each_fwd *f = arg;

	if (f->want == NULL) {
		f->cb(watcher, f->arg);
		return;
	}
	if (strcasecmp(watcher, f->want) != 0)
		return;
	struct mmc_props *p = mmc_props_new();
	mmc_props_add(p, "watcher", watcher);
	mmc_props_add(p, "rule", rule);
	mmc_props_print(p);
	f->found++;
}

static int
lists_walk(struct mmc *m, const char *user, bool contacts, struct each_fwd *f)
{
	char owner[256];
	int ret;

	mmc_user_aor(m, user, owner, sizeof(owner));
	if (store_open(m, &f->st) != MMC_EXIT_OK)
		return -EIO;
	f->owner = owner;
	ret = contacts ? gwstore_contacts_each(f->st, owner, each_contact, f)
		       : gwstore_acl_each(f->st, owner, each_acl, f);
	gwstore_close(f->st);
	return ret;
}

int
mmc_presence_each(struct mmc *m, const char *user, bool contacts, mmc_aor_fn *cb, void *arg)
{
	struct each_fwd f = {.cb = cb, .arg = arg};

	return lists_walk(m, user, contacts, &f);
}

int
mmc_presence_entry_show(struct mmc *m, const char *user, bool contacts, const char *uri)
{
	struct each_fwd f = {.want = uri};

	if (lists_walk(m, user, contacts, &f) < 0)
		return mmc_fail(MMC_EXIT_FAIL, "cannot read the presence tables");
	if (f.found == 0)
		return mmc_fail(MMC_EXIT_NOTFOUND, "%s is not on the %s of %s", uri,
				contacts ? "contact list" : "watcher list", user);
	return MMC_EXIT_OK;
}

/* Users with lists, for the console's completion; local accounts come from local_user.c. */
int
mmc_presence_owners(struct mmc *m, mmc_aor_fn *cb, void *arg)
{
	struct gwstore *st = NULL;
	int ret;

	if (store_open(m, &st) != MMC_EXIT_OK)
		return -EIO;
	ret = gwstore_owners_each(st, cb, arg);
	gwstore_close(st);
	return ret;
}
