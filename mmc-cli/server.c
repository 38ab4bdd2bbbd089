/*
 * server.c - `server status|registrations|connections|sign-out|reload|log-level|flush-cache`:
 * the live state of greenwichd and its actions, over the control socket (ctl.c).
 * The console's Status, Registrations and Connections nodes show the same.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mmc.h"

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "";
	return json_object_get_string(v);
}

static json_object *
jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

/* "bob" -> "bob@<first served domain>"; a leading "sip:" is dropped. */
void
mmc_user_aor(const struct mmc *m, const char *user, char *buf, size_t len)
{
	if (strncasecmp(user, "sip:", 4) == 0)
		user += 4;
	if (strchr(user, '@') || m->conf == NULL)
		snprintf(buf, len, "%s", user);
	else
		snprintf(buf, len, "%s@%s", user, m->conf->domains.v[0]);
}

static void
duration(long s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%ldd %ldh %ldm", s / 86400, s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, len, "%ldh %ldm %lds", s / 3600, s % 3600 / 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%ldm %lds", s / 60, s % 60);
	else
		snprintf(buf, len, "%lds", s);
}

/* Print a reply: as JSON with --json, else through fn. */
static int
output(json_object *r, void (*fn)(json_object *r))
{
	if (mmc_json)
		mmc_json_print(r);
	else {
		fn(r);
		json_object_put(r);
	}
	return MMC_EXIT_OK;
}

static void
status_print(json_object *r)
{
	json_object *c = jget(r, "counters");
	struct mmc_table *t = mmc_table_new(2, (const char *const[]){"PROPERTY", "VALUE"});
	char buf[128];
	static const char *const rows[][2] = {
	    {"registrations", "registrations"},
	    {"subscriptions", "subscriptions"},
	    {"requests", "requests"},
	    {"sign-in failures", "sign_in_failures"},
	    {"policy denials", "policy_denials"},
	    {"rejected", "rejected"},
	};

	snprintf(buf, sizeof(buf), "greenwichd %s (pid %s)", jstr(r, "version"), jstr(r, "pid"));
	mmc_table_add(t, (const char *const[]){"server", buf});
	duration(json_object_get_int64(jget(r, "uptime")), buf, sizeof(buf));
	mmc_table_add(t, (const char *const[]){"uptime", buf});
	mmc_table_add(t, (const char *const[]){"domain", jstr(r, "domain")});
	mmc_table_add(t, (const char *const[]){"workers", jstr(r, "workers")});
	mmc_table_add(t, (const char *const[]){"log-level", jstr(r, "log_level")});
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		mmc_table_add(t, (const char *const[]){rows[i][0], jstr(c, rows[i][1])});
	snprintf(buf, sizeof(buf), "%.1f (last 10 s)",
		 json_object_get_double(jget(c, "requests_per_second")));
	mmc_table_add(t, (const char *const[]){"requests/s", buf});
	/* what an outsider can make it hold (older servers do not say) */
	static const char *const live[][2] = {
	    {"dialogs", "dialogs"},
	    {"dialogs ringing", "dialogs_early"},
	    {"dialogs unacknowledged", "dialogs_unacknowledged"},
	    {"dialogs confirmed", "dialogs_confirmed"},
	    {"dialogs ending", "dialogs_ending"},
	    {"dialogs reserved", "dialogs_reserved"},
	    {"dialogs refused", "dialogs_refused"},
	    {"held-back accounts", "held_back_accounts"},
	    {"held-back addresses", "held_back_sources"},
	    {"connections", "connections"},
	    {"connection addresses", "connection_sources"},
	    {"connections refused", "connections_refused"},
	    {"handoffs refused", "handoffs_refused"},
	    {"calls refused", "calls_refused"},
	    {"dialog shares refused", "dialog_shares_refused"},
	};
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (jget(c, live[i][1]))
			mmc_table_add(t, (const char *const[]){live[i][0], jstr(c, live[i][1])});
	json_object *l = jget(r, "limits");
	if (l) {
		json_object_object_foreach(l, key, val)
		{
			char name[80];
			snprintf(name, sizeof(name), "limit %s", key);
			for (char *p = name; *p; p++)
				if (*p == '_')
					*p = '-';
			mmc_table_add(t, (const char *const[]){name, json_object_get_string(val)});
		}
	}
	mmc_table_print(t, stdout);
	mmc_table_free(t);
}

/* Ask greenwichd {"cmd":cmd[,key:value]} and print the answer through fn. */
static int
ask(struct mmc *m, const char *cmd, const char *key, const char *value, void (*fn)(json_object *))
{
	json_object *r;
	int ret = mmc_ctl_call(m, mmc_ctl_req(cmd, key, value), &r);

	return ret == MMC_EXIT_OK ? output(r, fn) : ret;
}

int
mmc_server_status(struct mmc *m)
{
	return ask(m, "status", NULL, NULL, status_print);
}

static void
registrations_print(json_object *r)
{
	json_object *users = jget(r, "registrations");
	struct mmc_table *t =
	    mmc_table_new(6, (const char *const[]){"USER", "CONTACT", "TRANSPORT", "SOURCE",
						   "EXPIRES", "USER-AGENT"});
	char exp[32];

	for (size_t i = 0; i < json_object_array_length(users); i++) {
		json_object *u = json_object_array_get_idx(users, i), *cs = jget(u, "contacts");
		for (size_t k = 0; k < json_object_array_length(cs); k++) {
			json_object *c = json_object_array_get_idx(cs, k);
			snprintf(exp, sizeof(exp), "%ss", jstr(c, "expires"));
			mmc_table_add(t, (const char *const[]){k == 0 ? jstr(u, "aor") : "",
							       jstr(c, "uri"), jstr(c, "transport"),
							       jstr(c, "source"), exp,
							       jstr(c, "user_agent")});
		}
	}
	if (json_object_array_length(users) == 0)
		printf("no registrations\n");
	else
		mmc_table_print(t, stdout);
	mmc_table_free(t);
}

int
mmc_server_registrations(struct mmc *m, const char *user)
{
	char aor[300] = "";
	json_object *r;
	int ret;

	if (user)
		mmc_user_aor(m, user, aor, sizeof(aor));
	ret = mmc_ctl_call(m, mmc_ctl_req("registrations", user ? "aor" : NULL, aor), &r);
	if (ret != MMC_EXIT_OK)
		return ret;
	if (user && json_object_array_length(jget(r, "registrations")) == 0) {
		json_object_put(r);
		return mmc_fail(MMC_EXIT_NOTFOUND,
				"%s is not signed in anywhere (no registrations)", aor);
	}
	return output(r, registrations_print);
}

static void
connections_print(json_object *r)
{
	json_object *cs = jget(r, "connections");
	struct mmc_table *t =
	    mmc_table_new(4, (const char *const[]){"ID", "TRANSPORT", "PEER", "USERS"});
	char users[1024];

	for (size_t i = 0; i < json_object_array_length(cs); i++) {
		json_object *c = json_object_array_get_idx(cs, i), *us = jget(c, "users");
		users[0] = '\0';
		for (size_t k = 0; k < json_object_array_length(us); k++)
			snprintf(users + strlen(users), sizeof(users) - strlen(users), "%s%s",
				 k ? ", " : "",
				 json_object_get_string(json_object_array_get_idx(us, k)));
		mmc_table_add(t, (const char *const[]){jstr(c, "id"), jstr(c, "transport"),
						       jstr(c, "peer"), users});
	}
	if (json_object_array_length(cs) == 0)
		printf("no TCP or TLS connections with signed-in devices\n");
	else
		mmc_table_print(t, stdout);
	mmc_table_free(t);
}

int
mmc_server_connections(struct mmc *m)
{
	return ask(m, "connections", NULL, NULL, connections_print);
}

static void
signout_print(json_object *r)
{
	printf("signed out %s (%s registrations removed)\n", jstr(r, "aor"), jstr(r, "removed"));
}

int
mmc_server_signout(struct mmc *m, const char *user)
{
	char aor[300];

	mmc_user_aor(m, user, aor, sizeof(aor));
	return ask(m, "signout", "aor", aor, signout_print);
}

static void
reload_print(json_object *r)
{
	printf("greenwichd reloaded its configuration (log level %s)\n", jstr(r, "log_level"));
}

static void
loglevel_print(json_object *r)
{
	printf("greenwichd logs at level %s\n", jstr(r, "log_level"));
}

static void
flush_print(json_object *r)
{
	if (jget(r, "user") == NULL)
		printf("greenwichd dropped its cached directory answers: the next requests ask a "
		       "domain controller\n");
	else
		printf("greenwichd dropped %s cached directory answers about %s\n",
		       jstr(r, "flushed"), jstr(r, "user"));
}

/* Take --front-end ID and --timeout SECONDS out of argv (anywhere after the verb). */
static int
front_end_opts(struct mmc *m, int *argcp, char **argv)
{
	int argc = *argcp, out = 1;

	m->front_end = NULL;
	m->fe_timeout = 10;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		bool fe = !strncmp(a, "--front-end", 11), to = !strncmp(a, "--timeout", 9);
		if ((fe && a[11] == '=') || (to && a[9] == '='))
			val = strchr(a, '=') + 1;
		else if ((fe && a[11] == '\0') || (to && a[9] == '\0')) {
			if (i + 1 >= argc)
				return mmc_fail(MMC_EXIT_USAGE, "%s needs a value", a);
			val = argv[++i];
		} else {
			argv[out++] = argv[i];
			continue;
		}
		if (fe) {
			if (val[0] == '\0')
				return mmc_fail(MMC_EXIT_USAGE,
						"--front-end needs a front end's id "
						"(see pool status)");
			m->front_end = val;
		} else {
			char *end;
			long t = strtol(val, &end, 10);
			if (*end || t < 1 || t > 300)
				return mmc_fail(MMC_EXIT_USAGE,
						"--timeout takes seconds, 1 to 300: %s", val);
			m->fe_timeout = (int)t;
		}
	}
	*argcp = out;
	return MMC_EXIT_OK;
}

static int server_verb(struct mmc *m, int argc, char **argv);

/* argv[0] is the verb: status, registrations, connections, sign-out, reload, log-level,
 * flush-cache; [--front-end ID [--timeout SECONDS]] anywhere after it sends it to that
 * front end of the pool (remote.c). */
int
mmc_server_cmd(struct mmc *m, int argc, char **argv)
{
	int ret = front_end_opts(m, &argc, argv);

	if (ret == MMC_EXIT_OK)
		ret = server_verb(m, argc, argv);
	m->front_end = NULL; /* the console goes on with the next command */
	return ret;
}

static int
server_verb(struct mmc *m, int argc, char **argv)
{
	const char *v = argv[0];
	const char *target = m->front_end ? m->front_end : "greenwichd";
	int want = 1;

	if (!strcmp(v, "registrations") || !strcmp(v, "flush-cache"))
		want = argc > 1 ? 2 : 1;
	else if (!strcmp(v, "sign-out") || !strcmp(v, "signout") || !strcmp(v, "log-level"))
		want = 2;
	if (argc != want) {
		return mmc_fail(MMC_EXIT_USAGE, "usage: server %s%s [--front-end ID [--timeout S]]",
				v,
				!strcmp(v, "registrations") || !strcmp(v, "flush-cache") ? " [USER]"
				: !strcmp(v, "log-level") ? " error|warning|notice|info|debug"
				: want == 2               ? " USER"
							  : "");
	}
	if (!strcmp(v, "status"))
		return mmc_server_status(m);
	if (!strcmp(v, "registrations"))
		return mmc_server_registrations(m, argc > 1 ? argv[1] : NULL);
	if (!strcmp(v, "connections"))
		return mmc_server_connections(m);
	int ret;
	if (!strcmp(v, "flush-cache")) {
		ret = ask(m, "flush-cache", argc > 1 ? "user" : NULL, argc > 1 ? argv[1] : NULL,
			  flush_print);
		if (ret == MMC_EXIT_OK)
			mmc_audit(m->conf, "server flush-cache", argc > 1 ? argv[1] : "all",
				  "front-end", m->front_end, NULL);
		return ret;
	}
	if (!strcmp(v, "sign-out") || !strcmp(v, "signout"))
		ret = mmc_server_signout(m, argv[1]);
	else if (!strcmp(v, "reload"))
		ret = ask(m, "reload", NULL, NULL, reload_print);
	else
		ret = ask(m, "loglevel", "level", argv[1], loglevel_print);
	if (ret == MMC_EXIT_OK && v[0] == 's')
		mmc_audit(m->conf, "server sign-out", argv[1], NULL);
	else if (ret == MMC_EXIT_OK)
		mmc_audit(m->conf, v[0] == 'r' ? "server reload" : "server log-level", target,
			  "level", argc > 1 ? argv[1] : NULL, NULL);
	return ret;
}
