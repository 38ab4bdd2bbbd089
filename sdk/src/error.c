/* Error texts and version of libgreenwich-proxy. */
#include "config.h"

#include "gwp_internal.h"

GWP_EXPORT const char *
gwp_strerror(int err)
{
	switch (err) {
	case GWP_OK:
		return "success";
	case GWP_ERR_INVAL:
		return "invalid argument";
	case GWP_ERR_NOMEM:
		return "out of memory";
	case GWP_ERR_STATE:
		return "not allowed in the current state";
	case GWP_ERR_BIND:
		return "cannot bind a listening address";
	case GWP_ERR_TLS:
		return "cannot use the TLS certificate or key";
	case GWP_ERR_SIP:
		return "SIP stack failure";
	case GWP_ERR_THREAD:
		return "cannot create a thread or event descriptor";
	case GWP_ERR_ANSWERED:
		return "request already answered";
	case GWP_ERR_NOTARGET:
		return "no target to forward to";
	case GWP_ERR_ROUTE:
		return "Route set not accepted";
	default:
		return "unknown error";
	}
}

GWP_EXPORT const char *
gwp_version(void)
{
	return GWP_VERSION_STRING;
}
