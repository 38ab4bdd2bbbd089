/*
 * ad_util.c - error texts, reasons, clocks and small text helpers of libgwad.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ad_private.h"

static const char *const ad_err_text[] = {
    [AD_ERR_UNAVAILABLE - AD_ERR_BASE] = "no domain controller available",
    [AD_ERR_NOT_FOUND - AD_ERR_BASE] = "no such user",
    [AD_ERR_AMBIGUOUS - AD_ERR_BASE] = "more than one user matches",
    [AD_ERR_DISABLED - AD_ERR_BASE] = "account disabled",
    [AD_ERR_LOCKED_OUT - AD_ERR_BASE] = "account locked out",
    [AD_ERR_EXPIRED - AD_ERR_BASE] = "account expired",
    [AD_ERR_NOT_ENABLED - AD_ERR_BASE] = "user not enabled for Greenwich",
    [AD_ERR_KRB5 - AD_ERR_BASE] = "Kerberos error",
    [AD_ERR_BIND - AD_ERR_BASE] = "LDAP SASL/GSSAPI bind failed",
    [AD_ERR_LDAP - AD_ERR_BASE] = "LDAP error",
    [AD_ERR_DNS - AD_ERR_BASE] = "no domain controller in DNS",
    [AD_ERR_PARSE - AD_ERR_BASE] = "malformed data",
    [AD_ERR_CONFIG - AD_ERR_BASE] = "invalid configuration",
    [AD_ERR_GROUP - AD_ERR_BASE] = "Greenwich group not found",
    [AD_ERR_DENIED - AD_ERR_BASE] = "access denied",
};

const char *
ad_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		return "success";
	if (err >= AD_ERR_BASE && err < AD_ERR_LAST)
		return ad_err_text[err - AD_ERR_BASE];
	if (err >= AD_ERR_BASE)
		return "unknown libgwad error";
	return strerror(err);
}

void
ad_reason_set(char *reason, const char *fmt, ...)
{
	va_list ap;

	if (reason == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, AD_REASON_LEN, fmt, ap);
	va_end(ap);
}

int64_t
ad_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ad_filter_escape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;
		bool special = c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20;

		if (o + (special ? 3 : 1) >= outlen)
			return -ENOSPC;
		if (special) {
			snprintf(out + o, 4, "\\%02x", c);
			o += 3;
		} else {
			out[o++] = (char)c;
		}
	}
	if (o >= outlen)
		return -ENOSPC;
	out[o] = '\0';
	return 0;
}

int
ad_domain_to_dn(const char *domain, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = domain;

	while (*p != '\0') {
		size_t n = strcspn(p, ".");
		int w = snprintf(out + o, outlen - o, "%sDC=%.*s", o ? "," : "", (int)n, p);

		if (w < 0 || (size_t)w >= outlen - o)
			return -ENOSPC;
		o += (size_t)w;
		p += n;
		if (*p == '.')
			p++;
	}
	if (o == 0)
		return -EINVAL;
	return 0;
}

void
ad_str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}
