/*
 * policy.c - greenwich-mmc policy list | show | add | set | delete | move | test and
 * federation list | allow | block | remove.  The rules live in AD (polstore.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mmc.h"
#include "polstore.h"

/* The rule text of an argument; "-" reads stdin.  malloc'd, or NULL. */
static char *
text_arg(const char *arg)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *fp;

	if (strcmp(arg, "-") != 0)
		return strdup(arg);
	if ((fp = open_memstream(&buf, &size)) == NULL)
		return NULL;
	for (int ch; (ch = getchar()) != EOF && size < POL_TEXT_MAX;)
		fputc(ch, fp);
	fclose(fp);
	return buf;
}

/* The rule's text on one line (for the list). */
static char *
one_line(const struct pol_rule *r)
{
	char *t = NULL, *o;
	size_t j = 0;
	bool space = false;

	if (pol_rule_text(r, &t) < 0)
		return NULL;
	o = t;
	for (size_t i = 0; t[i]; i++) {
		bool ws = t[i] == '\n' || t[i] == '\t' || t[i] == ' ';
		if (ws && !space && j > 0)
			o[j++] = ' ';
		else if (!ws)
			o[j++] = t[i];
		space = ws;
	}
	while (j > 0 && o[j - 1] == ' ')
		j--;
	o[j] = '\0';
	return t;
}

static int
policy_list(struct polstore *s)
{
	static const char *const heads[] = {"PRIORITY", "NAME", "RULE"};
	struct mmc_table *t = mmc_json ? NULL : mmc_table_new(3, heads);
	json_object *arr = mmc_json ? json_object_new_array() : NULL;

	for (size_t i = 0; i < pol_set_count(s->set); i++) {
		const struct pol_rule *r = pol_set_at(s->set, i);
		char prio[16], *line = one_line(r), *text = NULL;
		snprintf(prio, sizeof(prio), "%u", pol_rule_priority(r));
		if (arr && pol_rule_text(r, &text) == 0) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(pol_rule_name(r)));
			json_object_object_add(o, "priority",
					       json_object_new_int((int)pol_rule_priority(r)));
			json_object_object_add(o, "text", json_object_new_string(text));
			json_object_array_add(arr, o);
		} else if (t) {
			const char *cells[] = {prio, pol_rule_name(r), line ? line : "?"};
			mmc_table_add(t, cells);
		}
		free(text);
		free(line);
	}
	if (arr)
		mmc_json_print(arr);
	else if (pol_set_count(s->set) == 0)
		printf("no rules: internal senders are allowed, everyone else is denied\n");
	else
		mmc_table_print(t, stdout);
	mmc_table_free(t);
	return MMC_EXIT_OK;
}

static int
policy_show(struct polstore *s, const char *name)
{
	const struct pol_rule *r = pol_set_get(s->set, name);
	char *text = NULL;

	if (r == NULL) {
		return mmc_fail(MMC_EXIT_NOTFOUND, "no rule '%s'", name);
	}
	if (pol_rule_text(r, &text) < 0)
		return MMC_EXIT_FAIL;
	if (mmc_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "priority", json_object_new_int((int)pol_rule_priority(r)));
		json_object_object_add(o, "text", json_object_new_string(text));
		mmc_json_print(o);
	} else {
		fputs(text, stdout);
	}
	free(text);
	return MMC_EXIT_OK;
}

/* With --json, {key: name, "change": change[, "priority": prio]}; true when printed. */
static bool
change_json(const char *key, const char *name, const char *change, long prio)
{
	json_object *o;

	if (!mmc_json)
		return false;
	o = json_object_new_object();
	json_object_object_add(o, key, json_object_new_string(name));
	json_object_object_add(o, "change", json_object_new_string(change));
	if (prio >= 0)
		json_object_object_add(o, "priority", json_object_new_int64(prio));
	mmc_json_print(o);
	return true;
}

/* Put the new or changed rule into the set, then into the store. */
static int
rule_store(struct polstore *s, struct pol_rule *rule, bool create)
{
	struct pol_error perr = {0};
	char name[POL_NAME_MAX + 1];
	int ret;

	snprintf(name, sizeof(name), "%s", pol_rule_name(rule));
	ret = create ? pol_set_add(s->set, rule, &perr) : pol_set_replace(s->set, rule, &perr);
	if (ret < 0) {
		pol_rule_free(rule);
		snprintf(s->err, sizeof(s->err), "%s", perr.msg[0] ? perr.msg : pol_strerror(ret));
		return polstore_exit(s, ret);
	}
	if ((ret = polstore_put(s, name, create)) < 0)
		return polstore_exit(s, ret);
	if (!change_json("rule", name, create ? "added" : "changed", -1))
		printf("%s rule '%s'\n", create ? "added" : "changed", name);
	return MMC_EXIT_OK;
}

/* add TEXT, or set NAME TEXT (the text names the same rule); create with a name: the
 * console's `new Policies/NAME TEXT`. */
static int
policy_write(struct polstore *s, const char *name, const char *arg, bool create)
{
	struct pol_rule *rule = NULL;
	char *text = text_arg(arg);
	int ret = text ? polstore_parse_rule(s, text, &rule) : -ENOMEM;
	const char *rname;

	free(text);
	if (ret < 0)
		return polstore_exit(s, ret);
	rname = pol_rule_name(rule);
	if (name && strcmp(rname, name) != 0)
		ret = mmc_fail(MMC_EXIT_USAGE,
			       "the text names rule '%s', not '%s' (delete and add to rename)", rname,
			       name);
	else if (create && pol_set_get(s->set, rname))
		ret = mmc_fail(MMC_EXIT_USAGE,
			       "rule '%s' exists already (use policy set to change it)", rname);
	else if (!create && pol_set_get(s->set, name) == NULL)
		ret = mmc_fail(MMC_EXIT_NOTFOUND, "no rule '%s'", name);
	if (ret > 0) {
		pol_rule_free(rule);
		return ret;
	}
	return rule_store(s, rule, create);
}

static int
policy_delete(struct polstore *s, const char *name)
{
	int ret;

	if (pol_set_delete(s->set, name) < 0) {
		return mmc_fail(MMC_EXIT_NOTFOUND, "no rule '%s'", name);
	}
	if ((ret = polstore_delete(s, name)) < 0)
		return polstore_exit(s, ret);
	if (!change_json("rule", name, "deleted", -1))
		printf("deleted rule '%s'\n", name);
	return MMC_EXIT_OK;
}

/* A free priority number just before or after rule other, not counting rule name; -1: none. */
static long
free_priority(const struct pol_set *set, const char *name, const char *other, bool before)
{
	long prev = -1, next = POL_PRIORITY_MAX + 1L, at = -1;

	for (size_t i = 0; i < pol_set_count(set); i++) {
		const struct pol_rule *r = pol_set_at(set, i);
		long p = (long)pol_rule_priority(r);
		if (strcmp(pol_rule_name(r), name) == 0)
			continue;
		if (at >= 0) {
			next = p;
			break;
		}
		if (strcmp(pol_rule_name(r), other) == 0)
			at = p;
		else
			prev = p;
	}
	long lo = before ? prev : at, hi = before ? at : next;
	if (hi - lo < 2)
		return -1;
	if (!before && next > POL_PRIORITY_MAX)
		return lo + 10 <= POL_PRIORITY_MAX ? lo + 10 : lo + 1;
	return lo + (hi - lo) / 2;
}

/* Number every rule 10, 20, 30, ... and store those that changed. */
static int
renumber(struct polstore *s)
{
	size_t n = pol_set_count(s->set);
	struct pol_error perr = {0};
	unsigned *old = calloc(n + 1, sizeof(*old));
	int ret = old ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && ret == 0; i++)
		old[i] = pol_rule_priority(pol_set_at(s->set, i));
	/* first out of the way, above every new number (order kept), then into place */
	for (int pass = 0; pass < 2 && ret == 0; pass++)
		for (size_t i = 0; i < n && ret == 0; i++) {
			size_t k = pass ? i : n - 1 - i;
			char name[POL_NAME_MAX + 1];
			unsigned to = pass ? (unsigned)(k + 1) * 10 : POL_PRIORITY_MAX - (unsigned)(n - 1 - k);
			snprintf(name, sizeof(name), "%s", pol_rule_name(pol_set_at(s->set, k)));
			ret = pol_set_move(s->set, name, to, &perr);
			if (ret == 0 && pass && old[k] != to)
				ret = polstore_put(s, name, false);
		}
	free(old);
	return ret;
}

static int
policy_move(struct polstore *s, const char *name, const char *how, const char *other)
{
	struct pol_error perr = {0};
	bool before = strcmp(how, "--before") == 0;
	long to = -1;
	int ret = 0;

	if (strcmp(how, "--priority") == 0) {
		char *end = NULL;
		to = strtol(other, &end, 10);
		if (end == other || *end || to < 0) {
			return mmc_fail(MMC_EXIT_USAGE, "--priority needs a number from 0 to %d", POL_PRIORITY_MAX);
		}
		other = NULL;
	}
	if (pol_set_get(s->set, name) == NULL || (other && pol_set_get(s->set, other) == NULL)) {
		return mmc_fail(MMC_EXIT_NOTFOUND, "no rule '%s'", pol_set_get(s->set, name) ? other : name);
	}
	if (other && (to = free_priority(s->set, name, other, before)) < 0 &&
	    (ret = renumber(s)) == 0)
		to = free_priority(s->set, name, other, before);
	if (ret == 0)
		ret = pol_set_move(s->set, name, (unsigned)to, &perr);
	if (ret == 0)
		ret = polstore_put(s, name, false);
	else if (perr.msg[0])
		snprintf(s->err, sizeof(s->err), "%s", perr.msg);
	if (ret < 0)
		return polstore_exit(s, ret);
	if (!change_json("rule", name, "moved", to))
		printf("rule '%s' now has priority %ld\n", name, to);
	return MMC_EXIT_OK;
}

static const char *
domain_of(const char *uri)
{
	const char *at = strrchr(uri, '@');

	return at ? at + 1 : uri;
}

/* The facts the server would work out, where the command line does not give them. */
static int
test_facts(struct polstore *s, const struct gw_conf *c, const char *zone, const char *net,
	   struct pol_request *rq)
{
	const char *fd = domain_of(rq->from.uri);
	const struct pol_fed_entry *fe = pol_fed_find(&s->fed, fd);

	if (zone == NULL)
		rq->zone = gw_conf_serves(c, fd) || !strcasecmp(fd, c->domain_name)
				   ? POL_ZONE_INTERNAL
			   : fe && fe->allow ? POL_ZONE_FEDERATED
					     : POL_ZONE_EXTERNAL;
	else if (!strcmp(zone, "internal") || !strcmp(zone, "federated") ||
		 !strcmp(zone, "external"))
		rq->zone = zone[0] == 'i' ? POL_ZONE_INTERNAL
			   : zone[0] == 'f' ? POL_ZONE_FEDERATED
					    : POL_ZONE_EXTERNAL;
	else
		return -EINVAL;
	if (net == NULL)
		rq->net = rq->zone == POL_ZONE_INTERNAL ? POL_NET_INTERNAL : POL_NET_REMOTE;
	else if (!strcmp(net, "internal") || !strcmp(net, "remote"))
		rq->net = net[0] == 'i' ? POL_NET_INTERNAL : POL_NET_REMOTE;
	else
		return -EINVAL;
	return 0;
}

static void
test_print(const struct pol_request *rq, const struct pol_decision *d)
{
	static const char *const zones[] = {"", "internal", "federated", "", "external"};
	const char *by = d->by_default ? "the built-in default" : d->rule;

	if (mmc_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "decision", json_object_new_string(
						  d->verdict == POL_ALLOW ? "allow" : "deny"));
		json_object_object_add(o, "code", json_object_new_int(d->code));
		json_object_object_add(o, "reason", json_object_new_string(d->reason));
		json_object_object_add(o, "rule", json_object_new_string(d->rule));
		json_object_object_add(o, "default", json_object_new_boolean(d->by_default));
		json_object_object_add(o, "exception", json_object_new_boolean(d->by_exception));
		json_object_object_add(o, "zone", json_object_new_string(zones[rq->zone]));
		mmc_json_print(o);
		return;
	}
	if (d->verdict == POL_ALLOW)
		printf("allow");
	else
		printf("deny %d %s", d->code, d->reason);
	printf("  (%s%s%s; sender zone %s)\n", d->by_default ? "" : "rule ", by,
	       d->by_exception ? ", by its exception" : "", zones[rq->zone]);
}

static int
policy_test(struct polstore *s, const struct gw_conf *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
		{"class", required_argument, NULL, 'c'}, {"zone", required_argument, NULL, 'z'},
		{"network", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
	const char *zone = NULL, *net = NULL, *cls = NULL;
	struct pol_request rq = {0};
	struct pol_decision d;
	char **fs = NULL, **ts = NULL;
	size_t nf = 0, nt = 0;
	int o, ret = MMC_EXIT_USAGE;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'f' || o == 't')
			*(o == 'f' ? &rq.from.uri : &rq.to.uri) = optarg;
		else if (o == 'c' || o == 'z' || o == 'n')
			*(o == 'c' ? &cls : o == 'z' ? &zone : &net) = optarg;
		else
			goto done;
	}
	if (!rq.from.uri || !rq.to.uri || !cls || optind != argc) {
		mmc_fail(ret, "policy test needs --from URI --to URI --class im|presence|call");
		goto done;
	}
	rq.req_class = !strcmp(cls, "im") ? POL_CLASS_IM : !strcmp(cls, "presence") ? POL_CLASS_PRESENCE
					 : !strcmp(cls, "call") ? POL_CLASS_CALL : 0;
	if (rq.req_class == 0 || test_facts(s, c, zone, net, &rq) < 0) {
		mmc_fail(ret, "--class is im, presence or call; --zone internal, federated or "
			      "external; --network internal or remote");
		goto done;
	}
	const char *fa = strchr(rq.from.uri, ':') ? strchr(rq.from.uri, ':') + 1 : rq.from.uri;
	const char *ta = strchr(rq.to.uri, ':') ? strchr(rq.to.uri, ':') + 1 : rq.to.uri;
	/* a sender's groups count only when the server knows who it is */
	int rc = rq.zone == POL_ZONE_INTERNAL ? polstore_groups_of(s, fa, &fs, &nf) : 0;
	if (rc == 0)
		rc = polstore_groups_of(s, ta, &ts, &nt);
	if (rc < 0) {
		ret = polstore_exit(s, rc);
		goto done;
	}
	rq.from.sids = (const char *const *)fs;
	rq.from.nsids = nf;
	rq.to.sids = (const char *const *)ts;
	rq.to.nsids = nt;
	if (pol_eval(s->set, &rq, &d) < 0) {
		ret = mmc_fail(MMC_EXIT_FAIL, "cannot decide: bad request facts");
		goto done;
	}
	test_print(&rq, &d);
	ret = MMC_EXIT_OK;
done:
	for (size_t i = 0; fs && i < nf; i++)
		free(fs[i]);
	for (size_t i = 0; ts && i < nt; i++)
		free(ts[i]);
	free(fs);
	free(ts);
	return ret;
}

static int
federation_list(struct polstore *s)
{
	static const char *const heads[] = {"DOMAIN", "SETTING"};
	struct mmc_table *t = mmc_table_new(2, heads);
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < s->fed.n; i++) {
		const char *cells[] = {s->fed.v[i].domain, s->fed.v[i].allow ? "allow" : "block"};
		json_object *o = json_object_new_object();
		json_object_object_add(o, "domain", json_object_new_string(cells[0]));
		json_object_object_add(o, "setting", json_object_new_string(cells[1]));
		json_object_array_add(arr, o);
		mmc_table_add(t, cells);
	}
	if (mmc_json)
		mmc_json_print(arr);
	else if (s->fed.n == 0)
		printf("no federation settings: no partner domain is allowed\n");
	else
		mmc_table_print(t, stdout);
	if (!mmc_json)
		json_object_put(arr);
	mmc_table_free(t);
	return MMC_EXIT_OK;
}

int
mmc_federation(struct mmc *m, int argc, char **argv)
{
	struct polstore s;
	bool list = strcmp(argv[0], "list") == 0;
	int allow = !strcmp(argv[0], "allow") ? 1 : !strcmp(argv[0], "block") ? 0 : -1;
	int ret;

	if (argc != (list ? 1 : 2)) {
		return mmc_fail(MMC_EXIT_USAGE, "usage: federation %s%s", argv[0], list ? "" : " DOMAIN");
	}
	if ((ret = polstore_open(&s, m->conf, true)) < 0) {
		ret = polstore_exit(&s, ret);
	} else if (list) {
		ret = federation_list(&s);
	} else if ((ret = polstore_fed(&s, argv[1], allow)) < 0) {
		ret = polstore_exit(&s, ret);
	} else {
		const char *how = allow < 0 ? "removed" : allow ? "allowed" : "blocked";
		if (!change_json("domain", argv[1], how, -1))
			printf("%s: %s\n", argv[1], how);
		ret = MMC_EXIT_OK;
	}
	polstore_close(&s);
	return ret;
}

int
mmc_policy(struct mmc *m, int argc, char **argv)
{
	const char *verb = argv[0];
	struct polstore s;
	int need = !strcmp(verb, "list") ? 1 : !strcmp(verb, "set") ? 3 : !strcmp(verb, "move") ? 4
		   : !strcmp(verb, "test") ? -1 : 2;
	int ret;

	if (need > 0 && argc != need) {
		return mmc_fail(MMC_EXIT_USAGE, "wrong number of arguments (try help policy)");
	}
	if (!strcmp(verb, "move") && strcmp(argv[2], "--before") && strcmp(argv[2], "--after") &&
	    strcmp(argv[2], "--priority")) {
		return mmc_fail(MMC_EXIT_USAGE, "policy move NAME --before OTHER | --after OTHER | --priority N");
	}
	if ((ret = polstore_open(&s, m->conf, false)) < 0)
		ret = polstore_exit(&s, ret);
	else if (!strcmp(verb, "list"))
		ret = policy_list(&s);
	else if (!strcmp(verb, "show"))
		ret = policy_show(&s, argv[1]);
	else if (!strcmp(verb, "add"))
		ret = policy_write(&s, NULL, argv[1], true);
	else if (!strcmp(verb, "set"))
		ret = policy_write(&s, argv[1], argv[2], false);
	else if (!strcmp(verb, "delete"))
		ret = policy_delete(&s, argv[1]);
	else if (!strcmp(verb, "move"))
		ret = policy_move(&s, argv[1], argv[2], argv[3]);
	else
		ret = policy_test(&s, m->conf, argc, argv);
	polstore_close(&s);
	return ret;
}

int
mmc_policy_node(struct mmc *m, enum mmc_node t)
{
	char verb[] = "list";
	char *argv[] = {verb, NULL};

	return t == N_POLICIES ? mmc_policy(m, 1, argv) : mmc_federation(m, 1, argv);
}

/* The console tree (tree_nodes.c): rule names or federated domains, in order; an exit
 * code, the error printed when loud. */
int
mmc_policy_each(struct mmc *m, bool fed, mmc_aor_fn *cb, void *arg, bool loud)
{
	struct polstore s;
	int ret = polstore_open(&s, m->conf, fed);

	if (ret < 0)
		ret = loud ? polstore_exit(&s, ret) : MMC_EXIT_FAIL;
	for (size_t i = 0; ret == 0 && !fed && i < pol_set_count(s.set); i++)
		cb(pol_rule_name(pol_set_at(s.set, i)), arg);
	for (size_t i = 0; ret == 0 && fed && i < s.fed.n; i++)
		cb(s.fed.v[i].domain, arg);
	polstore_close(&s);
	return ret;
}

/* new Policies/NAME TEXT: a rule whose text names it NAME. */
int
mmc_policy_new(struct mmc *m, const char *name, const char *text)
{
	struct polstore s;
	int ret = polstore_open(&s, m->conf, false);

	ret = ret < 0 ? polstore_exit(&s, ret) : policy_write(&s, name, text, true);
	polstore_close(&s);
	return ret;
}

/* The properties of a federated domain. */
int
mmc_federation_show(struct mmc *m, const char *domain)
{
	const struct pol_fed_entry *fe;
	struct polstore s;
	int ret = polstore_open(&s, m->conf, true);

	if (ret < 0) {
		ret = polstore_exit(&s, ret);
	} else if ((fe = pol_fed_find(&s.fed, domain)) == NULL) {
		ret = mmc_fail(MMC_EXIT_NOTFOUND, "%s has no federation setting", domain);
	} else {
		struct mmc_props *p = mmc_props_new();
		mmc_props_add(p, "domain", fe->domain);
		mmc_props_add(p, "setting", fe->allow ? "allow" : "block");
		mmc_props_print(p);
	}
	polstore_close(&s);
	return ret;
}
