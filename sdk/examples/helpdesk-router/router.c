/* helpdesk-router: routing and event callbacks given to libgreenwich-proxy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "router.h"

/* User part of a SIP URI ("sip:alice@host" -> "alice"). */
static void
uri_user(const char *uri, char *buf, size_t len)
{
	const char *s = strchr(uri ? uri : "", ':');
	size_t n;

	buf[0] = '\0';
	if (!s || !strchr(s, '@'))
		return;
	s++;
	n = strcspn(s, "@;");
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

static void
loads_print(struct hd_router *r)
{
	size_t i;

	printf("loads:");
	for (i = 0; i < r->table.n; i++)
		printf(" %s=%u", r->table.ops[i].name, r->table.ops[i].load);
	printf("\n");
	fflush(stdout);
}

static void
reserve(struct hd_router *r, const char *call_id, const char *contact)
{
	struct hd_reservation *res = calloc(1, sizeof(*res));

	if (!res)
		return;
	res->call_id = strdup(call_id);
	res->contact = strdup(contact);
	if (!res->call_id || !res->contact) {
		free(res->call_id);
		free(res->contact);
		free(res);
		return;
	}
	res->next = r->reserved;
	r->reserved = res;
	hd_load_up(&r->table, contact);
}

/* The TRYING event of a reserved choice: the load was already counted. */
static int
reservation_take(struct hd_router *r, const char *call_id, const char *contact)
{
	struct hd_reservation **pp, *res;

	for (pp = &r->reserved; (res = *pp); pp = &res->next) {
		if (!strcmp(res->call_id, call_id) && !strcmp(res->contact, contact)) {
			*pp = res->next;
			free(res->call_id);
			free(res->contact);
			free(res);
			return 1;
		}
	}
	return 0;
}

void
hd_router_free(struct hd_router *r)
{
	struct hd_reservation *res;

	while ((res = r->reserved)) {
		r->reserved = res->next;
		free(res->call_id);
		free(res->contact);
		free(res);
	}
	hd_table_free(&r->table);
}

static void
forward_to(struct hd_router *r, gwp_request *req, struct hd_operator **list, size_t n)
{
	size_t i;

	char *call_id = strdup(gwp_request_call_id(req));

	for (i = 0; i < n; i++)
		gwp_request_add_target(req, list[i]->contact, r->conf.timeout_s * 1000);
	reserve(r, gwp_request_call_id(req), list[0]->contact);
	/* on failure the caller got an error and no TRYING will come */
	if (gwp_request_forward(req, GWP_FORK_SEQUENTIAL) != 0 && call_id &&
	    reservation_take(r, call_id, list[0]->contact))
		hd_load_down(&r->table, list[0]->contact);
	free(call_id);
}

static void
route_register(struct hd_router *r, gwp_request *req)
{
	char name[64];
	unsigned expires = gwp_request_expires(req);

	const char *user = gwp_request_auth_user(req);

	uri_user(gwp_request_to(req), name, sizeof(name));
	if (!name[0] || strcmp(name, r->conf.service) == 0 || !hd_op_find(&r->table, name)) {
		gwp_request_respond(req, 403, "Name Not Allowed");
		return;
	}
	/* The library challenged and verified the credentials; an operator
	 * registers only herself. */
	if (!user || strcmp(user, name) != 0) {
		printf("refused REGISTER for %s by %s\n", name, user ? user : "-");
		fflush(stdout);
		gwp_request_respond(req, 403, "Not Your Name");
		return;
	}
	if (hd_op_register(&r->table, name, gwp_request_contact(req), expires, time(NULL)) < 0) {
		gwp_request_respond(req, 500, NULL);
		return;
	}
	printf("register %s %s expires=%u\n", name,
	       gwp_request_contact(req) ? gwp_request_contact(req) : "-", expires);
	fflush(stdout);
	gwp_request_respond(req, 200, "OK");
}

static void
route_helpdesk(struct hd_router *r, gwp_request *req)
{
	struct hd_operator *list[32];
	size_t n, i;

	n = hd_select(&r->table, time(NULL), list, sizeof(list) / sizeof(list[0]));
	if (n == 0) {
		printf("route %s -> all busy\n", gwp_request_call_id(req));
		fflush(stdout);
		gwp_request_respond(req, 486, "All Operators Busy");
		return;
	}
	printf("route %s ->", gwp_request_call_id(req));
	for (i = 0; i < n; i++)
		printf(" %s", list[i]->name);
	printf("\n");
	fflush(stdout);
	forward_to(r, req, list, n);
}

void
hd_route(void *arg, gwp_request *req)
{
	struct hd_router *r = arg;
	struct hd_operator *op;
	const char *method = gwp_request_method(req);
	const char *user = gwp_request_user(req);

	/* Callers choose no next hop: a pre-loaded Route set is refused. */
	if (gwp_request_route(req)) {
		gwp_request_respond(req, 403, "No Pre-loaded Route");
		return;
	}
	if (strcmp(method, "REGISTER") == 0) {
		route_register(r, req);
		return;
	}
	if (strcmp(user, r->conf.service) == 0) {
		route_helpdesk(r, req);
		return;
	}
	/* A direct call to one operator. */
	op = hd_op_find(&r->table, user);
	if (!op) {
		gwp_request_respond(req, 404, NULL);
	} else if (!hd_op_reachable(op, time(NULL))) {
		gwp_request_respond(req, 480, NULL);
	} else {
		forward_to(r, req, &op, 1);
	}
}

/* Digest HA1 of an operator who has a password. */
int
hd_auth(void *arg, const char *username, const char *realm, char *ha1, size_t ha1_size)
{
	struct hd_router *r = arg;
	struct hd_operator *op = hd_op_find(&r->table, username);

	if (!op || !op->password || ha1_size < 33)
		return -1;
	return gwp_digest_ha1(username, realm, op->password, ha1);
}

void
hd_event(void *arg, const gwp_event *ev)
{
	struct hd_router *r = arg;
	enum gwp_event_type type = gwp_event_type(ev);
	struct hd_operator *op = hd_op_by_contact(&r->table, gwp_event_target(ev));

	if (type == GWP_EVENT_TRYING) {
		if (!reservation_take(r, gwp_event_call_id(ev), gwp_event_target(ev)))
			hd_load_up(&r->table, gwp_event_target(ev));
	} else if (type == GWP_EVENT_FAILED || type == GWP_EVENT_ENDED)
		hd_load_down(&r->table, gwp_event_target(ev));
	printf("event %s %s call=%s status=%d\n", gwp_event_type_name(type),
	       op ? op->name : gwp_event_target(ev), gwp_event_call_id(ev), gwp_event_status(ev));
	loads_print(r);
}
