/*
 * sipae_itest_krb.c - the Kerberos half of sipae-itest: a client context for
 * sip@FQDN made here (GSS_C_INTEG_FLAG only, as pidgin-sipe asks), accepted by
 * libgwsipae with the joined keytab; MICs both ways; the PAC's SIDs; replays refused by
 * MIT's replay cache and by ours (with its journal, across a restart).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>

#include "gwsipae.h"
#include "sipae_itest.h"

struct itest_client {
	gss_ctx_id_t ctx;
	gss_buffer_desc token;
};

/* The first (and only) token of a client context for sip@fqdn. */
static int
itest_client_token(struct itest_client *c, const char *fqdn)
{
	gss_buffer_desc nb;
	gss_name_t target = GSS_C_NO_NAME;
	OM_uint32 major, minor;
	char name[300];

	c->ctx = GSS_C_NO_CONTEXT;
	c->token.length = 0;
	c->token.value = NULL;
	snprintf(name, sizeof(name), "sip@%s", fqdn);
	nb.value = name;
	nb.length = strlen(name);
	major = gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &target);
	if (GSS_ERROR(major))
		return -EINVAL;
	major = gss_init_sec_context(
	    &minor, GSS_C_NO_CREDENTIAL, &c->ctx, target, (gss_OID)gss_mech_krb5, GSS_C_INTEG_FLAG,
	    0, GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL, &c->token, NULL, NULL);
	gss_release_name(&minor, &target);
	printf("     gss_init_sec_context: major 0x%x minor %u, token %zu bytes\n", major, minor,
	       c->token.length);
	return major == GSS_S_COMPLETE ? 0 : -EACCES;
}

static void
itest_client_free(struct itest_client *c)
{
	OM_uint32 minor;

	gss_release_buffer(&minor, &c->token);
	if (c->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &c->ctx, GSS_C_NO_BUFFER);
}

/* MICs in both directions on an established pair of contexts. */
static void
itest_mics(struct itest_client *c, struct sipae_krb_ctx *sc)
{
	const char text[] = "<Kerberos><4F9AD2C1><1><SIP Communications Service>"
			    "<sip/greenwich.corp.example.com><cid><3><REGISTER>";
	gss_buffer_desc msg = {strlen(text), (void *)text}, tok = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor;
	uint8_t *mic = NULL, *bad;
	size_t miclen = 0;
	char copy[sizeof(text)];

	major = gss_get_mic(&minor, c->ctx, GSS_C_QOP_DEFAULT, &msg, &tok);
	itest_check(major == GSS_S_COMPLETE, "client MIC made");
	itest_check(sipae_krb_verify_mic(sc, text, strlen(text), tok.value, tok.length) == 0,
		    "client MIC verifies on the server");
	memcpy(copy, text, sizeof(text));
	copy[3] ^= 1;
	itest_check(sipae_krb_verify_mic(sc, copy, strlen(copy), tok.value, tok.length) == -EBADMSG,
		    "client MIC over tampered text: -EBADMSG");
	bad = malloc(tok.length);
	if (bad != NULL) {
		memcpy(bad, tok.value, tok.length);
		bad[tok.length - 1] ^= 1;
		itest_check(sipae_krb_verify_mic(sc, text, strlen(text), bad, tok.length) ==
				-EBADMSG,
			    "tampered MIC: -EBADMSG");
		free(bad);
	}
	gss_release_buffer(&minor, &tok);

	itest_check(sipae_krb_mic(sc, text, strlen(text), &mic, &miclen) == 0 && miclen > 0,
		    "server MIC made");
	tok.value = mic;
	tok.length = miclen;
	major = gss_verify_mic(&minor, c->ctx, &msg, &tok, NULL);
	itest_check(major == GSS_S_COMPLETE, "server MIC verifies on the client");
	msg.value = copy;
	major = gss_verify_mic(&minor, c->ctx, &msg, &tok, NULL);
	itest_check(GSS_ERROR(major), "server MIC does not verify over other text");
	free(mic);
}

static void
itest_pac(struct sipae_krb_ctx *sc, const char *support_sid)
{
	char **sids = NULL;
	size_t n = 0;
	int ret = sipae_krb_sids(sc, &sids, &n);

	printf("     sipae_krb_sids: %d, %zu SIDs:", ret, n);
	for (size_t i = 0; i < n; i++)
		printf(" %s", sids[i]);
	printf("\n");
	itest_check(ret == 0 && n >= 2 && sids[n] == NULL, "PAC SIDs read");
	itest_check(ret == 0 && strncmp(sids[0], "S-1-5-21-", 9) == 0 &&
			strncmp(sids[0], support_sid, strlen(support_sid) - 5) == 0,
		    "first PAC SID is the user's, in the domain");
	itest_check(itest_has_sid(sids, support_sid), "PAC SIDs hold the Support group's SID");
	for (size_t i = 0; i < n; i++)
		free(sids[i]);
	free(sids);
}

/* The client's token into a file, for an acceptor in another process
 * (t-sipae.sh runs that one with a skewed clock). */
int
itest_krb_token(const char *fqdn, const char *path)
{
	struct itest_client c;
	FILE *f;
	bool ok;

	ok = itest_client_token(&c, fqdn) == 0 && (f = fopen(path, "wb")) != NULL &&
	     fwrite(c.token.value, 1, c.token.length, f) == c.token.length && fclose(f) == 0;
	itest_check(ok, "client token saved");
	itest_client_free(&c);
	return itest_fails;
}

/* Accept the token in path on a clock 20 minutes ahead: -ETIME. */
int
itest_krb_skew(const char *keytab, const char *path)
{
	struct sipae_krb *k = NULL;
	struct sipae_krb_ctx *sc = NULL;
	char principal[256], err[256] = "";
	uint8_t buf[16384];
	time_t expires;
	size_t n = 0;
	FILE *f = fopen(path, "rb");
	int ret = -1;

	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	if (n > 0 && sipae_krb_open(&k, keytab, err, sizeof(err)) == 0)
		ret = sipae_krb_accept(k, buf, n, NULL, 0, &sc, principal, sizeof(principal),
				       &expires, NULL, NULL, err, sizeof(err));
	printf("     skewed accept: %d %s\n", ret, err);
	itest_check(ret == -ETIME && sc == NULL, "clock 20 minutes off: -ETIME");
	sipae_krb_close(k);
	return itest_fails;
}

/* Accept tok with a new acceptor on keytab whose replay cache journal is path. */
static int
itest_journal_accept(const char *keytab, const char *path, const gss_buffer_desc *tok,
		     struct sipae_krb **kp, char *err, size_t errlen)
{
	struct sipae_krb_ctx *sc = NULL;
	char principal[256] = "";
	time_t expires;
	int ret;

	if (*kp == NULL && (sipae_krb_open(kp, keytab, err, errlen) < 0 ||
			    sipae_krb_replay_journal(*kp, path, err, errlen) < 0))
		return -100;
	ret = sipae_krb_accept(*kp, tok->value, tok->length, NULL, 0, &sc, principal,
			       sizeof(principal), &expires, NULL, NULL, err, errlen);
	if ((ret == 0) != (sc != NULL))
		ret = -101; /* a context without success or success without one */
	sipae_krb_ctx_free(sc);
	return ret;
}

/* The replay cache of our own (sipae_krb_replay_journal): a copy is refused by the same
 * acceptor and by a new one on the same journal (a restart), a new token is not. */
static void
itest_krb_journal(const char *keytab, const char *fqdn)
{
	char dir[] = "/tmp/sipae-rc.XXXXXX", path[64], old[80], err[256] = "";
	struct sipae_krb *k = NULL;
	struct itest_client c, c2;
	int ret;

	if (mkdtemp(dir) == NULL) {
		itest_check(0, "a directory for the replay journal");
		return;
	}
	snprintf(path, sizeof(path), "%s/kerberos-replay", dir);
	snprintf(old, sizeof(old), "%s.old", path);
	itest_check(itest_client_token(&c, fqdn) == 0, "client token for the journal test");
	ret = itest_journal_accept(keytab, path, &c.token, &k, err, sizeof(err));
	printf("     journal accept: %d %s\n", ret, err);
	itest_check(ret == 0, "own replay cache: the token is accepted once");
	ret = itest_journal_accept(keytab, path, &c.token, &k, err, sizeof(err));
	printf("     journal replay: %d %s\n", ret, err);
	itest_check(ret == -EACCES && strstr(err, "replay") != NULL,
		    "own replay cache: the same token again is refused as a replay");
	sipae_krb_close(k);
	k = NULL;
	/* a restart: a new acceptor loads the journal */
	ret = itest_journal_accept(keytab, path, &c.token, &k, err, sizeof(err));
	printf("     replay after a restart: %d %s\n", ret, err);
	itest_check(ret == -EACCES && strstr(err, "replay") != NULL,
		    "own replay cache: after a restart the token is still refused");
	itest_check(itest_client_token(&c2, fqdn) == 0, "a second client token");
	ret = itest_journal_accept(keytab, path, &c2.token, &k, err, sizeof(err));
	printf("     new token after a restart: %d %s\n", ret, err);
	itest_check(ret == 0, "own replay cache: a new token is accepted after the restart");
	sipae_krb_close(k);
	itest_client_free(&c);
	itest_client_free(&c2);
	unlink(path);
	unlink(old);
	rmdir(dir);
}

int
itest_krb(const char *keytab, const char *fqdn, const char *support_sid)
{
	struct sipae_krb *k = NULL, *none = NULL;
	struct sipae_krb_ctx *sc = NULL, *again = NULL;
	struct itest_client c;
	char principal[256] = "", err[256] = "";
	uint8_t *reply = NULL;
	size_t replylen = 0;
	time_t expires = 0;
	int ret;

	ret = sipae_krb_open(&k, keytab, err, sizeof(err));
	itest_check(ret == 0, "acceptor credentials from the keytab");
	if (ret < 0) {
		printf("     %s\n", err);
		return itest_fails;
	}
	ret = sipae_krb_open(&none, "/nonexistent/keytab", err, sizeof(err));
	itest_check(ret < 0 && none == NULL, "a missing keytab is refused");
	printf("     %s\n", err);

	itest_check(itest_client_token(&c, fqdn) == 0, "client token for sip@FQDN");
	ret = sipae_krb_accept(k, c.token.value, c.token.length, NULL, 0, &sc, principal,
			       sizeof(principal), &expires, &reply, &replylen, err, sizeof(err));
	printf("     accept: %d %s principal %s expires in %lds\n", ret, err, principal,
	       (long)(expires - time(NULL)));
	itest_check(ret == 0, "initial token accepted in one step");
	itest_check(strcmp(principal, "carol@CORP.EXAMPLE.COM") == 0, "principal is carol's");
	itest_check(expires > time(NULL) + 3600, "context lives for the ticket's lifetime");
	if (ret == 0) {
		itest_mics(&c, sc);
		itest_pac(sc, support_sid);
	}
	/* the same AP-REQ again is a replay */
	ret = sipae_krb_accept(k, c.token.value, c.token.length, NULL, 0, &again, principal,
			       sizeof(principal), &expires, NULL, NULL, err, sizeof(err));
	printf("     replay: %d %s\n", ret, err);
	itest_check(ret == -EACCES && again == NULL, "replayed token: -EACCES");
	ret = sipae_krb_accept(k, (const uint8_t *)"not a token", 11, NULL, 0, &again, principal,
			       sizeof(principal), &expires, NULL, NULL, err, sizeof(err));
	printf("     garbage: %d %s\n", ret, err);
	itest_check(ret == -EINVAL, "garbage token: -EINVAL");
	itest_krb_journal(keytab, fqdn);
	free(reply);
	itest_client_free(&c);
	sipae_krb_ctx_free(sc);
	sipae_krb_close(k);
	return itest_fails;
}
