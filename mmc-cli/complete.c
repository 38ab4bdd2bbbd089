/*
 * complete.c - tab completion in the console: command words from the command table,
 * --options from a command's argument summary, properties that `set` knows, and node
 * names of the console tree (relative or absolute paths, spaces escaped).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "complete.h"

static void
cand_add(struct mmc_cands *c, const char *s)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i], s))
			return;
	char **nv = realloc(c->v, (c->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return;
	c->v = nv;
	c->v[c->n] = strdup(s);
	if (c->v[c->n])
		c->n++;
}

void
mmc_cands_free(struct mmc_cands *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

/* Word number `idx` of a grammar ("domain join" 1 -> "join") into buf; false if none. */
static bool
grammar_word(const char *g, int idx, char *buf, size_t len)
{
	for (int i = 0; i < idx; i++) {
		g = strchr(g, ' ');
		if (g == NULL)
			return false;
		g++;
	}
	snprintf(buf, len, "%.*s", (int)strcspn(g, " "), g);
	return buf[0] != '\0';
}

/* Do the first n words of argv equal the first n words of grammar g? */
static bool
grammar_prefix(const char *g, char **argv, int n)
{
	char w[64];

	for (int i = 0; i < n; i++)
		if (!grammar_word(g, i, w, sizeof(w)) || strcmp(w, argv[i]))
			return false;
	return true;
}

static int
grammar_len(const char *g)
{
	int n = 1;
	for (; *g; g++)
		n += *g == ' ';
	return n;
}

struct path_state {
	struct mmc_cands *c;
	const char *dir, *base;
	int containers;
};

static bool
is_container(enum mmc_node t)
{
	return t == N_ROOT || t == N_DOMAIN || t == N_SERVERS || t == N_SERVER ||
	       t == N_LOCALUSERS || t == N_USERS || t == N_USER || t == N_CONTACTS ||
	       t == N_WATCHERS || t == N_POLICIES || t == N_FEDERATION;
}

static void
path_cb(const char *name, enum mmc_node type, void *arg)
{
	struct path_state *s = arg;
	char buf[1024];

	if (strncasecmp(name, s->base, strlen(s->base)) != 0)
		return;
	snprintf(buf, sizeof(buf), "%s%s%s", s->dir, name,
		 s->c->mark_dirs && is_container(type) ? "/" : "");
	cand_add(s->c, buf);
	s->containers += is_container(type);
}

static void
complete_path(struct mmc *m, const char *partial, struct mmc_cands *c)
{
	const char *slash = strrchr(partial, '/');
	char dir[1024];
	char **path;
	size_t n;
	enum mmc_node t;

	if (m->conf == NULL)
		return;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - partial + 1) : 0, partial);
	if (mmc_tree_resolve(m, dir, &path, &n, &t) < 0)
		return;
	struct path_state s = {c, dir, slash ? slash + 1 : partial, 0};
	mmc_tree_children(m, path, n, t, path_cb, &s);
	c->container = c->n == 1 && s.containers == 1;
	mmc_tree_free_path(path, n);
}

static void
complete_options(const char *args, const char *partial, struct mmc_cands *c)
{
	for (const char *p = strstr(args, "--"); p; p = strstr(p + 2, "--")) {
		char opt[64];
		snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(p, " ]|"), p);
		if (!strncmp(opt, partial, strlen(partial)))
			cand_add(c, opt);
	}
}

static void
complete_props(struct mmc *m, const char *partial, struct mmc_cands *c)
{
	static const struct {
		const char *name;
		enum mmc_node t;
	} props[] = {{"password", N_LOCALUSER}, {"enabled-group", N_DOMAIN},
		     {"dcs", N_DOMAIN},         {"text", N_RULE},
		     {"priority", N_RULE},      {"setting", N_FEDDOMAIN},
		     {"rule", N_WATCHER}};
	char **path;
	size_t n;
	enum mmc_node t;

	if (m->conf == NULL || mmc_tree_resolve(m, "", &path, &n, &t) < 0)
		return;
	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
		if (props[i].t == t && !strncmp(props[i].name, partial, strlen(partial)))
			cand_add(c, props[i].name);
	mmc_tree_free_path(path, n);
}

static void
complete_first(const char *partial, struct mmc_cands *c, bool console)
{
	const struct mmc_cmd *cmds;
	size_t nc = mmc_commands(&cmds);
	char w[64];

	for (size_t i = 0; i < nc; i++)
		if (!(cmds[i].flags & MMC_CMD_HIDDEN) &&
		    (console || !(cmds[i].flags & MMC_CMD_CONSOLE)) &&
		    grammar_word(cmds[i].grammar, 0, w, sizeof(w)) &&
		    !strncmp(w, partial, strlen(partial)))
			cand_add(c, w);
	if (console) {
		if (!strncmp("exit", partial, strlen(partial)))
			cand_add(c, "exit");
		if (!strncmp("quit", partial, strlen(partial)))
			cand_add(c, "quit");
	}
}

static bool
tree_verb(const char *g)
{
	static const char *const verbs[] = {"ls",  "cd",  "show",  "properties",
					    "set", "new", "delete"};
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(g, verbs[i]))
			return true;
	return false;
}

struct name_seek {
	const char *partial;
	struct mmc_cands *c;
};

static void
name_cb(const char *name, void *arg)
{
	struct name_seek *ns = arg;

	if (!strncmp(name, ns->partial, strlen(ns->partial)))
		cand_add(ns->c, name);
}

/* Rule names after policy show|set|remove|delete|move and after --before/--after; stored
 * federation domains after federation remove; the domain's users after users show, enable,
 * disable, set-uri and reset-uri. */
static void
complete_names(struct mmc *m, const struct mmc_cmd *best, char **argv, int nw, const char *partial,
	       struct mmc_cands *c)
{
	struct name_seek ns = {partial, c};
	bool first = nw == grammar_len(best->grammar);
	bool other =
	    nw > 2 && (!strcmp(argv[nw - 1], "--before") || !strcmp(argv[nw - 1], "--after"));

	if (m->conf == NULL || partial[0] == '-')
		return;
	if (!strncmp(best->grammar, "policy ", 7) && !strncmp(best->args, "NAME", 4) &&
	    (first || (other && !strcmp(best->grammar, "policy move"))))
		mmc_policy_each(m, false, name_cb, &ns, false);
	else if (!strcmp(best->grammar, "federation remove") && first)
		mmc_policy_each(m, true, name_cb, &ns, false);
	else if (!strncmp(best->grammar, "users ", 6) && !strncmp(best->args, "USER", 4) &&
		 strncmp(best->args, "USER@", 5) != 0 && first)
		mmc_users_names(m, partial, name_cb, &ns); /* the domain's users */
}

static void
complete_args(struct mmc *m, char **argv, int nw, const char *partial, struct mmc_cands *c)
{
	const struct mmc_cmd *cmds, *best = NULL;
	size_t nc = mmc_commands(&cmds);
	char w[64];

	for (size_t i = 0; i < nc; i++) {
		int gl = grammar_len(cmds[i].grammar);
		if (gl > nw && !(cmds[i].flags & MMC_CMD_HIDDEN) &&
		    grammar_prefix(cmds[i].grammar, argv, nw) &&
		    grammar_word(cmds[i].grammar, nw, w, sizeof(w)) &&
		    !strncmp(w, partial, strlen(partial)))
			cand_add(c, w);
		if (gl <= nw && grammar_prefix(cmds[i].grammar, argv, gl))
			best = &cmds[i];
	}
	if (best == NULL)
		return;
	if (!strcmp(best->grammar, "help") && nw == 1)
		complete_first(partial, c, false);
	else if (tree_verb(best->grammar) && nw == 1)
		complete_path(m, partial, c);
	if (!strcmp(best->grammar, "set") && nw == 1)
		complete_props(m, partial, c);
	complete_names(m, best, argv, nw, partial, c);
	bool value =
	    nw > 1 && (!strcmp(argv[nw - 1], "--before") || !strcmp(argv[nw - 1], "--after") ||
		       !strcmp(argv[nw - 1], "--priority") || !strcmp(argv[nw - 1], "--since"));
	if (!value && (partial[0] == '-' || (partial[0] == '\0' && strstr(best->args, "--"))))
		complete_options(best->args, partial, c);
}

int
mmc_complete_words(struct mmc *m, const char *before, struct mmc_cands *c, char **partialp)
{
	char **argv = NULL;
	int argc = 0, nw;
	size_t len = strlen(before);
	bool fresh;

	c->v = NULL;
	c->n = 0;
	c->container = false; /* c->mark_dirs is the caller's */
	if (mmc_split_line(before, &argv, &argc) == -ENOMEM)
		return -ENOMEM;
	fresh = argc == 0 || (len > 0 && (before[len - 1] == ' ' || before[len - 1] == '\t') &&
			      (len < 2 || before[len - 2] != '\\'));
	nw = fresh ? argc : argc - 1;
	*partialp = strdup(fresh ? "" : argv[argc - 1]);
	if (*partialp == NULL) {
		mmc_free_argv(argv, argc);
		return -ENOMEM;
	}
	if (nw == 0)
		complete_first(*partialp, c, m->interactive);
	else
		complete_args(m, argv, nw, *partialp, c);
	mmc_free_argv(argv, argc);
	return 0;
}

/* Offset in `s` where its last word begins (after the last unquoted, unescaped blank). */
static size_t
last_word_start(const char *s)
{
	size_t start = 0;
	char quote = 0;

	for (size_t i = 0; s[i]; i++) {
		if (quote)
			quote = s[i] == quote ? 0 : quote;
		else if (s[i] == '"' || s[i] == '\'')
			quote = s[i];
		else if (s[i] == '\\' && s[i + 1])
			i++;
		else if (s[i] == ' ' || s[i] == '\t')
			start = i + 1;
	}
	return start;
}

static void
insert_escaped(EditLine *el, const char *s, size_t n)
{
	char buf[2048];
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] && o + 3 < sizeof(buf); i++) {
		if (strchr(" \t\"'\\#", s[i]))
			buf[o++] = '\\';
		buf[o++] = s[i];
	}
	buf[o] = '\0';
	el_insertstr(el, buf);
}

static size_t
common_prefix(const struct mmc_cands *c)
{
	size_t l = strlen(c->v[0]);

	for (size_t i = 1; i < c->n; i++) {
		size_t k = 0;
		while (k < l && c->v[i][k] == c->v[0][k])
			k++;
		l = k;
	}
	return l;
}

unsigned char
mmc_complete_fn(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);
	struct mmc *m = NULL;
	struct mmc_cands c = {0};
	char *before, *partial = NULL;
	unsigned char ret = CC_ERROR;

	(void)ch;
	el_get(el, EL_CLIENTDATA, &m);
	before = strndup(li->buffer, (size_t)(li->cursor - li->buffer));
	if (before == NULL || m == NULL || mmc_complete_words(m, before, &c, &partial) < 0) {
		free(before);
		return CC_ERROR;
	}
	if (c.n > 0) {
		size_t lcp = common_prefix(&c);
		if (c.n == 1 || lcp > strlen(partial)) {
			el_deletestr(el, (int)(strlen(before) - last_word_start(before)));
			insert_escaped(el, c.v[0], lcp);
			if (c.n == 1)
				el_insertstr(el, c.container ? "/" : " ");
			ret = CC_REFRESH;
		} else {
			printf("\n");
			for (size_t i = 0; i < c.n; i++)
				printf("%s%s", c.v[i], i + 1 < c.n ? "  " : "\n");
			ret = CC_REDISPLAY;
		}
	}
	mmc_cands_free(&c);
	free(partial);
	free(before);
	return ret;
}
