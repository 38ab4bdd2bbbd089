/*
 * ad_store.c - the lookup cache on disk: one SQLite file (mode 0600) with a row per cache
 * key, written by the LDAP workers after each fresh answer and loaded when a context
 * starts, so the last known answers survive a restart. At most max_rows rows: the
 * oldest answers go first. Negative answers are not kept on disk. WAL with
 * synchronous=NORMAL: a crash may lose the last answers, never the file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ad_private.h"

struct ad_store {
	pthread_mutex_t lock;
	sqlite3 *db;
	size_t max_rows;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS answers(key TEXT PRIMARY KEY, stored INTEGER NOT NULL,"
    " dn TEXT, sam TEXT, upn TEXT, display_name TEXT, mail TEXT, sip_uri TEXT,"
    " aliases TEXT, sid TEXT, groups TEXT, uac INTEGER, account_expires INTEGER,"
    " flags INTEGER);"
    "CREATE INDEX IF NOT EXISTS answers_stored ON answers(stored);";

/* Milliseconds of the wall clock: ages on disk must survive a reboot. */
static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
store_try_open(struct ad_store *s, const char *path, char *reason)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		ad_reason_set(reason, "cache file %s: %s", path, strerror(errno));
		return -AD_ERR_CONFIG;
	}
	if (fchmod(fd, 0600) < 0) {
		/* an owner's file we cannot change: SQLite says so below if it matters */
	}
	close(fd);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		SQLITE_OK ||
	    sqlite3_busy_timeout(s->db, 2000) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL,
			 NULL) != SQLITE_OK) {
		ad_reason_set(reason, "cache file %s: %s", path,
			      s->db ? sqlite3_errmsg(s->db) : "cannot open");
		sqlite3_close(s->db);
		s->db = NULL;
		return -AD_ERR_CONFIG;
	}
	return 0;
}

int
ad_store_open(const char *path, size_t max_rows, struct ad_store **storep, char *reason)
{
	struct ad_store *s = calloc(1, sizeof(*s));
	int ret;

	*storep = NULL;
	if (s == NULL)
		return -ENOMEM;
	s->max_rows = max_rows > 0 ? max_rows : 1;
	ret = store_try_open(s, path, reason);
	if (ret < 0 && unlink(path) == 0) /* not a cache file we can use: start afresh */
		ret = store_try_open(s, path, reason);
	if (ret < 0) {
		free(s);
		return ret;
	}
	pthread_mutex_init(&s->lock, NULL);
	*storep = s;
	return 0;
}

void
ad_store_close(struct ad_store *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* A counted string array joined with newlines (SIP URIs and SIDs have none). */
static char *
strv_join(char *const *v, size_t n)
{
	size_t i, len = 1;
	char *out, *p;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	if ((out = p = malloc(len)) == NULL)
		return NULL;
	*p = '\0';
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? "\n" : "", v[i]);
	return out;
}

static int
strv_split(const char *text, char ***vp, size_t *np)
{
	size_t n = 0, cap = 1;
	const char *p;
	char **v;

	*vp = NULL;
	*np = 0;
	if (text == NULL || text[0] == '\0')
		return 0;
	for (p = text; *p != '\0'; p++)
		cap += *p == '\n';
	if ((v = calloc(cap, sizeof(char *))) == NULL)
		return -ENOMEM;
	for (p = text; n < cap; p += strcspn(p, "\n") + 1) {
		if ((v[n] = strndup(p, strcspn(p, "\n"))) == NULL) {
			ad_strv_free(v, n);
			return -ENOMEM;
		}
		n++;
		if (p[strcspn(p, "\n")] == '\0')
			break;
	}
	*vp = v;
	*np = n;
	return 0;
}

static int
bind_text(sqlite3_stmt *st, int col, const char *text)
{
	return text ? sqlite3_bind_text(st, col, text, -1, SQLITE_TRANSIENT)
		    : sqlite3_bind_null(st, col);
}

/* INSERT OR REPLACE of one key; @stmt is prepared. */
static int
row_write(sqlite3_stmt *st, const char *key, const struct ad_user *u, int64_t now,
	  const char *aliases, const char *groups)
{
	int rc;

	sqlite3_reset(st);
	rc = bind_text(st, 1, key);
	rc |= sqlite3_bind_int64(st, 2, now);
	rc |= bind_text(st, 3, u->dn);
	rc |= bind_text(st, 4, u->sam);
	rc |= bind_text(st, 5, u->upn);
	rc |= bind_text(st, 6, u->display_name);
	rc |= bind_text(st, 7, u->mail);
	rc |= bind_text(st, 8, u->sip_uri);
	rc |= bind_text(st, 9, aliases);
	rc |= bind_text(st, 10, u->sid);
	rc |= bind_text(st, 11, groups);
	rc |= sqlite3_bind_int64(st, 12, u->uac);
	rc |= sqlite3_bind_int64(st, 13, u->account_expires);
	rc |= sqlite3_bind_int64(st, 14, u->flags);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		return -AD_ERR_CONFIG;
	return 0;
}

static int
exec_key(sqlite3 *db, const char *sql, const char *key, int64_t n)
{
	sqlite3_stmt *st = NULL;
	int ret = -AD_ERR_CONFIG;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto done;
	if ((key ? bind_text(st, 1, key) : sqlite3_bind_int64(st, 1, n)) != SQLITE_OK)
		goto done;
	if (sqlite3_step(st) == SQLITE_DONE)
		ret = 0;
done:
	sqlite3_finalize(st);
	return ret;
}

static int
users_write(struct ad_store *s, const char *key, const struct ad_user *u)
{
	char *aliases = strv_join(u->aliases, u->alias_count);
	char *groups = strv_join(u->group_sids, u->group_count);
	int64_t now = wall_ms();
	sqlite3_stmt *st = NULL;
	char **keys = NULL;
	size_t i, n = 0;
	int ret = -ENOMEM;

	if (aliases == NULL || groups == NULL || ad_user_keys(u, &keys, &n) < 0)
		goto done;
	ret = -AD_ERR_CONFIG;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO answers VALUES"
			       " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
			       -1, &st, NULL) != SQLITE_OK)
		goto done;
	ret = row_write(st, key, u, now, aliases, groups);
	for (i = 0; ret == 0 && i < n; i++)
		if (strcmp(keys[i], key) != 0)
			ret = row_write(st, keys[i], u, now, aliases, groups);
done:
	sqlite3_finalize(st);
	ad_strv_free(keys, n);
	free(aliases);
	free(groups);
	return ret;
}

/* A write transaction under the store's lock: tx_begin() locks (and unlocks again when it
 * fails), tx_end() commits when @ret is 0, else rolls back, and unlocks. */
static int
tx_begin(struct ad_store *s)
{
	pthread_mutex_lock(&s->lock);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	pthread_mutex_unlock(&s->lock);
	return -AD_ERR_CONFIG;
}

static int
tx_end(struct ad_store *s, int ret)
{
	if (sqlite3_exec(s->db, ret == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		ret = -AD_ERR_CONFIG;
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int
ad_store_put(struct ad_store *s, const char *key, const struct ad_user *user)
{
	int ret;

	ret = tx_begin(s);
	if (ret < 0)
		return ret;
	if (user != NULL)
		ret = users_write(s, key, user);
	else
		ret = exec_key(s->db, "DELETE FROM answers WHERE key = ?1", key, 0);
	if (ret == 0)
		ret = exec_key(s->db,
			       "DELETE FROM answers WHERE key IN (SELECT key FROM answers"
			       " ORDER BY stored DESC LIMIT -1 OFFSET ?1)",
			       NULL, (int64_t)s->max_rows);
	return tx_end(s, ret);
}

int
ad_store_forget(struct ad_store *s, const char *key, char *const *keys, size_t count)
{
	size_t i;
	int ret;

	ret = tx_begin(s);
	if (ret < 0)
		return ret;
	if (key == NULL && count == 0)
		ret = sqlite3_exec(s->db, "DELETE FROM answers", NULL, NULL, NULL) == SQLITE_OK
			  ? 0
			  : -AD_ERR_CONFIG;
	if (ret == 0 && key != NULL)
		ret = exec_key(s->db, "DELETE FROM answers WHERE key = ?1", key, 0);
	for (i = 0; ret == 0 && i < count; i++)
		ret = exec_key(s->db, "DELETE FROM answers WHERE key = ?1", keys[i], 0);
	return tx_end(s, ret);
}

static char *
col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL ? strdup((const char *)t) : NULL;
}

/* The user of the current row; NULL on ENOMEM or a row without its required fields. */
static struct ad_user *
row_user(sqlite3_stmt *st)
{
	struct ad_user *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	u->dn = col_dup(st, 2);
	u->sam = col_dup(st, 3);
	u->upn = col_dup(st, 4);
	u->display_name = col_dup(st, 5);
	u->mail = col_dup(st, 6);
	u->sip_uri = col_dup(st, 7);
	u->sid = col_dup(st, 9);
	u->uac = (uint32_t)sqlite3_column_int64(st, 11);
	u->account_expires = sqlite3_column_int64(st, 12);
	u->flags = (unsigned)sqlite3_column_int64(st, 13);
	if (u->dn == NULL || u->sam == NULL || u->sid == NULL ||
	    strv_split((const char *)sqlite3_column_text(st, 8), &u->aliases, &u->alias_count) <
		0 ||
	    strv_split((const char *)sqlite3_column_text(st, 10), &u->group_sids, &u->group_count) <
		0) {
		ad_user_free(u);
		return NULL;
	}
	return u;
}

int
ad_store_load(struct ad_store *s, struct ad_cache *cache, char *reason)
{
	int64_t wall = wall_ms(), mono = ad_now_ms(), age;
	sqlite3_stmt *st = NULL;
	struct ad_user *u;
	int rc, n = 0, ret = 0;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "SELECT * FROM answers ORDER BY stored", -1, &st, NULL) !=
	    SQLITE_OK) {
		ad_reason_set(reason, "cache file: %s", sqlite3_errmsg(s->db));
		ret = -AD_ERR_CONFIG;
		goto done;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((u = row_user(st)) == NULL)
			continue;
		age = wall - sqlite3_column_int64(st, 1);
		if (age < 0) /* the clock went back: take the answer as new */
			age = 0;
		if (ad_cache_put(cache, (const char *)sqlite3_column_text(st, 0), u, mono - age) ==
		    0)
			n++;
		ad_user_free(u);
	}
	if (rc != SQLITE_DONE) {
		ad_reason_set(reason, "cache file: %s", sqlite3_errmsg(s->db));
		ret = -AD_ERR_CONFIG;
	}
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return ret < 0 ? ret : n;
}
