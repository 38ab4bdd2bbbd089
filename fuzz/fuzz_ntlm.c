/*
 * fuzz_ntlm.c - NTLM AUTHENTICATE_MESSAGE parsing (sipae/sipae_ntlm.c):
 * sipae_ntlm_parse_auth() on the raw message, as greenwichd calls it on the
 * decoded gssapi-data of a REGISTER.  What it accepts must point inside the
 * input; the keys derived from it must sign and verify.
 */
#include "config.h"

#include <errno.h>

#include "fuzz.h"
#include "gwsipae.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sipae_init() < 0)
		abort(); /* no RC4: the legacy provider is missing */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t base_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	/* a private copy, so ASan sees any read beyond the message */
	uint8_t *buf = malloc(size ? size : 1);
	struct sipae_ntlm_auth a;
	struct sipae_ntlm_keys k;
	uint8_t sig[16];
	char err[128];
	int ret;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	ret = sipae_ntlm_parse_auth(buf, size, &a, err, sizeof(err));
	FUZZ_ASSERT(ret == 0 || ret == -EINVAL || ret == -EPROTO || ret == -ENOMEM);
	if (ret == 0) {
		FUZZ_ASSERT(a.user && a.user[0] && a.domain && a.workstation);
		FUZZ_ASSERT(a.nt >= buf && a.nt_len <= size && a.nt + a.nt_len <= buf + size);
		FUZZ_ASSERT(a.lm == NULL || (a.lm >= buf && a.lm + a.lm_len <= buf + size));
		FUZZ_ASSERT(a.has_session_key);
		FUZZ_ASSERT(sipae_ntlm_derive(base_key, a.enc_session_key, &k) == 0);
		FUZZ_ASSERT(sipae_ntlm_sign(&k, false, 7, a.nt, a.nt_len, sig) == 0);
		FUZZ_ASSERT(sipae_ntlm_verify(&k, a.nt, a.nt_len, sig) == 0);
		sipae_ntlm_auth_free(&a);
	} else {
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(a.user == NULL && a.domain == NULL && a.workstation == NULL);
	}
	free(buf);
	return 0;
}
