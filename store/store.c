/*
 * store.c - libgwstore's entry points: the opener that picks the backend, and
 * the functions of gwstore.h, each one call through the backend's table.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "digest.h"
#include "gwconf.h"
#include "store_backend.h"

static const char *const backend_names[] = {
    [GWSTORE_SQLITE] = "sqlite",
    [GWSTORE_POSTGRESQL] = "postgresql",
};

int
gwstore_backend_parse(const char *name, enum gwstore_backend *out)
{
	for (size_t i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]); i++)
		if (strcasecmp(name, backend_names[i]) == 0) {
			*out = (enum gwstore_backend)i;
			return 0;
		}
	return -EINVAL;
}

const char *
gwstore_backend_name(enum gwstore_backend b)
{
	return (size_t)b < sizeof(backend_names) / sizeof(backend_names[0]) ? backend_names[b]
									    : "unknown";
}

int
gwstore_schema_version(enum gwstore_part part)
{
	return part == GWSTORE_LOCATION ? GWSTORE_LOCATION_VERSION : GWSTORE_STATE_VERSION;
}

int
gwstore_open(struct gwstore **out, const struct gwstore_params *p, enum gwstore_part part,
	     char *err, size_t errlen)
{
	*out = NULL;
	switch (p->backend) {
	case GWSTORE_SQLITE:
		return gwstore_sqlite_open(out, p, part, err, errlen);
	case GWSTORE_POSTGRESQL:
		return gwstore_pg_open(out, p, part, err, errlen);
	}
	snprintf(err, errlen, "unknown store backend %d", (int)p->backend);
	return -EINVAL;
}

int
gwstore_open_conf(struct gwstore **out, const struct gw_conf *c, enum gwstore_part part, char *err,
		  size_t errlen)
{
	struct gwstore_params p = {
	    .state_dir = c->state_dir,
	    .conninfo = c->store_conninfo,
	    .pool_size = c->store_pool_size,
	};

	*out = NULL;
	if (gwstore_backend_parse(c->store_backend, &p.backend) < 0) {
		snprintf(err, errlen, "[store] backend: unknown backend \"%s\"", c->store_backend);
		return -EINVAL;
	}
	return gwstore_open(out, &p, part, err, errlen);
}

int
gwstore_check_conf(const struct gw_conf *c, char *note, size_t notelen, char *err, size_t errlen)
{
	enum gwstore_backend b;

	note[0] = '\0';
	if (gwstore_backend_parse(c->store_backend, &b) < 0) {
		snprintf(err, errlen, "[store] backend: unknown backend \"%s\"", c->store_backend);
		return -EINVAL;
	}
	if (b == GWSTORE_SQLITE)
		return 0; /* a file of this machine: made or migrated at start */
	return gwstore_pg_check(c->store_conninfo, note, notelen, err, errlen);
}

void
gwstore_close(struct gwstore *st)
{
	if (st != NULL)
		st->ops->close(st);
}

const char *
gwstore_error(struct gwstore *st)
{
	return st->ops->error(st);
}

bool
gwstore_is_local(const struct gwstore *st)
{
	return st->ops->local;
}

int
gwstore_begin(struct gwstore *st, bool wait)
{
	return st->ops->begin(st, wait);
}

int
gwstore_commit(struct gwstore *st)
{
	return st->ops->commit(st);
}

void
gwstore_rollback(struct gwstore *st)
{
	st->ops->rollback(st);
}

bool
gwstore_wants_checkpoint(const struct gwstore *st)
{
	return st->ops->wants_checkpoint(st);
}

void
gwstore_checkpoint(struct gwstore *st)
{
	st->ops->checkpoint(st);
}

int
gwstore_binding_put(struct gwstore *st, const struct gwstore_binding *b)
{
	return st->ops->binding_put(st, b);
}

int
gwstore_binding_delete(struct gwstore *st, const char *aor, const char *uri)
{
	return st->ops->binding_delete(st, aor, uri);
}

int
gwstore_binding_expire(struct gwstore *st, time_t now)
{
	return st->ops->binding_expire(st, now);
}

int
gwstore_binding_each(struct gwstore *st, time_t now,
		     int (*cb)(const struct gwstore_binding *, void *), void *arg)
{
	return st->ops->binding_each(st, now, cb, arg);
}

int
gwstore_pub_put(struct gwstore *st, const struct gwstore_pub *p)
{
	return st->ops->pub_put(st, p);
}

int
gwstore_pub_delete(struct gwstore *st, const char *etag)
{
	return st->ops->pub_delete(st, etag);
}

int
gwstore_pub_each(struct gwstore *st, time_t now, int (*cb)(const struct gwstore_pub *, void *),
		 void *arg)
{
	return st->ops->pub_each(st, NULL, now, cb, arg);
}

int
gwstore_pub_aor(struct gwstore *st, const char *aor, time_t now,
		int (*cb)(const struct gwstore_pub *, void *), void *arg)
{
	return st->ops->pub_each(st, aor, now, cb, arg);
}

int
gwstore_sub_put(struct gwstore *st, const struct gwstore_sub *s, int64_t *id)
{
	return st->ops->sub_put(st, s, id);
}

int
gwstore_sub_delete(struct gwstore *st, int64_t id)
{
	return st->ops->sub_delete(st, id);
}

int
gwstore_sub_each(struct gwstore *st, time_t now, int (*cb)(const struct gwstore_sub *, void *),
		 void *arg)
{
	return st->ops->sub_each(st, now, cb, arg);
}

int
gwstore_acl_get(struct gwstore *st, const char *owner, const char *watcher, char *rule, size_t len)
{
	return st->ops->acl_get(st, owner, watcher, rule, len);
}

int
gwstore_acl_set(struct gwstore *st, const char *owner, const char *watcher, const char *rule)
{
	if (rule != NULL && strcmp(rule, "allow") != 0 && strcmp(rule, "block") != 0)
		return -EINVAL;
	return st->ops->acl_set(st, owner, watcher, rule);
}

int
gwstore_acl_each(struct gwstore *st, const char *owner,
		 void (*cb)(const char *watcher, const char *rule, void *), void *arg)
{
	return st->ops->acl_each(st, owner, cb, arg);
}

int
gwstore_contact_set(struct gwstore *st, const char *owner, const char *uri, const char *name,
		    const char *groups, int subscribed)
{
	return st->ops->contact_set(st, owner, uri, name ? name : "", groups ? groups : "",
				    subscribed);
}

int
gwstore_contact_delete(struct gwstore *st, const char *owner, const char *uri)
{
	return st->ops->contact_delete(st, owner, uri);
}

bool
gwstore_contact_has(struct gwstore *st, const char *owner, const char *uri)
{
	return st->ops->contact_has(st, owner, uri);
}

int
gwstore_contacts_each(struct gwstore *st, const char *owner,
		      void (*cb)(const char *uri, const char *name, const char *groups,
				 int subscribed, void *),
		      void *arg)
{
	return st->ops->contacts_each(st, owner, cb, arg);
}

int
gwstore_group_set(struct gwstore *st, const char *owner, int64_t *id, const char *name)
{
	return st->ops->group_set(st, owner, id, name);
}

int64_t
gwstore_group_find(struct gwstore *st, const char *owner, const char *name)
{
	return st->ops->group_find(st, owner, name);
}

int
gwstore_group_name(struct gwstore *st, const char *owner, int64_t id, char *name, size_t len)
{
	return st->ops->group_name(st, owner, id, name, len);
}

int
gwstore_group_delete(struct gwstore *st, const char *owner, int64_t id)
{
	return st->ops->group_delete(st, owner, id);
}

int
gwstore_groups_each(struct gwstore *st, const char *owner,
		    void (*cb)(int64_t id, const char *name, void *), void *arg)
{
	return st->ops->groups_each(st, owner, cb, arg);
}

int64_t
gwstore_delta(struct gwstore *st, const char *owner)
{
	return st->ops->delta(st, owner);
}

int
gwstore_owners_each(struct gwstore *st, void (*cb)(const char *owner, void *), void *arg)
{
	return st->ops->owners_each(st, cb, arg);
}

int
gwstore_account_get(struct gwstore *st, const char *aor, struct gwstore_account *acct)
{
	return st->ops->account_get(st, aor, acct);
}

int
gwstore_account_set(struct gwstore *st, const char *aor, const char *realm, const char *password)
{
	struct gwstore_account a = {0};
	char user[256];
	const char *at = strchr(aor, '@');
	int ret = -EIO;

	if (at == NULL || at == aor || at[1] == '\0' || (size_t)(at - aor) >= sizeof(user) ||
	    strlen(aor) >= sizeof(a.aor) || strlen(realm) >= sizeof(a.realm))
		return -EINVAL;
	memcpy(user, aor, (size_t)(at - aor));
	user[at - aor] = '\0';
	snprintf(a.aor, sizeof(a.aor), "%s", aor);
	snprintf(a.realm, sizeof(a.realm), "%s", realm);
	if (gw_digest_ha1(GW_DIGEST_MD5, a.ha1_md5, user, realm, password) == 0 &&
	    gw_digest_ha1(GW_DIGEST_SHA256, a.ha1_sha256, user, realm, password) == 0)
		ret = st->ops->account_put(st, &a);
	OPENSSL_cleanse(&a, sizeof(a));
	/* the front ends of a pool keep the accounts in memory: read them anew */
	if (ret == 0)
		st->ops->notify(st, GWSTORE_CHANNEL_ACCOUNTS, aor);
	return ret;
}

int
gwstore_account_remove(struct gwstore *st, const char *aor)
{
	int ret = st->ops->account_remove(st, aor);

	if (ret == 0)
		st->ops->notify(st, GWSTORE_CHANNEL_ACCOUNTS, aor);
	return ret;
}

int
gwstore_account_each(struct gwstore *st, int (*cb)(const struct gwstore_account *, void *),
		     void *arg)
{
	return st->ops->account_each(st, cb, arg);
}

int
gwstore_accounts_version(struct gwstore *st, int64_t *out)
{
	return st->ops->accounts_version ? st->ops->accounts_version(st, out) : -EOPNOTSUPP;
}

int
gwstore_binding_aor(struct gwstore *st, const char *aor, time_t now,
		    int (*cb)(const struct gwstore_binding *, void *), void *arg)
{
	return st->ops->binding_aor(st, aor, now, cb, arg);
}

int
gwstore_sub_add(struct gwstore *st, const struct gwstore_sub *s)
{
	return s->id > 0 ? st->ops->sub_add(st, s) : -EINVAL;
}

int
gwstore_frontend_beat(struct gwstore *st, const struct gwstore_frontend *fe)
{
	return st->ops->frontend_beat(st, fe);
}

int
gwstore_frontend_remove(struct gwstore *st, const char *id)
{
	return st->ops->frontend_remove(st, id);
}

int
gwstore_frontend_each(struct gwstore *st, int (*cb)(const struct gwstore_frontend *, void *),
		      void *arg)
{
	return st->ops->frontend_each(st, cb, arg);
}

int
gwstore_control_ask(struct gwstore *st, const char *frontend, const char *request,
		    const char *requester, int ttl, int64_t *id)
{
	if (st->ops->control_ask == NULL)
		return -EOPNOTSUPP;
	return st->ops->control_ask(st, frontend, request, requester, ttl, id);
}

int
gwstore_control_take(struct gwstore *st, const char *frontend,
		     void (*cb)(const struct gwstore_control *, void *), void *arg)
{
	if (st->ops->control_take == NULL)
		return -EOPNOTSUPP;
	return st->ops->control_take(st, frontend, cb, arg);
}

int
gwstore_control_answer(struct gwstore *st, int64_t id, const char *reply)
{
	if (st->ops->control_answer == NULL)
		return -EOPNOTSUPP;
	return st->ops->control_answer(st, id, reply);
}

int
gwstore_control_reply(struct gwstore *st, int64_t id, bool *taken, char **reply)
{
	*taken = false;
	*reply = NULL;
	if (st->ops->control_reply == NULL)
		return -EOPNOTSUPP;
	return st->ops->control_reply(st, id, taken, reply);
}

int
gwstore_control_delete(struct gwstore *st, int64_t id, bool *taken)
{
	bool t = false;

	if (taken == NULL)
		taken = &t;
	*taken = false;
	if (st->ops->control_delete == NULL)
		return -EOPNOTSUPP;
	return st->ops->control_delete(st, id, taken);
}

int
gwstore_control_purge(struct gwstore *st)
{
	if (st->ops->control_purge == NULL)
		return -EOPNOTSUPP;
	return st->ops->control_purge(st);
}

int
gwstore_notify(struct gwstore *st, const char *channel, const char *payload)
{
	return st->ops->notify(st, channel, payload ? payload : "");
}

int
gwstore_listener_open(struct gwstore_listener **out, const struct gw_conf *c,
		      const char *const *channels, size_t n, char *err, size_t errlen)
{
	enum gwstore_backend b;

	*out = NULL;
	if (gwstore_backend_parse(c->store_backend, &b) < 0 || b != GWSTORE_POSTGRESQL) {
		snprintf(err, errlen, "notifications need [store] backend = postgresql");
		return -EOPNOTSUPP;
	}
	return gwstore_pg_listener_open(out, c->store_conninfo, channels, n, err, errlen);
}
