/*
 * test_cache.c - libgwad's lookup cache: TTLs, negative answers, LRU eviction, keys,
 * concurrent use.
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

/* 1 and the user's sAMAccountName, 1 and "-" for a negative answer, 0 for a miss. */
static int
get_sam(struct ad_cache *c, const char *key, int64_t now, char *sam)
{
	struct ad_user *u = NULL;
	int ret = ad_cache_get(c, key, now, &u);

	sam[0] = '\0';
	if (ret == 1)
		strcpy(sam, u != NULL ? u->sam : "-");
	ad_user_free(u);
	return ret;
}

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
	assert_int_equal(ad_cache_count(c), 0);
	assert_int_equal(get_sam(c, "s:unknown", 0, sam), 0);
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
	    cmocka_unit_test(test_lru_eviction),
	    cmocka_unit_test(test_replace_and_clear),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
