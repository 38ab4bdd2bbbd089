/*
 * pg_check.c - what `greenwichd --check-config` asks of a PostgreSQL store:
 * is the database reachable with this connection string, and is its schema
 * one this Greenwich knows?  Nothing is written (no migration, no table
 * made): one connection of its own, read only, closed again.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

int
gwstore_pg_check(const char *conninfo, char *note, size_t notelen, char *err, size_t errlen)
{
	static const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname",
					   NULL};
	const char *vals[] = {"5", "greenwich-check", conninfo, NULL};
	static const char *const parts[] = {"location", "state"};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	PGresult *r = NULL;
	int ret = -EIO, older = 0;

	note[0] = '\0';
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "PostgreSQL: %s", c ? PQerrorMessage(c) : "out of memory");
		chomp(err);
		goto done;
	}
	r = PQexec(c, "SELECT to_regclass('gw_schema') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "PostgreSQL: %s", PQresultErrorMessage(r));
		chomp(err);
		goto done;
	}
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		snprintf(note, notelen,
			 "PostgreSQL reachable; no Greenwich tables yet (made at the first start)");
		ret = 0;
		goto done;
	}
	PQclear(r);
	r = PQexec(c, "SELECT part, version FROM gw_schema");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "PostgreSQL: %s", PQresultErrorMessage(r));
		chomp(err);
		goto done;
	}
	for (int i = 0; i < PQntuples(r); i++)
		for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
			int want = gwstore_schema_version((enum gwstore_part)k);
			int have = atoi(PQgetvalue(r, i, 1));
			if (strcmp(PQgetvalue(r, i, 0), parts[k]) != 0)
				continue;
			if (have > want) {
				snprintf(err, errlen,
					 "PostgreSQL: schema version %d of the %s tables is newer "
					 "than this Greenwich knows (%d)",
					 have, parts[k], want);
				ret = -EPROTO;
				goto done;
			}
			older += have < want;
		}
	snprintf(note, notelen, "PostgreSQL reachable, schema %s",
		 older ? "older: migrated at the next start" : "current");
	ret = 0;
done:
	PQclear(r);
	PQfinish(c);
	return ret;
}
