/*
 * krb.c - the Kerberos pieces greenwich-mmc needs itself (MIT libkrb5): is there a
 * usable ticket in the default credential cache, what a keytab holds, and initial
 * credentials from a keytab into a private MEMORY: cache.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <krb5.h>

#include "krb.h"

/* True when the default credential cache holds a ticket-granting ticket still valid. */
bool
mmc_krb_have_ticket(char *princ, size_t len)
{
	krb5_context ctx = NULL;
	krb5_ccache cc = NULL;
	krb5_cc_cursor cur;
	krb5_creds creds;
	krb5_principal p = NULL;
	bool ok = false;

	if (krb5_init_context(&ctx) != 0)
		return false;
	if (krb5_cc_default(ctx, &cc) != 0 || krb5_cc_get_principal(ctx, cc, &p) != 0)
		goto done;
	if (krb5_cc_start_seq_get(ctx, cc, &cur) != 0)
		goto done;
	while (!ok && krb5_cc_next_cred(ctx, cc, &cur, &creds) == 0) {
		const krb5_data *c0 = krb5_princ_component(ctx, creds.server, 0);
		ok = c0 && c0->length == 6 && !memcmp(c0->data, "krbtgt", 6) &&
		     creds.times.endtime > time(NULL);
		krb5_free_cred_contents(ctx, &creds);
	}
	krb5_cc_end_seq_get(ctx, cc, &cur);
	if (ok && princ) {
		char *name = NULL;
		if (krb5_unparse_name(ctx, p, &name) == 0)
			snprintf(princ, len, "%s", name);
		krb5_free_unparsed_name(ctx, name);
	}
done:
	if (p)
		krb5_free_principal(ctx, p);
	if (cc)
		krb5_cc_close(ctx, cc);
	krb5_free_context(ctx);
	return ok;
}

static void
kt_note(struct mmc_keytab *kt, const char *name, const char *fqdn, const char *realm, int kvno)
{
	char want[600];
	size_t l = strlen(name);

	snprintf(want, sizeof(want), "sip/%s@%s", fqdn, realm);
	if (!strcasecmp(name, want))
		kt->has_sip = true;
	snprintf(want, sizeof(want), "HTTP/%s@%s", fqdn, realm);
	if (!strcasecmp(name, want))
		kt->has_http = true;
	const char *at = strchr(name, '@');
	if (!kt->machine[0] && at && at > name && at[-1] == '$' && !strchr(name, '/') &&
	    l < sizeof(kt->machine))
		snprintf(kt->machine, sizeof(kt->machine), "%s", name);
	if (kt->machine[0] && !strcasecmp(name, kt->machine) && kvno > kt->machine_kvno)
		kt->machine_kvno = kvno;
	kt->entries++;
}

/* Read every entry of a keytab. 0, or -errno / -EIO with a reason in err. */
int
mmc_keytab_read(const char *path, const char *fqdn, const char *realm, struct mmc_keytab *kt,
		char *err, size_t errlen)
{
	krb5_context ctx = NULL;
	krb5_keytab k = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	char name[1100];
	krb5_error_code rc;
	FILE *fp;

	memset(kt, 0, sizeof(*kt));
	fp = fopen(path, "r");
	if (fp == NULL) {
		int e0 = errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(e0));
		return -e0;
	}
	fclose(fp);
	if (krb5_init_context(&ctx) != 0) {
		snprintf(err, errlen, "cannot initialize Kerberos");
		return -EIO;
	}
	snprintf(name, sizeof(name), "FILE:%s", path);
	rc = krb5_kt_resolve(ctx, name, &k);
	if (rc == 0)
		rc = krb5_kt_start_seq_get(ctx, k, &cur);
	if (rc == 0) {
		while ((rc = krb5_kt_next_entry(ctx, k, &e, &cur)) == 0) {
			char *s = NULL;
			if (krb5_unparse_name(ctx, e.principal, &s) == 0)
				kt_note(kt, s, fqdn, realm, (int)e.vno);
			krb5_free_unparsed_name(ctx, s);
			krb5_free_keytab_entry_contents(ctx, &e);
		}
		krb5_kt_end_seq_get(ctx, k, &cur);
		rc = rc == KRB5_KT_END ? 0 : rc;
	}
	if (rc != 0) {
		const char *msg = krb5_get_error_message(ctx, rc);
		snprintf(err, errlen, "%s is not a usable keytab: %s", path, msg);
		krb5_free_error_message(ctx, msg);
	}
	if (k)
		krb5_kt_close(ctx, k);
	krb5_free_context(ctx);
	return rc == 0 ? 0 : -EIO;
}

/* creds for p into a new MEMORY: cache whose full name goes to ccname. */
static krb5_error_code
store_creds(krb5_context ctx, krb5_principal p, krb5_creds *creds, char *ccname, size_t cclen)
{
	krb5_ccache cc = NULL;
	char *full = NULL;
	krb5_error_code rc = krb5_cc_new_unique(ctx, "MEMORY", NULL, &cc);

	if (rc == 0)
		rc = krb5_cc_initialize(ctx, cc, p);
	if (rc == 0)
		rc = krb5_cc_store_cred(ctx, cc, creds);
	if (rc == 0)
		rc = krb5_cc_get_full_name(ctx, cc, &full);
	if (rc == 0) {
		snprintf(ccname, cclen, "%s", full);
		krb5_free_string(ctx, full);
		krb5_cc_close(ctx, cc); /* a MEMORY: cache lives on until destroyed */
	} else if (cc) {
		krb5_cc_destroy(ctx, cc);
	}
	return rc;
}

/*
 * Initial credentials for `principal` from the keytab (password NULL) or the password,
 * into a new MEMORY: cache whose full name goes to ccname.  The caller destroys it with
 * mmc_krb_destroy().
 */
static int
kinit(const char *keytab, const char *password, const char *principal, char *ccname, size_t cclen,
      char *err, size_t errlen)
{
	krb5_context ctx = NULL;
	krb5_keytab k = NULL;
	krb5_principal p = NULL;
	krb5_creds creds;
	krb5_error_code rc;
	char name[1100];
	bool have_creds = false;

	if (krb5_init_context(&ctx) != 0) {
		snprintf(err, errlen, "cannot initialize Kerberos");
		return -EIO;
	}
	snprintf(name, sizeof(name), "FILE:%s", keytab ? keytab : "");
	rc = keytab ? krb5_kt_resolve(ctx, name, &k) : 0;
	if (rc == 0)
		rc = krb5_parse_name(ctx, principal, &p);
	if (rc == 0 && keytab)
		rc = krb5_get_init_creds_keytab(ctx, &creds, p, k, 0, NULL, NULL);
	else if (rc == 0)
		rc = krb5_get_init_creds_password(ctx, &creds, p, password, NULL, NULL, 0, NULL,
						  NULL);
	have_creds = rc == 0;
	if (rc == 0)
		rc = store_creds(ctx, p, &creds, ccname, cclen);
	if (rc != 0) {
		const char *msg = krb5_get_error_message(ctx, rc);
		snprintf(err, errlen, "%s", msg);
		krb5_free_error_message(ctx, msg);
	}
	if (have_creds)
		krb5_free_cred_contents(ctx, &creds);
	if (p)
		krb5_free_principal(ctx, p);
	if (k)
		krb5_kt_close(ctx, k);
	krb5_free_context(ctx);
	return rc == 0 ? 0 : -EIO;
}

int
mmc_krb_kinit(const char *keytab, const char *principal, char *ccname, size_t cclen, char *err,
	      size_t errlen)
{
	return kinit(keytab, NULL, principal, ccname, cclen, err, errlen);
}

int
mmc_krb_kinit_password(const char *principal, const char *password, char *ccname, size_t cclen,
		       char *err, size_t errlen)
{
	return kinit(NULL, password, principal, ccname, cclen, err, errlen);
}

void
mmc_krb_destroy(const char *ccname)
{
	krb5_context ctx = NULL;
	krb5_ccache cc = NULL;

	if (ccname == NULL || !ccname[0] || krb5_init_context(&ctx) != 0)
		return;
	if (krb5_cc_resolve(ctx, ccname, &cc) == 0)
		krb5_cc_destroy(ctx, cc);
	krb5_free_context(ctx);
}
