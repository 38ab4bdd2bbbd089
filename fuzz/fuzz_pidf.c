/*
 * fuzz_pidf.c - PIDF/RPID presence documents (daemon/presence/presence_doc.c,
 * libxml2), as a PUBLISH carries them.  A document we accept, printed again
 * with pres_pidf_build() (what watchers are sent), must parse back to the
 * same status.
 *
 * daemon/presence/presence_doc.c alone (not its layer's library) is compiled into this
 * target (it needs libxml2 and the types of presence_int.h only).
 */
#include "config.h"

#include "presence_doc.c"

#include "fuzz.h"

#define DOC_MAX 65536 /* presence max-document default */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pres_status st, again;
	char *doc;
	int ret;

	ret = pres_pidf_parse((const char *)data, size, DOC_MAX, &st);
	FUZZ_ASSERT(ret == DOC_OK || ret == DOC_BAD || ret == DOC_TOO_LARGE);
	if (ret != DOC_OK)
		return 0;
	FUZZ_ASSERT(memchr(st.note, '\0', sizeof(st.note)) != NULL);
	FUZZ_ASSERT(xmlCheckUTF8((const xmlChar *)st.note));
	doc = pres_pidf_build("alice@corp.example.com", &st);
	FUZZ_ASSERT(doc != NULL);
	ret = pres_pidf_parse(doc, strlen(doc), DOC_MAX, &again);
	if (ret != DOC_OK || again.open != st.open || again.activity != st.activity ||
	    strcmp(again.note, st.note) != 0) {
		fprintf(stderr, "the document we send does not say what we read (%d):\n%s\n", ret,
			doc);
		abort();
	}
	free(doc);
	return 0;
}
