/*
 * ad_user.c - decoding of directory attributes into struct ad_user (no I/O).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ad_private.h"

#define UAC_ACCOUNTDISABLE 0x0002u
#define UAC_LOCKOUT 0x0010u
#define FILETIME_UNIX_EPOCH 11644473600LL /* seconds from 1601 to 1970 */

int
ad_sid_to_str(const unsigned char *bin, size_t len, char *out, size_t outlen)
{
	uint64_t auth = 0;
	size_t i, o, count;
	int w;

	if (len < 8 || bin[0] != 1)
		return -AD_ERR_PARSE;
	count = bin[1];
	if (count > 15 || len != 8 + 4 * count)
		return -AD_ERR_PARSE;
	for (i = 2; i < 8; i++)
		auth = auth << 8 | bin[i];
	w = snprintf(out, outlen, "S-1-%llu", (unsigned long long)auth);
	if (w < 0 || (size_t)w >= outlen)
		return -ENOSPC;
	o = (size_t)w;
	for (i = 0; i < count; i++) {
		const unsigned char *p = bin + 8 + 4 * i;
		uint32_t sub = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			       (uint32_t)p[3] << 24;

		w = snprintf(out + o, outlen - o, "-%u", sub);
		if (w < 0 || (size_t)w >= outlen - o)
			return -ENOSPC;
		o += (size_t)w;
	}
	return 0;
}

int
ad_sid_from_str(const char *text, unsigned char *out, size_t outlen, size_t *lenp)
{
	unsigned long long auth, sub;
	const char *p;
	char *end;
	size_t i, count = 0;

	if (strncmp(text, "S-1-", 4) != 0 || text[4] < '0' || text[4] > '9')
		return -AD_ERR_PARSE;
	errno = 0;
	auth = strtoull(text + 4, &end, 10);
	if (errno != 0 || auth >> 48 != 0)
		return -AD_ERR_PARSE;
	for (p = end; *p == '-'; p = end, count++) {
		if (count == 15 || p[1] < '0' || p[1] > '9')
			return -AD_ERR_PARSE;
		sub = strtoull(p + 1, &end, 10);
		if (errno != 0 || sub > UINT32_MAX)
			return -AD_ERR_PARSE;
		if (outlen >= 8 + 4 * (count + 1))
			for (i = 0; i < 4; i++)
				out[8 + 4 * count + i] = (unsigned char)(sub >> (8 * i));
	}
	if (*p != '\0' || count == 0)
		return -AD_ERR_PARSE;
	if (outlen < 8 + 4 * count)
		return -ENOSPC;
	out[0] = 1;
	out[1] = (unsigned char)count;
	for (i = 0; i < 6; i++)
		out[2 + i] = (unsigned char)(auth >> (8 * (5 - i)));
	*lenp = 8 + 4 * count;
	return 0;
}

static char *
sip_uri_make(const char *addr)
{
	size_t n = strlen(addr);
	char *uri = malloc(n + 5);

	if (uri != NULL) {
		memcpy(uri, "sip:", 4);
		memcpy(uri + 4, addr, n + 1);
	}
	return uri;
}

static bool
is_sip_proxy(const char *value)
{
	return strncasecmp(value, "sip:", 4) == 0 && value[4] != '\0';
}

void
ad_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
ad_proxy_select(const char *const *proxies, size_t n, const char *mail, char **primaryp,
		char ***aliasesp, size_t *countp)
{
	char *primary = NULL, **aliases = NULL;
	size_t i, count = 0, pick = n;
	int ret = -ENOMEM;

	for (i = 0; i < n && pick == n; i++)
		if (strncmp(proxies[i], "SIP:", 4) == 0 && proxies[i][4] != '\0')
			pick = i;
	for (i = 0; i < n && pick == n; i++)
		if (is_sip_proxy(proxies[i]))
			pick = i;
	if (pick < n)
		primary = sip_uri_make(proxies[pick] + 4);
	else if (mail != NULL && mail[0] != '\0')
		primary = sip_uri_make(mail);
	if ((pick < n || (mail != NULL && mail[0] != '\0')) && primary == NULL)
		goto done;
	aliases = calloc(n + 1, sizeof(*aliases));
	if (aliases == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		if (i == pick || !is_sip_proxy(proxies[i]))
			continue;
		aliases[count] = sip_uri_make(proxies[i] + 4);
		if (aliases[count++] == NULL)
			goto done;
	}
	*primaryp = primary;
	*aliasesp = aliases;
	*countp = count;
	primary = NULL;
	aliases = NULL;
	ret = 0;
done:
	free(primary);
	ad_strv_free(aliases, count);
	return ret;
}

int64_t
ad_filetime_to_unix(int64_t ft)
{
	if (ft <= 0 || ft == INT64_MAX)
		return 0;
	return ft / 10000000 - FILETIME_UNIX_EPOCH;
}

unsigned
ad_account_flags(uint32_t uac, int64_t computed_uac, int64_t lockout_time, int64_t account_expires,
		 time_t now)
{
	unsigned flags = 0;
	int64_t expires = ad_filetime_to_unix(account_expires);

	if (uac & UAC_ACCOUNTDISABLE)
		flags |= AD_USER_DISABLED;
	if (computed_uac >= 0 ? ((uint64_t)computed_uac & UAC_LOCKOUT) != 0 : lockout_time > 0)
		flags |= AD_USER_LOCKED_OUT;
	if (expires != 0 && expires <= (int64_t)now)
		flags |= AD_USER_EXPIRED;
	return flags;
}

void
ad_user_free(struct ad_user *user)
{
	if (user == NULL)
		return;
	free(user->dn);
	free(user->sam);
	free(user->upn);
	free(user->display_name);
	free(user->mail);
	free(user->sip_uri);
	ad_strv_free(user->aliases, user->alias_count);
	free(user->sid);
	ad_strv_free(user->group_sids, user->group_count);
	free(user);
}

static int
str_dup(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst == NULL ? -ENOMEM : 0;
}

static int
strv_dup(char ***dst, char *const *src, size_t n)
{
	size_t i;

	*dst = calloc(n + 1, sizeof(**dst));
	if (*dst == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (str_dup(&(*dst)[i], src[i]) < 0)
			return -ENOMEM;
	return 0;
}

struct ad_user *
ad_user_dup(const struct ad_user *user)
{
	struct ad_user *u = calloc(1, sizeof(*u));
	int ret = 0;

	if (u == NULL)
		return NULL;
	*u = *user;
	ret |= str_dup(&u->dn, user->dn);
	ret |= str_dup(&u->sam, user->sam);
	ret |= str_dup(&u->upn, user->upn);
	ret |= str_dup(&u->display_name, user->display_name);
	ret |= str_dup(&u->mail, user->mail);
	ret |= str_dup(&u->sip_uri, user->sip_uri);
	ret |= str_dup(&u->sid, user->sid);
	ret |= strv_dup(&u->aliases, user->aliases, user->alias_count);
	ret |= strv_dup(&u->group_sids, user->group_sids, user->group_count);
	if (ret != 0) {
		ad_user_free(u);
		u = NULL;
	}
	return u;
}

int
ad_user_check(const struct ad_user *user)
{
	if (user->flags & AD_USER_DISABLED)
		return -AD_ERR_DISABLED;
	if (user->flags & AD_USER_LOCKED_OUT)
		return -AD_ERR_LOCKED_OUT;
	if (user->flags & AD_USER_EXPIRED)
		return -AD_ERR_EXPIRED;
	if (!(user->flags & AD_USER_SIP_ENABLED))
		return -AD_ERR_NOT_ENABLED;
	return 0;
}

bool
ad_user_has_sid(const struct ad_user *user, const char *sid)
{
	size_t i;

	if (user->sid != NULL && strcasecmp(user->sid, sid) == 0)
		return true;
	for (i = 0; i < user->group_count; i++)
		if (strcasecmp(user->group_sids[i], sid) == 0)
			return true;
	return false;
}

bool
ad_user_has_uri(const struct ad_user *user, const char *uri)
{
	const char *addr = gw_uri_addr(uri);
	size_t i;

	if (user->sip_uri != NULL && strcasecmp(gw_uri_addr(user->sip_uri), addr) == 0)
		return true;
	for (i = 0; i < user->alias_count; i++)
		if (strcasecmp(gw_uri_addr(user->aliases[i]), addr) == 0)
			return true;
	return false;
}
