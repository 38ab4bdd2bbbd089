/*
 * ad_krb5.c - the machine account's Kerberos credentials: acquired from the keytab into
 * a memory credential cache private to the library, acquired again before they expire.
 * KRB5CCNAME is neither read nor changed: workers point their own GSSAPI at the cache.
 */
#include "config.h"

#include <errno.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ad_private.h"

/*
 * Credentials are acquired again a quarter of their lifetime before they end, but at
 * least KRB5_MIN_MARGIN (a KDC refuses a TGT within its clock skew, 5 minutes, of the
 * end) and at most KRB5_MAX_MARGIN seconds before.
 */
#define KRB5_MIN_MARGIN 360
#define KRB5_MAX_MARGIN 600

struct ad_krb5 {
	pthread_mutex_t lock;
	krb5_context kctx;
	krb5_keytab kt;
	krb5_principal princ;
	/* Two caches used in turn: new credentials never replace those a bind may be reading. */
	krb5_ccache cc[2];
	char ccname[2][64];
	int cur;
	time_t start, end, refresh;
	int lifetime;
	uint64_t kinits;
};

static void
krb5_reason(krb5_context kctx, krb5_error_code kerr, char *reason, const char *what)
{
	const char *msg = krb5_get_error_message(kctx, kerr);

	ad_reason_set(reason, "%s: %s", what, msg);
	krb5_free_error_message(kctx, msg);
}

/* The keytab's machine account (first principal "NAME$"), else its first principal. */
static krb5_error_code
keytab_principal(struct ad_krb5 *krb, krb5_principal *princp)
{
	krb5_kt_cursor cur;
	krb5_keytab_entry ent;
	krb5_error_code kerr;
	krb5_principal first = NULL;

	kerr = krb5_kt_start_seq_get(krb->kctx, krb->kt, &cur);
	if (kerr != 0)
		return kerr;
	while (*princp == NULL && krb5_kt_next_entry(krb->kctx, krb->kt, &ent, &cur) == 0) {
		const krb5_data *c0 = ent.principal->length == 1
					  ? krb5_princ_component(krb->kctx, ent.principal, 0)
					  : NULL;

		if (c0 != NULL && c0->length > 1 && c0->data[c0->length - 1] == '$')
			kerr = krb5_copy_principal(krb->kctx, ent.principal, princp);
		else if (first == NULL)
			kerr = krb5_copy_principal(krb->kctx, ent.principal, &first);
		krb5_free_keytab_entry_contents(krb->kctx, &ent);
		if (kerr != 0)
			break;
	}
	krb5_kt_end_seq_get(krb->kctx, krb->kt, &cur);
	if (*princp == NULL && kerr == 0) {
		*princp = first;
		first = NULL;
		kerr = *princp == NULL ? KRB5_KT_NOTFOUND : 0;
	}
	krb5_free_principal(krb->kctx, first);
	return kerr;
}

static int
krb5_setup(struct ad_krb5 *krb, const struct ad_config *cfg, char *reason)
{
	char ktname[4096];
	krb5_error_code kerr;

	snprintf(ktname, sizeof(ktname), "FILE:%s", cfg->keytab);
	kerr = krb5_kt_resolve(krb->kctx, ktname, &krb->kt);
	if (kerr != 0) {
		krb5_reason(krb->kctx, kerr, reason, "keytab");
		return -AD_ERR_KRB5;
	}
	if (cfg->principal != NULL)
		kerr = krb5_parse_name(krb->kctx, cfg->principal, &krb->princ);
	else
		kerr = keytab_principal(krb, &krb->princ);
	if (kerr != 0) {
		krb5_reason(krb->kctx, kerr, reason, "keytab principal");
		return -AD_ERR_KRB5;
	}
	snprintf(krb->ccname[0], sizeof(krb->ccname[0]), "MEMORY:gwad-%p-0", (void *)krb);
	snprintf(krb->ccname[1], sizeof(krb->ccname[1]), "MEMORY:gwad-%p-1", (void *)krb);
	kerr = krb5_cc_resolve(krb->kctx, krb->ccname[0], &krb->cc[0]);
	if (kerr == 0)
		kerr = krb5_cc_resolve(krb->kctx, krb->ccname[1], &krb->cc[1]);
	if (kerr != 0) {
		krb5_reason(krb->kctx, kerr, reason, "credential cache");
		return -AD_ERR_KRB5;
	}
	return 0;
}

int
ad_krb5_alloc(const struct ad_config *cfg, struct ad_krb5 **krbp, char *reason)
{
	struct ad_krb5 *krb = calloc(1, sizeof(*krb));
	krb5_error_code kerr;
	int ret;

	if (krb == NULL)
		return -ENOMEM;
	pthread_mutex_init(&krb->lock, NULL);
	krb->lifetime = cfg->ticket_lifetime;
	kerr = krb5_init_context(&krb->kctx);
	if (kerr != 0) {
		ad_reason_set(reason, "krb5_init_context failed (%d)", (int)kerr);
		ret = -AD_ERR_KRB5;
		goto done;
	}
	ret = krb5_setup(krb, cfg, reason);
done:
	if (ret < 0)
		ad_krb5_free(krb);
	else
		*krbp = krb;
	return ret;
}

void
ad_krb5_free(struct ad_krb5 *krb)
{
	if (krb == NULL)
		return;
	if (krb->kctx != NULL) {
		if (krb->cc[0] != NULL)
			krb5_cc_destroy(krb->kctx, krb->cc[0]);
		if (krb->cc[1] != NULL)
			krb5_cc_destroy(krb->kctx, krb->cc[1]);
		krb5_free_principal(krb->kctx, krb->princ);
		if (krb->kt != NULL)
			krb5_kt_close(krb->kctx, krb->kt);
		krb5_free_context(krb->kctx);
	}
	pthread_mutex_destroy(&krb->lock);
	free(krb);
}

static bool
kdc_unreachable(krb5_error_code kerr)
{
	return kerr == KRB5_KDC_UNREACH || kerr == KRB5_REALM_CANT_RESOLVE ||
	       kerr == KRB5KDC_ERR_SVC_UNAVAILABLE;
}

/* Called with the lock held. */
static int
krb5_acquire(struct ad_krb5 *krb, char *reason)
{
	krb5_get_init_creds_opt *opt = NULL;
	krb5_creds creds;
	krb5_error_code kerr;
	time_t margin;
	int next, ret = -AD_ERR_KRB5;

	memset(&creds, 0, sizeof(creds));
	kerr = krb5_get_init_creds_opt_alloc(krb->kctx, &opt);
	if (kerr == 0 && krb->lifetime > 0)
		krb5_get_init_creds_opt_set_tkt_life(opt, krb->lifetime);
	if (kerr == 0)
		kerr = krb5_get_init_creds_keytab(krb->kctx, &creds, krb->princ, krb->kt, 0, NULL,
						  opt);
	if (kerr != 0) {
		krb5_reason(krb->kctx, kerr, reason, "credentials from the keytab");
		if (kdc_unreachable(kerr))
			ret = -AD_ERR_UNAVAILABLE;
		goto done;
	}
	next = krb->kinits == 0 ? 0 : !krb->cur;
	kerr = krb5_cc_initialize(krb->kctx, krb->cc[next], krb->princ);
	if (kerr == 0)
		kerr = krb5_cc_store_cred(krb->kctx, krb->cc[next], &creds);
	if (kerr != 0) {
		krb5_reason(krb->kctx, kerr, reason, "credential cache");
		goto done;
	}
	krb->start = creds.times.starttime ? creds.times.starttime : creds.times.authtime;
	krb->end = creds.times.endtime;
	margin = (krb->end - krb->start) / 4;
	margin = margin < KRB5_MIN_MARGIN ? KRB5_MIN_MARGIN : margin;
	margin = margin > KRB5_MAX_MARGIN ? KRB5_MAX_MARGIN : margin;
	krb->refresh = krb->end - margin;
	krb->cur = next;
	krb->kinits++;
	ret = 0;
done:
	krb5_free_cred_contents(krb->kctx, &creds);
	krb5_get_init_creds_opt_free(krb->kctx, opt);
	return ret;
}

int
ad_krb5_ensure(struct ad_krb5 *krb, char *reason)
{
	int ret = 0;

	pthread_mutex_lock(&krb->lock);
	if (krb->end == 0 || time(NULL) >= krb->refresh)
		ret = krb5_acquire(krb, reason);
	pthread_mutex_unlock(&krb->lock);
	return ret;
}

int
ad_krb5_thread_use(struct ad_krb5 *krb, char *reason)
{
	OM_uint32 major, minor;
	char name[64];

	pthread_mutex_lock(&krb->lock);
	memcpy(name, krb->ccname[krb->cur], sizeof(name));
	pthread_mutex_unlock(&krb->lock);
	major = gss_krb5_ccache_name(&minor, name, NULL);
	if (GSS_ERROR(major)) {
		ad_reason_set(reason, "gss_krb5_ccache_name failed");
		return -AD_ERR_KRB5;
	}
	return 0;
}

void
ad_krb5_state(struct ad_krb5 *krb, time_t *refresh_at, uint64_t *kinits)
{
	pthread_mutex_lock(&krb->lock);
	if (refresh_at)
		*refresh_at = krb->refresh;
	if (kinits)
		*kinits = krb->kinits;
	pthread_mutex_unlock(&krb->lock);
}
