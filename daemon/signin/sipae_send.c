/*
 * sipae_send.c - every message that goes to a signed-in connection is signed.
 *
 * Sofia sends every SIP message, request or response, stateful or not,
 * through tport_tsend().  greenwichd defines that function itself (the
 * dynamic linker binds Sofia's calls to ours, as for bind() in reuseport.c):
 * on worker 0, for a connection with a security association, it removes any
 * credentials or signatures another hop put in the message, adds our
 * Authentication-Info with the signature of the message as it will go out,
 * and hands over to Sofia's own function.  So no code path can forget to sign.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport.h>

#include "gwd.h"
#include "log.h"
#include "sipae.h"

typedef tport_t *tsend_fn(tport_t *, msg_t *, tp_name_t const *, tag_type_t, tag_value_t, ...);

static struct gwd *sign_gwd;
static pthread_t sign_thread;
static tsend_fn *real_tsend;

void
sipae_send_bind(struct gwd *g)
{
	sign_thread = pthread_self();
	__atomic_store_n(&sign_gwd, g, __ATOMIC_RELEASE);
}

static bool
is_auth_info(const char *name)
{
	return strcasecmp(name, "Authentication-Info") == 0 ||
	       strcasecmp(name, "Proxy-Authentication-Info") == 0;
}

/* Credentials and signatures of other hops do not travel on. */
static void
strip_foreign(msg_t *msg, sip_t *sip)
{
	sipae_consume(msg, sip);
	if (sip->sip_authentication_info)
		msg_header_remove_all(msg, (msg_pub_t *)sip,
				      (msg_header_t *)sip->sip_authentication_info);
	if (sip->sip_proxy_authentication_info)
		msg_header_remove_all(msg, (msg_pub_t *)sip,
				      (msg_header_t *)sip->sip_proxy_authentication_info);
	for (sip_unknown_t *u = sip->sip_unknown, *next; u; u = next) {
		next = u->un_next;
		if (u->un_name && is_auth_info(u->un_name))
			msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)u);
	}
}

static int
signature(struct sipae_sa *sa, const char *str, size_t len, char *hex, size_t hexlen)
{
	uint8_t sig[16], *mic = NULL;
	size_t miclen = 0;

	if (sa->scheme == SIPAE_NTLM) {
		/* pidgin-sipe checks server signatures with sequence number 100 */
		if (sipae_ntlm_sign(&sa->keys, true, 100, str, len, sig) < 0)
			return -1;
		sipae_hex(hex, sig, sizeof(sig));
		return 0;
	}
	if (sipae_krb_mic(sa->krb, str, len, &mic, &miclen) < 0 || 2 * miclen + 1 > hexlen) {
		free(mic);
		return -1;
	}
	sipae_hex(hex, mic, miclen);
	free(mic);
	return 0;
}

static void
sign(struct gwd *g, struct sipae_sa *sa, msg_t *msg)
{
	struct sipae_srv *s = g->sipae;
	sip_t *sip = sip_object(msg);
	const char *proto = sa->scheme == SIPAE_NTLM ? "NTLM" : "Kerberos";
	const char *tn = sa->scheme == SIPAE_NTLM ? s->tn_ntlm : s->tn_krb;
	char srand[9], snum[16], hex[1024], value[2048];
	uint8_t r[4];
	size_t len = 0;

	if (sip == NULL || sip->sip_cseq == NULL || sip->sip_call_id == NULL)
		return;
	strip_foreign(msg, sip);
	if (RAND_bytes(r, sizeof(r)) != 1)
		return;
	snprintf(srand, sizeof(srand), "%02X%02X%02X%02X", r[0], r[1], r[2], r[3]);
	snprintf(snum, sizeof(snum), "%u", ++sa->snum);
	char *str = sipae_sig_string(msg, sip, proto, srand, snum, s->realm, tn, &len);
	if (str == NULL || signature(sa, str, len, hex, sizeof(hex)) < 0) {
		log_warnx("event=sign-failed user=%s opaque=%s", log_value(sa->aor),
			  log_value(sa->opaque));
		free(str);
		return;
	}
	if (log_level_get() >= LOG_DEBUG) {
		char data[1024]; /* the signed string quotes the request's fields */
		log_debug("event=signed opaque=%s snum=%s data=%s", log_value(sa->opaque), snum,
			  log_value_buf(data, sizeof(data), str));
	}
	free(str);
	snprintf(value, sizeof(value),
		 "%s rspauth=\"%s\", srand=\"%s\", snum=\"%s\", opaque=\"%s\", qop=\"auth\", "
		 "targetname=\"%s\", realm=\"%s\"",
		 proto, hex, srand, snum, sa->opaque, tn, s->realm);
	sip_unknown_t *u = (sip_unknown_t *)msg_header_alloc(msg_home(msg), sip_unknown_class, 0);
	if (u == NULL)
		return;
	u->un_name = "Authentication-Info";
	u->un_value = su_strdup(msg_home(msg), value);
	if (u->un_value == NULL || msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)u) < 0)
		log_warnx("event=sign-failed user=%s opaque=%s reason=\"no memory\"",
			  log_value(sa->aor), log_value(sa->opaque));
}

void
sipae_sign_outgoing(tport_t *tp, msg_t *msg)
{
	struct gwd *g = __atomic_load_n(&sign_gwd, __ATOMIC_ACQUIRE);

	if (g == NULL || g->sas == NULL || !pthread_equal(pthread_self(), sign_thread))
		return;
	struct sipae_sa *sa = sa_by_tport(g, tp);
	if (sa)
		sign(g, sa, msg);
}

tport_t *
tport_tsend(tport_t *self, msg_t *msg, tp_name_t const *tpn, tag_type_t tag, tag_value_t value, ...)
{
	ta_list ta;
	tport_t *ret;

	if (real_tsend == NULL) {
		tsend_fn *f = (tsend_fn *)dlsym(RTLD_NEXT, "tport_tsend");
		if (f == NULL)
			return NULL;
		__atomic_store_n(&real_tsend, f, __ATOMIC_RELEASE);
	}
	if (self && msg)
		sipae_sign_outgoing(self, msg);
	ta_start(ta, tag, value);
	ret = real_tsend(self, msg, tpn, ta_tags(ta));
	(void)ta_end(ta);
	return ret;
}
