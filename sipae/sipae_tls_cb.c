/*
 * sipae_tls_cb.c - the channel bindings of our TLS connections (RFC 5929
 * tls-server-end-point), as both sign-in mechanisms check them: the application
 * data a Kerberos acceptor is given (gss_channel_bindings_struct), and the MD5 of
 * that structure an NTLMv2 client puts in MsvAvChannelBindings.  A client bound
 * to another TLS connection (a relay, a man in the middle with its own
 * certificate) sends other bindings.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "sipae_private.h"

#define CB_PREFIX "tls-server-end-point:"

int
sipae_tls_cb_data(const uint8_t *cert_der, size_t len, uint8_t *out, size_t *outlen)
{
	const unsigned char *p = cert_der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	unsigned int hlen = 0;
	int mdnid = NID_undef, ret = -EINVAL;
	const EVP_MD *md;

	*outlen = 0;
	if (x == NULL)
		return -EINVAL;
	/* RFC 5929 4.1: the certificate's signature hash; MD5 and SHA-1 become SHA-256 */
	if (!X509_get_signature_info(x, &mdnid, NULL, NULL, NULL) || mdnid == NID_undef ||
	    mdnid == NID_md5 || mdnid == NID_sha1)
		mdnid = NID_sha256;
	md = EVP_get_digestbynid(mdnid);
	memcpy(out, CB_PREFIX, sizeof(CB_PREFIX) - 1);
	if (md != NULL && X509_digest(x, md, out + sizeof(CB_PREFIX) - 1, &hlen) == 1) {
		*outlen = sizeof(CB_PREFIX) - 1 + hlen;
		ret = 0;
	}
	X509_free(x);
	return ret;
}

int
sipae_tls_cb_md5(const uint8_t *cert_der, size_t len, uint8_t out[16])
{
	uint8_t cb[20 + SIPAE_TLS_CB_MAX] = {0};
	size_t applen = 0;
	int ret = sipae_tls_cb_data(cert_der, len, cb + 20, &applen);

	if (ret < 0)
		return ret;
	/* gss_channel_bindings_struct as [MS-NLMP] and RFC 4121 4.1.1.2 hash it: initiator
	 * and acceptor address types and lengths all zero (16 bytes), then the
	 * application data's length and bytes */
	sipae_put_le32(cb + 16, (uint32_t)applen);
	return sipae_md5(cb, 20 + applen, NULL, 0, out);
}
