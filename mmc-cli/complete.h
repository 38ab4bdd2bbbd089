/*
 * complete.h - tab completion of the console (commands, options, properties, nodes).
 */
#ifndef GW_MMC_COMPLETE_H
#define GW_MMC_COMPLETE_H

#include <histedit.h>

#include "mmc.h"

struct mmc_cands {
	char **v;
	size_t n;
	bool container; /* the single candidate is a node with children: add "/" */
	bool mark_dirs; /* in: end candidates that are nodes with children with "/" */
};

/* Candidates for the last (partial) word of `before` (the line up to the cursor). */
int mmc_complete_words(struct mmc *m, const char *before, struct mmc_cands *c, char **partialp);
void mmc_cands_free(struct mmc_cands *c);
/* The libedit function bound to TAB. */
unsigned char mmc_complete_fn(EditLine *el, int ch);

#endif
