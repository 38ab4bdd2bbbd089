/*
 * loc_fixture.h - shared fixture of the location service tests: a store in
 * a scratch directory, a loc over it, and checks that memory and the
 * database agree.
 */
#ifndef GW_LOC_FIXTURE_H
#define GW_LOC_FIXTURE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "loc.h"
#include "gwstore.h"

#define ALICE "alice@example.com"
#define BOB "bob@example.com"
#define SNAP_LEN 8192

struct fixture {
	char dir[256];
	char db[512];
	struct gwstore *st;
	struct loc *loc;
	time_t now; /* the wall clock at setup: loc_alloc loads what is live then */
};

/* Open the location store of f->dir (SQLite). */
int fx_store_open(struct fixture *f, char *err, size_t errlen);
int fx_open(struct fixture *f);
void fx_close(struct fixture *f);
/* cmocka setup and teardown: a fresh fixture in *state. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* A REGISTER with a user agent, a TCP flow and max_contacts 10. */
struct loc_register_req fx_req(const char *aor, const char *call_id, uint32_t cseq,
			       const struct loc_update *u, size_t n);
/* Register; on LOC_OK the answer must equal a lookup and memory the store. */
enum loc_result fx_reg(struct fixture *f, const struct loc_register_req *r, time_t now);
/* Register one contact (no q, no instance) from one request. */
enum loc_result fx_reg1(struct fixture *f, const char *aor, const char *call_id, uint32_t cseq,
			const char *uri, int expires, time_t now);
/* The same, asserting LOC_OK. */
void fx_bind(struct fixture *f, const char *aor, const char *call_id, uint32_t cseq,
	     const char *uri, int expires, time_t now);
/* The one live contact of aor, to be cleared by the caller. */
void fx_lookup1(struct fixture *f, const char *aor, time_t now, struct loc_contact *c);
/* How many contacts of aor are live at now. */
size_t fx_live(struct fixture *f, const char *aor, time_t now);

/* The live bindings of aor (NULL: all), one sorted line each. */
void fx_store_lines(struct fixture *f, const char *aor, time_t now, char *out, size_t len);
void fx_mem_lines(struct fixture *f, const char *aor, time_t now, char *out, size_t len);
void fx_assert_agrees(struct fixture *f, const char *aor, time_t now);
/* Memory's node count, every row of the store and every binding of ALICE. */
void fx_snapshot(struct fixture *f, char *out, size_t len);

/* A second connection to the database, as another process would hold. */
sqlite3 *fx_side_open(struct fixture *f);
void fx_side_exec(sqlite3 *db, const char *sql);

#endif
