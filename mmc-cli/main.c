/*
 * main.c - greenwich-mmc: the Greenwich management console.
 *
 * `greenwich-mmc [--config F] [--json] NOUN VERB ...` runs one command (cmd.c);
 * without a command on a terminal, or with `shell`, it opens the console (console.c).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwconf.h"
#include "mmc.h"

bool mmc_json;

static bool
needs_conf(int argc, char **argv)
{
	static const char *const free_cmds[] = {"help", "version"};

	for (size_t i = 0; i < sizeof(free_cmds) / sizeof(free_cmds[0]); i++)
		if (argc > 0 && strcmp(argv[0], free_cmds[i]) == 0)
			return false;
	return true;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
	    {"socket", required_argument, NULL, 's'}, {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	struct mmc m = {.conf_path = SYSCONFDIR "/greenwich/greenwich.conf"};
	char err[600];
	int c, ret;
	bool bad = false;

	while ((c = getopt_long(argc, argv, "+c:js:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			m.conf_path = optarg;
			break;
		case 'j':
			mmc_json = true;
			break;
		case 's':
			m.socket_path = optarg;
			break;
		case 'V':
			printf("greenwich-mmc " PACKAGE_VERSION "\n");
			return MMC_EXIT_OK;
		case 'h':
			mmc_usage(stdout, NULL);
			return MMC_EXIT_OK;
		default:
			bad = true;
			break;
		}
	}
	if (bad) { /* --json may come after the bad option */
		mmc_usage(stderr, NULL);
		if (mmc_json)
			mmc_fail(MMC_EXIT_USAGE, "unknown option (see the usage above)");
		return MMC_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 && !isatty(STDIN_FILENO)) {
		mmc_usage(stderr, NULL);
		return MMC_EXIT_USAGE;
	}
	if (argc > 0 && !strcmp(argv[0], "complete")) {
		m.conf = gw_conf_load(m.conf_path, err, sizeof(err)); /* nodes only if readable */
	} else if (needs_conf(argc, argv)) {
		m.conf = gw_conf_load(m.conf_path, err, sizeof(err));
		if (m.conf == NULL) {
			mmc_err("%s", err);
			return MMC_EXIT_FAIL;
		}
	}
	ret = argc == 0 ? mmc_console(&m) : mmc_dispatch(&m, argc, argv);
	for (size_t i = 0; i < m.cwd_n; i++)
		free(m.cwd[i]);
	gw_conf_free(m.conf);
	return ret;
}
