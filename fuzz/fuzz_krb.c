/*
 * fuzz_krb.c - what greenwichd reads itself of a Kerberos sign-in's token, before
 * and beside MIT's acceptor (sipae/sipae_krb.c): the GSS initial context token's
 * DER walk to the AP-REQ's Ticket and the authenticator's ciphertext
 * (sipae_apreq_parts), the ticket's server name checked against sip/<fqdn>@REALM
 * (sipae_ticket_server, with MIT's ticket decoder) and the replay cache's tag of
 * the ciphertext.  The input is the token as the client's gssapi-data carries it,
 * after base64.
 *
 * sipae/sipae_krb.c is compiled into this target (its parsers are static).
 */
#include "config.h"

#include "sipae_krb.c"

#include "fuzz.h"

static struct sipae_krb k;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (krb5_init_context(&k.kctx) != 0)
		abort();
	snprintf(k.service, sizeof(k.service), "sip/greenwich.corp.example.com");
	snprintf(k.realm, sizeof(k.realm), "CORP.EXAMPLE.COM");
	return 0;
}

static int
inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
	const uint8_t *q = p;

	return q >= data && n <= size && (size_t)(q - data) <= size - n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1); /* exactly size bytes: ASan sees overreads */
	krb5_data ticket = {0};
	const uint8_t *auth = NULL;
	size_t authlen = 0;
	char err[512];

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (sipae_apreq_parts(buf, size, &ticket, &auth, &authlen) == 0) {
		FUZZ_ASSERT(inside(ticket.data, ticket.length, buf, size));
		FUZZ_ASSERT(auth != NULL && authlen > 0 && inside(auth, authlen, buf, size));
		int ret = sipae_ticket_server(&k, &ticket, err, sizeof(err));
		FUZZ_ASSERT(ret == 0 || ret == -EINVAL || ret == -EACCES);
		uint8_t tag[SIPAE_RCACHE_TAG];
		FUZZ_ASSERT(sipae_rcache_tag(auth, authlen, tag) == 0);
	}
	free(buf);
	return 0;
}
