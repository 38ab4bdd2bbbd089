/*
 * store_uri.c - how the stored lists name users: user@host, host in lower case.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gwstore.h"

/* A URI as clients write it (sip:bob@x, bob@x, <sip:bob@x>) to user@host. */
void
gwstore_uri_norm(char *out, size_t len, const char *in)
{
	while (*in == '<' || *in == ' ')
		in++;
	if (strncasecmp(in, "sip:", 4) == 0)
		in += 4;
	else if (strncasecmp(in, "sips:", 5) == 0)
		in += 5;
	snprintf(out, len, "%s", in);
	out[strcspn(out, ">;? ")] = '\0';
	for (char *p = strchr(out, '@'); p && *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
}
