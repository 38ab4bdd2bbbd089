/*
 * ad_session_acct.c - the account of its own that holds greenwichd's sip/ SPNs: moves
 * the SPNs off the computer account, creates (or takes) a user account beside it, sets
 * its password (unicodePwd, over the session's sealed GSSAPI layer), its SPNs, flags
 * and AES-only encryption types, lets the computer account reset that password (an ACE
 * in the account's DACL) and reads its key version; sets a new password (`domain renew`,
 * bound as the machine); deletes it on leave.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ad_session.h"

#define UAC_ACCOUNTDISABLE 0x0002
#define UAC_NORMAL_ACCOUNT 0x0200
#define UAC_DONT_EXPIRE_PASSWORD 0x10000
#define ENCTYPES_AES 0x18 /* AES128 | AES256 (msDS-SupportedEncryptionTypes) */

/* The DN of the object of class @cls whose sAMAccountName is @sam: 1, 0 when none. */
static int
find_dn(struct ad_session *s, const char *cls, const char *sam, char *dn, size_t dnlen,
	char *reason)
{
	char esc[300], filter[400], *attrs[] = {"1.1", NULL}, *d;
	LDAPMessage *res = NULL, *e;
	int ret;

	if (ad_filter_escape(sam, esc, sizeof(esc)) < 0)
		return -EINVAL;
	snprintf(filter, sizeof(filter), "(&(objectClass=%s)(sAMAccountName=%s))", cls, esc);
	ret = ad_session_search(s, s->base, LDAP_SCOPE_SUBTREE, filter, attrs, NULL, &res, reason);
	e = ret == 0 ? ldap_first_entry(s->ld, res) : NULL;
	if (e != NULL && (d = ldap_get_dn(s->ld, e)) != NULL) {
		ad_str_copy(dn, dnlen, d);
		ldap_memfree(d);
		ret = 1;
	}
	ldap_msgfree(res);
	return ret;
}

int
ad_session_spn_remove(struct ad_session *s, const char *sam, char *const *spns, size_t n,
		      char *reason)
{
	char dn[1024];
	int ret = find_dn(s, "user", sam, dn, sizeof(dn), reason);

	if (ret <= 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		struct berval bv = {strlen(spns[i]), spns[i]}, *bvs[] = {&bv, NULL};
		LDAPMod mod = {.mod_op = LDAP_MOD_DELETE | LDAP_MOD_BVALUES,
			       .mod_type = "servicePrincipalName",
			       .mod_vals.modv_bvals = bvs},
			*mods[] = {&mod, NULL};
		int lrc = ldap_modify_ext_s(s->ld, dn, mods, NULL, NULL);

		if (lrc != LDAP_SUCCESS && lrc != LDAP_NO_SUCH_ATTRIBUTE &&
		    lrc != LDAP_UNWILLING_TO_PERFORM) {
			ad_reason_set(reason, "%s: removing %s from %s: %s", s->dc, spns[i], dn,
				      ldap_err2string(lrc));
			return ad_ldap_err(lrc);
		}
	}
	return 0;
}

/* unicodePwd: the password in double quotes, UTF-16LE (ASCII passwords only). */
static int
unicode_pwd(const char *pw, struct berval *bv)
{
	size_t n = strlen(pw) + 2;

	bv->bv_val = calloc(n, 2);
	if (bv->bv_val == NULL)
		return -ENOMEM;
	bv->bv_len = n * 2;
	for (size_t i = 0; i < n; i++)
		bv->bv_val[2 * i] = i == 0 || i == n - 1 ? '"' : pw[i - 1];
	return 0;
}

static int
create_account(struct ad_session *s, const char *sam, const char *container, char *dn, size_t dnlen,
	       char *reason)
{
	char uac[16], *oc[] = {"top", "person", "organizationalPerson", "user", NULL};
	char *samv[] = {(char *)sam, NULL}, *uacv[] = {uac, NULL};
	LDAPMod m_oc = {LDAP_MOD_ADD, "objectClass", {.modv_strvals = oc}},
		m_sam = {LDAP_MOD_ADD, "sAMAccountName", {.modv_strvals = samv}},
		m_uac = {LDAP_MOD_ADD, "userAccountControl", {.modv_strvals = uacv}},
		*mods[] = {&m_oc, &m_sam, &m_uac, NULL};
	int lrc;

	/* disabled until it has a password: AD refuses an enabled account without one */
	snprintf(uac, sizeof(uac), "%d", UAC_NORMAL_ACCOUNT | UAC_ACCOUNTDISABLE);
	snprintf(dn, dnlen, "CN=%s,%s", sam, container);
	lrc = ldap_add_ext_s(s->ld, dn, mods, NULL, NULL);
	if (lrc == LDAP_SUCCESS)
		return 0;
	ad_reason_set(reason, "%s: creating %s: %s", s->dc, dn, ldap_err2string(lrc));
	return ad_ldap_err(lrc);
}

static int
read_kvno(struct ad_session *s, const char *dn, int *kvno, char *reason)
{
	char *attrs[] = {"msDS-KeyVersionNumber", NULL}, *v;
	LDAPMessage *res = NULL, *e;
	int ret =
	    ad_session_search(s, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, NULL, &res, reason);

	e = ret == 0 ? ldap_first_entry(s->ld, res) : NULL;
	v = e ? ad_entry_str(s->ld, e, "msDS-KeyVersionNumber") : NULL;
	if (ret == 0 && v == NULL) {
		ad_reason_set(reason, "%s: %s has no msDS-KeyVersionNumber", s->dc, dn);
		ret = -AD_ERR_LDAP;
	}
	if (v)
		*kvno = atoi(v);
	free(v);
	ldap_msgfree(res);
	return ret;
}

/* A new password on the account at @dn (unicodePwd replaced: Reset Password). */
static int
set_password(struct ad_session *s, const char *dn, const char *password, char *reason)
{
	struct berval pw = {0, NULL}, *pwv[] = {&pw, NULL};
	LDAPMod m_pw = {LDAP_MOD_REPLACE | LDAP_MOD_BVALUES, "unicodePwd", {.modv_bvals = pwv}},
		*mods[] = {&m_pw, NULL};
	int ret = unicode_pwd(password, &pw);

	if (ret == 0)
		ret = ad_session_modify(s, dn, mods, NULL, "the password", reason);
	if (pw.bv_val) {
		explicit_bzero(pw.bv_val, pw.bv_len);
		free(pw.bv_val);
	}
	return ret;
}

/* Reset Password (User-Force-Change-Password), 00299570-246d-11d0-a768-00aa006e0529,
 * in AD's byte order */
static const unsigned char reset_password_guid[16] = {
    0x70, 0x95, 0x29, 0x00, 0x6d, 0x24, 0xd0, 0x11, 0xa7, 0x68, 0x00, 0xaa, 0x00, 0x6e, 0x05, 0x29};

/* The binary objectSid of the object at @dn. */
static int
read_sid(struct ad_session *s, const char *dn, unsigned char *sid, size_t *sidlen, char *reason)
{
	char *attrs[] = {"objectSid", NULL};
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	int ret =
	    ad_session_search(s, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, NULL, &res, reason);

	e = ret == 0 ? ldap_first_entry(s->ld, res) : NULL;
	v = e ? ldap_get_values_len(s->ld, e, "objectSid") : NULL;
	if (ret == 0 && (v == NULL || v[0] == NULL || v[0]->bv_len > AD_SID_MAX)) {
		ad_reason_set(reason, "%s: no objectSid of %s", s->dc, dn);
		ret = -AD_ERR_NOT_FOUND;
	}
	if (ret == 0) {
		memcpy(sid, v[0]->bv_val, v[0]->bv_len);
		*sidlen = v[0]->bv_len;
	}
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return ret;
}

/* The computer account (@cdn) may reset the password of the account at @dn: an
 * access-allowed object ACE with the Reset Password right in the account's DACL, so that
 * `domain renew`, bound as the machine, rotates it. */
static int
grant_reset(struct ad_session *s, const char *dn, const char *cdn, char *reason)
{
	struct ad_ace ace = {
	    AD_ACE_ALLOWED_OBJECT, 0, AD_RIGHT_CONTROL_ACCESS, reset_password_guid, NULL, {0}, 0};
	struct ad_sd old = {NULL, 0}, neu = {NULL, 0};
	bool changed = false;
	int ret = read_sid(s, cdn, ace.sid, &ace.sidlen, reason);

	if (ret == 0)
		ret = ad_session_sd_get(s, dn, &old.p, &old.len, reason);
	if (ret == 0 && ad_sd_edit(&old, &ace, NULL, 0, &neu, &changed) < 0) {
		ad_reason_set(reason, "the security descriptor of %s is malformed", dn);
		ret = -AD_ERR_PARSE;
	}
	if (ret == 0 && changed)
		ret = ad_session_sd_set(s, dn, neu.p, neu.len, reason);
	free(old.p);
	free(neu.p);
	return ret;
}

int
ad_session_sip_account(struct ad_session *s, const struct ad_sip_account *a, int *kvno,
		       char *reason)
{
	char cdn[1024], dn[1100], uac[16], enc[8], *uacv[] = {uac, NULL}, *encv[] = {enc, NULL};
	LDAPMod m_spn = {LDAP_MOD_REPLACE, "servicePrincipalName", {.modv_strvals = a->spns}},
		m_uac = {LDAP_MOD_REPLACE, "userAccountControl", {.modv_strvals = uacv}},
		m_enc = {LDAP_MOD_REPLACE, "msDS-SupportedEncryptionTypes", {.modv_strvals = encv}},
		*mods[] = {&m_spn, &m_uac, &m_enc, NULL};
	const char *container;
	size_t nspn = 0;
	int ret;

	while (a->spns[nspn])
		nspn++;
	/* AD refuses an SPN two accounts hold: off the computer account first */
	ret = find_dn(s, "computer", a->computer, cdn, sizeof(cdn), reason);
	if (ret == 0) {
		ad_reason_set(reason, "no computer account %s in %s", a->computer, s->base);
		ret = -AD_ERR_NOT_FOUND;
	}
	if (ret > 0)
		ret = ad_session_spn_remove(s, a->computer, a->spns, nspn, reason);
	if (ret == 0)
		ret = find_dn(s, "user", a->account, dn, sizeof(dn), reason);
	if (ret == 0) {
		container = a->container ? a->container : strchr(cdn, ',') + 1;
		ret = create_account(s, a->account, container, dn, sizeof(dn), reason);
	} else if (ret > 0) {
		ret = 0;
	}
	if (ret == 0 && !strcasecmp(dn, cdn)) {
		ad_reason_set(reason, "%s is the computer account itself", a->account);
		ret = -EINVAL;
	}
	if (ret == 0)
		ret = set_password(s, dn, a->password, reason);
	snprintf(uac, sizeof(uac), "%d", UAC_NORMAL_ACCOUNT | UAC_DONT_EXPIRE_PASSWORD);
	snprintf(enc, sizeof(enc), "%d", ENCTYPES_AES);
	if (ret == 0)
		ret = ad_session_modify(s, dn, mods, NULL, "the SPNs and flags", reason);
	if (ret == 0)
		ret = grant_reset(s, dn, cdn, reason);
	if (ret == 0)
		ret = read_kvno(s, dn, kvno, reason);
	return ret;
}

int
ad_session_sip_password(struct ad_session *s, const char *sam, const char *password, int *kvno,
			char *reason)
{
	char dn[1024];
	int ret = find_dn(s, "user", sam, dn, sizeof(dn), reason);

	if (ret == 0) {
		ad_reason_set(reason, "no account %s in %s", sam, s->base);
		ret = -AD_ERR_NOT_FOUND;
	}
	if (ret > 0)
		ret = set_password(s, dn, password, reason);
	if (ret == 0)
		ret = read_kvno(s, dn, kvno, reason);
	return ret;
}

int
ad_session_account_delete(struct ad_session *s, const char *sam, char *reason)
{
	char dn[1024];
	int lrc, ret = find_dn(s, "user", sam, dn, sizeof(dn), reason);

	if (ret <= 0)
		return ret;
	lrc = ldap_delete_ext_s(s->ld, dn, NULL, NULL);
	if (lrc == LDAP_SUCCESS || lrc == LDAP_NO_SUCH_OBJECT)
		return 1;
	ad_reason_set(reason, "%s: deleting %s: %s", s->dc, dn, ldap_err2string(lrc));
	return ad_ldap_err(lrc);
}

int
ad_session_spn_owner(struct ad_session *s, const char *spn, char *sam, size_t samlen, char *reason)
{
	char esc[600], filter[700], *attrs[] = {"sAMAccountName", NULL}, *v;
	LDAPMessage *res = NULL, *e;
	int ret;

	if (ad_filter_escape(spn, esc, sizeof(esc)) < 0)
		return -EINVAL;
	snprintf(filter, sizeof(filter), "(servicePrincipalName=%s)", esc);
	ret = ad_session_search(s, s->base, LDAP_SCOPE_SUBTREE, filter, attrs, NULL, &res, reason);
	if (ret == 0) {
		ret = ldap_count_entries(s->ld, res);
		e = ldap_first_entry(s->ld, res);
		v = e ? ad_entry_str(s->ld, e, "sAMAccountName") : NULL;
		ad_str_copy(sam, samlen, v ? v : "");
		free(v);
	}
	ldap_msgfree(res);
	return ret;
}
