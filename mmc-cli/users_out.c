/*
 * users_out.c - what the `users` commands print: aligned tables and properties for
 * people, JSON with --json.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmc.h"
#include "users.h"

static json_object *
strv_json(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

void
mmc_users_print_list(const struct mmc_dir_user *v, size_t n)
{
	json_object *arr = mmc_json ? json_object_new_array() : NULL;
	struct mmc_table *t =
	    arr ? NULL
		: mmc_table_new(4, (const char *const[]){"USER", "SIP-URI", "ENABLED", "ACCOUNT"});

	for (size_t i = 0; i < n; i++) {
		const char *acct = v[i].disabled ? "disabled" : "active";
		if (arr) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "user", json_object_new_string(v[i].sam));
			json_object_object_add(
			    o, "sip_uri", json_object_new_string(v[i].sip_uri ? v[i].sip_uri : ""));
			json_object_object_add(o, "enabled", json_object_new_boolean(v[i].enabled));
			json_object_object_add(o, "account", json_object_new_string(acct));
			json_object_array_add(arr, o);
		} else {
			mmc_table_add(t, (const char *const[]){v[i].sam, v[i].sip_uri,
							       v[i].enabled ? "yes" : "no", acct});
		}
	}
	if (arr) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "users", arr);
		mmc_json_print(o);
	}
	mmc_table_print(t, stdout);
	mmc_table_free(t);
}

/* "udp 127.0.0.1:5062 (UA)" per device, from a registrations reply. */
static void
devices_text(json_object *devices, char *buf, size_t len, json_object **arrp)
{
	json_object *regs = NULL, *u, *cs = NULL;

	buf[0] = '\0';
	*arrp = json_object_new_array();
	if (devices == NULL) {
		snprintf(buf, len, "unknown (greenwichd does not answer)");
		json_object_put(*arrp);
		*arrp = NULL;
		return;
	}
	json_object_object_get_ex(devices, "registrations", &regs);
	u = regs ? json_object_array_get_idx(regs, 0) : NULL;
	if (u)
		json_object_object_get_ex(u, "contacts", &cs);
	for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
		json_object *c = json_object_array_get_idx(cs, i), *uri, *tr, *src;
		json_object_object_get_ex(c, "uri", &uri);
		json_object_object_get_ex(c, "transport", &tr);
		json_object_object_get_ex(c, "source", &src);
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s %s", i ? ", " : "",
			 json_object_get_string(tr), json_object_get_string(src));
		json_object_array_add(*arrp, json_object_get(c));
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

/* "online (away: back at 3)", "offline"; NULL reply: greenwichd does not answer. */
static void
presence_text(json_object *r, char *buf, size_t len, json_object **objp)
{
	json_object *st = NULL, *act = NULL, *note = NULL, *o;
	const char *a, *n;

	*objp = NULL;
	if (r == NULL) {
		snprintf(buf, len, "unknown (greenwichd does not answer)");
		return;
	}
	json_object_object_get_ex(r, "status", &st);
	json_object_object_get_ex(r, "activity", &act);
	json_object_object_get_ex(r, "note", &note);
	a = act ? json_object_get_string(act) : "";
	n = note ? json_object_get_string(note) : "";
	snprintf(buf, len, "%s%s%s%s%s%s", st ? json_object_get_string(st) : "?",
		 a[0] || n[0] ? " (" : "", a, a[0] && n[0] ? ": " : "", n, a[0] || n[0] ? ")" : "");
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_get(st));
	json_object_object_add(o, "activity", json_object_new_string(a));
	json_object_object_add(o, "note", json_object_new_string(n));
	*objp = o;
}

void
mmc_users_print_one(const struct mmc_dir_user *du, const char *group, const char *groups,
		    json_object *devices, json_object *presence)
{
	char pres[400];
	json_object *pobj;
	char aliases[1024] = "", dev[1024], *gl = strdup(groups ? groups : "");
	json_object *darr;
	const char *src =
	    mmc_uri_source((const char *const *)du->proxies, du->nproxies, du->sip_uri != NULL);

	devices_text(devices, dev, sizeof(dev), &darr);
	presence_text(presence, pres, sizeof(pres), &pobj);
	if (mmc_json) {
		json_object *o = json_object_new_object(), *ga = json_object_new_array();
		char *save = NULL;
		for (char *g = strtok_r(gl, "\n", &save); g; g = strtok_r(NULL, "\n", &save))
			json_object_array_add(ga, json_object_new_string(g));
		json_object_object_add(o, "user", json_object_new_string(du->sam));
		json_object_object_add(o, "dn", json_object_new_string(du->dn));
		json_object_object_add(o, "sip_uri",
				       du->sip_uri ? json_object_new_string(du->sip_uri) : NULL);
		json_object_object_add(o, "sip_uri_source", json_object_new_string(src));
		json_object_object_add(o, "aliases", strv_json(du->aliases, du->naliases));
		json_object_object_add(o, "enabled", json_object_new_boolean(du->enabled));
		json_object_object_add(o, "enabled_group", json_object_new_string(group));
		json_object_object_add(
		    o, "account", json_object_new_string(du->disabled ? "disabled" : "active"));
		json_object_object_add(o, "groups", ga);
		json_object_object_add(o, "devices", darr);
		json_object_object_add(o, "presence", pobj);
		mmc_json_print(o);
		free(gl);
		return;
	}
	json_object_put(darr);
	json_object_put(pobj);
	for (size_t i = 0; i < du->naliases; i++)
		snprintf(aliases + strlen(aliases), sizeof(aliases) - strlen(aliases), "%s%s",
			 i ? ", " : "", du->aliases[i]);
	for (char *p = gl; p && *p; p++)
		if (*p == '\n')
			*p = ',';
	struct mmc_props *p = mmc_props_new();
	mmc_props_add(p, "user", du->sam);
	mmc_props_add(p, "dn", du->dn);
	mmc_props_add(p, "sip-uri", du->sip_uri ? du->sip_uri : "(none)");
	mmc_props_add(p, "sip-uri-from",
		      !strcmp(src, "proxyAddresses") ? "proxyAddresses SIP: (users reset-uri "
						       "returns to the mail address)"
		      : !strcmp(src, "alias")        ? "the first sip: proxyAddresses value"
		      : !strcmp(src, "mail")         ? "mail"
						     : "nothing");
	mmc_props_add(p, "aliases", aliases);
	mmc_props_add(p, "enabled", du->enabled ? "yes" : "no");
	mmc_props_add(p, "account", du->disabled ? "disabled" : "active");
	mmc_props_add(p, "groups", gl ? gl : "");
	mmc_props_add(p, "devices", dev);
	mmc_props_add(p, "presence", pres);
	mmc_props_print(p);
	free(gl);
}

int
mmc_users_member_report(const struct mmc_dir_user *du, const char *group, bool add, bool changed,
			bool now_enabled)
{
	if (mmc_json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "user", json_object_new_string(du->sam));
		json_object_object_add(o, "enabled", json_object_new_boolean(now_enabled));
		json_object_object_add(o, "changed", json_object_new_boolean(changed));
		mmc_json_print(o);
	}
	if (!add && now_enabled)
		return mmc_fail(MMC_EXIT_FAIL,
				"%s is %s a direct member of %s but still enabled through a nested "
				"group: remove it from that group",
				du->sam, changed ? "no longer" : "not", group);
	if (mmc_json)
		return MMC_EXIT_OK;
	if (!changed)
		printf("%s was already %s for Greenwich\n", du->sam, add ? "enabled" : "disabled");
	else
		printf("%s is now %s for Greenwich (%s %s)\n", du->sam,
		       add ? "enabled" : "disabled", add ? "member of" : "removed from", group);
	return MMC_EXIT_OK;
}
