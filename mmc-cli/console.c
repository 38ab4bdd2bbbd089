/*
 * console.c - the interactive console: libedit line editing, history (kept in
 * ~/.greenwich-mmc_history), tab completion of commands, options, properties and tree
 * nodes, and a prompt that shows where you are in the tree.  Without a terminal the
 * same loop reads commands from stdin, one per line, for scripts.
 */
#include "config.h"

#include <errno.h>
#include <histedit.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "mmc.h"

#include "complete.h"

static int
push_word(char ***argvp, int *argcp, const char *w, size_t len)
{
	char **nv = realloc(*argvp, (size_t)(*argcp + 2) * sizeof(*nv));

	if (nv == NULL)
		return -ENOMEM;
	*argvp = nv;
	nv[*argcp] = strndup(w, len);
	if (nv[*argcp] == NULL)
		return -ENOMEM;
	(*argcp)++;
	nv[*argcp] = NULL;
	return 0;
}

/*
 * Split a line into words: blanks separate, "..." and '...' quote, a backslash escapes
 * the next character, # starts a comment.  Returns -EINVAL for an unterminated quote
 * (the words so far are still returned, for completion), -ENOMEM.
 */
int
mmc_split_line(const char *line, char ***argvp, int *argcp)
{
	size_t cap = strlen(line) + 1, len = 0;
	char *w = malloc(cap), quote = 0;
	bool in_word = false;
	int ret = 0;

	*argvp = NULL;
	*argcp = 0;
	if (w == NULL)
		return -ENOMEM;
	for (const char *p = line; *p && ret == 0; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			else
				w[len++] = *p;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
			in_word = true;
		} else if (*p == '\\' && p[1]) {
			w[len++] = *++p;
			in_word = true;
		} else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
			   (*p == '#' && !in_word)) {
			if (in_word)
				ret = push_word(argvp, argcp, w, len);
			len = 0;
			in_word = false;
			if (*p == '#')
				break;
		} else {
			w[len++] = *p;
			in_word = true;
		}
	}
	if (ret == 0 && in_word)
		ret = push_word(argvp, argcp, w, len);
	if (ret == 0 && quote)
		ret = -EINVAL;
	free(w);
	return ret;
}

void
mmc_free_argv(char **argv, int argc)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

/* Returns -1 for exit/quit, else the command's exit code. */
static int
run_line(struct mmc *m, const char *line)
{
	char **argv = NULL;
	int argc = 0, ret;

	ret = mmc_split_line(line, &argv, &argc);
	if (ret == -EINVAL) {
		mmc_err("unterminated quote");
		ret = MMC_EXIT_USAGE;
	} else if (ret < 0) {
		ret = MMC_EXIT_FAIL;
	} else if (argc > 0 && (!strcmp(argv[0], "exit") || !strcmp(argv[0], "quit"))) {
		ret = -1;
	} else {
		ret = mmc_dispatch(m, argc, argv);
	}
	mmc_free_argv(argv, argc);
	fflush(stdout);
	return ret;
}

static int
script_loop(struct mmc *m)
{
	char *line = NULL;
	size_t cap = 0;
	int last = MMC_EXIT_OK;

	while (getline(&line, &cap, stdin) > 0) {
		int r = run_line(m, line);
		if (r < 0)
			break;
		if (r != MMC_EXIT_OK)
			last = r;
	}
	free(line);
	return last;
}

static char prompt_buf[1024];

static char *
prompt_fn(EditLine *el)
{
	(void)el;
	return prompt_buf;
}

static void
set_prompt(const struct mmc *m)
{
	char *p = mmc_tree_prompt(m);
	snprintf(prompt_buf, sizeof(prompt_buf), "%s", p ? p : "Greenwich> ");
	free(p);
}

/* Lines that carry a secret are kept out of the history. */
static bool
history_worthy(const char *line)
{
	char **argv = NULL;
	int argc = 0;
	bool ok;

	mmc_split_line(line, &argv, &argc);
	ok = argc > 0 && !(argc >= 3 && !strcmp(argv[0], "set") &&
			   (!strcmp(argv[argc - 2], "password") || !strcmp(argv[1], "password")));
	mmc_free_argv(argv, argc);
	return ok;
}

/* Ctrl-C at the prompt throws away the line being typed, as a shell does; it
 * does not end the console (Ctrl-D or exit do). */
static volatile sig_atomic_t interrupted;
/* the signal mask while console_getc() waits for input: SIGINT let through */
static sigset_t waiting_mask;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* A Ctrl-C came: its handler ran, or it waits, blocked, to be let in. */
static bool
sigint_came(void)
{
	sigset_t pending;

	return interrupted || (sigpending(&pending) == 0 && sigismember(&pending, SIGINT));
}

/*
 * libedit's read function (EL_GETCFN): one character of input, decoded as a multibyte
 * character of the locale (UTF-8, console_locale()); 1, 0 at the end of input, -1 with
 * errno set.  libedit's own retries a read that a signal interrupted, and a SIGINT that
 * comes while it is not inside read() (Ctrl-C typed right behind other keys) is seen
 * only after the next Enter, which loses that line.  While el_gets() runs SIGINT is
 * blocked: ppoll() lets it in while waiting, and before every read we ask whether one
 * waits (ppoll() does not take it when input is ready at once).  The terminal reports
 * Ctrl-C before it queues what was typed after it, so a Ctrl-C ends the line at once
 * (-1, EINTR) and nothing typed behind it is read into that line.
 */
static int
console_getc(EditLine *el, wchar_t *wc)
{
	struct pollfd in = {.fd = STDIN_FILENO, .events = POLLIN};
	mbstate_t st;
	size_t n = 0;
	char c;

	(void)el;
	memset(&st, 0, sizeof(st));
	for (;;) {
		in.revents = 0;
		if (!sigint_came() && ppoll(&in, 1, NULL, &waiting_mask) < 0 && errno != EINTR)
			return -1;
		if (sigint_came()) {
			errno = EINTR;
			return -1;
		}
		if (in.revents == 0)
			continue;
		ssize_t r = read(STDIN_FILENO, &c, 1);
		if (r == 0) {
			*wc = L'\0';
			return 0;
		}
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		size_t k = mbrtowc(wc, &c, 1, &st);
		if (k == (size_t)-1 && n > 0) {
			/* a character cut short: this byte begins the next, as in libedit */
			memset(&st, 0, sizeof(st));
			n = 0;
			k = mbrtowc(wc, &c, 1, &st);
		}
		if (k != (size_t)-1 && k != (size_t)-2)
			return 1;
		if (k == (size_t)-2 && ++n < MB_LEN_MAX)
			continue; /* more of the character to come */
		/* not a character, or too long: dropped, as libedit does */
		memset(&st, 0, sizeof(st));
		n = 0;
	}
}

/* The console reads and shows UTF-8 (directory names are Unicode): the locale's
 * character type, or C.UTF-8 when the locale's is not UTF-8. */
static void
console_locale(void)
{
	if (setlocale(LC_CTYPE, "") == NULL || strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
}

static int
edit_loop(struct mmc *m)
{
	EditLine *el = el_init("greenwich-mmc", stdin, stdout, stderr);
	History *h = history_init();
	HistEvent ev;
	char hist_path[1024] = "";
	const char *line, *home = getenv("HOME");
	int count, last = MMC_EXIT_OK;

	if (el == NULL || h == NULL) {
		mmc_err("cannot start line editing");
		last = MMC_EXIT_FAIL;
		goto done;
	}
	if (home && home[0])
		snprintf(hist_path, sizeof(hist_path), "%s/.greenwich-mmc_history", home);
	history(h, &ev, H_SETSIZE, 1000);
	history(h, &ev, H_SETUNIQUE, 1);
	if (hist_path[0])
		history(h, &ev, H_LOAD, hist_path);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_PROMPT, prompt_fn);
	el_set(el, EL_HIST, history, h);
	el_set(el, EL_CLIENTDATA, m);
	/* The wide call: the narrow EL_ADDFN keeps copies of both strings that it never frees. */
	el_wset(el, EL_ADDFN, L"gw-complete", L"complete a command or node", mmc_complete_fn);
	el_set(el, EL_BIND, "^I", "gw-complete", NULL);
	el_set(el, EL_GETCFN, console_getc);
	struct sigaction sa = {.sa_handler = on_sigint}, old_sa;
	sigemptyset(&sa.sa_mask); /* no SA_RESTART: a command's waits end on Ctrl-C */
	sigaction(SIGINT, &sa, &old_sa);
	sigset_t sigint, outside;
	sigemptyset(&sigint);
	sigaddset(&sigint, SIGINT);
	printf("Greenwich management console. Type help for the commands, exit to leave.\n");
	for (;;) {
		set_prompt(m);
		interrupted = 0;
		sigprocmask(SIG_BLOCK, &sigint, &outside);
		waiting_mask = outside;
		sigdelset(&waiting_mask, SIGINT);
		line = el_gets(el, &count);
		sigprocmask(SIG_SETMASK, &outside, NULL);
		if (interrupted) {
			printf("^C\n");
			el_reset(el);
			continue;
		}
		if (line == NULL || count <= 0) {
			printf("\n");
			break;
		}
		if (history_worthy(line))
			history(h, &ev, H_ENTER, line);
		int r = run_line(m, line);
		if (r < 0)
			break;
		last = r;
	}
	sigaction(SIGINT, &old_sa, NULL);
	if (hist_path[0])
		history(h, &ev, H_SAVE, hist_path);
done:
	if (el)
		el_end(el);
	if (h)
		history_end(h);
	return last;
}

int
mmc_console(struct mmc *m)
{
	int ret;

	m->interactive = true;
	if (isatty(STDIN_FILENO))
		console_locale();
	ret = isatty(STDIN_FILENO) ? edit_loop(m) : script_loop(m);
	m->interactive = false;
	return ret;
}
