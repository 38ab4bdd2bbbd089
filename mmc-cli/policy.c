/*
 * policy.c - greenwich-mmc policy list | show | add | set | delete | move | test and
 * federation list | allow | block | remove.  The rules live in AD (polstore.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gwpolicy_ad.h"
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
		json_object_object_add(o, "priority",
				       json_object_new_int((int)pol_rule_priority(r)));
		json_object_object_add(o, "text", json_object_new_string(text));
		mmc_json_print(o);
	} else {
		fputs(text, stdout);
	}
	free(text);
	return MMC_EXIT_OK;
}

/* The options of a changing policy verb. */
struct pol_opts {
	bool dry_run; /* show what would be written, write nothing */
	bool force;   /* add/set a rule that denies internal users wholesale */
	bool yes;     /* remove without asking */
	const struct gw_conf *conf;
	json_object *warnings; /* for --json */
	json_object *writes;   /* planned or done priority changes (move) */
};

/* With --json, {key: name, "change": change[, "priority": prio]} (and dry_run, warnings,
 * writes); true when printed. */
static bool
change_json(const char *key, const char *name, const char *change, long prio, struct pol_opts *po)
{
	json_object *o;

	if (!mmc_json)
		return false;
	o = json_object_new_object();
	json_object_object_add(o, key, json_object_new_string(name));
	json_object_object_add(o, "change", json_object_new_string(change));
	if (prio >= 0)
		json_object_object_add(o, "priority", json_object_new_int64(prio));
	if (po && po->dry_run)
		json_object_object_add(o, "dry_run", json_object_new_boolean(1));
	if (po && po->warnings && json_object_array_length(po->warnings) > 0) {
		json_object_object_add(o, "warnings", po->warnings);
		po->warnings = NULL;
	}
	if (po && po->writes) {
		json_object_object_add(o, "writes", po->writes);
		po->writes = NULL;
	}
	mmc_json_print(o);
	return true;
}

static void warn(struct pol_opts *po, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
warn(struct pol_opts *po, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "greenwich-mmc: warning: %s\n", msg);
	if (mmc_json) {
		if (po->warnings == NULL)
			po->warnings = json_object_new_array();
		json_object_array_add(po->warnings, json_object_new_string(msg));
	}
}

/* The next free priority: 10 after the last rule (10 for the first), else one after. */
static long
next_priority(const struct pol_set *set)
{
	size_t n = pol_set_count(set);
	long last = n ? (long)pol_rule_priority(pol_set_at(set, n - 1)) : 0;

	if (last + 10 <= POL_PRIORITY_MAX)
		return last + 10;
	return last + 1 <= POL_PRIORITY_MAX ? last + 1 : -1;
}

/* Skip blanks and # comments. */
static const char *
skip_space(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p != '#')
			return p;
		p += strcspn(p, "\n");
	}
}

/* `rule NAME {` without "priority N": the text with "priority prio" put in (malloc'd);
 * NULL when the text has a priority or is not of that shape (the parser says why). */
static char *
priority_insert(const char *text, long prio)
{
	const char *p = skip_space(text), *q;
	char *out = NULL;

	if (strncmp(p, "rule", 4) != 0 || !strchr(" \t\r\n\"", p[4]))
		return NULL;
	p = skip_space(p + 4);
	if (*p == '"') {
		for (p++; *p && *p != '"' && *p != '\n'; p++)
			if (*p == '\\' && p[1])
				p++;
		if (*p != '"')
			return NULL;
		p++;
	} else {
		while (*p && !strchr(" \t\r\n{", *p))
			p++;
	}
	q = skip_space(p);
	if (*q != '{' || prio < 0)
		return NULL;
	if (asprintf(&out, "%.*s priority %ld %s", (int)(p - text), text, prio, q) < 0)
		return NULL;
	return out;
}

/* Does the rule's canonical text have a sender condition "from user"/"from domain", and
 * which zones does it name ("" for none)? */
static void
rule_shape(const struct pol_rule *r, bool *ident, char *zones, size_t zlen)
{
	char *text = NULL, *save = NULL;

	*ident = false;
	zones[0] = '\0';
	if (pol_rule_text(r, &text) < 0)
		return;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l += strspn(l, " \t");
		if (!strncmp(l, "from zone ", 10))
			snprintf(zones, zlen, "%.*s", (int)strcspn(l + 10, ";"), l + 10);
		else if (!strncmp(l, "from ", 5) && strncmp(l, "from network ", 13) &&
			 (strstr(l, "user ") || strstr(l, "domain ")))
			*ident = true;
	}
	free(text);
}

/* The classes for which rule name, in set, denies any internal user (one with no groups, to
 * an ordinary recipient, from inside and from outside): "im, call" or "". */
static void
internal_denied(const struct pol_set *set, const char *name, const struct gw_conf *c, char *out,
		size_t len)
{
	static const struct {
		enum pol_class cls;
		const char *word;
	} classes[] = {
	    {POL_CLASS_IM, "im"}, {POL_CLASS_PRESENCE, "presence"}, {POL_CLASS_CALL, "call"}};
	const char *dom = c->domains.n        ? c->domains.v[0]
			  : c->domain_name[0] ? c->domain_name
					      : "example.invalid";
	char from[300], to[300];

	snprintf(from, sizeof(from), "sip:gw-probe-sender@%s", dom);
	snprintf(to, sizeof(to), "sip:gw-probe-recipient@%s", dom);
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		bool all = true;
		for (int net = POL_NET_INTERNAL; net <= POL_NET_REMOTE && all; net++) {
			struct pol_request rq = {.req_class = classes[i].cls,
						 .zone = POL_ZONE_INTERNAL,
						 .net = (enum pol_net)net,
						 .from = {.uri = from},
						 .to = {.uri = to}};
			struct pol_decision d;
			all = pol_eval(set, &rq, &d) == 0 && d.verdict == POL_DENY &&
			      !strcmp(d.rule, name);
		}
		if (all)
			snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? ", " : "",
				 classes[i].word);
	}
}

/* Warnings about a new or changed rule (already in s->set).  MMC_EXIT_OK to go on. */
static int
rule_check(struct polstore *s, const char *name, struct pol_opts *po)
{
	const struct pol_rule *r = pol_set_get(s->set, name);
	char zones[100], denied[60];
	bool ident;

	rule_shape(r, &ident, zones, sizeof(zones));
	if (ident && (zones[0] == '\0' || strstr(zones, "external")))
		warn(po,
		     "rule '%s': a sender condition (from user / from domain) never matches an "
		     "external sender: the server gives unauthenticated external senders no "
		     "identity, so %s",
		     name,
		     !strcmp(zones, "external") ? "this rule never applies"
						: "this rule never applies to external senders");
	internal_denied(s->set, name, po->conf, denied, sizeof(denied));
	if (denied[0] == '\0')
		return MMC_EXIT_OK;
	warn(po, "rule '%s' denies every internal user (%s), whoever they are", name, denied);
	if (po->force || po->dry_run)
		return MMC_EXIT_OK;
	if (mmc_have_tty()) {
		if (mmc_confirm("Store rule '%s', which blocks internal users?", name))
			return MMC_EXIT_OK;
		return mmc_fail(MMC_EXIT_REFUSED, "rule '%s' not stored", name);
	}
	return mmc_fail(MMC_EXIT_REFUSED,
			"rule '%s' denies internal users wholesale: not stored (add --force to "
			"store it anyway)",
			name);
}

static void
dry_print_rule(const struct pol_rule *r, const char *what)
{
	char *text = NULL;

	if (mmc_json)
		return;
	printf("would %s rule '%s' (priority %u), nothing written:\n", what, pol_rule_name(r),
	       pol_rule_priority(r));
	if (pol_rule_text(r, &text) == 0)
		fputs(text, stdout);
	free(text);
}

/* Put the new or changed rule into the set, check it, then into the store. */
static int
rule_store(struct polstore *s, struct pol_rule *rule, bool create, struct pol_opts *po)
{
	struct pol_error perr = {0};
	char name[POL_NAME_MAX + 1];
	unsigned prio = pol_rule_priority(rule);
	int ret;

	snprintf(name, sizeof(name), "%s", pol_rule_name(rule));
	ret = create ? pol_set_add(s->set, rule, &perr) : pol_set_replace(s->set, rule, &perr);
	if (ret < 0) {
		pol_rule_free(rule);
		snprintf(s->err, sizeof(s->err), "%s", perr.msg[0] ? perr.msg : pol_strerror(ret));
		return polstore_exit(s, ret);
	}
	if ((ret = rule_check(s, name, po)) != MMC_EXIT_OK)
		return ret;
	if (po->dry_run) {
		dry_print_rule(pol_set_get(s->set, name), create ? "add" : "change");
		change_json("rule", name, create ? "added" : "changed", prio, po);
		return MMC_EXIT_OK;
	}
	if ((ret = polstore_put(s, name, create)) < 0)
		return polstore_exit(s, ret);
	if (!change_json("rule", name, create ? "added" : "changed", prio, po))
		printf("%s rule '%s' (priority %u)\n", create ? "added" : "changed", name, prio);
	char pr[24];
	snprintf(pr, sizeof(pr), "%u", prio);
	mmc_audit(po->conf, create ? "policy add" : "policy set", name, "priority", pr, NULL);
	return MMC_EXIT_OK;
}

/* add TEXT, or set NAME TEXT (the text names the same rule); create with a name: the
 * console's `new Policies/NAME TEXT`.  A new rule without "priority N" gets the next free
 * priority. */
static int
policy_write(struct polstore *s, const char *name, const char *arg, bool create,
	     struct pol_opts *po)
{
	struct pol_rule *rule = NULL;
	char *text = text_arg(arg), *with = NULL;
	const char *rname;
	int ret;

	if (text) {
		long prio = -1;
		if (create)
			prio = next_priority(s->set);
		else if (name && pol_set_get(s->set, name))
			prio = (long)pol_rule_priority(pol_set_get(s->set, name));
		with = priority_insert(text, prio);
	}
	ret = text ? polstore_parse_rule(s, with ? with : text, &rule) : -ENOMEM;
	free(text);
	free(with);
	if (ret < 0)
		return polstore_exit(s, ret);
	rname = pol_rule_name(rule);
	if (name && strcmp(rname, name) != 0)
		ret = mmc_fail(MMC_EXIT_USAGE,
			       "the text names rule '%s', not '%s' (delete and add to rename)",
			       rname, name);
	else if (create && pol_set_get(s->set, rname))
		ret = mmc_fail(MMC_EXIT_REFUSED,
			       "rule '%s' exists already (use policy set to change it)", rname);
	else if (!create && pol_set_get(s->set, name) == NULL)
		ret = mmc_fail(MMC_EXIT_NOTFOUND, "no rule '%s'", name);
	if (ret > 0) {
		pol_rule_free(rule);
		return ret;
	}
	return rule_store(s, rule, create, po);
}

static int
policy_delete(struct polstore *s, const char *name, struct pol_opts *po)
{
	int ret;

	if (pol_set_get(s->set, name) == NULL)
		return mmc_fail(MMC_EXIT_NOTFOUND, "no rule '%s'", name);
	if (po->dry_run) {
		if (!mmc_json)
			printf("would delete rule '%s' (priority %u), nothing written\n", name,
			       pol_rule_priority(pol_set_get(s->set, name)));
		change_json("rule", name, "deleted", -1, po);
		return MMC_EXIT_OK;
	}
	if (!po->yes && mmc_have_tty() &&
	    !mmc_confirm("Delete rule '%s' (priority %u)?", name,
			 pol_rule_priority(pol_set_get(s->set, name))))
		return mmc_fail(MMC_EXIT_REFUSED, "rule '%s' not deleted", name);
	pol_set_delete(s->set, name);
	if ((ret = polstore_delete(s, name)) < 0)
		return polstore_exit(s, ret);
	if (!change_json("rule", name, "deleted", -1, po))
		printf("deleted rule '%s'\n", name);
	mmc_audit(po->conf, "policy remove", name, NULL);
	return MMC_EXIT_OK;
}

/* One rule of a move plan. */
struct step {
	char name[POL_NAME_MAX + 1];
	unsigned from, to;
	char *old_text; /* for a rollback */
};

/* The new order (names), with name taken out and put before or after other. */
static char **
new_order(const struct pol_set *set, const char *name, const char *other, bool before, size_t *np)
{
	size_t n = pol_set_count(set), k = 0;
	char **v = calloc(n + 1, sizeof(*v));

	for (size_t i = 0; v && i < n; i++) {
		const char *r = pol_rule_name(pol_set_at(set, i));
		if (!strcmp(r, name))
			continue;
		if (!strcmp(r, other) && before)
			v[k++] = (char *)name;
		v[k++] = (char *)r;
		if (!strcmp(r, other) && !before)
			v[k++] = (char *)name;
	}
	*np = k;
	return v;
}

/* The priorities after the move, for the rules in order: the others keep theirs and name
 * takes a free number between its new neighbours; with no room, 10, 20, 30 ... */
static int
plan_priorities(const struct pol_set *set, char **order, size_t n, const char *name, unsigned *prio)
{
	size_t at = 0;

	for (size_t i = 0; i < n; i++) {
		prio[i] = pol_rule_priority(pol_set_get(set, order[i]));
		if (!strcmp(order[i], name))
			at = i;
	}
	long lo = at > 0 ? (long)prio[at - 1] : -1;
	long hi = at + 1 < n ? (long)prio[at + 1] : POL_PRIORITY_MAX + 1L;
	if (hi - lo >= 2) {
		prio[at] = (unsigned)(at + 1 == n && lo + 10 < hi ? lo + 10 : lo + (hi - lo) / 2);
		return 0;
	}
	if ((long)n * 10 > POL_PRIORITY_MAX)
		return -ERANGE;
	for (size_t i = 0; i < n; i++)
		prio[i] = (unsigned)(i + 1) * 10;
	return 0;
}

/* Apply the steps to the set in memory: first out of the way (above every number in
 * use), then into place. */
static int
plan_apply(struct polstore *s, struct step *st, size_t n, bool back)
{
	struct pol_error perr = {0};
	unsigned top = 0;
	int ret = 0;

	for (size_t i = 0; i < pol_set_count(s->set); i++)
		if (pol_rule_priority(pol_set_at(s->set, i)) > top)
			top = pol_rule_priority(pol_set_at(s->set, i));
	for (size_t i = 0; i < n && ret == 0; i++) {
		unsigned tmp = top + 1 + (unsigned)i;
		if (tmp > POL_PRIORITY_MAX)
			tmp = POL_PRIORITY_MAX - (unsigned)i;
		ret = pol_set_move(s->set, st[i].name, tmp, &perr);
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = pol_set_move(s->set, st[i].name, back ? st[i].from : st[i].to, &perr);
	if (ret < 0)
		snprintf(s->err, sizeof(s->err), "%s", perr.msg[0] ? perr.msg : pol_strerror(ret));
	return ret;
}

/* Write the rules whose priority changes; on a failure part-way put back those written. */
static int
plan_write(struct polstore *s, struct step *st, size_t n, const char *name)
{
	char reason[POL_AD_REASON_LEN] = "";
	size_t done = 0;
	int ret = 0;

	if (!s->ad)
		return polstore_put(s, name, false); /* the whole file, renamed into place */
	for (; done < n && ret == 0; done++)
		if ((ret = polstore_put(s, st[done].name, false)) < 0)
			break;
	if (ret == 0)
		return 0;
	/* st[done] failed: put back st[0 .. done-1] from their old text */
	char failed[400];
	size_t undone = 0, bad = 0;
	snprintf(failed, sizeof(failed), "writing rule '%s' failed: %.250s", st[done].name, s->err);
	for (size_t i = 0; i < done; i++) {
		struct pol_rule *old = NULL;
		struct pol_error perr = {0};
		int rc = pol_rule_parse(st[i].old_text, strlen(st[i].old_text), &old, &perr);
		if (rc == 0)
			rc = pol_ad_rule_put(s->ld, s->container, old, false, reason);
		pol_rule_free(old);
		if (rc == 0)
			undone++;
		else
			bad++;
	}
	if (done == 0)
		snprintf(s->err, sizeof(s->err), "%s; nothing was written", failed);
	else if (bad == 0)
		snprintf(s->err, sizeof(s->err),
			 "%s; the %zu rule%s already written %s been put back, so nothing changed",
			 failed, undone, undone == 1 ? "" : "s", undone == 1 ? "has" : "have");
	else
		snprintf(s->err, sizeof(s->err),
			 "%s; putting back the rules already written failed for %zu of them "
			 "(%.60s): check `policy list`",
			 failed, bad, reason);
	return ret;
}

static int
policy_move(struct polstore *s, const char *name, const char *how, const char *other,
	    struct pol_opts *po)
{
	bool before = strcmp(how, "--before") == 0;
	size_t n = 0, nst = 0;
	char **order = NULL;
	unsigned *prio = NULL;
	struct step *st = NULL;
	long to = -1;
	int ret = MMC_EXIT_OK, rc;

	/* everything checked before anything is written */
	if (pol_set_get(s->set, name) == NULL)
		return mmc_fail(MMC_EXIT_NOTFOUND, "no rule '%s'", name);
	if (strcmp(how, "--priority") == 0) {
		char *end = NULL;
		const struct pol_rule *at;
		to = strtol(other, &end, 10);
		if (end == other || *end || to < 0 || to > POL_PRIORITY_MAX)
			return mmc_fail(MMC_EXIT_USAGE, "--priority needs a number from 0 to %d",
					POL_PRIORITY_MAX);
		for (size_t i = 0; i < pol_set_count(s->set); i++)
			if (pol_rule_priority(at = pol_set_at(s->set, i)) == (unsigned)to &&
			    strcmp(pol_rule_name(at), name))
				return mmc_fail(MMC_EXIT_REFUSED,
						"priority %ld is taken by rule '%s' (move it with "
						"--before or --after)",
						to, pol_rule_name(at));
		n = pol_set_count(s->set);
	} else {
		if (strcmp(name, other) == 0)
			return mmc_fail(MMC_EXIT_USAGE, "a rule cannot be moved %s itself",
					before ? "before" : "after");
		if (pol_set_get(s->set, other) == NULL)
			return mmc_fail(MMC_EXIT_NOTFOUND, "no rule '%s'", other);
	}
	/* the plan: new priorities, then only the rules that change */
	if (to < 0) {
		order = new_order(s->set, name, other, before, &n);
		prio = calloc(n + 1, sizeof(*prio));
		if (order == NULL || prio == NULL) {
			ret = mmc_fail(MMC_EXIT_FAIL, "out of memory");
			goto done;
		}
		if (plan_priorities(s->set, order, n, name, prio) < 0) {
			ret = mmc_fail(MMC_EXIT_REFUSED, "too many rules to renumber");
			goto done;
		}
	}
	st = calloc(n + 1, sizeof(*st));
	if (st == NULL) {
		ret = mmc_fail(MMC_EXIT_FAIL, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const char *r = order ? order[i] : pol_rule_name(pol_set_at(s->set, i));
		unsigned from = pol_rule_priority(pol_set_get(s->set, r));
		unsigned want = order ? prio[i] : strcmp(r, name) ? from : (unsigned)to;
		if (!strcmp(r, name))
			to = want;
		if (want == from)
			continue;
		snprintf(st[nst].name, sizeof(st[nst].name), "%s", r);
		st[nst].from = from;
		st[nst].to = want;
		if (pol_rule_text(pol_set_get(s->set, r), &st[nst].old_text) < 0) {
			ret = mmc_fail(MMC_EXIT_FAIL, "out of memory");
			goto done;
		}
		nst++;
	}
	/* name's own step last: when its write fails, every other one is put back */
	for (size_t i = 0; i + 1 < nst; i++)
		if (!strcmp(st[i].name, name)) {
			struct step t = st[i];
			memmove(&st[i], &st[i + 1], (nst - i - 1) * sizeof(*st));
			st[nst - 1] = t;
			break;
		}
	if (mmc_json) {
		po->writes = json_object_new_array();
		for (size_t i = 0; i < nst; i++) {
			json_object *w = json_object_new_object();
			json_object_object_add(w, "rule", json_object_new_string(st[i].name));
			json_object_object_add(w, "from", json_object_new_int64(st[i].from));
			json_object_object_add(w, "to", json_object_new_int64(st[i].to));
			json_object_array_add(po->writes, w);
		}
	}
	if (nst == 0) {
		if (!change_json("rule", name, "moved", to, po))
			printf("rule '%s' is already there (priority %ld): nothing written\n", name,
			       to);
		goto done;
	}
	if (po->dry_run) {
		if (!mmc_json) {
			printf("would write %zu rule%s, nothing written:\n", nst,
			       nst == 1 ? "" : "s");
			for (size_t i = 0; i < nst; i++)
				printf("  %s: priority %u -> %u\n", st[i].name, st[i].from,
				       st[i].to);
		}
		change_json("rule", name, "moved", to, po);
		goto done;
	}
	if ((rc = plan_apply(s, st, nst, false)) < 0) {
		ret = polstore_exit(s, rc);
		goto done;
	}
	if ((rc = plan_write(s, st, nst, name)) < 0) {
		ret = polstore_exit(s, rc);
		mmc_audit(po->conf, "policy move", name, how + 2, other, "result", "failed", NULL);
		goto done;
	}
	if (!change_json("rule", name, "moved", to, po)) {
		printf("rule '%s' now has priority %ld", name, to);
		if (nst > 1)
			printf(" (%zu rules renumbered)", nst - 1);
		printf("\n");
	}
	{
		char pr[24], cnt[24];
		snprintf(pr, sizeof(pr), "%ld", to);
		snprintf(cnt, sizeof(cnt), "%zu", nst);
		mmc_audit(po->conf, "policy move", name, "priority", pr, "rules_written", cnt,
			  NULL);
	}
done:
	for (size_t i = 0; st && i < nst; i++)
		free(st[i].old_text);
	free(st);
	free(order);
	free(prio);
	return ret;
}

static const char *const zone_names[] = {"", "internal", "federated", "", "external"};
static const char *const class_names[] = {"other", "im", "presence", "", "call"};
static const char *const arrival_names[] = {"", "authenticated", "verified-peer", "unproven"};

/* What the command line says about the request; NULL where it says nothing. */
struct test_args {
	const char *from, *to, *cls, *arrival, *zone, *net;
};

static const char *
domain_of(const char *uri)
{
	const char *at = strrchr(uri, '@');

	return at ? at + 1 : uri;
}

/* Index of word in names[0..n), or -1. */
static int
word_index(const char *word, const char *const *names, int n)
{
	for (int i = 0; word && i < n; i++)
		if (names[i][0] && !strcmp(word, names[i]))
			return i;
	return -1;
}

/* The facts the server would have, where the command line does not give them: a sender of
 * our domains authenticated, anyone else unproven (never a partner without saying so).
 * MMC_EXIT_OK, or the exit code of the error printed. */
static int
test_facts(const struct gw_conf *c, const struct test_args *a, struct pol_facts *f)
{
	static const char *const nets[] = {"", "internal", "remote"};
	const char *fd = domain_of(a->from);
	int cls = word_index(a->cls, class_names, 5),
	    arr = word_index(a->arrival, arrival_names, 4);
	int zone = word_index(a->zone, zone_names, 5), net = word_index(a->net, nets, 3);

	if (cls < 0 || (a->arrival && arr < 0) || (a->zone && zone < 0) || (a->net && net < 0))
		return mmc_fail(
		    MMC_EXIT_USAGE,
		    "--class is im, presence, call or other; --arrival authenticated, "
		    "verified-peer or unproven; --zone internal, federated or external; "
		    "--network internal or remote");
	if (a->arrival && a->zone)
		return mmc_fail(MMC_EXIT_USAGE,
				"--zone is the zone of a sender inside an existing dialog; give "
				"either --arrival or --zone");
	if (a->zone) /* inside a dialog: how its sender arrived was settled when it began */
		arr = zone == POL_ZONE_INTERNAL ? POL_ARRIVAL_AUTHENTICATED : POL_ARRIVAL_UNPROVEN;
	else if (arr < 0)
		arr = mmc_domain_ours(c, fd) ? POL_ARRIVAL_AUTHENTICATED : POL_ARRIVAL_UNPROVEN;
	else if (arr == POL_ARRIVAL_AUTHENTICATED && !mmc_domain_ours(c, fd))
		return mmc_fail(MMC_EXIT_USAGE,
				"--arrival authenticated: only users of this server's domains "
				"authenticate, and %s is none of them",
				fd);
	else if (arr != POL_ARRIVAL_AUTHENTICATED && gw_conf_serves(c, fd))
		return mmc_fail(MMC_EXIT_USAGE,
				"greenwichd asks a sender of its own domain %s to authenticate "
				"before any rule; it is never %s",
				fd, arrival_names[arr]);
	f->req_class = (enum pol_class)cls;
	f->arrival = (enum pol_arrival)arr;
	f->zone = a->zone ? (enum pol_zone)zone : 0;
	if (net > 0)
		f->net = (enum pol_net)net;
	else
		f->net = arr == POL_ARRIVAL_AUTHENTICATED ? POL_NET_INTERNAL : POL_NET_REMOTE;
	f->from.uri = a->from;
	f->to.uri = a->to;
	return MMC_EXIT_OK;
}

/* A server without a domain takes its partners from [federation] in its configuration. */
static int
test_fed_conf(struct polstore *s, const struct gw_conf *c)
{
	const struct gw_strlist *l[] = {&c->federation_allow, &c->federation_block};

	for (size_t k = 0; !s->ad && k < 2; k++)
		for (size_t i = 0; i < l[k]->n; i++)
			if (pol_fed_set(&s->fed, l[k]->v[i], k == 0) < 0)
				return mmc_fail(MMC_EXIT_FAIL,
						"[federation] %s: '%s' is not a domain (greenwichd "
						"does not start with it)",
						k == 0 ? "allow" : "block", l[k]->v[i]);
	return MMC_EXIT_OK;
}

static const char *
verdict_text(const struct pol_decision *d, char *buf, size_t len)
{
	if (d->verdict == POL_ALLOW)
		snprintf(buf, len, "allow");
	else
		snprintf(buf, len, "deny %d %s", d->code, d->reason);
	return buf;
}

/* What the decision does not say by itself: a blocked domain, a claim that did not count, a
 * partner's user without its server's proof.  Each note on its own line, or in notes. */
static void
test_notes(const struct pol_facts *f, const struct pol_outcome *o, json_object *notes)
{
	const char *fd = domain_of(f->from.uri);
	char buf[600], v[200];

	for (int i = 0; i < 3; i++) {
		if (i == 0 && o->blocked)
			snprintf(buf, sizeof(buf),
				 "%s is blocked in the federation settings: its senders are "
				 "refused before any rule",
				 fd);
		else if (i == 1 && o->claim_ignored)
			snprintf(
			    buf, sizeof(buf),
			    "the sender is unproven, so no rule on the sender (from user, domain "
			    "or group) can match it; were %s proven, the decision would be: %s "
			    "(%s%s)",
			    f->from.uri, verdict_text(&o->claimed, v, sizeof(v)),
			    o->claimed.by_default ? "the built-in default" : "rule ",
			    o->claimed.by_default ? "" : o->claimed.rule);
		else if (i == 2 && o->partner_unproven)
			snprintf(buf, sizeof(buf),
				 "%s is an allowed partner, but its users are federated only over "
				 "TLS from its server with a verified certificate (--arrival "
				 "verified-peer); this sender is external",
				 fd);
		else
			continue;
		if (notes)
			json_object_array_add(notes, json_object_new_string(buf));
		else
			printf("note: %s\n", buf);
	}
}

static void
test_print(const struct pol_facts *f, const struct pol_outcome *o)
{
	const struct pol_decision *d = &o->decision;
	const char *by = d->by_default ? "the built-in default" : d->rule;
	/* the class asked about, and the one it was decided as (another method: the first of
	 * im, call, presence that denies) */
	const char *cls = class_names[f->req_class];
	const char *as = o->blocked ? cls : class_names[o->req_class];
	char v[200];

	if (mmc_json) {
		json_object *j = json_object_new_object(), *notes = json_object_new_array();
		json_object_object_add(
		    j, "decision",
		    json_object_new_string(d->verdict == POL_ALLOW ? "allow" : "deny"));
		json_object_object_add(j, "code", json_object_new_int(d->code));
		json_object_object_add(j, "reason", json_object_new_string(d->reason));
		json_object_object_add(j, "rule", json_object_new_string(d->rule));
		json_object_object_add(j, "default", json_object_new_boolean(d->by_default));
		json_object_object_add(j, "exception", json_object_new_boolean(d->by_exception));
		json_object_object_add(j, "zone", json_object_new_string(zone_names[o->zone]));
		if (f->zone == 0)
			json_object_object_add(j, "arrival",
					       json_object_new_string(arrival_names[f->arrival]));
		json_object_object_add(
		    j, "network",
		    json_object_new_string(f->net == POL_NET_INTERNAL ? "internal" : "remote"));
		json_object_object_add(j, "class", json_object_new_string(cls));
		json_object_object_add(j, "decided_as", json_object_new_string(as));
		json_object_object_add(j, "blocked", json_object_new_boolean(o->blocked));
		json_object_object_add(j, "sender_ignored",
				       json_object_new_boolean(o->claim_ignored));
		test_notes(f, o, notes);
		json_object_object_add(j, "notes", notes);
		mmc_json_print(j);
		return;
	}
	printf("%s  (%s%s%s; sender zone %s)\n", verdict_text(d, v, sizeof(v)),
	       d->by_default ? "" : "rule ", by, d->by_exception ? ", by its exception" : "",
	       zone_names[o->zone]);
	if (f->zone == 0)
		printf("facts: arrival %s, ", arrival_names[f->arrival]);
	else
		printf("facts: the zone its dialog recorded, ");
	printf("network %s, class %s", f->net == POL_NET_INTERNAL ? "internal" : "remote", cls);
	if (strcmp(cls, as) != 0)
		printf(" (decided as %s, the strictest of im, call and presence)", as);
	printf("\n");
	test_notes(f, o, NULL);
}

static int
policy_test(struct polstore *s, const struct gw_conf *c, int argc, char **argv)
{
	static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
					     {"to", required_argument, NULL, 't'},
					     {"class", required_argument, NULL, 'c'},
					     {"zone", required_argument, NULL, 'z'},
					     {"network", required_argument, NULL, 'n'},
					     {"arrival", required_argument, NULL, 'a'},
					     {NULL, 0, NULL, 0}};
	struct test_args a = {0};
	struct pol_facts f = {0};
	struct pol_outcome o;
	char **fs = NULL, **ts = NULL;
	size_t nf = 0, nt = 0;
	int opt, ret = MMC_EXIT_USAGE;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char **slot = opt == 'f'   ? &a.from
				    : opt == 't' ? &a.to
				    : opt == 'c' ? &a.cls
				    : opt == 'z' ? &a.zone
				    : opt == 'n' ? &a.net
				    : opt == 'a' ? &a.arrival
						 : NULL;
		if (slot == NULL)
			goto done;
		*slot = optarg;
	}
	if (!a.from || !a.to || !a.cls || optind != argc) {
		mmc_fail(ret,
			 "policy test needs --from URI --to URI --class im|presence|call|other "
			 "[--arrival authenticated|verified-peer|unproven] [--network "
			 "internal|remote]");
		goto done;
	}
	if ((ret = test_facts(c, &a, &f)) != MMC_EXIT_OK ||
	    (ret = test_fed_conf(s, c)) != MMC_EXIT_OK)
		goto done;
	const char *fa = strchr(a.from, ':') ? strchr(a.from, ':') + 1 : a.from;
	const char *ta = strchr(a.to, ':') ? strchr(a.to, ':') + 1 : a.to;
	/* a sender's groups count only when the server knows who it is */
	bool ours = f.zone ? f.zone == POL_ZONE_INTERNAL : f.arrival == POL_ARRIVAL_AUTHENTICATED;
	int rc = ours ? polstore_groups_of(s, fa, &fs, &nf) : 0;
	if (rc == 0)
		rc = polstore_groups_of(s, ta, &ts, &nt);
	if (rc < 0) {
		ret = polstore_exit(s, rc);
		goto done;
	}
	f.from.sids = (const char *const *)fs;
	f.from.nsids = nf;
	f.to.sids = (const char *const *)ts;
	f.to.nsids = nt;
	if (pol_decide(s->set, &s->fed, &f, &o) < 0) {
		ret = mmc_fail(MMC_EXIT_FAIL, "cannot decide: bad request facts");
		goto done;
	}
	test_print(&f, &o);
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

/* One stored federation value, as stored and as understood. */
struct fed_raw {
	char *raw;           /* "allow partner.example.net", as stored */
	const char *domain;  /* what follows the setting (or the whole value) */
	const char *setting; /* allow, block, unknown */
	char problem[300];   /* "" when the server uses it */
};

/* Every stored value, sorted by domain; problems noted. */
static int
fed_load(struct polstore *s, const struct gw_conf *c, struct fed_raw **vp, size_t *np)
{
	char **vals = NULL;
	size_t n = 0;
	int ret = polstore_fed_raw(s, &vals, &n);
	struct fed_raw *v = ret == 0 ? calloc(n + 1, sizeof(*v)) : NULL;

	if (ret == 0 && v == NULL)
		ret = -ENOMEM;
	for (size_t i = 0; v && i < n; i++) {
		struct fed_raw *f = &v[i];
		char why[200];
		f->raw = vals[i];
		vals[i] = NULL;
		f->setting = !strncmp(f->raw, "allow ", 6)   ? "allow"
			     : !strncmp(f->raw, "block ", 6) ? "block"
							     : "unknown";
		f->domain = f->setting[0] == 'u' ? f->raw : f->raw + 6;
		if (f->setting[0] == 'u')
			snprintf(f->problem, sizeof(f->problem), "not an allow or block setting");
		else if (!mmc_domain_name_valid(f->domain, why, sizeof(why)))
			snprintf(f->problem, sizeof(f->problem), "not a valid domain name: %s",
				 why);
		else if (mmc_domain_ours(c, f->domain))
			snprintf(f->problem, sizeof(f->problem),
				 "one of this server's own domains");
	}
	for (size_t i = 0; v && i < n; i++) /* few entries: insertion sort */
		for (size_t j = i; j > 0 && strcasecmp(v[j - 1].domain, v[j].domain) > 0; j--) {
			struct fed_raw t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (size_t i = 0; vals && i < n; i++)
		free(vals[i]);
	free(vals);
	*vp = v;
	*np = v ? n : 0;
	return ret;
}

static void
fed_free(struct fed_raw *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].raw);
	free(v);
}

static int
federation_list(struct polstore *s, const struct gw_conf *c)
{
	static const char *const heads[] = {"DOMAIN", "SETTING", "NOTE"};
	struct mmc_table *t = mmc_table_new(3, heads);
	json_object *arr = json_object_new_array();
	struct fed_raw *v = NULL;
	size_t n = 0, bad = 0;
	int ret = fed_load(s, c, &v, &n);

	if (ret < 0) {
		json_object_put(arr);
		mmc_table_free(t);
		return polstore_exit(s, ret);
	}
	for (size_t i = 0; i < n; i++) {
		char note[320]; /* "INVALID, ignored: " and a problem of up to 299 bytes */
		snprintf(note, sizeof(note), "%s%s", v[i].problem[0] ? "INVALID, ignored: " : "",
			 v[i].problem);
		const char *cells[] = {v[i].domain, v[i].setting, note};
		json_object *o = json_object_new_object();
		json_object_object_add(o, "domain", json_object_new_string(v[i].domain));
		json_object_object_add(o, "setting", json_object_new_string(v[i].setting));
		if (v[i].problem[0]) {
			json_object_object_add(o, "valid", json_object_new_boolean(0));
			json_object_object_add(o, "problem", json_object_new_string(v[i].problem));
			json_object_object_add(o, "stored", json_object_new_string(v[i].raw));
			bad++;
		}
		json_object_array_add(arr, o);
		mmc_table_add(t, cells);
	}
	if (mmc_json)
		mmc_json_print(arr);
	else if (n == 0)
		printf("no federation settings: no partner domain is allowed\n");
	else
		mmc_table_print(t, stdout);
	if (!mmc_json && bad)
		printf("%zu invalid entr%s: the server ignores %s; `federation remove` "
		       "deletes %s by the DOMAIN shown\n",
		       bad, bad == 1 ? "y" : "ies", bad == 1 ? "it" : "them",
		       bad == 1 ? "it" : "them");
	if (!mmc_json)
		json_object_put(arr);
	mmc_table_free(t);
	fed_free(v, n);
	return MMC_EXIT_OK;
}

/* remove: every stored value whose domain is arg exactly (else ignoring case), or that
 * is arg as a whole. */
static int
federation_remove(struct polstore *s, const struct gw_conf *c, const char *arg, int *removed)
{
	struct fed_raw *v = NULL;
	size_t n = 0;
	int ret = fed_load(s, c, &v, &n);
	bool exact = false;

	*removed = 0;
	for (size_t i = 0; ret == 0 && i < n; i++)
		exact = exact || !strcmp(v[i].domain, arg) || !strcmp(v[i].raw, arg);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		bool match = exact ? !strcmp(v[i].domain, arg) || !strcmp(v[i].raw, arg)
				   : !strcasecmp(v[i].domain, arg);
		if (match && (ret = polstore_fed_delete_raw(s, v[i].raw)) == 0)
			(*removed)++;
	}
	if (ret == 0 && *removed == 0) {
		snprintf(s->err, sizeof(s->err), "%s has no federation setting", arg);
		ret = -ENOENT;
	}
	fed_free(v, n);
	return ret;
}

int
mmc_federation(struct mmc *m, int argc, char **argv)
{
	struct polstore s;
	bool list = strcmp(argv[0], "list") == 0;
	int allow = !strcmp(argv[0], "allow") ? 1 : !strcmp(argv[0], "block") ? 0 : -1;
	int ret, removed = 0;
	char why[200];

	if (argc != (list ? 1 : 2))
		return mmc_fail(MMC_EXIT_USAGE, "usage: federation %s%s", argv[0],
				list ? "" : " DOMAIN");
	/* checked before anything is opened or written */
	if (allow >= 0 && !mmc_domain_name_valid(argv[1], why, sizeof(why)))
		return mmc_fail(MMC_EXIT_USAGE, "'%s' is not a domain name: %s; nothing written",
				argv[1], why);
	if (allow >= 0 && mmc_domain_ours(m->conf, argv[1]))
		return mmc_fail(MMC_EXIT_REFUSED,
				"%s is one of this server's own domains, not a partner; nothing "
				"written",
				argv[1]);
	if ((ret = polstore_open(&s, m->conf, true)) < 0) {
		ret = polstore_exit(&s, ret);
	} else if (list) {
		ret = federation_list(&s, m->conf);
	} else if ((ret = allow < 0 ? federation_remove(&s, m->conf, argv[1], &removed)
				    : polstore_fed(&s, argv[1], allow)) < 0) {
		ret = polstore_exit(&s, ret);
	} else {
		const char *how = allow < 0 ? "removed" : allow ? "allowed" : "blocked";
		if (!change_json("domain", argv[1], how, -1, NULL))
			printf("%s: %s\n", argv[1], how);
		mmc_audit(m->conf,
			  allow < 0 ? "federation remove"
			  : allow   ? "federation allow"
				    : "federation block",
			  argv[1], NULL);
		ret = MMC_EXIT_OK;
	}
	polstore_close(&s);
	return ret;
}

int
mmc_policy(struct mmc *m, int argc, char **argv)
{
	const char *verb = argv[0];
	bool del = !strcmp(verb, "delete") || !strcmp(verb, "remove");
	bool changes = !strcmp(verb, "add") || !strcmp(verb, "set") || del || !strcmp(verb, "move");
	struct pol_opts po = {.conf = m->conf};
	char **av = calloc((size_t)argc + 1, sizeof(*av));
	struct polstore s;
	int ac = 0, need, ret;

	if (av == NULL)
		return mmc_fail(MMC_EXIT_FAIL, "out of memory");
	for (int i = 0; i < argc; i++) {
		if (changes && i > 0 && !strcmp(argv[i], "--dry-run"))
			po.dry_run = true;
		else if (changes && i > 0 && !del && strcmp(verb, "move") &&
			 !strcmp(argv[i], "--force"))
			po.force = true;
		else if (del && i > 0 && !strcmp(argv[i], "--yes"))
			po.yes = true;
		else
			av[ac++] = argv[i];
	}
	need = !strcmp(verb, "list")   ? 1
	       : !strcmp(verb, "set")  ? 3
	       : !strcmp(verb, "move") ? 4
	       : !strcmp(verb, "test") ? -1
				       : 2;
	if (need > 0 && ac != need) {
		free(av);
		return mmc_fail(MMC_EXIT_USAGE, "usage: policy %s (try help policy)", verb);
	}
	if (!strcmp(verb, "move") && strcmp(av[2], "--before") && strcmp(av[2], "--after") &&
	    strcmp(av[2], "--priority")) {
		free(av);
		return mmc_fail(MMC_EXIT_USAGE,
				"policy move NAME --before OTHER | --after OTHER | --priority N");
	}
	if ((ret = polstore_open(&s, m->conf, false)) < 0)
		ret = polstore_exit(&s, ret);
	else if (!strcmp(verb, "list"))
		ret = policy_list(&s);
	else if (!strcmp(verb, "show"))
		ret = policy_show(&s, av[1]);
	else if (!strcmp(verb, "add"))
		ret = policy_write(&s, NULL, av[1], true, &po);
	else if (!strcmp(verb, "set"))
		ret = policy_write(&s, av[1], av[2], false, &po);
	else if (del)
		ret = policy_delete(&s, av[1], &po);
	else if (!strcmp(verb, "move"))
		ret = policy_move(&s, av[1], av[2], av[3], &po);
	else
		ret = policy_test(&s, m->conf, argc, argv);
	polstore_close(&s);
	json_object_put(po.warnings);
	json_object_put(po.writes);
	free(av);
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

	struct fed_raw *v = NULL;
	size_t n = 0;

	if (ret < 0)
		ret = loud ? polstore_exit(&s, ret) : MMC_EXIT_FAIL;
	for (size_t i = 0; ret == 0 && !fed && i < pol_set_count(s.set); i++)
		cb(pol_rule_name(pol_set_at(s.set, i)), arg);
	if (ret == 0 && fed && (ret = fed_load(&s, m->conf, &v, &n)) < 0)
		ret = loud ? polstore_exit(&s, ret) : MMC_EXIT_FAIL;
	for (size_t i = 0; ret == 0 && fed && i < n; i++)
		cb(v[i].domain, arg);
	fed_free(v, n);
	polstore_close(&s);
	return ret;
}

/* new Policies/NAME TEXT: a rule whose text names it NAME. */
int
mmc_policy_new(struct mmc *m, const char *name, const char *text)
{
	struct polstore s;
	int ret = polstore_open(&s, m->conf, false);

	struct pol_opts po = {.conf = m->conf};

	ret = ret < 0 ? polstore_exit(&s, ret) : policy_write(&s, name, text, true, &po);
	json_object_put(po.warnings);
	polstore_close(&s);
	return ret;
}

/* The properties of a federated domain. */
int
mmc_federation_show(struct mmc *m, const char *domain)
{
	struct fed_raw *v = NULL, *fe = NULL;
	struct polstore s;
	size_t n = 0;
	int ret = polstore_open(&s, m->conf, true);

	if (ret == 0)
		ret = fed_load(&s, m->conf, &v, &n);
	for (size_t i = 0; ret == 0 && i < n && fe == NULL; i++)
		if (!strcasecmp(v[i].domain, domain))
			fe = &v[i];
	if (ret < 0) {
		ret = polstore_exit(&s, ret);
	} else if (fe == NULL) {
		ret = mmc_fail(MMC_EXIT_NOTFOUND, "%s has no federation setting", domain);
	} else {
		struct mmc_props *p = mmc_props_new();
		mmc_props_add(p, "domain", fe->domain);
		mmc_props_add(p, "setting", fe->setting);
		if (fe->problem[0])
			mmc_props_add(p, "problem", fe->problem);
		mmc_props_print(p);
	}
	fed_free(v, n);
	polstore_close(&s);
	return ret;
}
