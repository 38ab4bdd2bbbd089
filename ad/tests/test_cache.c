/*
 * test_cache.c - libgwad's lookup cache: TTLs, negative answers, stale answers kept past
 * their TTL, LRU eviction, keys (a user under all of its own), concurrent use.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ad_private.h"

static struct ad_user *
user_named(const char *sam)
{
	struct ad_user *u = calloc(1, sizeof(*u));

	u->sam = strdup(sam);
	u->sid = strdup("S-1-5-21-9-9-9-1000");
	return u;
}

static void
put_user(struct ad_cache *c, const char *key, const char *sam, int64_t now)
{
	struct ad_user *u = user_named(sam);

	assert_int_equal(ad_cache_put(c, key, u, now), 0);
	ad_user_free(u);
}

/*
 * 1 and the user's sAMAccountName, 1 and "-" for a negative answer, 0 for a miss: a fresh
 * answer (@max_age < 0) or the last known one at most @max_age old (0: any).
 */
static int
answer_sam(struct ad_cache *c, const char *key, int64_t now, int64_t max_age, char *sam)
{
	struct ad_user *u = NULL;
	int ret = max_age < 0 ? ad_cache_get(c, key, now, &u)
			      : ad_cache_get_stale(c, key, now, max_age, &u);

	sam[0] = '\0';
	if (ret == 1)
		strcpy(sam, u != NULL ? u->sam : "-");
	ad_user_free(u);
	return ret;
}

#define get_sam(c, key, now, sam) answer_sam(c, key, now, -1, sam)
#define get_stale(c, key, now, max_age, sam) answer_sam(c, key, now, max_age, sam)

static void
test_ttl(void **state)
{
	struct ad_cache *c = ad_cache_alloc(10, 1000, 200);
	char sam[64];

	put_user(c, "s:alice", "alice", 5000);
	assert_int_equal(ad_cache_put(c, "s:nobody", NULL, 5000), 0);
	assert_int_equal(ad_cache_count(c), 2);
	assert_int_equal(get_sam(c, "s:alice", 5999, sam), 1);
	assert_string_equal(sam, "alice");
	assert_int_equal(get_sam(c, "s:nobody", 5199, sam), 1);
	assert_string_equal(sam, "-");
	/* the negative answer expires first, the positive one at its own TTL */
	assert_int_equal(get_sam(c, "s:nobody", 5200, sam), 0);
	assert_int_equal(get_sam(c, "s:alice", 5800, sam), 1);
	assert_int_equal(get_sam(c, "s:alice", 6000, sam), 0);
	/* expired answers are no hits but stay, as the last known answers */
	assert_int_equal(ad_cache_count(c), 2);
	assert_int_equal(get_sam(c, "s:unknown", 0, sam), 0);
	ad_cache_free(c);
}

static void
test_stale(void **state)
{
	struct ad_cache *c = ad_cache_alloc(10, 1000, 200);
	char sam[64];

	put_user(c, "s:alice", "alice", 5000);
	assert_int_equal(ad_cache_put(c, "s:nobody", NULL, 5000), 0);
	/* fresh answers are last known answers too */
	assert_int_equal(get_stale(c, "s:alice", 5500, 0, sam), 1);
	assert_string_equal(sam, "alice");
	/* long expired: no hit, but the last known answer whatever its age */
	assert_int_equal(get_sam(c, "s:alice", 1000000, sam), 0);
	assert_int_equal(get_stale(c, "s:alice", 1000000, 0, sam), 1);
	assert_string_equal(sam, "alice");
	assert_int_equal(get_stale(c, "s:nobody", 1000000, 0, sam), 1);
	assert_string_equal(sam, "-");
	/* ... unless it is older than the offline limit */
	assert_int_equal(get_stale(c, "s:alice", 8000, 3000, sam), 1);
	assert_int_equal(get_stale(c, "s:alice", 8001, 3000, sam), 0);
	assert_int_equal(get_stale(c, "s:never", 8000, 0, sam), 0);
	/* a fresh answer replaces the stale one and is a hit again */
	put_user(c, "s:alice", "alice2", 2000000);
	assert_int_equal(get_sam(c, "s:alice", 2000001, sam), 1);
	assert_string_equal(sam, "alice2");
	/* stale answers are evicted like the others when the cache is full */
	ad_cache_free(c);
	c = ad_cache_alloc(2, 10, 10);
	put_user(c, "s:a", "a", 0);
	put_user(c, "s:b", "b", 1);
	put_user(c, "s:c", "c", 2);
	assert_int_equal(ad_cache_count(c), 2);
	assert_int_equal(get_stale(c, "s:a", 100, 0, sam), 0);
	assert_int_equal(get_stale(c, "s:b", 100, 0, sam), 1);
	ad_cache_free(c);
}

/* A user found by account name (a sign-in) answers lookups by its URIs and UPN too. */
static void
test_user_keys(void **state)
{
	struct ad_cache *c = ad_cache_alloc(10, 1000, 1000);
	struct ad_user *u = user_named("bob");
	char sam[64], **keys = NULL;
	size_t n = 0;

	u->upn = strdup("bob@corp.example.com");
	u->sip_uri = strdup("sip:Robert@corp.example.com");
	u->alias_count = 2;
	u->aliases = calloc(2, sizeof(char *));
	u->aliases[0] = strdup("sip:bobby@corp.example.com");
	u->aliases[1] = strdup("sip:robert@CORP.example.com"); /* the primary again */
	assert_int_equal(ad_user_keys(u, &keys, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(keys[0], "u:robert@corp.example.com");
	assert_string_equal(keys[1], "s:bob");
	assert_string_equal(keys[2], "p:bob@corp.example.com");
	assert_string_equal(keys[3], "u:bobby@corp.example.com");
	ad_strv_free(keys, n);
	assert_int_equal(ad_cache_put_user(c, "s:bob", u, 0), 0);
	assert_int_equal(ad_cache_count(c), 4);
	assert_int_equal(get_sam(c, "u:robert@corp.example.com", 1, sam), 1);
	assert_string_equal(sam, "bob");
	assert_int_equal(get_sam(c, "u:bobby@corp.example.com", 1, sam), 1);
	assert_int_equal(get_sam(c, "p:bob@corp.example.com", 1, sam), 1);
	/* a query key that is none of the user's own is kept as well */
	assert_int_equal(ad_cache_put_user(c, "s:corp\\bob", u, 2), 0);
	assert_int_equal(ad_cache_count(c), 5);
	/* a negative answer is stored under its query only */
	assert_int_equal(ad_cache_put_user(c, "s:nobody", NULL, 2), 0);
	assert_int_equal(ad_cache_count(c), 6);
	ad_user_free(u);
	ad_cache_free(c);
}

static void
test_lru_eviction(void **state)
{
	struct ad_cache *c = ad_cache_alloc(3, 10000, 10000);
	char sam[64];

	put_user(c, "s:a", "a", 0);
	put_user(c, "s:b", "b", 1);
	put_user(c, "s:c", "c", 2);
	/* a is used, so b is now the least recently used and goes when d comes */
	assert_int_equal(get_sam(c, "s:a", 3, sam), 1);
	put_user(c, "s:d", "d", 4);
	assert_int_equal(ad_cache_count(c), 3);
	assert_int_equal(get_sam(c, "s:b", 5, sam), 0);
	assert_int_equal(get_sam(c, "s:a", 5, sam), 1);
	assert_int_equal(get_sam(c, "s:c", 5, sam), 1);
	assert_int_equal(get_sam(c, "s:d", 5, sam), 1);
	/* after the gets the order is d c a (most recent first): e evicts a */
	put_user(c, "s:e", "e", 6);
	assert_int_equal(get_sam(c, "s:a", 7, sam), 0);
	assert_int_equal(get_sam(c, "s:e", 7, sam), 1);
	assert_string_equal(sam, "e");
	ad_cache_free(c);
}

static void
test_replace_and_clear(void **state)
{
	struct ad_cache *c = ad_cache_alloc(4, 1000, 1000);
	char sam[64];

	put_user(c, "s:x", "first", 0);
	put_user(c, "s:x", "second", 10);
	assert_int_equal(ad_cache_count(c), 1);
	assert_int_equal(get_sam(c, "s:x", 20, sam), 1);
	assert_string_equal(sam, "second");
	/* the replacement's TTL counts from its own time */
	assert_int_equal(get_sam(c, "s:x", 1005, sam), 1);
	assert_int_equal(ad_cache_put(c, "s:x", NULL, 1005), 0);
	assert_int_equal(get_sam(c, "s:x", 1006, sam), 1);
	assert_string_equal(sam, "-");
	put_user(c, "s:y", "y", 1006);
	ad_cache_clear(c);
	assert_int_equal(ad_cache_count(c), 0);
	assert_int_equal(get_sam(c, "s:y", 1007, sam), 0);
	ad_cache_free(c);
}

static void
test_keys(void **state)
{
	struct ad_query q1 = {AD_QUERY_SIP_URI, "SIP:Bobby@Corp.Example.COM"};
	struct ad_query q2 = {AD_QUERY_SIP_URI, "bobby@corp.example.com"};
	struct ad_query q3 = {AD_QUERY_SAM, "Bob"};
	struct ad_query q4 = {AD_QUERY_UPN, "bob@corp.example.com"};
	char *k1 = ad_cache_key(&q1), *k2 = ad_cache_key(&q2), *k3 = ad_cache_key(&q3);
	char *k4 = ad_cache_key(&q4);

	assert_string_equal(k1, "u:bobby@corp.example.com");
	assert_string_equal(k1, k2);
	assert_string_equal(k3, "s:bob");
	assert_string_equal(k4, "p:bob@corp.example.com");
	free(k1);
	free(k2);
	free(k3);
	free(k4);
}

static void *
hammer(void *arg)
{
	struct ad_cache *c = arg;
	char key[32], sam[64];
	int i;

	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "s:u%d", i % 50);
		if (i % 3 == 0)
			put_user(c, key, key + 2, i);
		else
			get_sam(c, key, i, sam);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct ad_cache *c = ad_cache_alloc(20, 100000, 100000);
	pthread_t t[4];
	int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, c), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(ad_cache_count(c), 20);
	ad_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ttl),
	    cmocka_unit_test(test_stale),
	    cmocka_unit_test(test_user_keys),
	    cmocka_unit_test(test_lru_eviction),
	    cmocka_unit_test(test_replace_and_clear),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
