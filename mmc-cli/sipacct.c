/*
 * sipacct.c - greenwichd's sip/ service principals on a user account of their own
 * (gwsip-<host>), so that no ticket for another service of the host (host/, cifs/,
 * http/ ... all under the computer account's one key) can be relabelled sip/ and
 * accepted.  At `domain join`: the administrator's ticket (or one got with the password
 * given to the join) binds to LDAP with GSSAPI, signed and sealed; ad/ moves the SPNs,
 * creates or takes the account and sets a random password as unicodePwd (AD takes it
 * only over an encrypted connection, which the sealed layer is); the keys are derived
 * here with the salt the KDC announces for the account (krb5_get_etype_info) and the
 * kvno AD reports, and written to the sip keytab beside the previous kvno's.  Join also
 * lets the computer account reset that password, so `domain renew`, bound as the machine
 * (its own keytab), sets a new one the same way.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <krb5.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "gwad.h"
#include "krb.h"
#include "sipacct.h"

#define PW_LEN 40

/* Printable, every character class AD's complexity rule counts. */
static int
random_password(char *pw, size_t len)
{
	static const char set[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.+=";
	unsigned char r[PW_LEN];

	if (len < PW_LEN + 5 || RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	memcpy(pw, "Gw7-", 4);
	for (size_t i = 0; i < PW_LEN; i++)
		pw[4 + i] = set[r[i] % (sizeof(set) - 1)];
	pw[4 + PW_LEN] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

static void
krb_err(krb5_context ctx, krb5_error_code rc, const char *what, char *err, size_t errlen)
{
	const char *msg = krb5_get_error_message(ctx, rc);

	snprintf(err, errlen, "%s: %s", what, msg);
	krb5_free_error_message(ctx, msg);
}

/* adcli's computer name: the host label, upper case, 15 characters at most. */
static void
host_name(const char *fqdn, char *host, size_t len)
{
	size_t i = 0;

	for (; fqdn[i] && fqdn[i] != '.' && i < 15 && i + 1 < len; i++)
		host[i] = (char)toupper((unsigned char)fqdn[i]);
	host[i] = '\0';
}

/* Entries of the old keytab with the highest kvno below the new one go to the new. */
static krb5_error_code
keep_previous(krb5_context ctx, const char *path, krb5_keytab to, int kvno)
{
	char name[1100];
	krb5_keytab k = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	krb5_kvno prev = 0;

	if (access(path, F_OK) != 0)
		return 0;
	snprintf(name, sizeof(name), "FILE:%s", path);
	if (krb5_kt_resolve(ctx, name, &k) != 0)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		if (krb5_kt_start_seq_get(ctx, k, &cur) != 0)
			break;
		while (krb5_kt_next_entry(ctx, k, &e, &cur) == 0) {
			if (pass == 0 && e.vno < (krb5_kvno)kvno && e.vno > prev)
				prev = e.vno;
			if (pass == 1 && prev && e.vno == prev)
				krb5_kt_add_entry(ctx, to, &e);
			krb5_free_keytab_entry_contents(ctx, &e);
		}
		krb5_kt_end_seq_get(ctx, k, &cur);
	}
	krb5_kt_close(ctx, k);
	return 0;
}

/* The account's AES keys for each SPN principal, into a new file renamed over keytab. */
static int
write_keys(krb5_context ctx, const struct mmc_sipacct *a, char *const *spns, const char *pw,
	   char *err, size_t errlen)
{
	static const krb5_enctype etypes[] = {ENCTYPE_AES256_CTS_HMAC_SHA1_96,
					      ENCTYPE_AES128_CTS_HMAC_SHA1_96};
	char name[1200], tmp[1100];
	krb5_principal acct = NULL;
	krb5_data salt = {0}, params = {0}, pwd = {0, (unsigned)strlen(pw), (char *)pw};
	krb5_enctype etype;
	krb5_keytab k = NULL;
	krb5_error_code rc;
	int fd;

	snprintf(name, sizeof(name), "%s@%s", a->account, a->realm);
	rc = krb5_parse_name(ctx, name, &acct);
	if (rc == 0)
		rc = krb5_get_etype_info(ctx, acct, NULL, &etype, &salt, &params);
	if (rc != 0) {
		krb_err(ctx, rc, "the KDC's salt for the account", err, errlen);
		krb5_free_principal(ctx, acct);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.new.XXXXXX", a->keytab);
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		rc = -1;
	} else {
		close(fd);
		unlink(tmp); /* MIT writes a new keytab only where no file is */
		snprintf(name, sizeof(name), "WRFILE:%s", tmp);
		rc = krb5_kt_resolve(ctx, name, &k);
	}
	for (size_t i = 0; rc == 0 && spns[i]; i++) {
		krb5_principal p = NULL;
		snprintf(name, sizeof(name), "%s@%s", spns[i], a->realm);
		rc = krb5_parse_name(ctx, name, &p);
		for (size_t t = 0; rc == 0 && t < 2; t++) {
			krb5_keytab_entry e;
			memset(&e, 0, sizeof(e));
			rc = krb5_c_string_to_key_with_params(
			    ctx, etypes[t], &pwd, &salt, params.length ? &params : NULL, &e.key);
			e.principal = p;
			e.vno = (krb5_kvno)a->kvno;
			if (rc == 0)
				rc = krb5_kt_add_entry(ctx, k, &e);
			krb5_free_keyblock_contents(ctx, &e.key);
		}
		krb5_free_principal(ctx, p);
	}
	if (rc == 0)
		rc = keep_previous(ctx, a->keytab, k, a->kvno);
	if (rc > 0)
		krb_err(ctx, rc, "writing the sip keytab", err, errlen);
	if (k)
		krb5_kt_close(ctx, k);
	if (rc == 0 && (chown(tmp, a->uid, a->gid) < 0 || chmod(tmp, 0600) < 0 ||
			rename(tmp, a->keytab) < 0)) {
		snprintf(err, errlen, "cannot install %s: %s", a->keytab, strerror(errno));
		rc = -1;
	}
	if (rc != 0 && tmp[0])
		unlink(tmp);
	krb5_free_data_contents(ctx, &salt);
	krb5_free_data_contents(ctx, &params);
	krb5_free_principal(ctx, acct);
	return rc == 0 ? 0 : -1;
}

/* A signed and sealed LDAP session with a DC of the domain, bound with the tickets of
 * @ccname (NULL: the caller's). */
static struct ad_session *
session_with(const struct mmc_sipacct *a, const char *ccname, char *err, size_t errlen)
{
	char dc[300], reason[AD_REASON_LEN] = "";
	struct ad_session *s = NULL;

	/* the DC adcli found by the same SRV records: the new account is there first */
	if (a->dc) {
		snprintf(dc, sizeof(dc), "%s", a->dc);
	} else if (ad_dc_find(a->domain, 0, dc, sizeof(dc), reason) < 0) {
		snprintf(err, errlen, "no domain controller of %s: %s", a->domain, reason);
		return NULL;
	}
	if (ad_session_open(dc, 10000, &s, reason) < 0 || ad_session_bind(s, ccname, reason) < 0) {
		snprintf(err, errlen, "LDAP: %s", reason);
		ad_session_close(s);
		s = NULL;
	}
	return s;
}

/* The administrator's LDAP session (signed and sealed) with a DC of the domain. */
static struct ad_session *
admin_session(const struct mmc_sipacct *a, char *err, size_t errlen)
{
	char admin[600], ccname[300] = "", reason[AD_REASON_LEN] = "";
	struct ad_session *s;

	snprintf(admin, sizeof(admin), "%s@%s", a->admin, a->realm);
	if (a->password && mmc_krb_kinit_password(admin, a->password, ccname, sizeof(ccname),
						  reason, sizeof(reason)) < 0) {
		snprintf(err, errlen, "%s: %s", admin, reason);
		return NULL;
	}
	s = session_with(a, ccname[0] ? ccname : NULL, err, errlen);
	mmc_krb_destroy(ccname);
	return s;
}

/* join: the administrator moves the SPNs to the account (made or taken) and sets @pw. */
static int
join_in_ad(struct mmc_sipacct *a, const char *host, char **spns, const char *pw, char *err,
	   size_t errlen)
{
	char computer[20], reason[AD_REASON_LEN] = "";
	struct ad_session *s = admin_session(a, err, errlen);
	int ret = -1;

	if (s == NULL)
		return -1;
	snprintf(computer, sizeof(computer), "%s$", host);
	struct ad_sip_account sa = {computer, a->account, a->container, spns, pw};
	if (ad_session_sip_account(s, &sa, &a->kvno, reason) < 0)
		snprintf(err, errlen, "the account %s: %s", a->account, reason);
	else
		ret = 0;
	ad_session_close(s);
	return ret;
}

/* renew: the machine (its keytab) sets @pw on the user account that holds @spn. */
static int
renew_in_ad(struct mmc_sipacct *a, const char *machine_keytab, const char *machine, const char *spn,
	    const char *pw, char *err, size_t errlen)
{
	char ccname[300] = "", reason[AD_REASON_LEN] = "";
	struct ad_session *s = NULL;
	int n, ret = -1;

	a->account[0] = '\0';
	if (mmc_krb_kinit(machine_keytab, machine, ccname, sizeof(ccname), reason, sizeof(reason)) <
	    0) {
		snprintf(err, errlen, "%s: %s", machine, reason);
		return -1;
	}
	s = session_with(a, ccname, err, errlen);
	n = s ? ad_session_spn_owner(s, spn, a->account, sizeof(a->account), reason) : -1;
	if (s && n < 0)
		snprintf(err, errlen, "%s", reason);
	else if (s && (n != 1 || a->account[strlen(a->account) - 1] == '$'))
		snprintf(err, errlen, "%s is held by %s, not by an account of its own: join again",
			 spn,
			 n == 0  ? "no account"
			 : n > 1 ? "several accounts"
				 : a->account);
	else if (s && ad_session_sip_password(s, a->account, pw, &a->kvno, reason) < 0)
		snprintf(err, errlen, "the password of %s: %s", a->account, reason);
	else if (s)
		ret = 0;
	ad_session_close(s);
	mmc_krb_destroy(ccname);
	return ret;
}

/* A new random password set in AD (join, or renew when @machine is not NULL), its keys
 * written to the sip keytab. */
static int
rotate(struct mmc_sipacct *a, const char *machine_keytab, const char *machine, char *err,
       size_t errlen)
{
	char host[16], spn1[320], spn2[40], pw[PW_LEN + 8];
	char *spns[] = {spn1, spn2, NULL};
	krb5_context ctx = NULL;
	int ret = -1;

	host_name(a->fqdn, host, sizeof(host));
	snprintf(spn1, sizeof(spn1), "sip/%s", a->fqdn);
	snprintf(spn2, sizeof(spn2), "sip/%s", host);
	if (!machine && !a->account[0]) {
		snprintf(a->account, sizeof(a->account), "gwsip-%.14s", host);
		for (char *c = a->account; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	if (krb5_init_context(&ctx) != 0) {
		snprintf(err, errlen, "cannot initialize Kerberos");
		return -1;
	}
	if (random_password(pw, sizeof(pw)) < 0)
		snprintf(err, errlen, "no random bytes for the password");
	else if ((machine ? renew_in_ad(a, machine_keytab, machine, spn1, pw, err, errlen)
			  : join_in_ad(a, host, spns, pw, err, errlen)) == 0)
		ret = write_keys(ctx, a, spns, pw, err, errlen);
	OPENSSL_cleanse(pw, sizeof(pw));
	krb5_free_context(ctx);
	return ret;
}

int
mmc_sipacct_join(struct mmc_sipacct *a, char *err, size_t errlen)
{
	return rotate(a, NULL, NULL, err, errlen);
}

int
mmc_sipacct_renew(struct mmc_sipacct *a, const char *machine_keytab, const char *machine, char *err,
		  size_t errlen)
{
	return rotate(a, machine_keytab, machine, err, errlen);
}

int
mmc_sipacct_leave(struct mmc_sipacct *a, char *err, size_t errlen)
{
	char spn[320], reason[AD_REASON_LEN] = "";
	struct ad_session *s = admin_session(a, err, errlen);
	int n, ret = -1;

	a->account[0] = '\0';
	if (s == NULL)
		return -1;
	snprintf(spn, sizeof(spn), "sip/%s", a->fqdn);
	n = ad_session_spn_owner(s, spn, a->account, sizeof(a->account), reason);
	if (n < 0) {
		snprintf(err, errlen, "%s", reason);
	} else if (n == 0 || a->account[strlen(a->account) - 1] == '$') {
		a->account[0] = '\0'; /* none, or the computer account's: adcli deletes that */
		ret = 0;
	} else if (ad_session_account_delete(s, a->account, reason) < 0) {
		snprintf(err, errlen, "deleting %s: %s", a->account, reason);
	} else {
		ret = 0;
	}
	ad_session_close(s);
	return ret;
}
