/*
 * test_store.c - libgwad's cache on disk: answers written, read back into a new cache
 * (every field, under every key of the user) with their age, so that they are stale
 * answers after a restart; not-found answers removed; the file's mode and size bound; a
 * file that is no cache replaced.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ad_private.h"

static char dir[] = "/tmp/gwad-store.XXXXXX";
static char path[300];

static int
setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/directory-cache.db", dir);
	return 0;
}

/* The cache file and SQLite's side files. */
static void
files_remove(void)
{
	static const char *const ext[] = {"-journal", "-wal", "-shm", ""};
	char file[320];
	size_t i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", path, ext[i]);
		unlink(file);
	}
}

static int
teardown(void **state)
{
	files_remove();
	rmdir(dir);
	return 0;
}

static struct ad_user *
user_make(const char *sam, const char *uri)
{
	struct ad_user *u = calloc(1, sizeof(*u));
	char buf[200];

	u->sam = strdup(sam);
	snprintf(buf, sizeof(buf), "CN=%s,CN=Users,DC=corp,DC=example,DC=com", sam);
	u->dn = strdup(buf);
	snprintf(buf, sizeof(buf), "%s@corp.example.com", sam);
	u->upn = strdup(buf);
	u->mail = strdup(buf);
	u->display_name = strdup("Some One");
	u->sip_uri = strdup(uri);
	u->sid = strdup("S-1-5-21-1-2-3-1104");
	u->alias_count = 1;
	u->aliases = calloc(1, sizeof(char *));
	snprintf(buf, sizeof(buf), "sip:%s.alias@corp.example.com", sam);
	u->aliases[0] = strdup(buf);
	u->group_count = 2;
	u->group_sids = calloc(2, sizeof(char *));
	u->group_sids[0] = strdup("S-1-5-21-1-2-3-513");
	u->group_sids[1] = strdup("S-1-5-21-1-2-3-1105");
	u->uac = 512;
	u->account_expires = 4102444800; /* 2100 */
	u->flags = AD_USER_SIP_ENABLED;
	return u;
}

static void
test_roundtrip(void **state)
{
	struct ad_user *erin = user_make("erin", "sip:erin@corp.example.com"), *u = NULL;
	char wal[330];
	struct ad_store *s;
	struct ad_cache *c;
	struct stat st;
	int64_t now;

	files_remove();
	assert_int_equal(ad_store_open(path, 100, &s, NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* erin signs in by account name: her URIs are written as well */
	assert_int_equal(ad_store_put(s, "s:erin", erin), 0);
	/* SQLite's side files take the mode of the database */
	strcat(strcpy(wal, path), "-wal");
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	erin->flags |= AD_USER_DISABLED;
	assert_int_equal(ad_store_put(s, "s:corp\\erin", erin), 0);
	ad_store_close(s);

	/* a new process: the answers come back as they were, and already old */
	assert_int_equal(ad_store_open(path, 100, &s, NULL), 0);
	c = ad_cache_alloc(100, 60000, 1000);
	assert_int_equal(ad_store_load(s, c, NULL), 5);
	now = ad_now_ms();
	assert_int_equal(ad_cache_get(c, "u:erin@corp.example.com", now, &u), 1);
	assert_non_null(u);
	assert_string_equal(u->sam, "erin");
	assert_string_equal(u->dn, "CN=erin,CN=Users,DC=corp,DC=example,DC=com");
	assert_string_equal(u->upn, "erin@corp.example.com");
	assert_string_equal(u->display_name, "Some One");
	assert_string_equal(u->sip_uri, "sip:erin@corp.example.com");
	assert_int_equal(u->alias_count, 1);
	assert_string_equal(u->aliases[0], "sip:erin.alias@corp.example.com");
	assert_int_equal(u->group_count, 2);
	assert_string_equal(u->group_sids[1], "S-1-5-21-1-2-3-1105");
	assert_int_equal(u->uac, 512);
	assert_int_equal(u->account_expires, 4102444800);
	/* the later answer (disabled) won */
	assert_int_equal(u->flags, AD_USER_SIP_ENABLED | AD_USER_DISABLED);
	ad_user_free(u);
	assert_int_equal(ad_cache_get(c, "u:erin.alias@corp.example.com", now, &u), 1);
	ad_user_free(u);
	assert_int_equal(ad_cache_get(c, "p:erin@corp.example.com", now, &u), 1);
	ad_user_free(u);
	/* their age came along: past the TTL they are only the last known answers */
	assert_int_equal(ad_cache_get(c, "s:erin", now + 61000, &u), 0);
	assert_int_equal(ad_cache_get_stale(c, "s:erin", now + 61000, 0, &u), 1);
	assert_non_null(u);
	ad_user_free(u);
	ad_cache_free(c);

	/* not found any more: that key is forgotten on disk */
	assert_int_equal(ad_store_put(s, "s:erin", NULL), 0);
	ad_store_close(s);
	assert_int_equal(ad_store_open(path, 100, &s, NULL), 0);
	c = ad_cache_alloc(100, 60000, 1000);
	assert_int_equal(ad_store_load(s, c, NULL), 4);
	assert_int_equal(ad_cache_get_stale(c, "s:erin", ad_now_ms(), 0, &u), 0);
	ad_cache_free(c);
	ad_store_close(s);
	ad_user_free(erin);
}

static void
test_bounded(void **state)
{
	struct ad_store *s;
	struct ad_cache *c;
	struct ad_user *u;
	char sam[32], uri[64], key[64];
	int i;

	files_remove();
	assert_int_equal(ad_store_open(path, 10, &s, NULL), 0);
	for (i = 0; i < 20; i++) {
		snprintf(sam, sizeof(sam), "user%d", i);
		snprintf(uri, sizeof(uri), "sip:user%d@corp.example.com", i);
		snprintf(key, sizeof(key), "u:%s", uri + 4);
		u = user_make(sam, uri);
		assert_int_equal(ad_store_put(s, key, u), 0);
		ad_user_free(u);
		usleep(2000); /* distinct times: the oldest go */
	}
	c = ad_cache_alloc(100, 60000, 1000);
	assert_int_equal(ad_store_load(s, c, NULL), 10);
	assert_int_equal(ad_cache_get_stale(c, "s:user19", ad_now_ms(), 0, &u), 1);
	ad_user_free(u);
	assert_int_equal(ad_cache_get_stale(c, "s:user0", ad_now_ms(), 0, &u), 0);
	ad_cache_free(c);
	ad_store_close(s);
}

static void
test_not_a_cache(void **state)
{
	struct ad_store *s;
	struct ad_cache *c;
	struct stat st;
	FILE *fp;

	files_remove();
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("this is not an SQLite database, but it is long enough to look like one......"
	      "..................................................................\n",
	      fp);
	fclose(fp);
	chmod(path, 0644);
	assert_int_equal(ad_store_open(path, 10, &s, NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	c = ad_cache_alloc(10, 1000, 1000);
	assert_int_equal(ad_store_load(s, c, NULL), 0);
	ad_cache_free(c);
	ad_store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_not_a_cache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
