/*
 * presence_store.c - SQLite tables of the presence service.
 *
 * Publications and subscriptions; the connection and the tables users edit
 * (authorization, contact lists) are in presence_lists.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "presence_store.h"

int
pres_store_pub_put(struct pres_store *st, const struct pres_pub *p)
{
	return pres_sql_exec(st,
		    "INSERT OR REPLACE INTO presence_publications (etag, aor, expires, seq,"
		    " source, open, activity, note, call_id, cseq) VALUES (?,?,?,?,?,?,?,?,?,?)",
		    "ssiiiiissi", p->etag, p->aor, (int64_t)p->expires, (int64_t)p->seq,
		    (int64_t)p->source, (int64_t)p->st.open, (int64_t)p->st.activity, p->st.note,
		    p->call_id ? p->call_id : "", (int64_t)p->cseq);
}

int
pres_store_pub_delete(struct pres_store *st, const char *etag)
{
	return pres_sql_exec(st, "DELETE FROM presence_publications WHERE etag = ?", "s", etag);
}

int
pres_store_pub_each(struct pres_store *st, time_t now, int (*cb)(const struct pres_pub *, void *),
		    void *arg)
{
	sqlite3_stmt *s = pres_sql_stmt(st,
			       "SELECT etag, aor, expires, seq, source, open, activity, note,"
			       " call_id, cseq FROM presence_publications WHERE expires > ?",
			       "i", (int64_t)now);
	int ret = s ? 0 : -EIO;

	while (s && ret == 0 && sqlite3_step(s) == SQLITE_ROW) {
		struct pres_pub p = {0};
		snprintf(p.etag, sizeof(p.etag), "%s", pres_sql_col(s, 0));
		p.aor = (char *)pres_sql_col(s, 1);
		p.expires = (time_t)sqlite3_column_int64(s, 2);
		p.seq = (uint64_t)sqlite3_column_int64(s, 3);
		p.source = sqlite3_column_int(s, 4) ? SRC_SOAP : SRC_PIDF;
		p.st.open = sqlite3_column_int(s, 5) != 0;
		p.st.activity = (enum pres_activity)sqlite3_column_int(s, 6);
		snprintf(p.st.note, sizeof(p.st.note), "%s", pres_sql_col(s, 7));
		p.call_id = (char *)pres_sql_col(s, 8);
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
		ret = pres_sql_exec(st,
			   "INSERT INTO presence_subscriptions (event, presentity, watcher, call_id,"
			   " local, remote, contact, route, rseq, lseq, expires, legacy, transport,"
			   " addr) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			   "isssssssiiiiss", (int64_t)s->event, s->presentity, s->watcher, s->call_id,
			   s->local, s->remote, s->contact, s->route ? s->route : "",
			   (int64_t)s->rseq, (int64_t)lseq, (int64_t)s->expires, (int64_t)(s->legacy | s->flags << 1),
			   s->transport, s->addr);
		if (ret == 0)
			s->id = sqlite3_last_insert_rowid(pres_store_db(st));
		return ret;
	}
	return pres_sql_exec(st,
		    "UPDATE presence_subscriptions SET contact = ?, rseq = ?, lseq = ?, expires = ?,"
		    " transport = ?, addr = ? WHERE id = ?",
		    "siiissi", s->contact, (int64_t)s->rseq, (int64_t)lseq, (int64_t)s->expires,
		    s->transport, s->addr, s->id);
}

int
pres_store_sub_delete(struct pres_store *st, int64_t id)
{
	return pres_sql_exec(st, "DELETE FROM presence_subscriptions WHERE id = ?", "i", id);
}

int
pres_store_sub_each(struct pres_store *st, time_t now, int (*cb)(struct pres_sub *, void *),
		    void *arg)
{
	sqlite3_stmt *q = pres_sql_stmt(st,
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
		s->presentity = strdup(pres_sql_col(q, 2));
		s->watcher = strdup(pres_sql_col(q, 3));
		s->call_id = strdup(pres_sql_col(q, 4));
		s->local = strdup(pres_sql_col(q, 5));
		s->remote = strdup(pres_sql_col(q, 6));
		s->contact = strdup(pres_sql_col(q, 7));
		s->route = pres_sql_col(q, 8)[0] ? strdup(pres_sql_col(q, 8)) : NULL;
		s->rseq = (uint32_t)sqlite3_column_int64(q, 9);
		/* NOTIFYs after the last write went unrecorded: jump ahead */
		s->lseq = (uint32_t)sqlite3_column_int64(q, 10) + 10000;
		s->expires = (time_t)sqlite3_column_int64(q, 11);
		s->legacy = (sqlite3_column_int(q, 12) & 1) != 0; /* bit 0 legacy, then flags */
		s->flags = (unsigned)sqlite3_column_int(q, 12) >> 1;
		snprintf(s->transport, sizeof(s->transport), "%s", pres_sql_col(q, 13));
		snprintf(s->addr, sizeof(s->addr), "%s", pres_sql_col(q, 14));
		ret = cb(s, arg);
	}
	sqlite3_finalize(q);
	return ret;
}

