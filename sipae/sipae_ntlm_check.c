/*
 * sipae_ntlm_check.c - NTLMv2 verification by the domain controller through
 * winbind (libwbclient, response level): the DC checks the response against
 * the challenge and returns the session base key and the user's token SIDs.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <stdbool.h>
#include <wbclient.h>

#include "sipae_private.h"

/* NTSTATUS values ([MS-ERREF] 2.3.1) winbind passes through from the DC. */
static const struct {
	uint32_t status;
	enum sipae_refusal refusal;
} sipae_nt_map[] = {
    {0xC000006Au, SIPAE_WRONG_PASSWORD}, /* NT_STATUS_WRONG_PASSWORD */
    {0xC0000064u, SIPAE_WRONG_PASSWORD}, /* NT_STATUS_NO_SUCH_USER */
    {0xC000006Du, SIPAE_WRONG_PASSWORD}, /* NT_STATUS_LOGON_FAILURE */
    {0xC0000072u, SIPAE_DISABLED},       /* NT_STATUS_ACCOUNT_DISABLED */
    {0xC0000234u, SIPAE_LOCKED},         /* NT_STATUS_ACCOUNT_LOCKED_OUT */
    {0xC0000193u, SIPAE_EXPIRED},        /* NT_STATUS_ACCOUNT_EXPIRED */
    {0xC0000071u, SIPAE_EXPIRED},        /* NT_STATUS_PASSWORD_EXPIRED */
    {0xC0000224u, SIPAE_EXPIRED},        /* NT_STATUS_PASSWORD_MUST_CHANGE */
    {0xC000006Fu, SIPAE_LOGON_HOURS},    /* NT_STATUS_INVALID_LOGON_HOURS */
    {0xC0000070u, SIPAE_LOGON_HOURS},    /* NT_STATUS_INVALID_WORKSTATION */
    {0xC000005Eu, SIPAE_DC_DOWN},        /* NT_STATUS_NO_LOGON_SERVERS */
    {0xC0000233u, SIPAE_DC_DOWN},        /* NT_STATUS_DOMAIN_CONTROLLER_NOT_FOUND */
    {0xC00000DAu, SIPAE_DC_DOWN},        /* NT_STATUS_CANT_ACCESS_DOMAIN_INFO */
    {0xC0000192u, SIPAE_DC_DOWN},        /* NT_STATUS_NETLOGON_NOT_STARTED */
    {0xC00000B5u, SIPAE_DC_DOWN},        /* NT_STATUS_IO_TIMEOUT */
};

static enum sipae_refusal
sipae_nt_refusal(uint32_t status)
{
	size_t i;

	for (i = 0; i < sizeof(sipae_nt_map) / sizeof(sipae_nt_map[0]); i++) {
		if (sipae_nt_map[i].status == status)
			return sipae_nt_map[i].refusal;
	}
	return SIPAE_OTHER;
}

static void
sipae_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

/* The SIDs of the token (user, primary group, other groups) as strings. */
static int
sipae_info_sids(const struct wbcAuthUserInfo *info, struct sipae_ntlm_result *r)
{
	char buf[WBC_SID_STRING_BUFLEN];
	uint32_t i;

	r->sids = calloc((size_t)info->num_sids + 1, sizeof(char *));
	if (r->sids == NULL)
		return -ENOMEM;
	for (i = 0; i < info->num_sids; i++) {
		if (wbcSidToStringBuf(&info->sids[i].sid, buf, sizeof(buf)) <= 0)
			return -EINVAL;
		r->sids[r->nsids] = strdup(buf);
		if (r->sids[r->nsids] == NULL)
			return -ENOMEM;
		r->nsids++;
	}
	return 0;
}

static int
sipae_wbc_answer(wbcErr werr, const struct wbcAuthUserInfo *info,
		 const struct wbcAuthErrorInfo *error, struct sipae_ntlm_result *r)
{
	if (werr == WBC_ERR_SUCCESS && info != NULL) {
		r->refusal = SIPAE_OK;
		sipae_copy(r->status, sizeof(r->status), "NT_STATUS_OK");
		sipae_copy(r->account, sizeof(r->account), info->account_name);
		sipae_copy(r->domain, sizeof(r->domain), info->domain_name);
		memcpy(r->session_base_key, info->user_session_key, 16);
		return sipae_info_sids(info, r);
	}
	if (werr == WBC_ERR_AUTH_ERROR && error != NULL) {
		r->refusal = sipae_nt_refusal(error->nt_status);
		if (error->nt_string != NULL)
			sipae_copy(r->status, sizeof(r->status), error->nt_string);
		else
			snprintf(r->status, sizeof(r->status), "NTSTATUS 0x%08X", error->nt_status);
		return 0;
	}
	if (werr == WBC_ERR_WINBIND_NOT_AVAILABLE || werr == WBC_ERR_DOMAIN_NOT_FOUND)
		r->refusal = SIPAE_DC_DOWN;
	else
		r->refusal = SIPAE_OTHER;
	sipae_copy(r->status, sizeof(r->status), wbcErrorString(werr));
	return werr == WBC_ERR_NO_MEMORY ? -ENOMEM : 0;
}

int
sipae_ntlm_check(const struct sipae_ntlm_auth *a, const uint8_t chal[8],
		 struct sipae_ntlm_result *r)
{
	struct wbcAuthUserParams p = {0};
	struct wbcAuthUserInfo *info = NULL;
	struct wbcAuthErrorInfo *error = NULL;
	struct wbcContext *ctx = NULL;
	uint8_t *nt = NULL, *lm = NULL;
	wbcErr werr;
	int ret = -EINVAL;

	memset(r, 0, sizeof(*r));
	r->refusal = SIPAE_OTHER;
	if (a == NULL || a->user == NULL || a->nt == NULL || a->nt_len > UINT32_MAX)
		goto done;
	ret = -ENOMEM;
	nt = malloc(a->nt_len);
	lm = malloc(a->lm_len ? a->lm_len : 1);
	ctx = wbcCtxCreate(); /* one per call: no state shared between threads */
	if (nt == NULL || lm == NULL || ctx == NULL)
		goto done;
	memcpy(nt, a->nt, a->nt_len);
	if (a->lm_len > 0)
		memcpy(lm, a->lm, a->lm_len);
	p.account_name = a->user;
	p.domain_name = a->domain != NULL ? a->domain : "";
	p.workstation_name = a->workstation != NULL ? a->workstation : "";
	p.level = WBC_AUTH_USER_LEVEL_RESPONSE;
	memcpy(p.password.response.challenge, chal, 8);
	p.password.response.nt_length = (uint32_t)a->nt_len;
	p.password.response.nt_data = nt;
	p.password.response.lm_length = (uint32_t)a->lm_len;
	p.password.response.lm_data = a->lm_len ? lm : NULL;
	werr = wbcCtxAuthenticateUserEx(ctx, &p, &info, &error);
	ret = sipae_wbc_answer(werr, info, error, r);
done:
	if (ret < 0) {
		sipae_ntlm_result_free(r);
		r->refusal = SIPAE_OTHER;
	}
	if (info != NULL)
		explicit_bzero(info->user_session_key, sizeof(info->user_session_key));
	wbcFreeMemory(info);
	wbcFreeMemory(error);
	wbcCtxFree(ctx);
	free(nt);
	free(lm);
	return ret;
}

void
sipae_ntlm_result_free(struct sipae_ntlm_result *r)
{
	if (r == NULL)
		return;
	sipae_strv_free(r->sids);
	explicit_bzero(r, sizeof(*r));
}
