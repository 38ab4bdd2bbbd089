/*
 * pool.c - `greenwich-mmc pool status`: the front ends of the pool as the store
 * records them (every greenwichd beats there; see greenwichd(8), [pool]), with
 * the age of each one's last heartbeat, its load and its health.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gwconf.h"
#include "gwstore.h"
#include "mmc.h"

struct rows {
	const struct gw_conf *conf;
	struct mmc_table *t;
	json_object *arr;
	size_t n, down;
};

/* up: heartbeat within dead-after; late: missed one or more; down: out of the pool */
static const char *
health(const struct gw_conf *c, int64_t age)
{
	if (age >= c->pool_dead_after)
		return "down";
	if (age > 2 * (int64_t)c->pool_heartbeat)
		return "late";
	return "up";
}

static int
row(const struct gwstore_frontend *fe, void *arg)
{
	struct rows *r = arg;
	const char *h = health(r->conf, fe->age);
	char age[24], load[24], bindings[24];

	r->n++;
	r->down += strcmp(h, "down") == 0;
	if (r->arr) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(fe->id));
		json_object_object_add(o, "address", json_object_new_string(fe->address));
		json_object_object_add(o, "version", json_object_new_string(fe->version));
		json_object_object_add(o, "started", json_object_new_int64(fe->started));
		json_object_object_add(o, "heartbeat_age", json_object_new_int64(fe->age));
		json_object_object_add(o, "load", json_object_new_int64(fe->load));
		json_object_object_add(o, "bindings", json_object_new_int64(fe->bindings));
		json_object_object_add(o, "health", json_object_new_string(h));
		json_object_array_add(r->arr, o);
		return 0;
	}
	snprintf(age, sizeof(age), "%" PRId64 "s", fe->age);
	snprintf(load, sizeof(load), "%" PRId64 "/s", fe->load);
	snprintf(bindings, sizeof(bindings), "%" PRId64, fe->bindings);
	mmc_table_add(
	    r->t, (const char *const[]){fe->id, fe->address, fe->version, age, load, bindings, h});
	return 0;
}

int
mmc_pool_cmd(struct mmc *m, int argc, char **argv)
{
	struct rows r = {.conf = m->conf};
	struct gwstore *st = NULL;
	char err[600];
	int rc;

	if (argc != 1 || strcmp(argv[0], "status") != 0)
		return mmc_fail(MMC_EXIT_USAGE, "usage: greenwich-mmc pool status");
	if (gwstore_open_conf(&st, m->conf, GWSTORE_LOCATION, err, sizeof(err)) < 0)
		return mmc_fail(MMC_EXIT_FAIL, "cannot open the store: %s", err);
	if (mmc_json)
		r.arr = json_object_new_array();
	else
		r.t = mmc_table_new(7, (const char *const[]){"FRONT END", "ADDRESS", "VERSION",
							     "HEARTBEAT", "LOAD", "BINDINGS",
							     "HEALTH"});
	rc = gwstore_frontend_each(st, row, &r);
	if (rc < 0) {
		snprintf(err, sizeof(err), "%s", gwstore_error(st));
		gwstore_close(st);
		if (r.arr)
			json_object_put(r.arr);
		mmc_table_free(r.t);
		return mmc_fail(MMC_EXIT_FAIL, "cannot read the front ends: %s", err);
	}
	gwstore_close(st);
	if (r.arr) {
		mmc_json_print(r.arr);
	} else {
		mmc_table_print(r.t, stdout);
		mmc_table_free(r.t);
		printf("%zu front end%s, %zu down (heartbeat older than %d s)\n", r.n,
		       r.n == 1 ? "" : "s", r.down, m->conf->pool_dead_after);
	}
	return MMC_EXIT_OK;
}
