/*
 * ad_cache.c - lookup answers kept for a while: positive and negative TTLs, at most
 * max_entries (least recently used go first), one mutex. An answer past its TTL is no
 * longer a hit but stays (stale) until it is replaced or evicted: it is the last known
 * answer, used while no DC answers (ad_cache_get_stale()).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ad_private.h"

struct ad_centry {
	struct ad_centry *hnext;       /* hash chain */
	struct ad_centry *prev, *next; /* LRU list, most recent first */
	char *key;
	struct ad_user *user; /* NULL: negative answer */
	int64_t stored_ms;    /* when the answer came from a DC */
	int64_t expires_ms;   /* fresh until then, stale after */
};

struct ad_cache {
	pthread_mutex_t lock;
	struct ad_centry **buckets;
	size_t nbuckets;
	struct ad_centry *head, *tail;
	size_t count, max;
	int ttl_ms, negative_ttl_ms;
};

static size_t
key_hash(const char *key)
{
	size_t h = 14695981039346656037ULL;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return h;
}

struct ad_cache *
ad_cache_alloc(size_t max_entries, int ttl_ms, int negative_ttl_ms)
{
	struct ad_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->max = max_entries > 0 ? max_entries : 1;
	for (c->nbuckets = 16; c->nbuckets < c->max * 2; c->nbuckets *= 2)
		;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (c->buckets == NULL) {
		free(c);
		return NULL;
	}
	c->ttl_ms = ttl_ms;
	c->negative_ttl_ms = negative_ttl_ms;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

static struct ad_centry **
slot_find(struct ad_cache *c, const char *key)
{
	struct ad_centry **pp = &c->buckets[key_hash(key) & (c->nbuckets - 1)];

	while (*pp != NULL && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

static void
lru_unlink(struct ad_cache *c, struct ad_centry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push(struct ad_cache *c, struct ad_centry *e)
{
	e->next = c->head;
	e->prev = NULL;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

/* Unlinks and frees the entry that *pp points to. */
static void
entry_drop(struct ad_cache *c, struct ad_centry **pp)
{
	struct ad_centry *e = *pp;

	*pp = e->hnext;
	lru_unlink(c, e);
	ad_user_free(e->user);
	free(e->key);
	free(e);
	c->count--;
}

/*
 * Finds @key: with @max_age_ms < 0 only a fresh answer, with 0 any, else one stored at
 * most that long ago. 1 and a copy of the user (NULL: negative), 0 or -ENOMEM.
 */
static int
cache_find(struct ad_cache *c, const char *key, int64_t now_ms, int64_t max_age_ms,
	   struct ad_user **userp)
{
	struct ad_centry **pp;
	int ret = 0;

	*userp = NULL;
	pthread_mutex_lock(&c->lock);
	pp = slot_find(c, key);
	if (*pp == NULL)
		goto done;
	if (max_age_ms < 0 ? (*pp)->expires_ms <= now_ms
			   : max_age_ms > 0 && now_ms - (*pp)->stored_ms > max_age_ms)
		goto done;
	lru_unlink(c, *pp);
	lru_push(c, *pp);
	ret = 1;
	if ((*pp)->user != NULL) {
		*userp = ad_user_dup((*pp)->user);
		if (*userp == NULL)
			ret = -ENOMEM;
	}
done:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int
ad_cache_get(struct ad_cache *c, const char *key, int64_t now_ms, struct ad_user **userp)
{
	return cache_find(c, key, now_ms, -1, userp);
}

int
ad_cache_get_stale(struct ad_cache *c, const char *key, int64_t now_ms, int64_t max_age_ms,
		   struct ad_user **userp)
{
	return cache_find(c, key, now_ms, max_age_ms > 0 ? max_age_ms : 0, userp);
}

int
ad_cache_put(struct ad_cache *c, const char *key, const struct ad_user *user, int64_t now_ms)
{
	struct ad_centry **pp, *e = calloc(1, sizeof(*e));
	int ret = -ENOMEM;

	if (e == NULL)
		return -ENOMEM;
	e->key = strdup(key);
	e->user = user != NULL ? ad_user_dup(user) : NULL;
	if (e->key == NULL || (user != NULL && e->user == NULL))
		goto done;
	e->stored_ms = now_ms;
	e->expires_ms = now_ms + (user != NULL ? c->ttl_ms : c->negative_ttl_ms);
	pthread_mutex_lock(&c->lock);
	pp = slot_find(c, key);
	if (*pp != NULL)
		entry_drop(c, pp);
	while (c->count >= c->max)
		entry_drop(c, slot_find(c, c->tail->key));
	pp = slot_find(c, key);
	*pp = e;
	lru_push(c, e);
	c->count++;
	pthread_mutex_unlock(&c->lock);
	e = NULL;
	ret = 0;
done:
	if (e != NULL) {
		ad_user_free(e->user);
		free(e->key);
		free(e);
	}
	return ret;
}

/* Drops @key if it is there; 1 when it was. */
static int
cache_drop(struct ad_cache *c, const char *key)
{
	struct ad_centry **pp;
	int dropped = 0;

	pthread_mutex_lock(&c->lock);
	pp = slot_find(c, key);
	if (*pp != NULL) {
		entry_drop(c, pp);
		dropped = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return dropped;
}

int
ad_cache_forget(struct ad_cache *c, const char *key, char ***keysp, size_t *countp)
{
	struct ad_user *u = NULL;
	char **keys = NULL;
	size_t i, n = 0;
	int ret, dropped;

	*keysp = NULL;
	*countp = 0;
	ret = cache_find(c, key, 0, 0, &u);
	if (ret < 0)
		return ret;
	if (u != NULL) {
		ret = ad_user_keys(u, &keys, &n);
		ad_user_free(u);
		if (ret < 0)
			return ret;
	}
	dropped = cache_drop(c, key);
	for (i = 0; i < n; i++)
		if (strcmp(keys[i], key) != 0)
			dropped += cache_drop(c, keys[i]);
	*keysp = keys;
	*countp = n;
	return dropped;
}

void
ad_cache_clear(struct ad_cache *c)
{
	pthread_mutex_lock(&c->lock);
	while (c->head != NULL)
		entry_drop(c, slot_find(c, c->head->key));
	pthread_mutex_unlock(&c->lock);
}

size_t
ad_cache_count(struct ad_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

void
ad_cache_free(struct ad_cache *c)
{
	if (c == NULL)
		return;
	ad_cache_clear(c);
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}

char *
ad_cache_key(const struct ad_query *query)
{
	static const char tag[] = {[AD_QUERY_SIP_URI] = 'u',
				   [AD_QUERY_SAM] = 's',
				   [AD_QUERY_UPN] = 'p',
				   [AD_QUERY_ANY] = 'a'};
	const char *v = query->type == AD_QUERY_SIP_URI || query->type == AD_QUERY_ANY
			    ? gw_uri_addr(query->value)
			    : query->value;
	size_t i, n = strlen(v);
	char *key = malloc(n + 3);

	if (key == NULL)
		return NULL;
	key[0] = tag[query->type];
	key[1] = ':';
	for (i = 0; i <= n; i++)
		key[i + 2] = (char)tolower((unsigned char)v[i]);
	return key;
}

/* Appends the key of (@type, @value) to @keys unless it is there already. */
static int
keys_add(char **keys, size_t *np, enum ad_query_type type, const char *value)
{
	struct ad_query q = {type, value};
	char *key;
	size_t i;

	if (value == NULL || value[0] == '\0')
		return 0;
	if ((key = ad_cache_key(&q)) == NULL)
		return -ENOMEM;
	for (i = 0; i < *np; i++)
		if (strcmp(keys[i], key) == 0)
			break;
	if (i < *np)
		free(key);
	else
		keys[(*np)++] = key;
	return 0;
}

int
ad_user_keys(const struct ad_user *user, char ***keysp, size_t *countp)
{
	char **keys = calloc(user->alias_count + 4, sizeof(char *));
	size_t i, n = 0;
	int ret = -ENOMEM;

	if (keys == NULL)
		return -ENOMEM;
	if (keys_add(keys, &n, AD_QUERY_SIP_URI, user->sip_uri) < 0 ||
	    keys_add(keys, &n, AD_QUERY_SAM, user->sam) < 0 ||
	    keys_add(keys, &n, AD_QUERY_UPN, user->upn) < 0)
		goto done;
	for (i = 0; i < user->alias_count; i++)
		if (keys_add(keys, &n, AD_QUERY_SIP_URI, user->aliases[i]) < 0)
			goto done;
	ret = 0;
done:
	if (ret < 0) {
		ad_strv_free(keys, n);
		n = 0;
		keys = NULL;
	}
	*keysp = keys;
	*countp = n;
	return ret;
}

int
ad_cache_put_user(struct ad_cache *c, const char *key, const struct ad_user *user, int64_t now_ms)
{
	char **keys = NULL;
	size_t i, n = 0;
	int ret;

	ret = key != NULL ? ad_cache_put(c, key, user, now_ms) : 0;
	if (ret < 0 || user == NULL)
		return ret;
	ret = ad_user_keys(user, &keys, &n);
	for (i = 0; ret == 0 && i < n; i++)
		if (key == NULL || strcmp(keys[i], key) != 0)
			ret = ad_cache_put(c, keys[i], user, now_ms);
	ad_strv_free(keys, n);
	return ret;
}
