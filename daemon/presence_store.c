/*
 * presence_store.c - SQLite tables of the presence service.
 *
 * The same database file as the location store, a connection of our own,
 * WAL.  Only worker 0 writes (the console may write the authorization and
 * contact tables through its own connection; the daemon reads them on use).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "presence_store.h"

struct pres_store {
	sqlite3 *db;
};

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
static sqlite3_stmt *
stmt_v(struct pres_store *st, const char *sql, const char *fmt, va_list ap)
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

static sqlite3_stmt *
stmt(struct pres_store *st, const char *sql, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sqlite3_stmt *s = stmt_v(st, sql, fmt, ap);
	va_end(ap);
	return s;
}

/* Run a statement that returns no rows. */
static int
exec(struct pres_store *st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int ret = -EIO;

	va_start(ap, fmt);
	sqlite3_stmt *s = stmt_v(st, sql, fmt, ap);
	va_end(ap);
	if (s && sqlite3_step(s) == SQLITE_DONE)
		ret = 0;
	sqlite3_finalize(s);
	return ret;
}

static const char *
col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

int
pres_store_pub_put(struct pres_store *st, const struct pres_pub *p)
{
	return exec(st,
		    "INSERT OR REPLACE INTO presence_publications (etag, aor, expires, seq,"
		    " source, open, activity, note, call_id, cseq) VALUES (?,?,?,?,?,?,?,?,?,?)",
		    "ssiiiiissi", p->etag, p->aor, (int64_t)p->expires, (int64_t)p->seq,
		    (int64_t)p->source, (int64_t)p->st.open, (int64_t)p->st.activity, p->st.note,
		    p->call_id ? p->call_id : "", (int64_t)p->cseq);
}

int
pres_store_pub_delete(struct pres_store *st, const char *etag)
{
	return exec(st, "DELETE FROM presence_publications WHERE etag = ?", "s", etag);
}

int
pres_store_pub_each(struct pres_store *st, time_t now, int (*cb)(const struct pres_pub *, void *),
		    void *arg)
{
	sqlite3_stmt *s = stmt(st,
			       "SELECT etag, aor, expires, seq, source, open, activity, note,"
			       " call_id, cseq FROM presence_publications WHERE expires > ?",
			       "i", (int64_t)now);
	int ret = s ? 0 : -EIO;

	while (s && ret == 0 && sqlite3_step(s) == SQLITE_ROW) {
		struct pres_pub p = {0};
		snprintf(p.etag, sizeof(p.etag), "%s", col(s, 0));
		p.aor = (char *)col(s, 1);
		p.expires = (time_t)sqlite3_column_int64(s, 2);
		p.seq = (uint64_t)sqlite3_column_int64(s, 3);
		p.source = sqlite3_column_int(s, 4) ? SRC_SOAP : SRC_PIDF;
		p.st.open = sqlite3_column_int(s, 5) != 0;
		p.st.activity = (enum pres_activity)sqlite3_column_int(s, 6);
		snprintf(p.st.note, sizeof(p.st.note), "%s", col(s, 7));
		p.call_id = (char *)col(s, 8);
		p.cseq = (uint32_t)sqlite3_column_int64(s, 9);
		ret = cb(&p, arg);
	}
	sqlite3_finalize(s);
	return ret;
}

int
pres_store_sub_put(struct pres_store *st, struct pres_sub *s)
{
	uint32_t lseq = s->leg ? nta_leg_get_seq(s->leg) : s->lseq;
	int ret;

	if (s->id == 0) {
		ret = exec(st,
			   "INSERT INTO presence_subscriptions (event, presentity, watcher, call_id,"
			   " local, remote, contact, route, rseq, lseq, expires, legacy, transport,"
			   " addr) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			   "isssssssiiiiss", (int64_t)s->event, s->presentity, s->watcher, s->call_id,
			   s->local, s->remote, s->contact, s->route ? s->route : "",
			   (int64_t)s->rseq, (int64_t)lseq, (int64_t)s->expires, (int64_t)s->legacy,
			   s->transport, s->addr);
		if (ret == 0)
			s->id = sqlite3_last_insert_rowid(st->db);
		return ret;
	}
	return exec(st,
		    "UPDATE presence_subscriptions SET contact = ?, rseq = ?, lseq = ?, expires = ?,"
		    " transport = ?, addr = ? WHERE id = ?",
		    "siiissi", s->contact, (int64_t)s->rseq, (int64_t)lseq, (int64_t)s->expires,
		    s->transport, s->addr, s->id);
}

int
pres_store_sub_delete(struct pres_store *st, int64_t id)
{
	return exec(st, "DELETE FROM presence_subscriptions WHERE id = ?", "i", id);
}

int
pres_store_sub_each(struct pres_store *st, time_t now, int (*cb)(struct pres_sub *, void *),
		    void *arg)
{
	sqlite3_stmt *q = stmt(st,
			       "SELECT id, event, presentity, watcher, call_id, local, remote,"
			       " contact, route, rseq, lseq, expires, legacy, transport, addr"
			       " FROM presence_subscriptions WHERE expires > ?",
			       "i", (int64_t)now);
	int ret = q ? 0 : -EIO;

	while (q && ret == 0 && sqlite3_step(q) == SQLITE_ROW) {
		struct pres_sub *s = calloc(1, sizeof(*s));
		if (s == NULL) {
			ret = -ENOMEM;
			break;
		}
		s->id = sqlite3_column_int64(q, 0);
		s->event = (enum pres_event)sqlite3_column_int(q, 1);
		s->presentity = strdup(col(q, 2));
		s->watcher = strdup(col(q, 3));
		s->call_id = strdup(col(q, 4));
		s->local = strdup(col(q, 5));
		s->remote = strdup(col(q, 6));
		s->contact = strdup(col(q, 7));
		s->route = col(q, 8)[0] ? strdup(col(q, 8)) : NULL;
		s->rseq = (uint32_t)sqlite3_column_int64(q, 9);
		/* NOTIFYs after the last write went unrecorded: jump ahead */
		s->lseq = (uint32_t)sqlite3_column_int64(q, 10) + 10000;
		s->expires = (time_t)sqlite3_column_int64(q, 11);
		s->legacy = sqlite3_column_int(q, 12) != 0;
		snprintf(s->transport, sizeof(s->transport), "%s", col(q, 13));
		snprintf(s->addr, sizeof(s->addr), "%s", col(q, 14));
		ret = cb(s, arg);
	}
	sqlite3_finalize(q);
	return ret;
}

int
pres_store_acl_get(struct pres_store *st, const char *owner, const char *watcher, char *rule,
		   size_t len)
{
	sqlite3_stmt *s = stmt(st, "SELECT rule FROM presence_acl WHERE owner = ? AND watcher = ?",
			       "ss", owner, watcher);
	int ret = -ENOENT;

	if (s == NULL)
		return -EIO;
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(rule, len, "%s", col(s, 0));
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
		return exec(st, "DELETE FROM presence_acl WHERE owner = ? AND watcher = ?", "ss",
			    owner, watcher);
	return exec(st, "INSERT OR REPLACE INTO presence_acl (owner, watcher, rule) VALUES (?,?,?)",
		    "sss", owner, watcher, rule);
}

static int
delta_bump(struct pres_store *st, const char *owner)
{
	return exec(st,
		    "INSERT INTO presence_delta (owner, delta) VALUES (?, 2)"
		    " ON CONFLICT (owner) DO UPDATE SET delta = delta + 1",
		    "s", owner);
}

int64_t
pres_store_delta(struct pres_store *st, const char *owner)
{
	sqlite3_stmt *s = stmt(st, "SELECT delta FROM presence_delta WHERE owner = ?", "s", owner);
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
	int ret = exec(st,
		       "INSERT OR REPLACE INTO presence_contacts (owner, uri, name, groups,"
		       " subscribed) VALUES (?,?,?,?,?)",
		       "ssssi", owner, uri, name ? name : "", groups ? groups : "",
		       (int64_t)subscribed);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

int
pres_store_contact_delete(struct pres_store *st, const char *owner, const char *uri)
{
	int ret = exec(st, "DELETE FROM presence_contacts WHERE owner = ? AND uri = ?", "ss", owner,
		       uri);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

int
pres_store_group_set(struct pres_store *st, const char *owner, int64_t *id, const char *name)
{
	int ret;

	if (*id == 0) {
		/* ids start at 2: 1 is the default group every list has */
		ret = exec(st,
			   "INSERT INTO presence_groups (id, owner, name) VALUES ((SELECT"
			   " MAX(2, COALESCE(MAX(id), 0) + 1) FROM presence_groups), ?, ?)",
			   "ss", owner, name);
		if (ret == 0)
			*id = sqlite3_last_insert_rowid(st->db);
	} else {
		ret = exec(st, "UPDATE presence_groups SET name = ? WHERE owner = ? AND id = ?",
			   "ssi", name, owner, *id);
	}
	return ret == 0 ? delta_bump(st, owner) : ret;
}

int
pres_store_group_delete(struct pres_store *st, const char *owner, int64_t id)
{
	int ret = exec(st, "DELETE FROM presence_groups WHERE owner = ? AND id = ?", "si", owner, id);

	return ret == 0 ? delta_bump(st, owner) : ret;
}

int
pres_store_groups_each(struct pres_store *st, const char *owner,
		       void (*cb)(int64_t id, const char *name, void *), void *arg)
{
	sqlite3_stmt *s = stmt(st, "SELECT id, name FROM presence_groups WHERE owner = ? ORDER BY id",
			       "s", owner);

	if (s == NULL)
		return -EIO;
	while (sqlite3_step(s) == SQLITE_ROW)
		cb(sqlite3_column_int64(s, 0), col(s, 1), arg);
	sqlite3_finalize(s);
	return 0;
}

int
pres_store_contacts_each(struct pres_store *st, const char *owner,
			 void (*cb)(const char *uri, const char *name, const char *groups,
				    int subscribed, void *),
			 void *arg)
{
	sqlite3_stmt *s = stmt(st,
			       "SELECT uri, name, groups, subscribed FROM presence_contacts"
			       " WHERE owner = ? ORDER BY uri",
			       "s", owner);

	if (s == NULL)
		return -EIO;
	while (sqlite3_step(s) == SQLITE_ROW)
		cb(col(s, 0), col(s, 1), col(s, 2), sqlite3_column_int(s, 3), arg);
	sqlite3_finalize(s);
	return 0;
}
