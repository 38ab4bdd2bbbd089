/*
 * pg_lists.c - authorization rules and server-stored contact lists (with
 * their groups and deltaNum) in PostgreSQL.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/* The first column of the first row, or -ENOENT / -EIO. */
static int
first_text(struct gwstore *st, enum pg_q q, int n, const char *const *v, char *out, size_t len)
{
	PGresult *r = pg_run(pgs(st), q, n, v);
	int ret = -ENOENT;

	if (r == NULL)
		return -EIO;
	if (PQntuples(r) > 0) {
		snprintf(out, len, "%s", pg_col(r, 0, 0));
		ret = 0;
	}
	PQclear(r);
	return ret;
}

static int64_t
first_int(struct gwstore *st, enum pg_q q, int n, const char *const *v, int64_t none)
{
	PGresult *r = pg_run(pgs(st), q, n, v);
	int64_t x = none;

	if (r != NULL && PQntuples(r) > 0)
		x = pg_int(r, 0, 0);
	PQclear(r);
	return x;
}

int
pg_acl_get(struct gwstore *st, const char *owner, const char *watcher, char *rule, size_t len)
{
	const char *v[] = {owner, watcher};

	return first_text(st, Q_ACL_GET, 2, v, rule, len);
}

int
pg_acl_set(struct gwstore *st, const char *owner, const char *watcher, const char *rule)
{
	const char *v[] = {owner, watcher, rule};

	return pg_exec(pgs(st), rule ? Q_ACL_PUT : Q_ACL_DELETE, rule ? 3 : 2, v);
}

int
pg_acl_each(struct gwstore *st, const char *owner,
	    void (*cb)(const char *watcher, const char *rule, void *), void *arg)
{
	const char *v[] = {owner};
	PGresult *r = pg_run(pgs(st), Q_ACL_EACH, 1, v);

	if (r == NULL)
		return -EIO;
	for (int i = 0; i < PQntuples(r); i++)
		cb(pg_col(r, i, 0), pg_col(r, i, 1), arg);
	PQclear(r);
	return 0;
}

static int
delta_bump(struct gwstore *st, const char *owner)
{
	const char *v[] = {owner};

	return pg_exec(pgs(st), Q_DELTA_BUMP, 1, v);
}

int64_t
pg_delta(struct gwstore *st, const char *owner)
{
	const char *v[] = {owner};

	return first_int(st, Q_DELTA, 1, v, 1);
}

int
pg_contact_set(struct gwstore *st, const char *owner, const char *uri, const char *name,
	       const char *groups, int subscribed)
{
	struct pg_num sub;
	const char *v[] = {owner, uri, name, groups, pg_num(&sub, subscribed)};
	int ret = pg_exec(pgs(st), Q_CONTACT_PUT, 5, v);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

int
pg_contact_delete(struct gwstore *st, const char *owner, const char *uri)
{
	const char *v[] = {owner, uri};
	int ret = pg_exec(pgs(st), Q_CONTACT_DELETE, 2, v);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

bool
pg_contact_has(struct gwstore *st, const char *owner, const char *uri)
{
	const char *v[] = {owner, uri};

	return first_int(st, Q_CONTACT_HAS, 2, v, 0) == 1;
}

int
pg_contacts_each(struct gwstore *st, const char *owner,
		 void (*cb)(const char *uri, const char *name, const char *groups, int subscribed,
			    void *),
		 void *arg)
{
	const char *v[] = {owner};
	PGresult *r = pg_run(pgs(st), Q_CONTACTS_EACH, 1, v);

	if (r == NULL)
		return -EIO;
	for (int i = 0; i < PQntuples(r); i++)
		cb(pg_col(r, i, 0), pg_col(r, i, 1), pg_col(r, i, 2), (int)pg_int(r, i, 3), arg);
	PQclear(r);
	return 0;
}

int
pg_group_set(struct gwstore *st, const char *owner, int64_t *id, const char *name)
{
	struct pg_num n;
	int ret;

	if (*id == 0) {
		const char *v[] = {owner, name};
		int64_t got = first_int(st, Q_GROUP_ADD, 2, v, 0);
		ret = got > 0 ? 0 : -EIO;
		if (ret == 0)
			*id = got;
	} else {
		const char *v[] = {name, owner, pg_num(&n, *id)};
		ret = pg_exec(pgs(st), Q_GROUP_RENAME, 3, v);
	}
	return ret == 0 ? delta_bump(st, owner) : ret;
}

int64_t
pg_group_find(struct gwstore *st, const char *owner, const char *name)
{
	const char *v[] = {owner, name};

	return first_int(st, Q_GROUP_FIND, 2, v, 0);
}

int
pg_group_name(struct gwstore *st, const char *owner, int64_t id, char *name, size_t len)
{
	struct pg_num n;
	const char *v[] = {owner, pg_num(&n, id)};

	return first_text(st, Q_GROUP_NAME, 2, v, name, len);
}

int
pg_group_delete(struct gwstore *st, const char *owner, int64_t id)
{
	struct pg_num n;
	const char *v[] = {owner, pg_num(&n, id)};
	int ret = pg_exec(pgs(st), Q_GROUP_DELETE, 2, v);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

int
pg_groups_each(struct gwstore *st, const char *owner,
	       void (*cb)(int64_t id, const char *name, void *), void *arg)
{
	const char *v[] = {owner};
	PGresult *r = pg_run(pgs(st), Q_GROUPS_EACH, 1, v);

	if (r == NULL)
		return -EIO;
	for (int i = 0; i < PQntuples(r); i++)
		cb(pg_int(r, i, 0), pg_col(r, i, 1), arg);
	PQclear(r);
	return 0;
}

int
pg_owners_each(struct gwstore *st, void (*cb)(const char *owner, void *), void *arg)
{
	PGresult *r = pg_run(pgs(st), Q_OWNERS, 0, NULL);

	if (r == NULL)
		return -EIO;
	for (int i = 0; i < PQntuples(r); i++)
		cb(pg_col(r, i, 0), arg);
	PQclear(r);
	return 0;
}
