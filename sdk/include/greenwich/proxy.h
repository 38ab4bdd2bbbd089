/*
 * libgreenwich-proxy: the Greenwich kit, a redistributable SIP routing proxy.
 *
 * This is the only installed header of the kit. Every handle is opaque, every
 * symbol starts with gwp_, and no Sofia-SIP type ever appears here.
 */
#ifndef GREENWICH_PROXY_H
#define GREENWICH_PROXY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @file proxy.h
 * @brief Public API of libgreenwich-proxy.
 *
 * @mainpage libgreenwich-proxy
 *
 * The library runs a transaction-stateful SIP proxy. For every new INVITE or
 * MESSAGE (and REGISTER when enabled) it asks the application where to send
 * the request through a routing callback (#gwp_route_fn). The application
 * answers with a list of targets, a rejection, or later from any thread.
 * The proxy Record-Routes, so ACK, BYE and re-INVITE pass through it, and it
 * reports call-state events (#gwp_event_fn) the application may use to keep
 * load counts.
 *
 * Trust model: the proxy relays nothing the application did not decide.
 * A new request is forwarded only to the targets the routing callback gave;
 * a pre-loaded Route set (entries that do not name the proxy) makes the
 * request fail with 403 unless the callback accepts it with
 * gwp_request_allow_route(). An in-dialog request (To tag) or an ACK for a
 * 2xx is forwarded only inside a dialog the proxy saw established (a 2xx to
 * an INVITE it forwarded), from one party to the other party's current
 * target, with the dialog's own Route set; anything else gets 481 or 403
 * (ACKs are dropped). Responses are relayed only through the client
 * transactions the proxy created. Who may place calls or register is the
 * application's business: without the authentication hook
 * (gwp_config_set_auth()) every request is anonymous and its From header is
 * whatever the sender wrote, so a proxy facing an untrusted network must
 * authenticate at least the requests that change routing (REGISTER).
 *
 * Conventions:
 * - functions that can fail return 0 on success or a negative #gwp_err value;
 *   gwp_strerror() turns it into text;
 * - objects made by the library are freed with the matching gwp_*_free();
 * - strings returned by accessors belong to the object they were read from.
 *
 * API history:
 * - 0.1 (libtool 0:0:0, ABI file abi/gwp-0.sigs): first version.
 * - 0.2 (libtool 1:0:1, same ABI file, symbols added): dialog state (in-dialog
 *   requests and ACKs only within known dialogs, gwp_config_set_dialog_limits()),
 *   no relaying by pre-loaded Route (gwp_request_route(),
 *   gwp_request_allow_route(), #GWP_ERR_ROUTE), the Digest authentication hook
 *   (gwp_config_set_auth(), gwp_digest_ha1(), gwp_request_auth_user(),
 *   gwp_request_challenge()).
 */

/** Mark the symbols this library exports (the library is built with
 *  -fvisibility=hidden and a version script exporting gwp_* only). */
#if defined(GWP_BUILDING_LIBRARY) && defined(__GNUC__)
#define GWP_EXPORT __attribute__((visibility("default")))
#else
#define GWP_EXPORT
#endif

/** Version of this header; compare with gwp_version() at run time. */
#define GWP_VERSION_STRING "0.2.0"

/** Error codes. Functions return 0 (#GWP_OK) or one of these, negated by
 *  definition: every enumerator except #GWP_OK is below zero. */
enum gwp_err {
	GWP_OK = 0,            /**< Success. */
	GWP_ERR_INVAL = -1,    /**< An argument is invalid (NULL, out of range, bad URI). */
	GWP_ERR_NOMEM = -2,    /**< Out of memory. */
	GWP_ERR_STATE = -3,    /**< Not allowed in the current state (e.g. started twice). */
	GWP_ERR_BIND = -4,     /**< A listening address could not be bound. */
	GWP_ERR_TLS = -5,      /**< The TLS certificate or key could not be used. */
	GWP_ERR_SIP = -6,      /**< The SIP stack failed (agent, transaction, message). */
	GWP_ERR_THREAD = -7,   /**< A thread or event file descriptor could not be made. */
	GWP_ERR_ANSWERED = -8, /**< The request was already answered. */
	GWP_ERR_NOTARGET = -9, /**< Forwarding was asked without any target. */
	GWP_ERR_ROUTE = -10,   /**< The request carries a Route set the application did
				    not accept (gwp_request_allow_route()); it got 403. */
};

/**
 * Describe an error code.
 * @param err a value returned by a gwp_ function (0 or a #gwp_err).
 * @return a static, NUL-terminated English text; never NULL.
 */
GWP_EXPORT const char *gwp_strerror(int err);

/**
 * Version of the library actually loaded.
 * @return a static string such as "0.1.0".
 */
GWP_EXPORT const char *gwp_version(void);

/** Transport of a listening address. */
enum gwp_transport {
	GWP_TRANSPORT_UDP = 0, /**< SIP over UDP. */
	GWP_TRANSPORT_TCP = 1, /**< SIP over TCP. */
	GWP_TRANSPORT_TLS = 2, /**< SIP over TLS (needs gwp_config_set_tls()). */
};

/** How the targets given to gwp_request_forward() are tried. */
enum gwp_fork {
	/** One after another, in the given order. The next target is tried when
	 *  the current one answers 408, 480, 486, 5xx, 600 or 603, fails at the
	 *  transport level, or has not answered within its timeout. */
	GWP_FORK_SEQUENTIAL = 0,
	/** All at once; the first 2xx wins and the other branches are cancelled. */
	GWP_FORK_PARALLEL = 1,
};

/** Kind of a call-state event. For every #GWP_EVENT_TRYING the application
 *  later receives exactly one #GWP_EVENT_FAILED or #GWP_EVENT_ENDED for the
 *  same call id and target, so counting TRYING up and FAILED/ENDED down keeps
 *  an exact count of the calls each target holds. */
enum gwp_event_type {
	GWP_EVENT_TRYING = 0,   /**< The request was sent to a target. */
	GWP_EVENT_RINGING = 1,  /**< The target answered 180 or 183. */
	GWP_EVENT_ANSWERED = 2, /**< The target answered 2xx. */
	GWP_EVENT_ENDED = 3,    /**< The answered call ended (BYE seen; MESSAGE: at once). */
	GWP_EVENT_FAILED = 4,   /**< The target failed, timed out or was cancelled. */
};

/** Requests that the authentication hook challenges when they come without
 *  valid credentials (flags for gwp_config_set_auth()). */
enum gwp_auth_method {
	GWP_AUTH_REGISTER = 1 << 0, /**< REGISTER (challenged with 401). */
	GWP_AUTH_INVITE = 1 << 1,   /**< New INVITE (challenged with 407). */
	GWP_AUTH_MESSAGE = 1 << 2,  /**< New MESSAGE (challenged with 407). */
};

/** Proxy settings, built before gwp_proxy_new(). Opaque. */
typedef struct gwp_config gwp_config;
/** A running proxy. Opaque. */
typedef struct gwp_proxy gwp_proxy;
/** A request waiting for a routing decision. Opaque. */
typedef struct gwp_request gwp_request;
/** A call-state event, valid during the event callback only. Opaque. */
typedef struct gwp_event gwp_event;

/**
 * Routing callback, called once for each new INVITE or MESSAGE outside a
 * dialog (and each REGISTER when gwp_config_set_registrar() enabled it),
 * after its credentials, if any, were verified (gwp_config_set_auth()).
 *
 * The callback owns @p req. It must eventually answer it exactly once, with
 * gwp_request_forward() (after gwp_request_add_target()) or
 * gwp_request_respond(); answering frees @p req. It may answer before it
 * returns, or keep @p req and answer later from any thread (a deferred
 * decision). If the caller cancels meanwhile, the late answer is accepted
 * and ignored. Answers given after gwp_proxy_stop() return #GWP_ERR_STATE
 * (and still free the request); the proxy stays allocated until every
 * request it handed out is answered, even after gwp_proxy_free().
 *
 * @param arg the pointer given to gwp_config_set_route_handler().
 * @param req the request; read its facts with the gwp_request_* accessors.
 */
typedef void (*gwp_route_fn)(void *arg, gwp_request *req);

/**
 * Event callback for call-state changes of forwarded requests.
 * @param arg the pointer given to gwp_config_set_event_handler().
 * @param ev the event; valid only during the call.
 */
typedef void (*gwp_event_fn)(void *arg, const gwp_event *ev);

/**
 * Authentication callback: give the Digest HA1 of a user.
 *
 * Called in the thread that runs the routing callback, just before it, for
 * each new request whose Digest credentials passed the library's own checks
 * (realm, nonce made by this proxy and unexpired, nonce-count above every
 * one used with that nonce, uri equal to the Request-URI, qop=auth).
 *
 * @param arg the pointer given to gwp_config_set_auth().
 * @param username the user name of the credentials (as sent; not validated).
 * @param realm the realm (the one given to gwp_config_set_auth()).
 * @param[out] ha1 receives the HA1, MD5(username:realm:password) in 32 hex
 *        digits and a NUL (gwp_digest_ha1() computes it).
 * @param ha1_size size of @p ha1 (at least 33).
 * @return 0 when the user is known and @p ha1 is filled, any other value
 *         when not (the request then gets 403, like a wrong password).
 */
typedef int (*gwp_auth_fn)(void *arg, const char *username, const char *realm, char *ha1,
			   size_t ha1_size);

/**
 * Make an empty configuration.
 * @param[out] out receives the new configuration; free it with gwp_config_free().
 * @return 0 or #GWP_ERR_INVAL, #GWP_ERR_NOMEM.
 */
GWP_EXPORT int gwp_config_new(gwp_config **out);

/** Free a configuration (NULL is allowed). A proxy keeps its own copy. */
GWP_EXPORT void gwp_config_free(gwp_config *cfg);

/**
 * Add an address to listen on. At least one is needed.
 * @param cfg the configuration.
 * @param tp transport (#gwp_transport).
 * @param host a literal IPv4 or IPv6 address (e.g. "127.0.0.1", "::1").
 * @param port a port number, 1-65535.
 * @return 0 or #GWP_ERR_INVAL, #GWP_ERR_NOMEM.
 */
GWP_EXPORT int gwp_config_add_listen(gwp_config *cfg, enum gwp_transport tp, const char *host,
				     unsigned port);

/**
 * Set the TLS certificate and private key (PEM files) used by TLS listeners.
 * @return 0 or #GWP_ERR_INVAL, #GWP_ERR_NOMEM.
 */
GWP_EXPORT int gwp_config_set_tls(gwp_config *cfg, const char *cert_file, const char *key_file);

/**
 * Set the domain the proxy serves. Requests whose request-URI host is neither
 * this domain nor a listening address get 404. REGISTER is accepted only for
 * this domain.
 * @return 0 or #GWP_ERR_INVAL, #GWP_ERR_NOMEM.
 */
GWP_EXPORT int gwp_config_set_domain(gwp_config *cfg, const char *domain);

/** Set the routing callback (required). @return 0 or #GWP_ERR_INVAL. */
GWP_EXPORT int gwp_config_set_route_handler(gwp_config *cfg, gwp_route_fn fn, void *arg);

/** Set the event callback (optional). @return 0 or #GWP_ERR_INVAL. */
GWP_EXPORT int gwp_config_set_event_handler(gwp_config *cfg, gwp_event_fn fn, void *arg);

/**
 * Pass REGISTER requests for the served domain to the routing callback, which
 * answers them with gwp_request_respond() (a 2xx answer echoes the Contact
 * with its expiry). Off by default: REGISTER then gets 405. The library keeps
 * no bindings itself; see gwp_request_contact() and gwp_request_expires().
 * @return 0 or #GWP_ERR_INVAL.
 */
GWP_EXPORT int gwp_config_set_registrar(gwp_config *cfg, int enable);

/**
 * Default per-target timeout used when gwp_request_add_target() gets 0.
 * For INVITE it bounds the time until a 2xx, for MESSAGE until any final
 * answer. Default 20000 ms.
 * @return 0 or #GWP_ERR_INVAL (0 ms is invalid).
 */
GWP_EXPORT int gwp_config_set_default_timeout(gwp_config *cfg, unsigned ms);

/**
 * Enable the authentication hook (Digest, RFC 2617 MD5 with qop=auth).
 *
 * Requests of the kinds in @p methods that carry no credentials for
 * @p realm are answered by the library with a challenge (401 for REGISTER,
 * 407 otherwise) carrying a nonce it made: an HMAC under a key drawn at
 * start, valid for 300 s, remembered with the highest nonce-count used.
 * Credentials for @p realm on any new request are checked: malformed ones or
 * a uri other than the Request-URI get 400, a nonce that is not ours,
 * expired (stale=true) or a nonce-count not above the previous one get a
 * new challenge, and a wrong response or unknown user gets 403. Only then
 * does the routing callback run, and gwp_request_auth_user() names the user.
 * The application decides what the user may do (for instance a REGISTER
 * only for its own name). Other requests may be challenged from the routing
 * callback with gwp_request_challenge().
 *
 * @param cfg the configuration.
 * @param realm the Digest realm (usually the domain); no quotes or controls.
 * @param methods #gwp_auth_method flags, 0 for none.
 * @param fn the HA1 lookup (required).
 * @param arg passed to @p fn.
 * @return 0 or #GWP_ERR_INVAL, #GWP_ERR_NOMEM.
 */
GWP_EXPORT int gwp_config_set_auth(gwp_config *cfg, const char *realm, unsigned methods,
				   gwp_auth_fn fn, void *arg);

/**
 * Bound the dialog table. The proxy remembers every dialog established
 * through it (a 2xx to an INVITE it forwarded) so that only requests of
 * known dialogs are relayed. A dialog is forgotten after its BYE is
 * answered, 32 s (64*T1) after its 2xx when no ACK came, or after @p idle_s
 * seconds without an in-dialog request once acknowledged (an ENDED event is
 * then reported). Each INVITE being forwarded holds room for its dialog:
 * when the dialogs and those INVITEs reach @p max, new INVITEs get 503 before
 * the routing callback is asked; should more answers arrive (two branches of
 * a call answering), the oldest unacknowledged dialog is dropped, else the
 * one idle longest.
 * Defaults: 10000 dialogs, 21600 s.
 * @return 0 or #GWP_ERR_INVAL (0 for either value).
 */
GWP_EXPORT int gwp_config_set_dialog_limits(gwp_config *cfg, unsigned max, unsigned idle_s);

/**
 * Compute a Digest HA1, MD5(username:realm:password), for an
 * authentication callback.
 * @param username the user name.
 * @param realm the realm.
 * @param password the password.
 * @param[out] out receives 32 lowercase hex digits and a NUL.
 * @return 0 or #GWP_ERR_INVAL.
 */
GWP_EXPORT int gwp_digest_ha1(const char *username, const char *realm, const char *password,
			      char out[33]);

/**
 * Make a proxy from a configuration. Nothing is bound until it starts.
 * @param[out] out receives the proxy; free it with gwp_proxy_free().
 * @param cfg the configuration (copied; it may be freed afterwards).
 * @return 0 or #GWP_ERR_INVAL (no listener, no route handler), #GWP_ERR_NOMEM.
 */
GWP_EXPORT int gwp_proxy_new(gwp_proxy **out, const gwp_config *cfg);

/**
 * Start the proxy in its own thread. The callbacks run in that thread.
 * Returns once every address is bound, or with the error.
 * @return 0 or #GWP_ERR_STATE, #GWP_ERR_BIND, #GWP_ERR_TLS, #GWP_ERR_SIP,
 *         #GWP_ERR_THREAD.
 */
GWP_EXPORT int gwp_proxy_start(gwp_proxy *p);

/**
 * Start the proxy for the application's own event loop. The SIP stack runs
 * in a library thread, but every callback runs inside gwp_proxy_dispatch(),
 * in the thread that calls it. The application polls @p fd for reading and
 * calls gwp_proxy_dispatch() when it is readable.
 * @param p the proxy.
 * @param[out] fd receives the file descriptor to poll (owned by the proxy).
 * @return as gwp_proxy_start().
 */
GWP_EXPORT int gwp_proxy_attach(gwp_proxy *p, int *fd);

/**
 * Run the callbacks that are due (embedded mode). Never blocks.
 * @return the number of callbacks run (>= 0) or #GWP_ERR_STATE when the
 *         proxy was not started with gwp_proxy_attach().
 */
GWP_EXPORT int gwp_proxy_dispatch(gwp_proxy *p);

/**
 * Stop the proxy: pending transactions are dropped and the SIP thread ends.
 * No callback runs after it returns. Do not call it from a callback.
 * @return 0 or #GWP_ERR_STATE when it was not running.
 */
GWP_EXPORT int gwp_proxy_stop(gwp_proxy *p);

/** Stop (if needed) and free a proxy (NULL is allowed). */
GWP_EXPORT void gwp_proxy_free(gwp_proxy *p);

/** Method of the request ("INVITE", "MESSAGE", "REGISTER"). */
GWP_EXPORT const char *gwp_request_method(const gwp_request *req);
/** Request-URI, e.g. "sip:helpdesk@example.com". */
GWP_EXPORT const char *gwp_request_uri(const gwp_request *req);
/** User part of the request-URI ("" when it has none). */
GWP_EXPORT const char *gwp_request_user(const gwp_request *req);
/** From URI (without display name or tag). */
GWP_EXPORT const char *gwp_request_from(const gwp_request *req);
/** To URI (without display name or tag). */
GWP_EXPORT const char *gwp_request_to(const gwp_request *req);
/** Call-ID. */
GWP_EXPORT const char *gwp_request_call_id(const gwp_request *req);
/** Address and port the request came from, e.g. "127.0.0.1:5070". */
GWP_EXPORT const char *gwp_request_source(const gwp_request *req);
/** URI of the first Contact, or NULL when there is none (or it is "*"). */
GWP_EXPORT const char *gwp_request_contact(const gwp_request *req);
/** Expiry asked for the first Contact in seconds (Contact ;expires, then the
 *  Expires header, then 3600). Meaningful for REGISTER. */
GWP_EXPORT unsigned gwp_request_expires(const gwp_request *req);

/**
 * The user the request was authenticated as (see gwp_config_set_auth()).
 * @return the Digest user name whose credentials were verified, or NULL when
 *         the request carried none (it is then anonymous).
 */
GWP_EXPORT const char *gwp_request_auth_user(const gwp_request *req);

/**
 * The Route set the request carries beyond the proxy's own entries, e.g.
 * "<sip:gw.example.com;lr>" (entries separated by commas), or NULL when
 * there is none. Such a request is refused with 403 when forwarded, unless
 * gwp_request_allow_route() accepts the Route set first.
 */
GWP_EXPORT const char *gwp_request_route(const gwp_request *req);

/**
 * Accept the request's pre-loaded Route set: when forwarded it then goes to
 * the first Route entry, with each target as Request-URI. Only for senders
 * the application trusts to choose the next hop (an open relay otherwise).
 * @return 0 or #GWP_ERR_INVAL (no Route set), #GWP_ERR_ANSWERED.
 */
GWP_EXPORT int gwp_request_allow_route(gwp_request *req);

/**
 * Answer the request with a Digest challenge (401 for REGISTER, 407
 * otherwise) and free @p req; the client may then send it again with
 * credentials. Needs gwp_config_set_auth().
 * @return 0 or #GWP_ERR_INVAL, #GWP_ERR_STATE (no authentication hook, or
 *         the proxy stopped; the caller then gets a 500 or nothing).
 */
GWP_EXPORT int gwp_request_challenge(gwp_request *req);

/**
 * Look up a header of the request by name (case-insensitive, full names
 * such as "Subject" or "X-Priority"; compact forms are not matched).
 * @param req the request.
 * @param name header name without the colon.
 * @return the value of its first occurrence, or NULL.
 */
GWP_EXPORT const char *gwp_request_header(const gwp_request *req, const char *name);

/**
 * Add a target to try when the request is forwarded.
 * @param req the request.
 * @param uri a SIP URI, e.g. "sip:alice@127.0.0.1:5311".
 * @param timeout_ms how long the target may take to answer, 0 for the default.
 * @return 0 or #GWP_ERR_INVAL, #GWP_ERR_NOMEM, #GWP_ERR_ANSWERED.
 */
GWP_EXPORT int gwp_request_add_target(gwp_request *req, const char *uri, unsigned timeout_ms);

/**
 * Answer the request by forwarding it to the targets added so far, and free
 * @p req (also on error: the caller then gets a 500, or a 403 for a Route
 * set not accepted).
 * @param req the request; invalid after the call.
 * @param mode #GWP_FORK_SEQUENTIAL or #GWP_FORK_PARALLEL.
 * @return 0 or #GWP_ERR_NOTARGET, #GWP_ERR_INVAL, #GWP_ERR_ROUTE,
 *         #GWP_ERR_STATE (proxy stopped).
 */
GWP_EXPORT int gwp_request_forward(gwp_request *req, enum gwp_fork mode);

/**
 * Answer the request with a final response and free @p req.
 * @param req the request; invalid after the call.
 * @param code a final SIP status, 200-699 (2xx only makes sense for REGISTER).
 * @param reason a reason phrase, or NULL for the standard one.
 * @return 0 or #GWP_ERR_INVAL (the caller then gets a 500), #GWP_ERR_STATE
 *         (proxy stopped).
 */
GWP_EXPORT int gwp_request_respond(gwp_request *req, int code, const char *reason);

/** Type of an event (#gwp_event_type). */
GWP_EXPORT enum gwp_event_type gwp_event_type(const gwp_event *ev);
/** Call-ID of the call the event is about. */
GWP_EXPORT const char *gwp_event_call_id(const gwp_event *ev);
/** Target URI as given to gwp_request_add_target(). */
GWP_EXPORT const char *gwp_event_target(const gwp_event *ev);
/** Method of the forwarded request ("INVITE" or "MESSAGE"). */
GWP_EXPORT const char *gwp_event_method(const gwp_event *ev);
/** SIP status behind the event (180, 200, 486, 408 for a timeout, 487 when
 *  cancelled); 0 for #GWP_EVENT_TRYING and #GWP_EVENT_ENDED. */
GWP_EXPORT int gwp_event_status(const gwp_event *ev);
/** Name of an event type ("trying", "ringing", ...). */
GWP_EXPORT const char *gwp_event_type_name(enum gwp_event_type type);

#ifdef __cplusplus
}
#endif

#endif /* GREENWICH_PROXY_H */
