/*
 * gwsipae.h - the security mechanisms behind MS-SIPAE sign-in (NTLM and
 * Kerberos), independent of SIP: NTLM challenge/authenticate messages,
 * verification through the domain controller (winbind), key derivation,
 * message signatures, and the Kerberos acceptor on the joined keytab.
 *
 * The SIP side (headers, the string that is signed, security associations)
 * lives in greenwichd; this library holds no SIP knowledge and no passwords.
 *
 * All functions return 0 or -errno unless said otherwise.  None blocks on
 * the network except sipae_ntlm_check(), which callers run on a thread of
 * their own (sipae_pool).
 */
#ifndef GW_SIPAE_H
#define GW_SIPAE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Load the crypto this library needs (OpenSSL 3 "legacy" provider for RC4,
 * in a private library context).  Optional and idempotent: every function
 * does it on first use; call it at start-up to fail early (-ENOTSUP). */
int sipae_init(void);

/* ---- NTLM (connectionless NTLMv2, [MS-NLMP]) ---- */

/* What the server says of itself in the CHALLENGE's TargetInfo. */
struct sipae_ntlm_names {
	const char *nb_domain;    /* NetBIOS domain, e.g. "CORP" */
	const char *nb_computer;  /* NetBIOS computer name, e.g. "GREENWICH" */
	const char *dns_domain;   /* e.g. "corp.example.com" */
	const char *dns_computer; /* e.g. "greenwich.corp.example.com" */
};

/* Build a CHALLENGE_MESSAGE for connectionless NTLM (no NEGOTIATE seen):
 * flags 0xE2998255, the names above as TargetInfo plus MsvAvTimestamp (now),
 * a fresh random 8-byte server challenge copied to chal.  *msg is malloc'ed. */
int sipae_ntlm_challenge(const struct sipae_ntlm_names *names, uint8_t chal[8], uint8_t **msg,
			 size_t *len);
/* The same with the server challenge and MsvAvTimestamp (a FILETIME) given: the same
 * inputs make the same message byte for byte, so a server that derives them from what
 * the client sends back can rebuild the CHALLENGE (for the MIC) without keeping it. */
int sipae_ntlm_challenge_make(const struct sipae_ntlm_names *names, const uint8_t chal[8],
			      uint64_t filetime, uint8_t **msg, size_t *len);
/* A time as FILETIME (100 ns units since 1601-01-01). */
uint64_t sipae_filetime(time_t t);

/* The fields of an AUTHENTICATE_MESSAGE (pointers into the parsed buffer,
 * which must outlive this struct; strings converted to UTF-8, malloc'ed). */
struct sipae_ntlm_auth {
	uint32_t flags;
	char *user;        /* UTF-8, malloc'ed */
	char *domain;      /* UTF-8, malloc'ed, may be "" */
	char *workstation; /* UTF-8, malloc'ed, may be "" */
	const uint8_t *lm; /* LmChallengeResponse (NULL when empty) */
	size_t lm_len;
	const uint8_t *nt; /* NtChallengeResponse (NTLMv2: > 24 bytes) */
	size_t nt_len;
	uint8_t enc_session_key[16]; /* EncryptedRandomSessionKey (KEY_EXCH) */
	bool has_session_key;
	/* Extended protection ([MS-NLMP] 2.2.2.1), from the AV pairs of the NTLMv2 response
	 * (covered by its NTProofStr, so a relay cannot change them): */
	const uint8_t *msg; /* the whole AUTHENTICATE_MESSAGE (for the MIC) */
	size_t msg_len;
	uint32_t av_flags;     /* MsvAvFlags, 0 when absent; 0x2: a MIC at offset 72 */
	const uint8_t *target; /* MsvAvTargetName (UTF-16LE), NULL when absent */
	size_t target_len;
	const uint8_t *cb; /* MsvAvChannelBindings (16 bytes), NULL when absent */
};
/* Parse and bounds-check; -EINVAL (with a reason in err) on anything malformed
 * (fields outside the message, overlapping each other or the header, too long,
 * names that are not UTF-16, empty user), -EPROTO when it is not NTLMv2 or
 * lacks UNICODE, KEY_EXCH or SIGN.  On failure *a holds nothing to free. */
int sipae_ntlm_parse_auth(const uint8_t *buf, size_t len, struct sipae_ntlm_auth *a, char *err,
			  size_t errlen);
void sipae_ntlm_auth_free(struct sipae_ntlm_auth *a);

/* Why the domain refused a sign-in (mapped from the NTSTATUS winbind returns). */
enum sipae_refusal {
	SIPAE_OK = 0,
	SIPAE_WRONG_PASSWORD, /* also unknown user (the DC does not tell them apart) */
	SIPAE_DISABLED,
	SIPAE_LOCKED,
	SIPAE_EXPIRED,     /* account or password expired, or must change */
	SIPAE_LOGON_HOURS, /* outside hours or workstation not allowed */
	SIPAE_DC_DOWN,     /* winbind or the DC unreachable: answer 503 */
	SIPAE_OTHER,
};

/* What the DC says of a successful NTLM sign-in. */
struct sipae_ntlm_result {
	enum sipae_refusal refusal;
	char status[64];   /* NTSTATUS name or wbc error text, for the log */
	char account[256]; /* sAMAccountName as the DC returned it */
	char domain[256];  /* NetBIOS domain as the DC returned it */
	uint8_t session_base_key[16];
	char **sids; /* user SID then group SIDs (strings "S-1-5-..."), NULL-ended, malloc'ed */
	size_t nsids;
};
/* Verify through winbind (libwbclient wbcCtxAuthenticateUserEx, response level,
 * a wbcContext per call so any thread may call it).  The user may be a UPN
 * with an empty domain.  BLOCKS for a DC round trip.  Returns 0 when an answer
 * was obtained (look at r->refusal; winbind not running gives SIPAE_DC_DOWN),
 * -errno on local failure.  Free r with sipae_ntlm_result_free() either way. */
int sipae_ntlm_check(const struct sipae_ntlm_auth *a, const uint8_t chal[8],
		     struct sipae_ntlm_result *r);
void sipae_ntlm_result_free(struct sipae_ntlm_result *r);

/* What an AUTHENTICATE must be bound to (extended protection). */
struct sipae_ntlm_binding {
	const char *target; /* MsvAvTargetName, when sent, must be this (any case): "sip/<fqdn>" */
	const uint8_t *cb_md5; /* channel bindings of this connection (16 bytes, see
				* sipae_tls_cb_md5), or NULL without TLS */
};
/* Target name and channel bindings of a parsed AUTHENTICATE against b: 0, or -EACCES with
 * the reason in err (another target: a relayed sign-in; channel bindings that are sent,
 * not all zero, and not this connection's: a relay or a man in the middle).  A client
 * that sends neither passes (most do not, pidgin-sipe included). */
int sipae_ntlm_check_binding(const struct sipae_ntlm_auth *a, const struct sipae_ntlm_binding *b,
			     char *err, size_t errlen);
/* When the AUTHENTICATE says it carries a MIC (MsvAvFlags 0x2): verify it, HMAC_MD5 of the
 * ExportedSessionKey (from the SessionBaseKey the DC returned) over CHALLENGE and
 * AUTHENTICATE with the MIC zeroed (connectionless: no NEGOTIATE).  0 when it matches or
 * none is flagged, -EBADMSG when it does not (the messages were changed on the way). */
int sipae_ntlm_check_mic(const struct sipae_ntlm_auth *a, const uint8_t session_base_key[16],
			 const uint8_t *chal_msg, size_t chal_len);
/* Channel bindings of a TLS connection whose server certificate is cert_der (RFC 5929
 * tls-server-end-point): "tls-server-end-point:" + the certificate's hash (the hash of
 * its signature algorithm, SHA-256 for MD5 and SHA-1) into out (SIPAE_TLS_CB_MAX bytes),
 * its length in *outlen: the application data of the gss_channel_bindings_struct a
 * Kerberos acceptor is given.  -EINVAL when the certificate cannot be read. */
#define SIPAE_TLS_CB_MAX (21 + 64)
int sipae_tls_cb_data(const uint8_t *cert_der, size_t len, uint8_t *out, size_t *outlen);
/* MsvAvChannelBindings of the same: MD5 of a gss_channel_bindings_struct with no
 * addresses and that application data.  -EINVAL when the certificate cannot be read. */
int sipae_tls_cb_md5(const uint8_t *cert_der, size_t len, uint8_t out[16]);

/* Signing and sealing keys of one security association. */
struct sipae_ntlm_keys {
	uint8_t client_sign[16], server_sign[16];
	uint8_t client_seal[16], server_seal[16];
};
/* ExportedSessionKey = RC4(SessionBaseKey, EncryptedRandomSessionKey) and the four keys. */
int sipae_ntlm_derive(const uint8_t session_base_key[16], const uint8_t enc_session_key[16],
		      struct sipae_ntlm_keys *k);
/* MAC with extended session security, connectionless (RC4 re-keyed per message):
 * sig = LE32(1) | RC4(MD5(seal|LE32(seq)), HMAC_MD5(sign, LE32(seq)|data)[0..7]) | LE32(seq).
 * server = true: server keys (what the server sends); false: client keys.
 * pidgin-sipe checks server signatures with seq = 100 only.
 * 0, or -ENOTSUP/-EIO if the crypto is unavailable. */
int sipae_ntlm_sign(const struct sipae_ntlm_keys *k, bool server, uint32_t seq, const void *data,
		    size_t len, uint8_t sig[16]);
/* Verify a signature made with the client keys, seq taken from sig[12..15]
 * (constant-time compare).  0, or -EBADMSG (or -ENOTSUP/-EIO as above). */
int sipae_ntlm_verify(const struct sipae_ntlm_keys *k, const void *data, size_t len,
		      const uint8_t sig[16]);

/* ---- Kerberos (GSSAPI, krb5 mechanism) ---- */

struct sipae_krb;     /* acceptor credentials from a keytab */
struct sipae_krb_ctx; /* one established context */

/* Acquire acceptor credentials for any principal in keytab (the joined
 * server's, including sip/<fqdn>); KRB5_KTNAME is not used.  -ENOKEY when the
 * keytab is missing, unreadable or empty, -EINVAL when it cannot be resolved.
 * One struct sipae_krb may serve accepts on several threads at once. */
int sipae_krb_open(struct sipae_krb **out, const char *keytab, char *err, size_t errlen);
/* The same with the keys of one principal of keytab only (e.g.
 * "sip/greenwich.corp.example.com@CORP.EXAMPLE.COM"; NULL: any): MIT's acceptor given no
 * principal tries every entry whose encryption type fits, so a ticket encrypted with another
 * account's key in the same keytab would still be decrypted. */
int sipae_krb_open_for(struct sipae_krb **out, const char *keytab, const char *principal, char *err,
		       size_t errlen);
/* Accept only tickets issued for service (e.g. "sip/greenwich.corp.example.com", compared
 * without regard to case) in realm (NULL or "": any), as the AP-REQ's ticket names it: a
 * ticket for another principal of the keytab (HTTP/, host/, the machine account) is
 * refused with -EACCES, a token without a krb5 AP-REQ with -EINVAL.  Without this
 * call any principal of the keytab is accepted.  Not thread-safe: call before accepting. */
int sipae_krb_expect(struct sipae_krb *k, const char *service, const char *realm);
/* Replay detection of our own instead of MIT's replay cache file (/var/tmp/krb5_UID.rcache2,
 * shared by every process of the user, opened, locked, searched and written on each
 * accept): each accepted authenticator is remembered in memory and appended to the
 * journal path (and path.old), for twice the allowed clock skew ([libdefaults] clockskew);
 * the journal's unexpired records are loaded here, so a restart forgets none.  A copy of
 * an accepted token is then refused with -EACCES as before.  Without this call MIT's
 * replay cache is used.  Not thread-safe: call before accepting. */
int sipae_krb_replay_journal(struct sipae_krb *k, const char *path, char *err, size_t errlen);
void sipae_krb_close(struct sipae_krb *k);

/* Accept one initial context token (AP-REQ).  On success *ctx is complete,
 * principal is the client ("alice@CORP.EXAMPLE.COM"), *expires its end time,
 * out/outlen an optional reply token (AP-REP; malloc'ed, may be NULL; out may
 * be NULL when the caller does not want it).
 * Failure: -EACCES (bad ticket, wrong key, replay, a ticket for another service than
 * sipae_krb_expect() named), -ETIME (clock skew),
 * -EKEYEXPIRED (ticket expired), -EINVAL (not a token), -EPROTO (the context
 * would need more tokens), -ENAMETOOLONG (principal longer than plen); err
 * says why.  cb/cblen: the channel bindings of the connection the token came on
 * (sipae_tls_cb_data(), the application data of a gss_channel_bindings_struct without
 * addresses), or NULL: a client whose authenticator carries bindings (a GSS checksum
 * with a non-zero bindings hash) must carry these, or it is refused with -EACCES (a
 * ticket relayed from another TLS connection); a client that sends none (all zero,
 * as pidgin-sipe) is accepted.  A struct sipae_krb_ctx is not thread-safe: use it
 * from one thread at a time. */
int sipae_krb_accept(struct sipae_krb *k, const uint8_t *token, size_t len, const uint8_t *cb,
		     size_t cblen, struct sipae_krb_ctx **ctx, char *principal, size_t plen,
		     time_t *expires, uint8_t **out, size_t *outlen, char *err, size_t errlen);
/* SIDs from the ticket's PAC (logon info): the user's first, then its groups
 * (domain SID + each GroupIds RID), ExtraSids and resource groups, without
 * duplicates; NULL-ended, malloc'ed (free each string and the array).
 * -ENOENT (no PAC), -EACCES (PAC signature not verified), -EINVAL (malformed). */
int sipae_krb_sids(struct sipae_krb_ctx *ctx, char ***sids, size_t *nsids);
/* MIC over data (gss_get_mic), malloc'ed.  -EKEYEXPIRED when the context expired. */
int sipae_krb_mic(struct sipae_krb_ctx *ctx, const void *data, size_t len, uint8_t **mic,
		  size_t *miclen);
/* gss_verify_mic: 0, or -EBADMSG (bad, malformed or replayed MIC),
 * -EKEYEXPIRED (context expired). */
int sipae_krb_verify_mic(struct sipae_krb_ctx *ctx, const void *data, size_t len,
			 const uint8_t *mic, size_t miclen);
void sipae_krb_ctx_free(struct sipae_krb_ctx *ctx);
/* The reader under sipae_krb_sids(), for tests and the fuzzer: SIDs (user, groups,
 * extra SIDs, resource groups) from an NDR-encoded KERB_VALIDATION_INFO ([MS-PAC]
 * 2.5, the PAC's logon info), as a NULL-ended malloc'ed array.  -EINVAL (with no
 * output) on anything malformed. */
int sipae_pac_logon_sids(const uint8_t *buf, size_t len, char ***sids, size_t *nsids);

/* ---- helpers ---- */

/* Upper-case hex; out must hold 2*len+1. */
void sipae_hex(char *out, const uint8_t *in, size_t len);
/* Parse hex (either case) into out; returns the byte count or -EINVAL. */
int sipae_unhex(uint8_t *out, size_t outmax, const char *in);
/* Base64 (no line breaks); malloc'ed results. */
int sipae_b64_encode(const uint8_t *in, size_t len, char **out);
int sipae_b64_decode(const char *in, uint8_t **out, size_t *len);

/* ---- a small thread pool for the blocking calls ---- */

struct sipae_pool;
/* nthreads workers (1..256); jobs queue up to maxq (beyond: -EAGAIN, answer 503). */
int sipae_pool_start(struct sipae_pool **out, int nthreads, int maxq);
/* Run fn(arg) on a pool thread, then done(arg) (if not NULL) is called ON THE
 * POOL THREAD; callers hand the completion back to their own loop (e.g. su_msg
 * or a pipe).  -EAGAIN when the queue is full, -ESHUTDOWN after stop began. */
int sipae_pool_run(struct sipae_pool *p, void (*fn)(void *), void (*done)(void *), void *arg);
/* Finish queued jobs, join the threads. */
void sipae_pool_stop(struct sipae_pool *p);

#endif
