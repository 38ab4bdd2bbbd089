/*
 * main.c - greenwich-mmc: the Greenwich management console.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "gwconf.h"
#include "mmc.h"

bool mmc_json;

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: greenwich-mmc [--config FILE] [--json] COMMAND ...\n"
		    "commands:\n"
		    "  local-user add USER@DOMAIN [--password-stdin]   add or reset a local account\n"
		    "  local-user remove USER@DOMAIN                    remove a local account\n"
		    "  local-user list                                  list local accounts\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"json", no_argument, NULL, 'j'},
					     {"version", no_argument, NULL, 'V'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *path = SYSCONFDIR "/greenwich/greenwich.conf";
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "+c:jVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			mmc_json = true;
			break;
		case 'V':
			printf("greenwich-mmc " PACKAGE_VERSION "\n");
			return MMC_EXIT_OK;
		case 'h':
			usage(stdout);
			return MMC_EXIT_OK;
		default:
			usage(stderr);
			return MMC_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return MMC_EXIT_USAGE;
	}
	struct gw_conf *conf = gw_conf_load(path, err, sizeof(err));
	if (conf == NULL) {
		fprintf(stderr, "greenwich-mmc: %s\n", err);
		return MMC_EXIT_FAIL;
	}
	int ret = MMC_EXIT_USAGE;
	if (strcmp(argv[optind], "local-user") == 0)
		ret = mmc_local_user(conf, argc - optind - 1, argv + optind + 1);
	else
		fprintf(stderr, "greenwich-mmc: unknown command '%s' (try --help)\n", argv[optind]);
	gw_conf_free(conf);
	return ret;
}
