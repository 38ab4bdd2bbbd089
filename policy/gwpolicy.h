/*
 * gwpolicy.h - libgwpolicy: Greenwich's policy engine (rule model, rule text, evaluation).
 *
 * The library is pure: it never logs and never does I/O, except pol_set_load_file(), which
 * reads one file when asked to.  Every function returns 0 or a negative errno value; parse and
 * validation failures can also fill a struct pol_error with a position and a message.  The
 * caller decides what to print.  policy/README.md has the same description with examples.
 */
#ifndef GW_POLICY_H
#define GW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * @file gwpolicy.h
 *
 * @section pol_model Rule model
 *
 * A rule set (struct pol_set) is a list of rules ordered by their priority number.  Each rule
 * has a unique name, a unique priority, conditions, optional exceptions and an action.
 *
 * Conditions, all of which must hold for a rule to match (absent ones match anything):
 * - @c class: the request class, one or more of im, presence, call (any-of).
 * - @c from @c zone: the sender's zone, any-of internal, federated, external.
 * - @c from @c network: the sender's network location, any-of internal, remote.
 * - @c from: the sender identity, any-of: a group (by SID), a user (SIP URI), a domain.
 * - @c to: the recipient identity, same forms as @c from.
 *
 * A group matches when its SID is in the party's SID list, which the caller fills with the
 * user's own SID and every group SID it is a member of, nested membership resolved (the PAC or
 * tokenGroups already give that).  Only the SID is compared; the display name next to it is
 * kept for printing, so renaming a group never breaks a rule.  Users match on their address of
 * record ("sip:user@host"; the scheme sip:/sips: and ASCII case are ignored).  Domains match
 * the party's domain exactly (ASCII case ignored; no subdomains).
 *
 * @section pol_order Order and exceptions
 *
 * Rules are tried in ascending priority number (priority 1 before priority 100).  The first
 * rule whose conditions all match decides, and no later rule is looked at:
 * - if none of the rule's exceptions matches, the rule's action applies;
 * - if one of its exceptions matches, the rule decides the opposite: a deny rule allows, an
 *   allow rule denies with 403 "Forbidden".  pol_decision.by_exception is then true.
 *
 * An exception is a set of conditions of the same kinds as above that must all hold
 * (a conjunction); a rule may have several exceptions, and any one of them matching is
 * enough.  So "deny external im except to group Support" reads as it is meant: external IM is
 * denied, except when it goes to a member of Support, which this same rule then allows.
 *
 * @section pol_default Default
 *
 * When no rule matches, the built-in default decides: a sender of zone internal is allowed,
 * every other sender is denied with 403 "Forbidden".  pol_decision.by_default is then true and
 * pol_decision.rule is empty.
 *
 * @section pol_text Rule text
 *
 * @code
 * # comment to the end of the line
 * rule "internet-im-to-support" priority 100 {
 *         class im;
 *         from zone external;
 *         except to group S-1-5-21-1-2-3-1105 "Support";
 *         action deny 403 "Forbidden";
 * }
 * @endcode
 *
 * Grammar (keywords are lower case; WORD is a run of letters, digits and _ . : @ + % * / = ! ~ -,
 * STRING is "double quoted" with \" and \\ as the only escapes, on one line):
 * @verbatim
 * file      = { rule } end-of-input
 * rule      = "rule" NAME "priority" NUMBER "{" { statement } "}"
 * statement = condition ";"
 *           | "except" condition ";"
 *           | "except" "{" condition ";" { condition ";" } "}"
 *           | "action" "allow" ";"
 *           | "action" "deny" [ CODE [ STRING ] ] ";"
 * condition = "class" class { "," class }            class = "im" | "presence" | "call" | "any"
 *           | "from" "zone" zone { "," zone }        zone  = "internal" | "federated" | "external"
 *           | "from" "network" net { "," net }       net   = "internal" | "remote"
 *           | ("from" | "to") ident { "," ident }
 * ident     = "any" | "group" SID [ STRING ] | "user" URI | "domain" DOMAIN
 * @endverbatim
 * NAME is a WORD or STRING of 1 to 64 letters, digits, '.', '_' or '-'.  NUMBER is 0 to
 * 999999.  CODE is a SIP response code 400 to 699 (default 403); the reason phrase defaults to
 * the code's standard phrase.  SID, URI and DOMAIN may be written as WORD or STRING.  Each
 * condition kind appears at most once in a rule's conditions and at most once per exception;
 * every rule has exactly one action.  Exceptions do not nest.
 *
 * @section pol_threads Threads and lifetime
 *
 * pol_eval() only reads the set and allocates nothing, so several threads may evaluate one set
 * at the same time.  Editing functions need exclusive access; build a new set and swap
 * pointers to change rules under running evaluations.
 */

/** Largest rule text accepted by the parsers, in bytes. */
#define POL_TEXT_MAX (1024 * 1024)
/** Longest rule name. */
#define POL_NAME_MAX 64
/** Longest deny reason phrase. */
#define POL_REASON_MAX 128
/** Largest priority number. */
#define POL_PRIORITY_MAX 999999
/** Most rules in one set. */
#define POL_RULES_MAX 10000
/** Most values in one condition list (e.g. groups after one "from"). */
#define POL_LIST_MAX 256
/** Most exceptions in one rule. */
#define POL_EXCEPT_MAX 32
/** Most distinct group SIDs over all rules of one set. */
#define POL_SIDS_MAX 4096

/** Request classes; also bits of a class condition. */
enum pol_class {
	POL_CLASS_IM = 1,       /**< MESSAGE and IM sessions */
	POL_CLASS_PRESENCE = 2, /**< SUBSCRIBE / PUBLISH / NOTIFY for presence */
	POL_CLASS_CALL = 4,     /**< INVITE of audio / video calls */
};

/** Sender zones. */
enum pol_zone {
	POL_ZONE_INTERNAL = 1,  /**< an authenticated user of our domain */
	POL_ZONE_FEDERATED = 2, /**< a user of a partner domain (its server authenticated) */
	POL_ZONE_EXTERNAL = 4,  /**< anyone else, e.g. unauthenticated from the Internet */
};

/** Sender network location, as established by the caller. */
enum pol_net {
	POL_NET_INTERNAL = 1, /**< inside the configured internal networks */
	POL_NET_REMOTE = 2,   /**< anywhere else */
};

/** Rule actions and decision verdicts. */
enum pol_verdict {
	POL_ALLOW = 1,
	POL_DENY = 2,
};

/** A parse or validation error: 1-based line and byte column (0 when not about text). */
struct pol_error {
	unsigned line;
	unsigned column;
	char msg[256]; /**< what is wrong, e.g. "expected ';', found 'from'" */
};

/** One side of a request. */
struct pol_party {
	/** Address of record, "sip:user@host"; NULL when unknown (no user rule matches). */
	const char *uri;
	/** The party's domain; NULL: the host part of uri. */
	const char *domain;
	/** The user's SID and all its (nested) group SIDs, as "S-1-5-21-..." strings. */
	const char *const *sids;
	size_t nsids;
};

/** The facts about one request, all supplied by the caller. */
struct pol_request {
	enum pol_class req_class; /**< exactly one class */
	enum pol_zone zone;       /**< the sender's zone */
	enum pol_net net;         /**< the sender's network location */
	struct pol_party from;    /**< the sender */
	struct pol_party to;      /**< the recipient */
};

/** The outcome of pol_eval(); it copies what it reports and stays valid after set changes. */
struct pol_decision {
	enum pol_verdict verdict;
	int code;                        /**< 0 when allowed; 400-699 when denied */
	char reason[POL_REASON_MAX + 1]; /**< reason phrase when denied, else "" */
	char rule[POL_NAME_MAX + 1];     /**< name of the deciding rule; "" for the default */
	bool by_default;                 /**< no rule matched: the built-in default decided */
	bool by_exception;               /**< the rule decided through one of its exceptions */
};

struct pol_rule;
struct pol_set;

/** Text for a code returned by this library (negative errno values). */
const char *pol_strerror(int code);

/**
 * Parse one rule from text (exactly one "rule ... { }" block).
 * @param text  the rule text, need not be NUL-terminated
 * @param len   its length, at most POL_TEXT_MAX
 * @param out   the new rule on success; free it with pol_rule_free()
 * @param err   filled on failure when not NULL
 * @return 0, -EINVAL (bad text), -E2BIG (too long), -ENOMEM
 */
int pol_rule_parse(const char *text, size_t len, struct pol_rule **out, struct pol_error *err);
/** Free a rule that no set owns; NULL is fine. */
void pol_rule_free(struct pol_rule *rule);
/** The rule's name. */
const char *pol_rule_name(const struct pol_rule *rule);
/** The rule's priority number. */
unsigned pol_rule_priority(const struct pol_rule *rule);
/**
 * The canonical text of one rule, which parses back to the same rule.
 * @param out  a malloc'd NUL-terminated string on success; free() it
 * @return 0 or -ENOMEM
 */
int pol_rule_text(const struct pol_rule *rule, char **out);

/** Allocate an empty set (it decides everything by the built-in default). */
int pol_set_alloc(struct pol_set **out);
/** Free a set and all its rules; NULL is fine. */
void pol_set_free(struct pol_set *set);
/**
 * Parse a whole rule set (zero or more rules).  Names and priorities must be unique.
 * @return 0, -EINVAL (bad text, duplicates), -E2BIG (too long, too many rules or SIDs), -ENOMEM
 */
int pol_set_parse(const char *text, size_t len, struct pol_set **out, struct pol_error *err);
/**
 * Read and parse a rules file (the only I/O the library does).
 * @return as pol_set_parse(), or the negative errno of open/read failures
 */
int pol_set_load_file(const char *path, struct pol_set **out, struct pol_error *err);
/** The canonical text of a whole set, rules in priority order; free() *out. */
int pol_set_text(const struct pol_set *set, char **out);

/** Number of rules in the set. */
size_t pol_set_count(const struct pol_set *set);
/** The rule at position idx in priority order (0 = tried first); NULL when out of range. */
const struct pol_rule *pol_set_at(const struct pol_set *set, size_t idx);
/** The rule with this name, or NULL.  Valid until the set changes. */
const struct pol_rule *pol_set_get(const struct pol_set *set, const char *name);

/**
 * Add a rule.  On success the set owns the rule; on failure the caller still does and the
 * set is unchanged.
 * @return 0, -EEXIST (name or priority taken), -E2BIG (too many rules or SIDs), -ENOMEM
 */
int pol_set_add(struct pol_set *set, struct pol_rule *rule, struct pol_error *err);
/**
 * Replace the rule that has the same name as rule (its priority may change too).  Ownership
 * as for pol_set_add(); the old rule is freed.
 * @return 0, -ENOENT (no such rule), -EEXIST (priority taken by another rule), -E2BIG, -ENOMEM
 */
int pol_set_replace(struct pol_set *set, struct pol_rule *rule, struct pol_error *err);
/**
 * Delete a rule by name and free it.
 * @return 0, -ENOENT, or -ENOMEM (recompiling failed; the set is unchanged)
 */
int pol_set_delete(struct pol_set *set, const char *name);
/**
 * Give a rule a new priority number, which moves it in the order.
 * @return 0, -ENOENT, -EEXIST (priority taken by another rule), -ERANGE (above maximum)
 */
int pol_set_move(struct pol_set *set, const char *name, unsigned priority, struct pol_error *err);

/**
 * The groups a set's rules name: pol_set_group_count() distinct SIDs, pol_set_group_sid()
 * the one at idx (in no particular order; NULL when out of range).  Valid until the set changes.
 */
size_t pol_set_group_count(const struct pol_set *set);
const char *pol_set_group_sid(const struct pol_set *set, size_t idx);
/**
 * Show group sid as name (its current name in the directory) wherever the set's rules name it.
 * Only printing changes; matching still compares SIDs.
 * @return 0, -ENOENT (no rule names that SID), -EINVAL (empty or over 256 bytes), -ENOMEM
 */
int pol_set_group_name(struct pol_set *set, const char *sid, const char *name);

/**
 * Finds the SID of a group by name for pol_text_resolve_groups().
 * @return 0 with sid filled, -ENOENT (no such group), or another negative errno
 */
typedef int pol_group_fn(const char *name, char *sid, size_t sidlen, void *arg);
/**
 * Rule text as an administrator may write it, "group Support" with a name instead of a SID,
 * turned into parsable text: each such name becomes "SID \"name\"" through fn.  Text without
 * names comes back unchanged.  The result is not checked otherwise: parse it next.
 * @param out  a malloc'd NUL-terminated string on success; free() it
 * @return 0, -EINVAL (a lexical error), fn's own error when it failed (err says which
 * group), -E2BIG, -ENOMEM
 */
int pol_text_resolve_groups(const char *text, size_t len, pol_group_fn *fn, void *arg, char **out,
			    struct pol_error *err);

/* ---- federation settings (the data; gwpolicy_ad.h stores them in AD) */

/** A federation setting: a partner domain allowed or blocked. */
struct pol_fed_entry {
	char domain[254];
	bool allow;
};

/** The federation settings (sorted by domain). */
struct pol_fed {
	struct pol_fed_entry *v;
	size_t n;
};

void pol_fed_clear(struct pol_fed *fed);
/** The setting for domain (ASCII case ignored), or NULL when there is none. */
const struct pol_fed_entry *pol_fed_find(const struct pol_fed *fed, const char *domain);
/** Parse one stored value, "allow example.net" or "block example.org". 0 or -EINVAL. */
int pol_fed_parse_value(const char *value, size_t len, struct pol_fed_entry *e);
/** Parse text of such lines (the disk cache); '#' lines and blank lines are skipped. */
int pol_fed_parse_text(const char *text, struct pol_fed *fed);
/** The text form of the settings, one "allow D" / "block D" per line; free() *out. */
int pol_fed_text(const struct pol_fed *fed, char **out);
/** Add or change one entry (kept sorted).  0, -EINVAL (bad domain), -ENOMEM. */
int pol_fed_set(struct pol_fed *fed, const char *domain, bool allow);

/**
 * Decide a request: first matching rule in priority order, else the built-in default.
 * Allocates nothing; safe to call from several threads on one unchanging set.
 * @return 0, or -EINVAL when the request's class, zone or network is not a single valid value
 */
int pol_eval(const struct pol_set *set, const struct pol_request *req,
	     struct pol_decision *decision);

/* ---- the server's decision: from how a request arrived to its answer */

/** How the sender of a request arrived at the server. */
enum pol_arrival {
	/** a user of ours who authenticated (Digest, domain sign-in) */
	POL_ARRIVAL_AUTHENTICATED = 1,
	/** over TLS from a server whose verified certificate names the sender's domain */
	POL_ARRIVAL_VERIFIED_PEER = 2,
	/** anything else: the sender's address is only a claim */
	POL_ARRIVAL_UNPROVEN = 3,
};

/** pol_facts.req_class for a method that is no IM, call or presence (INFO, REFER, ...). */
#define POL_CLASS_OTHER ((enum pol_class)0)

/** What the server knows about a request when it decides it (pol_decide()). */
struct pol_facts {
	/** the class, or POL_CLASS_OTHER: held to the strictest of im, call and presence */
	enum pol_class req_class;
	enum pol_arrival arrival;
	/** 0: the zone follows from arrival and the federation settings; else a zone the
	 *  server established before (the one an existing dialog recorded for its sender) */
	enum pol_zone zone;
	enum pol_net net;
	/** the sender: uri is the authenticated user's address, else the From claimed; sids
	 *  count only for a sender of zone internal (our directory's groups) */
	struct pol_party from;
	/** the recipient */
	struct pol_party to;
};

/** The outcome of pol_decide(). */
struct pol_outcome {
	struct pol_decision decision;
	/** the sender's zone as the server gives it */
	enum pol_zone zone;
	/** the class that decided: for POL_CLASS_OTHER the first of im, call, presence that
	 *  denies, else presence (the last one tried); im for a blocked domain */
	enum pol_class req_class;
	/** the sender's domain is blocked: denied 403 by "federation-blocked", no rule looked at */
	bool blocked;
	/** the sender counted without its address (zone external): no sender condition
	 *  (from user, domain or group) can match it */
	bool anonymous;
	/** anonymous, and the claimed address would have changed the decision: claimed is the
	 *  decision had the sender been proven (same zone, network and class) */
	bool claim_ignored;
	struct pol_decision claimed;
	/** the sender's domain is an allowed partner, but the sender did not arrive through a
	 *  verified partner server, so it is external and not federated */
	bool partner_unproven;
};

/**
 * The decision greenwichd makes for a request outside a dialog (and for one inside a
 * dialog, with the zone the dialog recorded), from the facts it established:
 * - zone: internal for an authenticated user of ours; else a blocked sender domain is
 *   denied 403 "Forbidden" by the rule name "federation-blocked"; a verified peer of an
 *   allowed partner domain is federated; anyone else is external;
 * - a sender of zone external has no identity for the rules (only zone and network count),
 *   a federated one no groups;
 * - POL_CLASS_OTHER is decided as im, call and presence in turn; the first denial decides.
 * The sender's domain is from.domain, else the host part of from.uri.  fed may be NULL
 * (no federation settings).  Allocates nothing; threads as pol_eval().
 * @return 0, or -EINVAL (bad facts: class, arrival, zone or network out of range)
 */
int pol_decide(const struct pol_set *set, const struct pol_fed *fed, const struct pol_facts *facts,
	       struct pol_outcome *out);

#endif
