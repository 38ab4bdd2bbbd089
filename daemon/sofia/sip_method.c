/*
 * sip_method.c - the SIP method parser, replacing Sofia's sip_method_d().
 *
 * Sofia 1.12's parser refuses every unknown method that starts with the
 * letter of a known one and is shorter than it: "SERVICE" (shorter than
 * SUBSCRIBE) is "invalid", the request line unparsable, and the request is
 * dropped as garbage.  Microsoft-protocol clients send SERVICE for presence
 * and contact lists, so greenwichd provides the function itself; the dynamic
 * linker binds Sofia's own calls (request line, CSeq, RAck) to this one, as
 * for bind() in reuseport.c.
 *
 * Same contract as Sofia's: the method token at *ss is classified; for an
 * unknown method *return_name points at the token, NUL-terminated in place
 * (only when return_name is given); *ss moves past the token and any
 * linear white space.  Method names are case-sensitive (RFC 3261 7.1).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>

/* RFC 3261 25.1 token characters */
static bool
is_token(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-.!%*_+`'~", c) != NULL);
}

static bool
is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

sip_method_t
sip_method_d(char **ss, char const **return_name)
{
	char *s = *ss;
	size_t n = 0;
	sip_method_t code = sip_method_unknown;
	char const *name;

	while (is_token(s[n]))
		n++;
	if (n == 0 || (s[n] != '\0' && !is_lws(s[n])))
		return sip_method_invalid;
	/* first letter before length: every request line, CSeq and Allow item
	 * comes through here (an Allow list costs one call per method) */
	for (int m = sip_method_invite; m <= sip_method_publish; m++) {
		const char *known = sip_method_names[m];
		if (known && known[0] == s[0] && strncmp(s, known, n) == 0 && known[n] == '\0') {
			code = (sip_method_t)m;
			break;
		}
	}
	if (code == sip_method_unknown) {
		name = s;
		if (s[n] != '\0' && return_name)
			s[n++] = '\0';
	} else {
		name = sip_method_names[code];
	}
	while (is_lws(s[n]))
		n++;
	*ss = s + n;
	if (return_name)
		*return_name = name;
	return code;
}
