/*
 * valid.c - what greenwich-mmc accepts before it writes anything: domain names (a partner
 * domain, the domain of a SIP URI) and users' SIP URIs.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mmc.h"

/* RFC 1035 (with RFC 1123's leading digits): labels of letters, digits and hyphens, 1 to
 * 63 long, not starting or ending with a hyphen; at least two labels; 253 at most; the last
 * label not all digits (that is an IPv4 address). */
bool
mmc_domain_name_valid(const char *d, char *why, size_t len)
{
	size_t n = strlen(d), label = 0, labels = 0;
	bool digits = true;

	if (n == 0 || n > 253) {
		snprintf(why, len, "a domain name is 1 to 253 characters long");
		return false;
	}
	for (size_t i = 0; i <= n; i++) {
		char c = d[i];
		if (c == '.' || c == '\0') {
			if (label == 0) {
				snprintf(why, len, "empty label");
				return false;
			}
			if (d[i - 1] == '-') {
				snprintf(why, len, "a label ends with '-'");
				return false;
			}
			labels++;
			label = 0;
			if (c == '\0')
				break;
			digits = true;
			continue;
		}
		if (c == '*') {
			snprintf(why, len,
				 "wildcards are not supported: the server matches a partner "
				 "domain exactly, so list each domain");
			return false;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-')) {
			snprintf(why, len,
				 "'%c' is not allowed in a domain name (letters, digits, "
				 "'-' and '.')",
				 c);
			return false;
		}
		if (c == '-' && label == 0) {
			snprintf(why, len, "a label starts with '-'");
			return false;
		}
		if (++label > 63) {
			snprintf(why, len, "a label is longer than 63 characters");
			return false;
		}
		digits = digits && c >= '0' && c <= '9';
	}
	if (labels < 2) {
		snprintf(why, len, "a domain name has at least two labels (example.net)");
		return false;
	}
	if (digits) {
		snprintf(why, len, "an IP address is not a domain name");
		return false;
	}
	return true;
}

/* The domains this server is: [server] domains and the AD domain. */
bool
mmc_domain_ours(const struct gw_conf *c, const char *d)
{
	return gw_conf_serves(c, d) || (c->domain_name[0] && !strcasecmp(c->domain_name, d));
}

int
mmc_sip_uri_check(const struct gw_conf *c, const char *uri, char *addr, size_t len)
{
	const char *a, *at;
	char why[200];

	if (strncasecmp(uri, "sip:", 4) != 0)
		return mmc_fail(MMC_EXIT_USAGE,
				"'%s' is not a SIP URI like sip:user@domain (only sip: URIs)", uri);
	a = uri + 4;
	at = strchr(a, '@');
	if (at == NULL || at == a || strchr(at + 1, '@') != NULL)
		return mmc_fail(MMC_EXIT_USAGE,
				"'%s' is not a SIP URI like sip:user@domain (one user, one '@', "
				"one domain)",
				uri);
	for (const char *p = a; p < at; p++) {
		if ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f &&
		    strchr("\"<>;:?\\,()[]", *p) == NULL)
			continue;
		if (*p == ' ' || *p == '\t')
			snprintf(why, sizeof(why), "a blank");
		else if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			snprintf(why, sizeof(why), "byte 0x%02x", (unsigned char)*p);
		else
			snprintf(why, sizeof(why), "'%c'", *p);
		return mmc_fail(MMC_EXIT_USAGE,
				"'%s' is not a SIP URI like sip:user@domain (%s in the user part)",
				uri, why);
	}
	if (!mmc_domain_name_valid(at + 1, why, sizeof(why)))
		return mmc_fail(MMC_EXIT_USAGE, "'%s' is not a SIP URI like sip:user@domain: %s",
				uri, why);
	if (c->domains.n > 0 && !gw_conf_serves(c, at + 1))
		return mmc_fail(MMC_EXIT_USAGE,
				"%s is not a domain this server serves (see [server] domains)",
				at + 1);
	if ((size_t)snprintf(addr, len, "%s", a) >= len)
		return mmc_fail(MMC_EXIT_USAGE, "'%s' is too long", uri);
	return MMC_EXIT_OK;
}
