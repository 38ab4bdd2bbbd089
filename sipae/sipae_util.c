/*
 * sipae_util.c - hex, base64, UTF-16LE <-> UTF-8 and little-endian helpers.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sipae_private.h"

void
sipae_hex(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
sipae_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sipae_unhex(uint8_t *out, size_t outmax, const char *in)
{
	size_t n = strlen(in), i;
	int hi, lo;

	if (n % 2 != 0 || n / 2 > outmax || n / 2 > (size_t)INT32_MAX)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		hi = sipae_hexval(in[2 * i]);
		lo = sipae_hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

int
sipae_b64_encode(const uint8_t *in, size_t len, char **out)
{
	char *s;

	*out = NULL;
	if (len > (size_t)INT32_MAX / 2)
		return -EINVAL;
	s = malloc(4 * ((len + 2) / 3) + 1);
	if (s == NULL)
		return -ENOMEM;
	EVP_EncodeBlock((unsigned char *)s, in, (int)len);
	*out = s;
	return 0;
}

int
sipae_b64_decode(const char *in, uint8_t **out, size_t *len)
{
	size_t n = strlen(in), pad = 0;
	uint8_t *buf = NULL;
	int got, ret = -EINVAL;

	*out = NULL;
	*len = 0;
	if (n % 4 != 0 || n > (size_t)INT32_MAX / 2)
		goto done;
	if (n > 0 && in[n - 1] == '=')
		pad = (n > 1 && in[n - 2] == '=') ? 2 : 1;
	ret = -ENOMEM;
	buf = malloc(n / 4 * 3 + 1);
	if (buf == NULL)
		goto done;
	ret = -EINVAL;
	got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
	if (got < 0 || (size_t)got < pad)
		goto done;
	*len = (size_t)got - pad;
	*out = buf;
	buf = NULL;
	ret = 0;
done:
	free(buf);
	return ret;
}

uint16_t
sipae_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t
sipae_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void
sipae_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void
sipae_put_le32(uint8_t *p, uint32_t v)
{
	sipae_put_le16(p, (uint16_t)v);
	sipae_put_le16(p + 2, (uint16_t)(v >> 16));
}

void
sipae_strv_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* One code point to UTF-8 at o; returns the byte count. */
static size_t
sipae_utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

int
sipae_utf16_to_utf8(const uint8_t *in, size_t len, char **out)
{
	size_t i, o = 0;
	uint32_t cp, lo;
	char *s = NULL;
	int ret = -EINVAL;

	*out = NULL;
	if (len % 2 != 0)
		goto done;
	ret = -ENOMEM;
	s = malloc(len / 2 * 3 + 1); /* a UTF-16 unit gives at most 3 bytes */
	if (s == NULL)
		goto done;
	ret = -EINVAL;
	for (i = 0; i < len; i += 2) {
		cp = sipae_le16(in + i);
		if (cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
			goto done;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (i + 4 > len)
				goto done;
			lo = sipae_le16(in + i + 2);
			if (lo < 0xDC00 || lo > 0xDFFF)
				goto done;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			i += 2;
		}
		o += sipae_utf8_put(s + o, cp);
	}
	s[o] = '\0';
	*out = s;
	s = NULL;
	ret = 0;
done:
	free(s);
	return ret;
}

/* Decode one UTF-8 sequence at p; returns its length, or 0 if invalid. */
static size_t
sipae_utf8_get(const unsigned char *p, uint32_t *cp)
{
	size_t n, i;
	uint32_t min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xE0) == 0xC0) {
		n = 2, *cp = p[0] & 0x1F, min = 0x80;
	} else if ((p[0] & 0xF0) == 0xE0) {
		n = 3, *cp = p[0] & 0x0F, min = 0x800;
	} else if ((p[0] & 0xF8) == 0xF0) {
		n = 4, *cp = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3F);
	}
	if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return n;
}

int
sipae_utf8_to_utf16(const char *in, uint8_t **out, size_t *len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strlen(in), o = 0, k;
	uint8_t *buf = NULL;
	uint32_t cp;
	int ret = -ENOMEM;

	*out = NULL;
	*len = 0;
	buf = malloc(2 * n + 1); /* a byte gives at most one unit; 4 bytes give 2 */
	if (buf == NULL)
		goto done;
	ret = -EINVAL;
	while (*p != '\0') {
		k = sipae_utf8_get(p, &cp);
		if (k == 0)
			goto done;
		p += k;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			sipae_put_le16(buf + o, (uint16_t)(0xD800 + (cp >> 10)));
			sipae_put_le16(buf + o + 2, (uint16_t)(0xDC00 + (cp & 0x3FF)));
			o += 4;
		} else {
			sipae_put_le16(buf + o, (uint16_t)cp);
			o += 2;
		}
	}
	*out = buf;
	*len = o;
	buf = NULL;
	ret = 0;
done:
	free(buf);
	return ret;
}
