/*
 * fuzz_soap.c - the SOAP bodies of SERVICE requests (pres_soap_parse() in
 * daemon/presence/presence_doc.c, libxml2): setPresence, contact and group changes,
 * setACE, as pidgin-sipe sends them.  The method and arguments read must be
 * NUL-terminated, within their fixed sizes, and the values UTF-8.
 *
 * daemon/presence/presence_doc.c alone (not its layer's library) is compiled into this target.
 */
#include "config.h"

#include "presence_doc.c"

#include "fuzz.h"

#define DOC_MAX 65536

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
	    "availability", "activity", "note", "state", "URI",  "subscribed", "displayName",
	    "groups",       "groupID",  "name", "type",  "mask", "rights"};
	struct pres_soap soap;
	int ret;

	ret = pres_soap_parse((const char *)data, size, DOC_MAX, &soap);
	FUZZ_ASSERT(ret == DOC_OK || ret == DOC_BAD || ret == DOC_TOO_LARGE);
	if (ret != DOC_OK)
		return 0;
	FUZZ_ASSERT(memchr(soap.method, '\0', sizeof(soap.method)) != NULL);
	FUZZ_ASSERT(soap.nargs <= sizeof(soap.args) / sizeof(soap.args[0]));
	for (size_t i = 0; i < soap.nargs; i++) {
		FUZZ_ASSERT(memchr(soap.args[i][0], '\0', sizeof(soap.args[i][0])) != NULL);
		FUZZ_ASSERT(memchr(soap.args[i][1], '\0', sizeof(soap.args[i][1])) != NULL);
		/* values are stored and sent again (group names, notes): still UTF-8 */
		FUZZ_ASSERT(xmlCheckUTF8((const xmlChar *)soap.args[i][1]));
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = pres_soap_arg(&soap, names[i]);
		if (v != NULL)
			(void)strtoll(v, NULL, 10);
	}
	return 0;
}
