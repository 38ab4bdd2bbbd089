/*
 * pol_private.h - libgwpolicy internals shared by its source files (not installed, not public).
 */
#ifndef GW_POL_PRIVATE_H
#define GW_POL_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gwpolicy.h"

#define POL_TOKEN_MAX 512 /* longest WORD or STRING */
#define POL_URI_MAX 256
#define POL_DOMAIN_MAX 253
#define POL_NO_ID UINT32_MAX

enum pol_ident_kind { POL_ID_ANY, POL_ID_GROUP, POL_ID_USER, POL_ID_DOMAIN };

/* One value of a from/to list.  id is the value's index in the set's tables (POL_NO_ID when
 * the rule is not in a set). */
struct pol_ident {
	enum pol_ident_kind kind;
	char *value;
	char *display; /* groups only, may be NULL */
	uint32_t id;
};

struct pol_ident_list {
	struct pol_ident *v;
	size_t n;
	unsigned kinds; /* bit (1 << kind) for each kind in v */
	uint64_t gsum;  /* bit (id % 64) for each group id in v, set by pol_set_compile() */
	uint64_t nsum;  /* the same for user and domain ids */
};

/* Condition kinds, as bits of pol_cond.have. */
enum {
	POL_C_CLASS = 1,
	POL_C_ZONE = 2,
	POL_C_NET = 4,
	POL_C_FROM = 8,
	POL_C_TO = 16,
};

/* A conjunction of conditions; a kind not in `have` matches anything. */
struct pol_cond {
	unsigned have;
	unsigned classes, zones, nets; /* bit masks of enum pol_class / pol_zone / pol_net */
	struct pol_ident_list from, to;
};

struct pol_rule {
	char *name;
	unsigned priority;
	struct pol_cond when;
	struct pol_cond *except;
	size_t nexcept;
	enum pol_verdict action;
	int code;
	char *reason;
};

/* Open-addressing hash table of interned strings. */
struct pol_slot {
	uint32_t id1; /* key index + 1; 0 = empty */
	uint32_t tag; /* high half of the key's hash */
};

struct pol_table {
	struct pol_slot *slots;
	size_t mask;
	const char **keys;
	size_t *lens;
	size_t n, cap;
	bool fold; /* ASCII case-insensitive */
};

struct pol_set {
	struct pol_rule **rules; /* sorted by priority */
	uint32_t *combos;        /* per rule: which class/zone/network combinations it accepts */
	size_t n, cap;           /* both arrays have room for cap rules */
	struct pol_table sids;   /* group SIDs (case-sensitive) */
	struct pol_table names;  /* user addresses (without scheme) and domains, case-folded */
};

/* pol_rule.c */
void pol_cond_clear(struct pol_cond *c);
const char *pol_reason_default(int code);
bool pol_sid_valid(const char *s);
bool pol_uri_valid(const char *s);
bool pol_domain_valid(const char *s);
bool pol_name_valid(const char *s);
#include "sipuri.h" /* gw_uri_addr() */
/* The host part of a URI or address (after the last '@'): *len bytes, up to ; : > or ?. */
const char *pol_uri_host(const char *uri, size_t *len);
int pol_ident_add(struct pol_ident_list *l, enum pol_ident_kind kind, const char *value,
		  const char *display);
bool pol_ident_dup(const struct pol_ident_list *l, enum pol_ident_kind kind, const char *value);
void pol_error_set(struct pol_error *err, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* pol_table.c */
int pol_table_init(struct pol_table *t, size_t capacity, bool fold);
void pol_table_clear(struct pol_table *t);
/* Find key or add it (the table keeps the pointer, not a copy); *id is its index. */
int pol_table_intern(struct pol_table *t, const char *key, size_t len, uint32_t *id, bool *added);

/* pol_compile.c */
int pol_set_compile(struct pol_set *set);
uint32_t pol_cond_combos(const struct pol_cond *c);
unsigned pol_combo(unsigned req_class, unsigned zone, unsigned net);

/* pol_parse.c: a parsed rule and where its name and priority were written. */
struct pol_parsed {
	struct pol_rule *rule;
	unsigned name_line, name_col, prio_line, prio_col;
};
int pol_parse_rules(const char *text, size_t len, size_t max, struct pol_parsed **out, size_t *n,
		    struct pol_error *err);

#endif
