/*
 * fuzz_sipae.c - the MS-SIPAE side of a SIP request (daemon/signin/sipae_sig.c):
 * the Kerberos/NTLM parameters of Authorization / Proxy-Authorization
 * (sipae_cred_get), the string a signature covers (sipae_sig_string), the
 * removal of asserted identities, and what greenwichd then decodes from the
 * parameters (hex response, base64 gssapi-data, an NTLM message in it).
 *
 * daemon/signin/sipae_sig.c alone (not its layer's library) is compiled into this target
 * (it needs Sofia-SIP and libgwsipae only).  The input is a whole SIP message
 * as Sofia's parser takes it off the wire.
 */
#include "config.h"

#include <errno.h>

#include "sipae_sig.c"

#include "fuzz.h"
#include "fuzz_sip.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sipae_init() < 0)
		abort();
	return 0;
}

/* What greenwichd does with the parameters after sipae_cred_get(). */
static void
cred_decode(const struct sipae_cred *cr)
{
	uint8_t sig[256];
	uint8_t *tok = NULL;
	size_t toklen = 0;

	if (cr->response) {
		int n = sipae_unhex(sig, sizeof(sig), cr->response);
		FUZZ_ASSERT(n == -EINVAL || (n >= 0 && (size_t)n <= sizeof(sig)));
	}
	if (cr->cnum) {
		char *end = NULL;
		(void)strtoul(cr->cnum, &end, 10);
	}
	if (cr->gssapi_data && sipae_b64_decode(cr->gssapi_data, &tok, &toklen) == 0) {
		if (cr->scheme == SIPAE_NTLM) {
			struct sipae_ntlm_auth a;
			char err[128];
			if (sipae_ntlm_parse_auth(tok, toklen, &a, err, sizeof(err)) == 0)
				sipae_ntlm_auth_free(&a);
		}
		free(tok);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msg_t *msg;
	sip_t *sip;
	struct sipae_cred cr;
	char *str;
	size_t len = 0;

	msg = fuzz_sip_msg(data, size);
	if (msg == NULL)
		return 0;
	sip = sip_object(msg);
	if (sip == NULL || (sip->sip_request == NULL && sip->sip_status == NULL))
		goto done;
	if (sipae_cred_get(msg, sip, &cr)) {
		FUZZ_ASSERT(cr.scheme == SIPAE_NTLM || cr.scheme == SIPAE_KERBEROS);
		cred_decode(&cr);
	}
	str = sipae_sig_string(msg, sip, cr.scheme == SIPAE_KERBEROS ? "Kerberos" : "NTLM",
			       cr.crand, cr.cnum, cr.realm, cr.targetname, &len);
	if (str != NULL) {
		FUZZ_ASSERT(strlen(str) <= len && len >= 2 && str[0] == '<' && str[len - 1] == '>');
		free(str);
	}
	sipae_identity_strip(msg, sip);
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		FUZZ_ASSERT(!u->un_name || (strcasecmp(u->un_name, "P-Asserted-Identity") != 0 &&
					    strcasecmp(u->un_name, "P-Preferred-Identity") != 0));
	/* the string covers no identity once the headers are gone */
	str = sipae_sig_string(msg, sip, "NTLM", NULL, NULL, NULL, NULL, &len);
	free(str);
done:
	msg_destroy(msg);
	return 0;
}
