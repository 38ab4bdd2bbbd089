/*
 * sqlite_lists.c - the presence tables a user or the administrator edits, in
 * SQLite (greenwich.db): authorization rules and server-stored contact lists
 * (with their groups and deltaNum).  greenwichd's worker 0 and the console
 * may both write these tables; the daemon reads them on use.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

static const char sql_acl_get[] = "SELECT rule FROM presence_acl WHERE owner = ? AND watcher = ?";
static const char sql_acl_delete[] = "DELETE FROM presence_acl WHERE owner = ? AND watcher = ?";
static const char sql_acl_put[] =
    "INSERT OR REPLACE INTO presence_acl (owner, watcher, rule) VALUES (?,?,?)";
static const char sql_acl_each[] = "SELECT watcher, rule FROM presence_acl WHERE owner = ?"
				   " ORDER BY watcher";
static const char sql_delta_bump[] = "INSERT INTO presence_delta (owner, delta) VALUES (?, 2)"
				     " ON CONFLICT (owner) DO UPDATE SET delta = delta + 1";
static const char sql_delta[] = "SELECT delta FROM presence_delta WHERE owner = ?";
static const char sql_contact_put[] = "INSERT OR REPLACE INTO presence_contacts (owner, uri, name,"
				      " groups, subscribed) VALUES (?,?,?,?,?)";
static const char sql_contact_delete[] =
    "DELETE FROM presence_contacts WHERE owner = ? AND uri = ?";
static const char sql_contact_has[] = "SELECT 1 FROM presence_contacts WHERE owner = ? AND uri = ?";
static const char sql_contacts_each[] = "SELECT uri, name, groups, subscribed FROM"
					" presence_contacts WHERE owner = ? ORDER BY uri";
/* ids start at 2: 1 is the default group every list has */
static const char sql_group_add[] =
    "INSERT INTO presence_groups (id, owner, name) VALUES ((SELECT"
    " MAX(2, COALESCE(MAX(id), 0) + 1) FROM presence_groups), ?, ?)";
static const char sql_group_rename[] =
    "UPDATE presence_groups SET name = ? WHERE owner = ? AND id = ?";
static const char sql_group_find[] = "SELECT id FROM presence_groups WHERE owner = ? AND name = ?";
static const char sql_group_name[] = "SELECT name FROM presence_groups WHERE owner = ? AND id = ?";
static const char sql_group_delete[] = "DELETE FROM presence_groups WHERE owner = ? AND id = ?";
static const char sql_groups_each[] =
    "SELECT id, name FROM presence_groups WHERE owner = ? ORDER BY id";
static const char sql_owners[] = "SELECT owner FROM presence_contacts UNION"
				 " SELECT owner FROM presence_acl ORDER BY 1";

int
sq_acl_get(struct gwstore *st, const char *owner, const char *watcher, char *rule, size_t len)
{
	return sq_first(sq(st), NULL, rule, len, sql_acl_get, "ss", owner, watcher);
}

int
sq_acl_set(struct gwstore *st, const char *owner, const char *watcher, const char *rule)
{
	if (rule == NULL)
		return sq_exec(sq(st), sql_acl_delete, "ss", owner, watcher);
	return sq_exec(sq(st), sql_acl_put, "sss", owner, watcher, rule);
}

int
sq_acl_each(struct gwstore *st, const char *owner,
	    void (*cb)(const char *watcher, const char *rule, void *), void *arg)
{
	sqlite3_stmt *s = sq_stmt(sq(st), sql_acl_each, "s", owner);
	int rc;

	if (s == NULL)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb(sq_col(s, 0), sq_col(s, 1), arg);
	sq_done(s);
	/* a walk cut short is an error: a caller may decide from the whole list */
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int
delta_bump(struct gwstore *st, const char *owner)
{
	return sq_exec(sq(st), sql_delta_bump, "s", owner);
}

int64_t
sq_delta(struct gwstore *st, const char *owner)
{
	int64_t d = 1;

	sq_first(sq(st), &d, NULL, 0, sql_delta, "s", owner);
	return d;
}

int
sq_contact_set(struct gwstore *st, const char *owner, const char *uri, const char *name,
	       const char *groups, int subscribed)
{
	int ret = sq_exec(sq(st), sql_contact_put, "ssssi", owner, uri, name, groups,
			  (int64_t)subscribed);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

int
sq_contact_delete(struct gwstore *st, const char *owner, const char *uri)
{
	int ret = sq_exec(sq(st), sql_contact_delete, "ss", owner, uri);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

bool
sq_contact_has(struct gwstore *st, const char *owner, const char *uri)
{
	sqlite3_stmt *s = sq_stmt(sq(st), sql_contact_has, "ss", owner, uri);
	bool has = s && sqlite3_step(s) == SQLITE_ROW;

	sq_done(s);
	return has;
}

int
sq_contacts_each(struct gwstore *st, const char *owner,
		 void (*cb)(const char *uri, const char *name, const char *groups, int subscribed,
			    void *),
		 void *arg)
{
	sqlite3_stmt *s = sq_stmt(sq(st), sql_contacts_each, "s", owner);

	if (s == NULL)
		return -EIO;
	while (sqlite3_step(s) == SQLITE_ROW)
		cb(sq_col(s, 0), sq_col(s, 1), sq_col(s, 2), sqlite3_column_int(s, 3), arg);
	sq_done(s);
	return 0;
}

int
sq_group_set(struct gwstore *st, const char *owner, int64_t *id, const char *name)
{
	int ret;

	if (*id == 0) {
		ret = sq_exec(sq(st), sql_group_add, "ss", owner, name);
		if (ret == 0)
			*id = sqlite3_last_insert_rowid(sq(st)->db);
	} else {
		ret = sq_exec(sq(st), sql_group_rename, "ssi", name, owner, *id);
	}
	return ret == 0 ? delta_bump(st, owner) : ret;
}

int64_t
sq_group_find(struct gwstore *st, const char *owner, const char *name)
{
	int64_t id = 0;

	sq_first(sq(st), &id, NULL, 0, sql_group_find, "ss", owner, name);
	return id;
}

int
sq_group_name(struct gwstore *st, const char *owner, int64_t id, char *name, size_t len)
{
	return sq_first(sq(st), NULL, name, len, sql_group_name, "si", owner, id);
}

int
sq_group_delete(struct gwstore *st, const char *owner, int64_t id)
{
	int ret = sq_exec(sq(st), sql_group_delete, "si", owner, id);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

int
sq_groups_each(struct gwstore *st, const char *owner,
	       void (*cb)(int64_t id, const char *name, void *), void *arg)
{
	sqlite3_stmt *s = sq_stmt(sq(st), sql_groups_each, "s", owner);

	if (s == NULL)
		return -EIO;
	while (sqlite3_step(s) == SQLITE_ROW)
		cb(sqlite3_column_int64(s, 0), sq_col(s, 1), arg);
	sq_done(s);
	return 0;
}

int
sq_owners_each(struct gwstore *st, void (*cb)(const char *owner, void *), void *arg)
{
	sqlite3_stmt *s = sq_stmt(sq(st), sql_owners, "");

	if (s == NULL)
		return -EIO;
	while (sqlite3_step(s) == SQLITE_ROW)
		cb(sq_col(s, 0), arg);
	sq_done(s);
	return 0;
}
