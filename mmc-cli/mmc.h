/*
 * mmc.h - greenwich-mmc internals: exit codes and the command entry points.
 */
#ifndef GW_MMC_H
#define GW_MMC_H

#include <stdbool.h>

#include "gwconf.h"

/* Documented in greenwich-mmc(8). */
enum {
	MMC_EXIT_OK = 0,
	MMC_EXIT_FAIL = 1,     /* the operation failed */
	MMC_EXIT_USAGE = 2,    /* bad command line or argument */
	MMC_EXIT_NOTFOUND = 3, /* the named object does not exist */
};

extern bool mmc_json;

int mmc_local_user(const struct gw_conf *c, int argc, char **argv);

#endif
