/*
 * pg_sql.c - every statement of the PostgreSQL backend, prepared on each
 * connection as it opens (pg_pool.c).  Names are matched without regard to
 * case (lower()), as the SQLite tables do with COLLATE NOCASE; the unique
 * indexes of pg_open.c's schema are on the same expressions.
 */
#include "config.h"

#include "pg_int.h"

#define BINDING_COLUMNS                                                                            \
	"aor, uri, call_id, cseq, expires, q, path, instance, user_agent, transport, addr, "       \
	"frontend"

#define PUB_COLUMNS "etag, aor, expires, seq, source, open, activity, note, call_id, cseq, frontend"
#define SUB_COLUMNS                                                                                \
	"event, presentity, watcher, call_id, local, remote, contact, route, rseq, lseq, expires," \
	" flags, transport, addr, frontend"

const char *const pg_sql[Q_COUNT] = {
    [Q_BIND_PUT] =
	"INSERT INTO bindings (" BINDING_COLUMNS ")"
	" VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
	" ON CONFLICT ((lower(aor)), uri) DO UPDATE SET aor = EXCLUDED.aor,"
	" call_id = EXCLUDED.call_id, cseq = EXCLUDED.cseq,"
	" expires = EXCLUDED.expires, q = EXCLUDED.q, path = EXCLUDED.path,"
	" instance = EXCLUDED.instance, user_agent = EXCLUDED.user_agent,"
	" transport = EXCLUDED.transport, addr = EXCLUDED.addr, frontend = EXCLUDED.frontend",
    [Q_BIND_DELETE] = "DELETE FROM bindings WHERE lower(aor) = lower($1) AND uri = $2",
    [Q_BIND_EXPIRE] = "DELETE FROM bindings WHERE expires <= $1",
    [Q_BIND_EACH] = "SELECT " BINDING_COLUMNS " FROM bindings WHERE expires > $1",
    [Q_BIND_AOR] = "SELECT " BINDING_COLUMNS " FROM bindings WHERE expires > $1"
		   " AND lower(aor) = lower($2)",

    [Q_PUB_PUT] = "INSERT INTO presence_publications (" PUB_COLUMNS ")"
		  " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
		  " ON CONFLICT (etag) DO UPDATE SET aor = EXCLUDED.aor,"
		  " expires = EXCLUDED.expires, seq = EXCLUDED.seq, source = EXCLUDED.source,"
		  " open = EXCLUDED.open, activity = EXCLUDED.activity, note = EXCLUDED.note,"
		  " call_id = EXCLUDED.call_id, cseq = EXCLUDED.cseq, frontend = EXCLUDED.frontend",
    [Q_PUB_DELETE] = "DELETE FROM presence_publications WHERE etag = $1",
    [Q_PUB_EACH] = "SELECT " PUB_COLUMNS " FROM presence_publications WHERE expires > $1",
    [Q_PUB_AOR] = "SELECT " PUB_COLUMNS " FROM presence_publications WHERE expires > $1"
		  " AND lower(aor) = lower($2)",
    [Q_SUB_INSERT] = "INSERT INTO presence_subscriptions (" SUB_COLUMNS ") VALUES ($1,$2,$3,$4,"
		     "$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) RETURNING id",
    [Q_SUB_UPDATE] = "UPDATE presence_subscriptions SET contact = $1, rseq = $2, lseq = $3,"
		     " expires = $4, transport = $5, addr = $6 WHERE id = $7",
    [Q_SUB_ADD] = "INSERT INTO presence_subscriptions (id, " SUB_COLUMNS ") VALUES ($1,$2,$3,"
		  "$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) ON CONFLICT (id) DO NOTHING",
    [Q_SUB_DELETE] = "DELETE FROM presence_subscriptions WHERE id = $1",
    [Q_SUB_EACH] = "SELECT id, " SUB_COLUMNS " FROM presence_subscriptions WHERE expires > $1",

    [Q_ACL_GET] = "SELECT rule FROM presence_acl WHERE lower(owner) = lower($1)"
		  " AND lower(watcher) = lower($2)",
    [Q_ACL_PUT] = "INSERT INTO presence_acl (owner, watcher, rule) VALUES ($1,$2,$3)"
		  " ON CONFLICT ((lower(owner)), (lower(watcher))) DO UPDATE SET"
		  " owner = EXCLUDED.owner, watcher = EXCLUDED.watcher, rule = EXCLUDED.rule",
    [Q_ACL_DELETE] = "DELETE FROM presence_acl WHERE lower(owner) = lower($1)"
		     " AND lower(watcher) = lower($2)",
    [Q_ACL_EACH] = "SELECT watcher, rule FROM presence_acl WHERE lower(owner) = lower($1)"
		   " ORDER BY lower(watcher)",
    [Q_DELTA_BUMP] = "INSERT INTO presence_delta (owner, delta) VALUES ($1, 2)"
		     " ON CONFLICT ((lower(owner))) DO UPDATE SET"
		     " delta = presence_delta.delta + 1",
    [Q_DELTA] = "SELECT delta FROM presence_delta WHERE lower(owner) = lower($1)",
    [Q_CONTACT_PUT] = "INSERT INTO presence_contacts (owner, uri, name, groups, subscribed)"
		      " VALUES ($1,$2,$3,$4,$5) ON CONFLICT ((lower(owner)), (lower(uri)))"
		      " DO UPDATE SET owner = EXCLUDED.owner, uri = EXCLUDED.uri,"
		      " name = EXCLUDED.name, groups = EXCLUDED.groups,"
		      " subscribed = EXCLUDED.subscribed",
    [Q_CONTACT_DELETE] = "DELETE FROM presence_contacts WHERE lower(owner) = lower($1)"
			 " AND lower(uri) = lower($2)",
    [Q_CONTACT_HAS] = "SELECT 1 FROM presence_contacts WHERE lower(owner) = lower($1)"
		      " AND lower(uri) = lower($2)",
    [Q_CONTACTS_EACH] = "SELECT uri, name, groups, subscribed FROM presence_contacts"
			" WHERE lower(owner) = lower($1) ORDER BY lower(uri)",
    /* ids start at 2 (the sequence's start): 1 is every list's default group */
    [Q_GROUP_ADD] = "INSERT INTO presence_groups (owner, name) VALUES ($1, $2) RETURNING id",
    [Q_GROUP_RENAME] = "UPDATE presence_groups SET name = $1 WHERE lower(owner) = lower($2)"
		       " AND id = $3",
    [Q_GROUP_FIND] = "SELECT id FROM presence_groups WHERE lower(owner) = lower($1)"
		     " AND name = $2 ORDER BY id LIMIT 1",
    [Q_GROUP_NAME] = "SELECT name FROM presence_groups WHERE lower(owner) = lower($1)"
		     " AND id = $2",
    [Q_GROUP_DELETE] = "DELETE FROM presence_groups WHERE lower(owner) = lower($1)"
		       " AND id = $2",
    [Q_GROUPS_EACH] = "SELECT id, name FROM presence_groups WHERE lower(owner) = lower($1)"
		      " ORDER BY id",
    [Q_OWNERS] = "SELECT min(owner) FROM (SELECT owner FROM presence_contacts UNION ALL"
		 " SELECT owner FROM presence_acl) o GROUP BY lower(owner) ORDER BY lower(owner)",

    [Q_ACCOUNT_GET] = "SELECT aor, realm, ha1_md5, ha1_sha256 FROM local_users"
		      " WHERE lower(aor) = lower($1)",
    [Q_ACCOUNT_PUT] = "INSERT INTO local_users (aor, realm, ha1_md5, ha1_sha256)"
		      " VALUES ($1,$2,$3,$4) ON CONFLICT ((lower(aor))) DO UPDATE SET"
		      " aor = EXCLUDED.aor, realm = EXCLUDED.realm,"
		      " ha1_md5 = EXCLUDED.ha1_md5, ha1_sha256 = EXCLUDED.ha1_sha256",
    [Q_ACCOUNT_REMOVE] = "DELETE FROM local_users WHERE lower(aor) = lower($1)",
    [Q_ACCOUNT_EACH] = "SELECT aor, realm, ha1_md5, ha1_sha256 FROM local_users"
		       " ORDER BY lower(aor)",

    [Q_FE_BEAT] = "INSERT INTO frontends (id, address, version, started, heartbeat, load,"
		  " bindings) VALUES ($1, $2, $3, extract(epoch FROM now())::bigint,"
		  " extract(epoch FROM now())::bigint, $4, $5) ON CONFLICT (id) DO UPDATE SET"
		  " address = EXCLUDED.address, version = EXCLUDED.version,"
		  " heartbeat = EXCLUDED.heartbeat, load = EXCLUDED.load,"
		  " bindings = EXCLUDED.bindings,"
		  " started = CASE WHEN $6 = '1' THEN EXCLUDED.started ELSE frontends.started END",
    [Q_FE_REMOVE] = "DELETE FROM frontends WHERE id = $1",
    [Q_FE_EACH] = "SELECT id, address, version, started,"
		  " extract(epoch FROM now())::bigint - heartbeat, load, bindings"
		  " FROM frontends ORDER BY id",
    [Q_NOTIFY] = "SELECT pg_notify($1, $2)",
    /* one statement: the row, and its notification sent when it commits */
    [Q_CTL_ASK] = "WITH r AS (INSERT INTO control_requests (frontend, request, requester,"
		  " created, expires) VALUES ($1, $2, $3, extract(epoch FROM now())::bigint,"
		  " extract(epoch FROM now())::bigint + $4::bigint) RETURNING id)"
		  " SELECT id, pg_notify('" GWSTORE_CHANNEL_CONTROL "', id || E'\\t' || $1) FROM r",
    [Q_CTL_STALE] =
	"DELETE FROM control_requests WHERE frontend = $1 AND taken IS NULL"
	" AND expires <= extract(epoch FROM now())::bigint RETURNING id, request, requester, role",
    [Q_CTL_TAKE] =
	"UPDATE control_requests SET taken = extract(epoch FROM now())::bigint"
	" WHERE frontend = $1 AND taken IS NULL AND expires > extract(epoch FROM now())::bigint"
	" RETURNING id, request, requester, role",
    [Q_CTL_ANSWER] =
	"WITH r AS (UPDATE control_requests SET reply = $2,"
	" answered = extract(epoch FROM now())::bigint WHERE id = $1::bigint RETURNING id)"
	" SELECT pg_notify('" GWSTORE_CHANNEL_CONTROL_REPLY "', id::text) FROM r",
    [Q_CTL_REPLY] = "SELECT taken IS NOT NULL, reply FROM control_requests WHERE id = $1::bigint",
    [Q_CTL_DELETE] = "DELETE FROM control_requests WHERE id = $1::bigint"
		     " RETURNING taken IS NOT NULL",
    [Q_CTL_PURGE] =
	"DELETE FROM control_requests WHERE expires < extract(epoch FROM now())::bigint - 60",
};
