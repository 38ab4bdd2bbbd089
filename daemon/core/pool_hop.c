/*
 * pool_hop.c - reading the X-Greenwich-Pool header (pool_hop.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pool_hop.h"

/* The value of the first name=value field of v into out. */
static bool
field(const char *v, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);

	for (const char *s = v; s && *s; s = strchr(s, ';') ? strchr(s, ';') + 1 : NULL) {
		while (*s == ' ')
			s++;
		if (strncasecmp(s, name, nl) == 0 && s[nl] == '=') {
			size_t n = strcspn(s + nl + 1, ";");
			if (n >= len)
				return false;
			memcpy(out, s + nl + 1, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

int
pool_hop_parse(const char *value, struct pool_hop *h, char *user, size_t userlen)
{
	if (value == NULL || !field(value, "fe", h->fe, sizeof(h->fe)) ||
	    !field(value, "ts", h->ts, sizeof(h->ts)) || !field(value, "user", user, userlen) ||
	    !field(value, "mac", h->mac, sizeof(h->mac)))
		return -EINVAL;
	return 0;
}

bool
pool_hop_fresh(const char *ts, time_t now, int window)
{
	long long t = strtoll(ts, NULL, 10);

	/* compared, not subtracted: any 64-bit value may come */
	return t >= (long long)now - window && t <= (long long)now + window;
}
