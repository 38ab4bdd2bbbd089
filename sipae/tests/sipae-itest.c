/*
 * sipae-itest.c - libgwsipae against a real Samba AD DC, run inside the DC's
 * domain by t-sipae.sh (addc.sh run-with-hosts).  The client side is computed
 * here from the fixture users' passwords.
 *
 *   sipae-itest ntlm SUPPORT_SID     NTLMv2 through winbind: accepted, refused, locked
 *   sipae-itest dcdown               no winbind socket: SIPAE_DC_DOWN
 *   sipae-itest krb KEYTAB FQDN SUPPORT_SID   Kerberos acceptor (needs a ticket in KRB5CCNAME)
 *   sipae-itest krb-token FQDN FILE  a client token into FILE
 *   sipae-itest krb-skew KEYTAB FILE accept FILE's token (run on a skewed clock): -ETIME
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwsipae.h"
#include "sipae_client.h"
#include "sipae_itest.h"

int itest_fails;

void
itest_check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
	fflush(stdout);
	if (!ok)
		itest_fails++;
}

bool
itest_has_sid(char **sids, const char *sid)
{
	for (size_t i = 0; sids != NULL && sids[i] != NULL; i++) {
		if (strcmp(sids[i], sid) == 0)
			return true;
	}
	return false;
}

static const struct sipae_ntlm_names itest_names = {"CORP", "GREENWICH", "corp.example.com",
						    "greenwich.corp.example.com"};

/* One sign-in: challenge, client AUTHENTICATE, check by the DC.  With
 * other_chal, the DC is asked with a different challenge than the client saw. */
struct itest_signin {
	struct sipae_ntlm_auth a;
	struct sipae_ntlm_result r;
	uint8_t sbk[16], esk[16];
	uint8_t *msg;
	int parse, check;
};

static void
itest_signin(struct itest_signin *s, const char *user, const char *domain, const char *pw,
	     bool other_chal)
{
	uint8_t chal[8], *cm = NULL;
	size_t clen, len = 0;
	char err[128];

	memset(s, 0, sizeof(*s));
	s->parse = s->check = -1;
	if (sipae_ntlm_challenge(&itest_names, chal, &cm, &clen) < 0 ||
	    cl_authenticate(cm, clen, user, domain, pw, &s->msg, &len, s->sbk, s->esk) < 0)
		goto done;
	s->parse = sipae_ntlm_parse_auth(s->msg, len, &s->a, err, sizeof(err));
	if (s->parse < 0)
		goto done;
	if (other_chal)
		chal[0] ^= 1;
	s->check = sipae_ntlm_check(&s->a, chal, &s->r);
	printf("     %s\\%s: check %d refusal %d status %s account %s\\%s, %zu SIDs\n", domain,
	       user, s->check, s->r.refusal, s->r.status, s->r.domain, s->r.account, s->r.nsids);
done:
	free(cm);
}

static void
itest_signin_free(struct itest_signin *s)
{
	sipae_ntlm_auth_free(&s->a);
	sipae_ntlm_result_free(&s->r);
	free(s->msg);
}

static enum sipae_refusal
itest_refusal(const char *user, const char *domain, const char *pw)
{
	struct itest_signin s;
	enum sipae_refusal ref;

	itest_signin(&s, user, domain, pw, false);
	ref = s.check == 0 ? s.r.refusal : (enum sipae_refusal) - 1;
	itest_signin_free(&s);
	return ref;
}

/* Accepted: the DC's key is the client's, and signatures work both ways. */
static void
itest_accepted(const char *user, const char *domain, const char *pw, const char *what,
	       const char *support_sid, bool in_support)
{
	const char text[] = "<NTLM><0AD12EE0><1><SIP Communications Service><greenwich>";
	struct sipae_ntlm_keys sk, ck;
	struct itest_signin s;
	uint8_t sig[16];
	char line[160];

	itest_signin(&s, user, domain, pw, false);
	snprintf(line, sizeof(line), "%s: accepted by the DC", what);
	itest_check(s.check == 0 && s.r.refusal == SIPAE_OK, line);
	snprintf(line, sizeof(line), "%s: session key equals the client's", what);
	itest_check(s.check == 0 && memcmp(s.r.session_base_key, s.sbk, 16) == 0, line);
	snprintf(line, sizeof(line), "%s: account name and NetBIOS domain", what);
	itest_check(strcasecmp(s.r.domain, "CORP") == 0 && s.r.account[0] != '\0' &&
			strchr(s.r.account, '@') == NULL,
		    line);
	snprintf(line, sizeof(line), "%s: user and group SIDs", what);
	itest_check(s.r.nsids >= 2 && strncmp(s.r.sids[0], "S-1-5-21-", 9) == 0 &&
			s.r.sids[s.r.nsids] == NULL,
		    line);
	snprintf(line, sizeof(line), "%s: Support group SID %s", what,
		 in_support ? "present" : "absent");
	itest_check(itest_has_sid(s.r.sids, support_sid) == in_support, line);
	snprintf(line, sizeof(line), "%s: client signature verifies with the DC's key", what);
	itest_check(sipae_ntlm_derive(s.r.session_base_key, s.a.enc_session_key, &sk) == 0 &&
			sipae_ntlm_derive(s.sbk, s.a.enc_session_key, &ck) == 0 &&
			sipae_ntlm_sign(&ck, false, 100, text, strlen(text), sig) == 0 &&
			sipae_ntlm_verify(&sk, text, strlen(text), sig) == 0,
		    line);
	itest_signin_free(&s);
}

static int
itest_ntlm(const char *support_sid)
{
	struct itest_signin s;

	itest_accepted("alice", "CORP", "Apple-Pie-11", "alice (CORP\\alice)", support_sid, false);
	itest_accepted("alice@corp.example.com", "", "Apple-Pie-11", "alice (UPN)", support_sid,
		       false);
	itest_accepted("carol", "CORP", "Coral-Reef-33", "carol", support_sid, true);
	itest_check(itest_refusal("alice", "CORP", "Apple-Pie-12") == SIPAE_WRONG_PASSWORD,
		    "alice, wrong password: SIPAE_WRONG_PASSWORD");
	itest_check(itest_refusal("nobody", "CORP", "Apple-Pie-11") == SIPAE_WRONG_PASSWORD,
		    "unknown user: SIPAE_WRONG_PASSWORD");
	itest_check(itest_refusal("erin", "CORP", "Emerald-55") == SIPAE_DISABLED,
		    "erin (disabled): SIPAE_DISABLED");
	itest_check(itest_refusal("frank", "CORP", "Forest-66") == SIPAE_EXPIRED,
		    "frank (expired): SIPAE_EXPIRED");
	itest_signin(&s, "alice", "CORP", "Apple-Pie-11", true);
	itest_check(s.check == 0 && s.r.refusal == SIPAE_WRONG_PASSWORD,
		    "response checked against another challenge: SIPAE_WRONG_PASSWORD");
	itest_signin_free(&s);
	/* t-sipae.sh set the lockout threshold to 3 bad passwords */
	for (int i = 0; i < 3; i++)
		itest_refusal("bob", "CORP", "Wrong-Sky-00");
	itest_check(itest_refusal("bob", "CORP", "Blue-Sky-22") == SIPAE_LOCKED,
		    "bob after 3 bad passwords, right password: SIPAE_LOCKED");
	return itest_fails;
}

static int
itest_dcdown(void)
{
	struct itest_signin s;

	itest_signin(&s, "alice", "CORP", "Apple-Pie-11", false);
	itest_check(s.check == 0 && s.r.refusal == SIPAE_DC_DOWN,
		    "winbind socket absent: SIPAE_DC_DOWN");
	itest_check(s.r.sids == NULL && s.r.nsids == 0, "no SIDs without an answer");
	itest_signin_free(&s);
	return itest_fails;
}

int
main(int argc, char **argv)
{
	int ret = 2;

	if (argc == 3 && strcmp(argv[1], "ntlm") == 0)
		ret = itest_ntlm(argv[2]);
	else if (argc == 2 && strcmp(argv[1], "dcdown") == 0)
		ret = itest_dcdown();
	else if (argc == 5 && strcmp(argv[1], "krb") == 0)
		ret = itest_krb(argv[2], argv[3], argv[4]);
	else if (argc == 4 && strcmp(argv[1], "krb-token") == 0)
		ret = itest_krb_token(argv[2], argv[3]);
	else if (argc == 4 && strcmp(argv[1], "krb-skew") == 0)
		ret = itest_krb_skew(argv[2], argv[3]);
	else
		fprintf(stderr, "usage: sipae-itest ntlm SID | dcdown | krb KEYTAB FQDN SID\n");
	printf("%d failure(s)\n", ret);
	return ret == 0 ? 0 : 1;
}
