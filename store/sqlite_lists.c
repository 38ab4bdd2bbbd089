/*
 * presence_lists.c - the presence tables a user or the administrator edits:
 * authorization lists and server-stored contact lists (with their groups and
 * deltaNum), and the connection to the server's SQLite database that every
 * presence table goes through.  SQLite only, so greenwich-mmc links it too.
 *
 * The same database file as the location store, a connection of our own,
 * WAL.  greenwichd's worker 0 and the console may both write these tables;
 * the daemon reads them on use.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "presence_lists.h"

static const char pres_schema[] =
	"CREATE TABLE IF NOT EXISTS presence_publications ("
	" etag TEXT PRIMARY KEY, aor TEXT NOT NULL COLLATE NOCASE, expires INTEGER NOT NULL,"
	" seq INTEGER NOT NULL, source INTEGER NOT NULL, open INTEGER NOT NULL,"
	" activity INTEGER NOT NULL, note TEXT, call_id TEXT, cseq INTEGER);"
	"CREATE TABLE IF NOT EXISTS presence_subscriptions ("
	" id INTEGER PRIMARY KEY, event INTEGER NOT NULL, presentity TEXT NOT NULL COLLATE NOCASE,"
	" watcher TEXT NOT NULL COLLATE NOCASE, call_id TEXT NOT NULL, local TEXT NOT NULL,"
	" remote TEXT NOT NULL, contact TEXT NOT NULL, route TEXT, rseq INTEGER NOT NULL,"
	" lseq INTEGER NOT NULL, expires INTEGER NOT NULL, legacy INTEGER NOT NULL,"
	" transport TEXT, addr TEXT);"
	"CREATE TABLE IF NOT EXISTS presence_acl ("
	" owner TEXT NOT NULL COLLATE NOCASE, watcher TEXT NOT NULL COLLATE NOCASE,"
	" rule TEXT NOT NULL CHECK (rule IN ('allow', 'block')), PRIMARY KEY (owner, watcher));"
	"CREATE TABLE IF NOT EXISTS presence_contacts ("
	" owner TEXT NOT NULL COLLATE NOCASE, uri TEXT NOT NULL COLLATE NOCASE, name TEXT,"
	" groups TEXT, subscribed INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (owner, uri));"
	"CREATE TABLE IF NOT EXISTS presence_groups ("
	" id INTEGER PRIMARY KEY, owner TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS presence_delta ("
	" owner TEXT PRIMARY KEY COLLATE NOCASE, delta INTEGER NOT NULL);";

int
pres_store_open(struct pres_store **out, const char *path, char *err, size_t errlen)
{
	struct pres_store *st = calloc(1, sizeof(*st));
	char *msg = NULL;

	*out = NULL;
	if (st == NULL)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
		    SQLITE_OK ||
	    sqlite3_busy_timeout(st->db, 5000) != SQLITE_OK ||
	    sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
			 &msg) != SQLITE_OK ||
	    sqlite3_exec(st->db, pres_schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		pres_store_close(st);
		return -EIO;
	}
	*out = st;
	return 0;
}

void
pres_store_close(struct pres_store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st);
}

/* Prepare sql and bind the arguments described by fmt: s text, i int64. */
sqlite3_stmt *
pres_sql_stmt_v(struct pres_store *st, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 's')
			sqlite3_bind_text(s, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
	}
	return s;
}

sqlite3_stmt *
pres_sql_stmt(struct pres_store *st, const char *sql, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sqlite3_stmt *s = pres_sql_stmt_v(st, sql, fmt, ap);
	va_end(ap);
	return s;
}

/* Run a statement that returns no rows. */
int
pres_sql_exec(struct pres_store *st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int ret = -EIO;

	va_start(ap, fmt);
	sqlite3_stmt *s = pres_sql_stmt_v(st, sql, fmt, ap);
	va_end(ap);
	if (s && sqlite3_step(s) == SQLITE_DONE)
		ret = 0;
	sqlite3_finalize(s);
	return ret;
}

const char *
pres_sql_col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

int
pres_store_acl_get(struct pres_store *st, const char *owner, const char *watcher, char *rule,
		   size_t len)
{
	sqlite3_stmt *s = pres_sql_stmt(st, "SELECT rule FROM presence_acl WHERE owner = ? AND watcher = ?",
			       "ss", owner, watcher);
	int ret = -ENOENT;

	if (s == NULL)
		return -EIO;
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(rule, len, "%s", pres_sql_col(s, 0));
		ret = 0;
	}
	sqlite3_finalize(s);
	return ret;
}

int
pres_store_acl_set(struct pres_store *st, const char *owner, const char *watcher,
		   const char *rule)
{
	if (rule == NULL)
		return pres_sql_exec(st, "DELETE FROM presence_acl WHERE owner = ? AND watcher = ?", "ss",
			    owner, watcher);
	return pres_sql_exec(st, "INSERT OR REPLACE INTO presence_acl (owner, watcher, rule) VALUES (?,?,?)",
		    "sss", owner, watcher, rule);
}

static int
delta_bump(struct pres_store *st, const char *owner)
{
	return pres_sql_exec(st,
		    "INSERT INTO presence_delta (owner, delta) VALUES (?, 2)"
		    " ON CONFLICT (owner) DO UPDATE SET delta = delta + 1",
		    "s", owner);
}

int64_t
pres_store_delta(struct pres_store *st, const char *owner)
{
	sqlite3_stmt *s = pres_sql_stmt(st, "SELECT delta FROM presence_delta WHERE owner = ?", "s", owner);
	int64_t d = 1;

	if (s && sqlite3_step(s) == SQLITE_ROW)
		d = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return d;
}

int
pres_store_contact_set(struct pres_store *st, const char *owner, const char *uri,
		       const char *name, const char *groups, int subscribed)
{
	int ret = pres_sql_exec(st,
		       "INSERT OR REPLACE INTO presence_contacts (owner, uri, name, groups,"
		       " subscribed) VALUES (?,?,?,?,?)",
		       "ssssi", owner, uri, name ? name : "", groups ? groups : "",
		       (int64_t)subscribed);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

int
pres_store_contact_delete(struct pres_store *st, const char *owner, const char *uri)
{
	int ret = pres_sql_exec(st, "DELETE FROM presence_contacts WHERE owner = ? AND uri = ?", "ss", owner,
		       uri);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

int
pres_store_group_set(struct pres_store *st, const char *owner, int64_t *id, const char *name)
{
	int ret;

	if (*id == 0) {
		/* ids start at 2: 1 is the default group every list has */
		ret = pres_sql_exec(st,
			   "INSERT INTO presence_groups (id, owner, name) VALUES ((SELECT"
			   " MAX(2, COALESCE(MAX(id), 0) + 1) FROM presence_groups), ?, ?)",
			   "ss", owner, name);
		if (ret == 0)
			*id = sqlite3_last_insert_rowid(st->db);
	} else {
		ret = pres_sql_exec(st, "UPDATE presence_groups SET name = ? WHERE owner = ? AND id = ?",
			   "ssi", name, owner, *id);
	}
	return ret == 0 ? delta_bump(st, owner) : ret;
}

int64_t
pres_store_group_find(struct pres_store *st, const char *owner, const char *name)
{
	sqlite3_stmt *s = pres_sql_stmt(st, "SELECT id FROM presence_groups WHERE owner = ? AND name = ?",
			       "ss", owner, name);
	int64_t id = 0;

	if (s && sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return id;
}

int
pres_store_group_delete(struct pres_store *st, const char *owner, int64_t id)
{
	int ret = pres_sql_exec(st, "DELETE FROM presence_groups WHERE owner = ? AND id = ?", "si", owner, id);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

int
pres_store_groups_each(struct pres_store *st, const char *owner,
		       void (*cb)(int64_t id, const char *name, void *), void *arg)
{
	sqlite3_stmt *s = pres_sql_stmt(st, "SELECT id, name FROM presence_groups WHERE owner = ? ORDER BY id",
			       "s", owner);

	if (s == NULL)
		return -EIO;
	while (sqlite3_step(s) == SQLITE_ROW)
		cb(sqlite3_column_int64(s, 0), pres_sql_col(s, 1), arg);
	sqlite3_finalize(s);
	return 0;
}

int
pres_store_contacts_each(struct pres_store *st, const char *owner,
			 void (*cb)(const char *uri, const char *name, const char *groups,
				    int subscribed, void *),
			 void *arg)
{
	sqlite3_stmt *s = pres_sql_stmt(st,
			       "SELECT uri, name, groups, subscribed FROM presence_contacts"
			       " WHERE owner = ? ORDER BY uri",
			       "s", owner);

	if (s == NULL)
		return -EIO;
	while (sqlite3_step(s) == SQLITE_ROW)
		cb(pres_sql_col(s, 0), pres_sql_col(s, 1), pres_sql_col(s, 2), sqlite3_column_int(s, 3), arg);
	sqlite3_finalize(s);
	return 0;
}

int
pres_store_acl_each(struct pres_store *st, const char *owner,
		    void (*cb)(const char *watcher, const char *rule, void *), void *arg)
{
	sqlite3_stmt *s = pres_sql_stmt(st,
					"SELECT watcher, rule FROM presence_acl WHERE owner = ?"
					" ORDER BY watcher",
					"s", owner);

	if (s == NULL)
		return -EIO;
	while (sqlite3_step(s) == SQLITE_ROW)
		cb(pres_sql_col(s, 0), pres_sql_col(s, 1), arg);
	sqlite3_finalize(s);
	return 0;
}

int
pres_store_group_name(struct pres_store *st, const char *owner, int64_t id, char *name,
		      size_t len)
{
	sqlite3_stmt *s = pres_sql_stmt(st,
					"SELECT name FROM presence_groups WHERE owner = ? AND id = ?",
					"si", owner, id);
	int ret = -ENOENT;

	if (s && sqlite3_step(s) == SQLITE_ROW) {
		snprintf(name, len, "%s", pres_sql_col(s, 0));
		ret = 0;
	}
	sqlite3_finalize(s);
	return ret;
}

bool
pres_store_contact_has(struct pres_store *st, const char *owner, const char *uri)
{
	sqlite3_stmt *s = pres_sql_stmt(st,
					"SELECT 1 FROM presence_contacts WHERE owner = ? AND uri = ?",
					"ss", owner, uri);
	bool has = s && sqlite3_step(s) == SQLITE_ROW;

	sqlite3_finalize(s);
	return has;
}

/* A URI as clients write it (sip:bob@x, bob@x, <sip:bob@x>) to user@host. */
void
pres_uri_norm(char *out, size_t len, const char *in)
{
	while (*in == '<' || *in == ' ')
		in++;
	if (strncasecmp(in, "sip:", 4) == 0)
		in += 4;
	else if (strncasecmp(in, "sips:", 5) == 0)
		in += 5;
	snprintf(out, len, "%s", in);
	out[strcspn(out, ">;? ")] = '\0';
	for (char *p = strchr(out, '@'); p && *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
}
