/*
 * fuzz_pool.c - the X-Greenwich-Pool header's reader (daemon/core/pool_hop.c):
 * anyone can send the header, and a front end reads its fields and judges its
 * time before it checks the signature.  What it accepts must be fields that
 * fit their room and hold no ';'.
 *
 * daemon/core/pool_hop.c is compiled into this target (plain C, no library).
 */
#include "config.h"

#include <time.h>

#include "fuzz.h"
#include "pool_hop.h"

static void
check_field(const char *s, size_t room)
{
	size_t n = strnlen(s, room);

	FUZZ_ASSERT(n < room);
	FUZZ_ASSERT(memchr(s, ';', n) == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = fuzz_cstr(data, size);
	struct pool_hop h;
	char user[64];

	if (v == NULL)
		return 0;
	if (pool_hop_parse(v, &h, user, sizeof(user)) == 0) {
		check_field(h.fe, sizeof(h.fe));
		check_field(h.ts, sizeof(h.ts));
		check_field(h.mac, sizeof(h.mac));
		check_field(user, sizeof(user));
		/* any time text, against the clock and against the ends of time_t */
		(void)pool_hop_fresh(h.ts, time(NULL), 30);
		(void)pool_hop_fresh(h.ts, 0, 30);
	}
	/* the whole input as a time, too */
	(void)pool_hop_fresh(v, 1800000000, 30);
	free(v);
	return 0;
}
