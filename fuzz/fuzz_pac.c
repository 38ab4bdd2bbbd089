/*
 * fuzz_pac.c - the PAC logon-info reader (sipae/sipae_pac.c): an NDR
 * KERB_VALIDATION_INFO as a Kerberos ticket carries it, to the user's and
 * groups' SIDs.  What it accepts must be well-formed SID strings.
 */
#include "config.h"

#include <errno.h>

#include "fuzz.h"
#include "gwsipae.h"

static void
check_sid(const char *s)
{
	FUZZ_ASSERT(strncmp(s, "S-1-", 4) == 0);
	for (const char *p = s + 4; *p; p++)
		FUZZ_ASSERT((*p >= '0' && *p <= '9') || *p == '-');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	char **sids = NULL;
	size_t n = 0;
	int ret;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	ret = sipae_pac_logon_sids(buf, size, &sids, &n);
	FUZZ_ASSERT(ret == 0 || ret == -EINVAL || ret == -ENOMEM || ret == -E2BIG);
	if (ret == 0) {
		FUZZ_ASSERT(sids != NULL && n >= 1 && sids[n] == NULL);
		for (size_t i = 0; i < n; i++) {
			check_sid(sids[i]);
			for (size_t j = 0; j < i; j++)
				FUZZ_ASSERT(strcmp(sids[i], sids[j]) != 0);
		}
		for (size_t i = 0; i < n; i++)
			free(sids[i]);
		free(sids);
	} else {
		FUZZ_ASSERT(sids == NULL);
	}
	free(buf);
	return 0;
}
