/* helpdesk-router: the operator table and least-loaded selection. */
#ifndef HD_OPERATORS_H
#define HD_OPERATORS_H

#include <stddef.h>
#include <time.h>

struct hd_operator {
	char *name;
	char *contact;          /* SIP URI calls are sent to; NULL when unknown */
	char *password;         /* Digest password for REGISTER; NULL: may not register */
	int is_static;          /* contact from the config file, never expires */
	time_t expires;         /* registered contacts: end of the binding */
	unsigned load;          /* calls offered or active right now */
	unsigned long idle_seq; /* when the load last went down; lower = idle longer */
};

struct hd_table {
	struct hd_operator *ops;
	size_t n;
	unsigned max_calls; /* an operator at this load is busy */
	unsigned long seq;
};

void hd_table_init(struct hd_table *t, unsigned max_calls);
void hd_table_free(struct hd_table *t);
struct hd_operator *hd_op_find(struct hd_table *t, const char *name);
struct hd_operator *hd_op_by_contact(struct hd_table *t, const char *contact);
/* Add an operator (contact may be NULL: it must register first). */
int hd_op_add(struct hd_table *t, const char *name, const char *contact);
/* Set the password an operator registers with (-1: unknown operator). */
int hd_op_set_password(struct hd_table *t, const char *name, const char *password);
/* Record a REGISTER: expires 0 removes the binding. Unknown names are added. */
int hd_op_register(struct hd_table *t, const char *name, const char *contact, unsigned expires,
		   time_t now);
/* Reachable now: a static contact or an unexpired registration. */
int hd_op_reachable(const struct hd_operator *op, time_t now);
/* Fill out[] with the operators to try, least loaded first, ties to the one
 * idle longest; busy (load >= max_calls) and unreachable ones are skipped.
 * Returns how many were written (at most max). */
size_t hd_select(struct hd_table *t, time_t now, struct hd_operator **out, size_t max);
void hd_load_up(struct hd_table *t, const char *contact);
void hd_load_down(struct hd_table *t, const char *contact);

#endif
