/*
 * sipuri.h - the address part of a SIP URI as the directory and the policy
 * compare it: "sip:" or "sips:" (any case) taken off, the rest as it is.
 */
#ifndef GW_SIPURI_H
#define GW_SIPURI_H

#include <strings.h>

static inline const char *
gw_uri_addr(const char *uri)
{
	if (strncasecmp(uri, "sip:", 4) == 0)
		return uri + 4;
	if (strncasecmp(uri, "sips:", 5) == 0)
		return uri + 5;
	return uri;
}

#endif
