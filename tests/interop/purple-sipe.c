/*
 * purple-sipe - a headless libpurple client that drives the real pidgin-sipe plugin
 * ("prpl-sipe") against greenwichd, for interoperability tests.
 *
 * It signs in with NTLM or Kerberos (MS-SIPAE), then optionally sends an IM, waits for
 * an IM, waits for a buddy's presence, or sets its own status. Every libpurple event of
 * interest is printed on stdout, one timestamped line each, for test scripts to grep:
 *
 *   12:00:01.234 signed-on account=alice@corp.example.com
 *   12:00:01.300 received-im-msg from=sip:bob@corp.example.com text=hello
 *
 * Exit status: 0 everything asked for happened, 1 timeout, 2 connection error,
 * 3 IM not delivered, 64 usage error.
 *
 * libpurple keeps its files in a private temporary directory (never ~/.purple), and
 * UPnP/NAT-PMP discovery is switched off, so the only traffic is to the SIP server
 * (and to the KDC for Kerberos).
 */
#include "config.h"

#include <dlfcn.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <libxml/parser.h>
#include <purple.h>

#define PS_UI "greenwich-purple-sipe"
#define PS_PRPL "prpl-sipe"

enum { PS_OK = 0, PS_TIMEOUT = 1, PS_CONN_ERROR = 2, PS_NOT_DELIVERED = 3, PS_USAGE = 64 };

struct ps_opts {
	const char *user;  /* sip:alice@corp.example.com */
	const char *login; /* CORP\alice or alice@corp.example.com */
	const char *password;
	const char *server;    /* host:port */
	const char *transport; /* tcp, tls, auto */
	const char *auth;      /* ntlm, kerberos, tls-dsk, auto */
	const char *dir;       /* libpurple user directory (kept) */
	const char *send_to;
	const char *text;
	const char *expect_im;
	const char *status_buddy;
	const char *status_want;
	const char *set_status;
	const char *add_buddy;
	int commands;
	int timeout;
	int settle;
	int hold;
	int sso;
	int debug;
	int accept_cert;
	int list_options;
};

struct ps_state {
	struct ps_opts o;
	GMainLoop *loop;
	PurpleAccount *account;
	char *dir;
	int own_dir;
	int signed_on;
	int sent;
	int settled;
	int got_im;
	int got_status;
	int finishing;
	int rc;
	unsigned sax_fixes;
};

static struct ps_state ps = {.rc = PS_TIMEOUT};
static int ps_handle;

/* ---- output ---- */

static void G_GNUC_PRINTF(1, 2) ps_event(const char *fmt, ...)
{
	GDateTime *now = g_date_time_new_now_local();
	char *ts = g_date_time_format(now, "%H:%M:%S");
	va_list ap;

	printf("%s.%03d ", ts, g_date_time_get_microsecond(now) / 1000);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	g_free(ts);
	g_date_time_unref(now);
}

/* One line of text for an event: newlines and tabs become spaces. */
static char *
ps_flat(const char *s)
{
	char *t = g_strdup(s ? s : "");
	char *p;

	for (p = t; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return t;
}

/* ---- pidgin-sipe's XML parsing, repaired (docs/MS-SIPAE.md section 11) ----
 *
 * sipe hands libxml2 a handler with only SAX1 element callbacks but initialized =
 * XML_SAX2_MAGIC; libxml2 2.9.14 then calls no element callback at all. This program is
 * linked with -rdynamic, so the dlopen()ed libsipe.so binds to this definition, which
 * passes such a handler on as plain SAX1 (initialized = 1, no structured error handler).
 * PURPLE_SIPE_NO_SAX_FIX=1 in the environment turns the repair off (to show the bug).
 */
typedef int (*ps_sax_parse_fn)(xmlSAXHandlerPtr sax, void *user_data, const char *buffer, int size);

int
xmlSAXUserParseMemory(xmlSAXHandlerPtr sax, void *user_data, const char *buffer, int size)
{
	static ps_sax_parse_fn real;
	xmlSAXHandler sax1;

	if (!real)
		real = (ps_sax_parse_fn)dlsym(RTLD_NEXT, "xmlSAXUserParseMemory");
	if (!real)
		return -1;
	if (!sax || sax->initialized != XML_SAX2_MAGIC || sax->startElementNs ||
	    sax->endElementNs || (!sax->startElement && !sax->endElement) ||
	    getenv("PURPLE_SIPE_NO_SAX_FIX"))
		return real(sax, user_data, buffer, size);
	sax1 = *sax;
	sax1.initialized = 1;
	sax1.serror = NULL;
	ps.sax_fixes++;
	return real(&sax1, user_data, buffer, size);
}

/* ---- ending ---- */

static guint ps_quit_id;

static gboolean
ps_quit_cb(gpointer data)
{
	ps_quit_id = 0;
	g_main_loop_quit(ps.loop);
	return G_SOURCE_REMOVE;
}

/* ps_finish: the result is RC; leave the main loop after HOLD seconds (never if < 0).
 * A later call (an error while holding) replaces the result. */
static void
ps_finish(int rc, int hold)
{
	ps.finishing = 1;
	ps.rc = rc;
	if (ps_quit_id)
		g_source_remove(ps_quit_id);
	ps_quit_id = hold < 0 ? 0 : g_timeout_add_seconds(hold, ps_quit_cb, NULL);
}

static void
ps_check_done(void)
{
	const struct ps_opts *o = &ps.o;

	if (!ps.signed_on || (o->send_to && !ps.settled) || (o->expect_im && !ps.got_im) ||
	    (o->status_buddy && !ps.got_status))
		return;
	if (o->commands)
		return; /* ends with the quit command, SIGTERM or the timeout */
	ps_event("done");
	ps_finish(PS_OK, o->hold);
}

static gboolean
ps_timeout_cb(gpointer data)
{
	if (ps.finishing)
		return G_SOURCE_REMOVE;
	ps_event("timeout after=%d signed-on=%d im=%d status=%d", ps.o.timeout, ps.signed_on,
		 ps.got_im, ps.got_status);
	ps_finish(PS_TIMEOUT, 0);
	return G_SOURCE_REMOVE;
}

static gboolean
ps_signal_cb(gpointer data)
{
	ps_event("stopping signal=%d", GPOINTER_TO_INT(data));
	ps_finish(ps.finishing ? ps.rc : PS_TIMEOUT, 0);
	return G_SOURCE_CONTINUE;
}

/* ---- event loop on GLib ---- */

struct ps_io {
	PurpleInputFunction fn;
	gpointer data;
};

static gboolean
ps_io_cb(GIOChannel *ch, GIOCondition cond, gpointer data)
{
	struct ps_io *io = data;
	int pc = 0;

	if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR | G_IO_PRI))
		pc |= PURPLE_INPUT_READ;
	if (cond & (G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL))
		pc |= PURPLE_INPUT_WRITE;
	io->fn(io->data, g_io_channel_unix_get_fd(ch), pc);
	return G_SOURCE_CONTINUE;
}

static guint
ps_input_add(int fd, PurpleInputCondition cond, PurpleInputFunction fn, gpointer data)
{
	struct ps_io *io = g_new0(struct ps_io, 1);
	GIOChannel *ch = g_io_channel_unix_new(fd);
	int gc = 0;
	guint id;

	io->fn = fn;
	io->data = data;
	if (cond & PURPLE_INPUT_READ)
		gc |= G_IO_IN | G_IO_HUP | G_IO_ERR | G_IO_PRI;
	if (cond & PURPLE_INPUT_WRITE)
		gc |= G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL;
	id = g_io_add_watch_full(ch, G_PRIORITY_DEFAULT, gc, ps_io_cb, io, g_free);
	g_io_channel_unref(ch);
	return id;
}

static PurpleEventLoopUiOps ps_loop_ops = {
    .timeout_add = g_timeout_add,
    .timeout_remove = g_source_remove,
    .input_add = ps_input_add,
    .input_remove = g_source_remove,
    .timeout_add_seconds = g_timeout_add_seconds,
};

/* ---- core, debug, notify and request UI ops ---- */

static void
ps_prefs_init(void)
{
	/* before purple_network_init(): no UPnP, NAT-PMP or public address discovery */
	purple_prefs_add_none("/purple/network");
	purple_prefs_add_bool("/purple/network/map_ports", FALSE);
	purple_prefs_add_bool("/purple/network/auto_ip", FALSE);
	purple_prefs_add_none("/purple/logging");
	purple_prefs_add_bool("/purple/logging/log_ims", FALSE);
	purple_prefs_add_bool("/purple/logging/log_chats", FALSE);
	purple_prefs_add_bool("/purple/logging/log_system", FALSE);
}

static PurpleCoreUiOps ps_core_ops = {
    .ui_prefs_init = ps_prefs_init,
};

static void
ps_debug_print(PurpleDebugLevel level, const char *category, const char *arg)
{
	GDateTime *now = g_date_time_new_now_local();
	char *ts = g_date_time_format(now, "%H:%M:%S");
	size_t n = strlen(arg);

	fprintf(stderr, "%s.%03d %s: %s%s", ts, g_date_time_get_microsecond(now) / 1000,
		category ? category : "-", arg, n && arg[n - 1] == '\n' ? "" : "\n");
	g_free(ts);
	g_date_time_unref(now);
}

static gboolean
ps_debug_enabled(PurpleDebugLevel level, const char *category)
{
	return ps.o.debug;
}

static PurpleDebugUiOps ps_debug_ops = {
    .print = ps_debug_print,
    .is_enabled = ps_debug_enabled,
};

static void *
ps_notify_message(PurpleNotifyMsgType type, const char *title, const char *primary,
		  const char *secondary)
{
	char *t = ps_flat(title), *p = ps_flat(primary), *s = ps_flat(secondary);

	ps_event("notify type=%d title=%s primary=%s secondary=%s", (int)type, t, p, s);
	g_free(t);
	g_free(p);
	g_free(s);
	return NULL;
}

static PurpleNotifyUiOps ps_notify_ops = {
    .notify_message = ps_notify_message,
};

/* Requests (certificate questions): "Accept" with --accept-cert, otherwise "Reject". */
static void *
ps_request_action(const char *title, const char *primary, const char *secondary, int default_action,
		  PurpleAccount *account, const char *who, PurpleConversation *conv,
		  void *user_data, size_t count, va_list actions)
{
	const char *want = ps.o.accept_cert ? "ccept" : "eject";
	PurpleRequestActionCb cb = NULL;
	const char *answer = "-";
	int pick = default_action;
	char *p = ps_flat(primary);
	size_t i;

	for (i = 0; i < count; i++) {
		const char *label = va_arg(actions, const char *);
		PurpleRequestActionCb f = va_arg(actions, PurpleRequestActionCb);

		if ((label && strstr(label, want)) || (!cb && (int)i == default_action)) {
			cb = f;
			pick = (int)i;
			answer = label ? label : "-";
		}
	}
	ps_event("request title=%s primary=%s answer=%s", title ? title : "", p, answer);
	g_free(p);
	if (cb)
		cb(user_data, pick);
	return NULL;
}

static PurpleRequestUiOps ps_request_ops = {
    .request_action = ps_request_action,
};

/* ---- libpurple signals ---- */

static gboolean
ps_settled_cb(gpointer data)
{
	ps.settled = 1;
	ps_event("im-settled to=%s", ps.o.send_to);
	ps_check_done();
	return G_SOURCE_REMOVE;
}

static void
ps_send_im(void)
{
	PurpleConversation *conv;

	conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, ps.account, ps.o.send_to);
	purple_conv_im_send(PURPLE_CONV_IM(conv), ps.o.text);
	ps.sent = 1;
	ps_event("im-sent to=%s text=%s", ps.o.send_to, ps.o.text);
	g_timeout_add_seconds(ps.o.settle, ps_settled_cb, NULL);
}

static int
ps_status_is(PurpleBuddy *b, const char *want)
{
	PurpleStatus *st = purple_presence_get_active_status(purple_buddy_get_presence(b));

	return st && !g_ascii_strcasecmp(purple_status_get_id(st), want);
}

/* The watched buddy, if it is in the list and already in the wanted state. */
static void
ps_check_status(PurpleBuddy *b)
{
	if (!ps.o.status_buddy || ps.got_status)
		return;
	if (!b)
		b = purple_find_buddy(ps.account, ps.o.status_buddy);
	if (!b || g_ascii_strcasecmp(purple_buddy_get_name(b), ps.o.status_buddy))
		return;
	if (!ps_status_is(b, ps.o.status_want))
		return;
	ps.got_status = 1;
	ps_event("status-reached buddy=%s status=%s", ps.o.status_buddy, ps.o.status_want);
	ps_check_done();
}

/* The own status, as a saved status (what libpurple applies to the account). */
static void
ps_set_status(PurpleAccount *a)
{
	PurpleStatusType *t = purple_account_get_status_type(a, ps.o.set_status);
	PurpleSavedStatus *saved;

	if (!t) {
		ps_event("status-unknown status=%s", ps.o.set_status);
		return;
	}
	saved = purple_savedstatus_new(NULL, purple_status_type_get_primitive(t));
	purple_savedstatus_set_substatus(saved, a, t, NULL);
	purple_savedstatus_activate(saved);
	ps_event("status-set status=%s", purple_status_get_id(purple_account_get_active_status(a)));
}

/* A buddy into the local list and to the server (sipe sends its contact SOAP). */
static void
ps_add_buddy(const char *uri, const char *group)
{
	PurpleGroup *g = purple_find_group(group);
	PurpleBuddy *b = purple_find_buddy(ps.account, uri);

	if (!g) {
		g = purple_group_new(group);
		purple_blist_add_group(g, NULL);
	}
	if (!b) {
		b = purple_buddy_new(ps.account, uri, NULL);
		purple_blist_add_buddy(b, NULL, g, NULL);
	}
	purple_account_add_buddy(ps.account, b);
	ps_event("buddy-added buddy=%s group=%s", uri, group);
}

static void
ps_remove_buddy(const char *uri)
{
	PurpleBuddy *b = purple_find_buddy(ps.account, uri);

	if (!b) {
		ps_event("buddy-unknown buddy=%s", uri);
		return;
	}
	purple_account_remove_buddy(ps.account, b, purple_buddy_get_group(b));
	purple_blist_remove_buddy(b);
	ps_event("buddy-removed buddy=%s", uri);
}

static void ps_set_status(PurpleAccount *a);

/* An IM typed at a command line (--commands "im URI TEXT"); its delivery errors come back
 * as im-error lines (ps_wrote_im). */
static void
ps_command_im(const char *to, const char *text)
{
	PurpleConversation *conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, ps.account, to);

	purple_conv_im_send(PURPLE_CONV_IM(conv), text);
	ps_event("im-sent to=%s text=%s", to, text);
}

/* One line of --commands: add-buddy URI [GROUP], remove-buddy URI, status ID, im URI TEXT,
 * quit. */
static void
ps_command(char *line)
{
	char **w = g_strsplit_set(g_strstrip(line), " \t", 3);
	const char *verb = w[0] ? w[0] : "";

	ps_event("command %s", line);
	if (!ps.signed_on && verb[0] && strcmp(verb, "quit"))
		ps_event("command-refused reason=not-signed-on");
	else if (!strcmp(verb, "add-buddy") && w[1])
		ps_add_buddy(w[1], w[2] ? w[2] : "Greenwich");
	else if (!strcmp(verb, "remove-buddy") && w[1])
		ps_remove_buddy(w[1]);
	else if (!strcmp(verb, "status") && w[1]) {
		ps.o.set_status = g_intern_string(w[1]);
		ps_set_status(ps.account);
	} else if (!strcmp(verb, "im") && w[1] && w[2])
		ps_command_im(w[1], w[2]);
	else if (!strcmp(verb, "quit"))
		ps_finish(PS_OK, 0);
	else if (verb[0])
		ps_event("command-unknown %s", verb);
	g_strfreev(w);
}

static gboolean
ps_stdin_cb(GIOChannel *ch, GIOCondition cond, gpointer data)
{
	char *line = NULL;
	GIOStatus s = g_io_channel_read_line(ch, &line, NULL, NULL, NULL);

	if (s == G_IO_STATUS_NORMAL && line)
		ps_command(line);
	g_free(line);
	if (s == G_IO_STATUS_EOF || s == G_IO_STATUS_ERROR) {
		ps_event("commands-end");
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void
ps_commands_start(void)
{
	GIOChannel *ch = g_io_channel_unix_new(0);

	g_io_add_watch(ch, G_IO_IN | G_IO_HUP | G_IO_ERR, ps_stdin_cb, NULL);
	g_io_channel_unref(ch);
}

/* --add-buddy: after the server's contact list had time to arrive (sipe drops local
 * buddies that are not on it). */
static gboolean
ps_add_buddy_cb(gpointer data)
{
	ps_add_buddy(ps.o.add_buddy, "Greenwich");
	return G_SOURCE_REMOVE;
}

static void
ps_signed_on(PurpleConnection *gc, gpointer data)
{
	PurpleAccount *a = purple_connection_get_account(gc);

	ps.signed_on = 1;
	ps_event("signed-on account=%s", purple_account_get_username(a));
	if (ps.o.set_status)
		ps_set_status(a);
	if (ps.o.send_to)
		ps_send_im();
	if (ps.o.add_buddy)
		g_timeout_add_seconds(2, ps_add_buddy_cb, NULL);
	/* offline is the start state: only a change to it counts */
	if (ps.o.status_want && g_ascii_strcasecmp(ps.o.status_want, "offline"))
		ps_check_status(NULL);
	ps_check_done();
}

static void
ps_connection_error(PurpleConnection *gc, PurpleConnectionError err, const char *desc,
		    gpointer data)
{
	char *d = ps_flat(desc);

	ps_event("connection-error reason=%d text=%s", (int)err, d);
	g_free(d);
	ps_finish(PS_CONN_ERROR, 0);
}

static void
ps_received_im(PurpleAccount *a, const char *sender, const char *msg, PurpleConversation *conv,
	       PurpleMessageFlags flags, gpointer data)
{
	char *plain = purple_markup_strip_html(msg);
	char *t = ps_flat(plain);

	ps_event("received-im-msg from=%s text=%s", sender, t);
	if (ps.o.expect_im && !ps.got_im && strstr(t, ps.o.expect_im)) {
		ps.got_im = 1;
		ps_event("im-expected from=%s", sender);
		ps_check_done();
	}
	g_free(t);
	g_free(plain);
}

/* sipe writes "message not delivered" into the conversation as an error line. */
static void
ps_wrote_im(PurpleAccount *a, const char *who, const char *msg, PurpleConversation *conv,
	    PurpleMessageFlags flags, gpointer data)
{
	char *plain, *t;

	if (!(flags & PURPLE_MESSAGE_ERROR))
		return;
	plain = purple_markup_strip_html(msg);
	t = ps_flat(plain);
	ps_event("im-error conv=%s text=%s", purple_conversation_get_name(conv), t);
	g_free(t);
	g_free(plain);
	if (ps.sent)
		ps_finish(PS_NOT_DELIVERED, 0);
}

static const char *
ps_status_id(PurpleStatus *st)
{
	return st ? purple_status_get_id(st) : "-";
}

static void
ps_buddy_status(PurpleBuddy *b, PurpleStatus *old, PurpleStatus *now, gpointer d)
{
	ps_event("buddy-status-changed buddy=%s old=%s new=%s", purple_buddy_get_name(b),
		 ps_status_id(old), ps_status_id(now));
	ps_check_status(b);
}

static void
ps_buddy_onoff(PurpleBuddy *b, gpointer data)
{
	PurpleStatus *st = purple_presence_get_active_status(purple_buddy_get_presence(b));

	ps_event("%s buddy=%s status=%s", (const char *)data, purple_buddy_get_name(b),
		 ps_status_id(st));
	ps_check_status(b);
}

static void
ps_connect_signals(void)
{
	void *conns = purple_connections_get_handle();
	void *convs = purple_conversations_get_handle();
	void *blist = purple_blist_get_handle();

	purple_signal_connect(conns, "signed-on", &ps_handle, PURPLE_CALLBACK(ps_signed_on), NULL);
	purple_signal_connect(conns, "connection-error", &ps_handle,
			      PURPLE_CALLBACK(ps_connection_error), NULL);
	purple_signal_connect(convs, "received-im-msg", &ps_handle, PURPLE_CALLBACK(ps_received_im),
			      NULL);
	purple_signal_connect(convs, "wrote-im-msg", &ps_handle, PURPLE_CALLBACK(ps_wrote_im),
			      NULL);
	purple_signal_connect(blist, "buddy-status-changed", &ps_handle,
			      PURPLE_CALLBACK(ps_buddy_status), NULL);
	purple_signal_connect(blist, "buddy-signed-on", &ps_handle, PURPLE_CALLBACK(ps_buddy_onoff),
			      "buddy-signed-on");
	purple_signal_connect(blist, "buddy-signed-off", &ps_handle,
			      PURPLE_CALLBACK(ps_buddy_onoff), "buddy-signed-off");
}

/* ---- set-up ---- */

static int
ps_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
ps_make_dir(void)
{
	GError *err = NULL;

	if (ps.o.dir) {
		ps.dir = g_strdup(ps.o.dir);
		return g_mkdir_with_parents(ps.dir, 0700) ? -1 : 0;
	}
	ps.dir = g_dir_make_tmp("purple-sipe-XXXXXX", &err);
	if (!ps.dir) {
		fprintf(stderr, "purple-sipe: temporary directory: %s\n", err->message);
		g_error_free(err);
		return -1;
	}
	ps.own_dir = 1;
	return 0;
}

static int
ps_core_init(void)
{
	char *gst = g_build_filename(ps.dir, "gstreamer-registry.bin", NULL);

	/* sipe's voice and video part starts GStreamer, whose cache would go to ~/.cache */
	g_setenv("GST_REGISTRY", gst, FALSE);
	g_free(gst);
	purple_util_set_user_dir(ps.dir);
	/* with both, sipe logs whole SIP messages (headers, bodies, credentials) */
	purple_debug_set_verbose(ps.o.debug);
	purple_debug_set_unsafe(ps.o.debug);
	purple_debug_set_ui_ops(&ps_debug_ops);
	purple_core_set_ui_ops(&ps_core_ops);
	purple_eventloop_set_ui_ops(&ps_loop_ops);
	purple_notify_set_ui_ops(&ps_notify_ops);
	purple_request_set_ui_ops(&ps_request_ops);
	if (!purple_core_init(PS_UI)) {
		fprintf(stderr, "purple-sipe: libpurple initialisation failed\n");
		return -1;
	}
	purple_set_blist(purple_blist_new());
	purple_blist_load();
	return 0;
}

static PurplePlugin *
ps_load_prpl(void)
{
	PurplePlugin *p = purple_plugins_find_with_id(PS_PRPL);

	if (!p) {
		fprintf(stderr, "purple-sipe: no %s plugin (apt-get install pidgin-sipe)\n",
			PS_PRPL);
		return NULL;
	}
	if (!purple_plugin_is_loaded(p) && !purple_plugin_load(p)) {
		fprintf(stderr, "purple-sipe: %s did not load\n", PS_PRPL);
		return NULL;
	}
	ps_event("plugin-loaded id=%s version=%s path=%s", PS_PRPL, p->info->version,
		 p->path ? p->path : "-");
	return p;
}

static void
ps_list_values(GList *l)
{
	const char *sep = " values=";

	for (; l; l = l->next) {
		PurpleKeyValuePair *kv = l->data;

		printf("%s%s", sep, (const char *)kv->value);
		sep = ",";
	}
}

static void
ps_list_options(PurplePlugin *p)
{
	PurplePluginProtocolInfo *info = PURPLE_PLUGIN_PROTOCOL_INFO(p);
	GList *l;

	for (l = info->protocol_options; l; l = l->next) {
		PurpleAccountOption *opt = l->data;
		char *text = ps_flat(purple_account_option_get_text(opt));

		printf("option %s type=%d text=%s", purple_account_option_get_setting(opt),
		       (int)purple_account_option_get_type(opt), text);
		g_free(text);
		if (purple_account_option_get_type(opt) == PURPLE_PREF_STRING_LIST)
			ps_list_values(purple_account_option_get_list(opt));
		putchar('\n');
	}
	for (l = info->user_splits; l; l = l->next)
		printf("user-split separator=%c\n",
		       purple_account_user_split_get_separator(l->data));
}

/* sipe's account name is "<sign-in name>,<login>"; the sign-in name has no "sip:". */
static char *
ps_username(void)
{
	const char *u = ps.o.user;

	if (!g_ascii_strncasecmp(u, "sip:", 4))
		u += 4;
	return ps.o.login ? g_strdup_printf("%s,%s", u, ps.o.login) : g_strdup(u);
}

static const char *
ps_auth_id(const char *auth)
{
	return !strcmp(auth, "kerberos") ? "krb5" : auth;
}

static void
ps_watch_buddy(void)
{
	PurpleGroup *g = purple_group_new("Greenwich");
	PurpleBuddy *b = purple_buddy_new(ps.account, ps.o.status_buddy, NULL);

	purple_blist_add_group(g, NULL);
	purple_blist_add_buddy(b, NULL, g, NULL);
}

static void
ps_account_setup(void)
{
	char *name = ps_username();
	PurpleAccount *a = purple_account_new(name, PS_PRPL);

	g_free(name);
	if (ps.o.password)
		purple_account_set_password(a, ps.o.password);
	purple_account_set_remember_password(a, FALSE);
	purple_account_set_string(a, "server", ps.o.server);
	purple_account_set_string(a, "transport", ps.o.transport);
	purple_account_set_string(a, "authentication", ps_auth_id(ps.o.auth));
	purple_account_set_bool(a, "sso", ps.o.sso);
	/* no calendar: sipe would look for an Exchange server (DNS, HTTP) */
	purple_account_set_bool(a, "dont-publish", TRUE);
	purple_accounts_add(a);
	ps.account = a;
	if (ps.o.status_buddy)
		ps_watch_buddy();
	ps_event("connecting account=%s server=%s transport=%s authentication=%s sso=%d",
		 purple_account_get_username(a), ps.o.server, ps.o.transport, ps_auth_id(ps.o.auth),
		 ps.o.sso);
	purple_account_set_enabled(a, PS_UI, TRUE);
	if (purple_account_is_disconnected(a))
		purple_account_connect(a);
}

/* ---- options ---- */

static void
ps_usage(FILE *f)
{
	fputs("usage: purple-sipe --user sip:alice@corp.example.com [--login 'CORP\\alice']\n"
	      "         [--password PW] --server HOST:PORT [--transport tcp|tls|auto]\n"
	      "         [--auth ntlm|kerberos|tls-dsk|auto] [--sso] [--accept-cert]\n"
	      "         [--send-im sip:bob@... --text TEXT [--settle S]]\n"
	      "         [--expect-im TEXT] [--expect-status sip:bob@... STATUS]\n"
	      "         [--set-status STATUS] [--add-buddy sip:bob@...] [--commands]\n"
	      "         [--timeout S] [--hold S] [--purple-dir DIR] [--debug]\n"
	      "       purple-sipe --list-options\n",
	      f);
}

static const struct option ps_longopts[] = {
    {"user", required_argument, NULL, 'u'},
    {"login", required_argument, NULL, 'l'},
    {"password", required_argument, NULL, 'p'},
    {"server", required_argument, NULL, 's'},
    {"transport", required_argument, NULL, 'T'},
    {"auth", required_argument, NULL, 'a'},
    {"sso", no_argument, NULL, 'S'},
    {"send-im", required_argument, NULL, 'i'},
    {"text", required_argument, NULL, 'x'},
    {"expect-im", required_argument, NULL, 'e'},
    {"expect-status", required_argument, NULL, 'E'},
    {"set-status", required_argument, NULL, 'y'},
    {"add-buddy", required_argument, NULL, 'b'},
    {"commands", no_argument, NULL, 'c'},
    {"timeout", required_argument, NULL, 't'},
    {"settle", required_argument, NULL, 'w'},
    {"hold", required_argument, NULL, 'H'},
    {"purple-dir", required_argument, NULL, 'D'},
    {"debug", no_argument, NULL, 'd'},
    {"accept-cert", no_argument, NULL, 'C'},
    {"list-options", no_argument, NULL, 'L'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
ps_opt_set(struct ps_opts *o, int c, char *arg, int argc, char **argv)
{
	switch (c) {
	case 'u':
		o->user = arg;
		break;
	case 'l':
		o->login = arg;
		break;
	case 'p':
		o->password = arg;
		break;
	case 's':
		o->server = arg;
		break;
	case 'T':
		o->transport = arg;
		break;
	case 'a':
		o->auth = arg;
		break;
	case 'S':
		o->sso = 1;
		break;
	case 'i':
		o->send_to = arg;
		break;
	case 'x':
		o->text = arg;
		break;
	case 'e':
		o->expect_im = arg;
		break;
	case 'E':
		if (optind >= argc)
			return -1;
		o->status_buddy = arg;
		o->status_want = argv[optind++];
		break;
	case 'y':
		o->set_status = arg;
		break;
	case 'b':
		o->add_buddy = arg;
		break;
	case 'c':
		o->commands = 1;
		break;
	case 't':
		o->timeout = atoi(arg);
		break;
	case 'w':
		o->settle = atoi(arg);
		break;
	case 'H':
		o->hold = atoi(arg);
		break;
	case 'D':
		o->dir = arg;
		break;
	case 'd':
		o->debug = 1;
		break;
	case 'C':
		o->accept_cert = 1;
		break;
	case 'L':
		o->list_options = 1;
		break;
	default:
		return -1;
	}
	return 0;
}

static int
ps_parse(struct ps_opts *o, int argc, char **argv)
{
	int c;

	*o = (struct ps_opts){.transport = "tcp", .auth = "ntlm", .timeout = 30, .settle = 3};
	while ((c = getopt_long(argc, argv, "", ps_longopts, NULL)) != -1) {
		if (c == 'h') {
			ps_usage(stdout);
			exit(0);
		}
		if (ps_opt_set(o, c, optarg, argc, argv))
			return -1;
	}
	if (optind != argc || o->list_options)
		return optind != argc ? -1 : 0;
	if (!o->user || !o->server || (o->send_to && !o->text))
		return -1;
	if (!strcmp(o->auth, "kerberos") && !o->password)
		o->sso = 1; /* Kerberos without a password: the ticket cache (kinit) */
	if (!o->sso && (!o->login || !o->password))
		return -1;
	return 0;
}

/* ---- main ---- */

static int
ps_run(void)
{
	PurplePlugin *p = ps_load_prpl();

	if (!p)
		return PS_USAGE;
	if (ps.o.list_options) {
		ps_list_options(p);
		return PS_OK;
	}
	ps_connect_signals();
	if (ps.o.commands)
		ps_commands_start();
	ps_account_setup();
	g_timeout_add_seconds(ps.o.timeout, ps_timeout_cb, NULL);
	g_unix_signal_add(SIGTERM, ps_signal_cb, GINT_TO_POINTER(SIGTERM));
	g_unix_signal_add(SIGINT, ps_signal_cb, GINT_TO_POINTER(SIGINT));
	g_main_loop_run(ps.loop);
	return ps.rc;
}

int
main(int argc, char **argv)
{
	int rc = PS_USAGE;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ps_parse(&ps.o, argc, argv)) {
		ps_usage(stderr);
		return PS_USAGE;
	}
	if (ps_make_dir())
		return PS_USAGE;
	ps.loop = g_main_loop_new(NULL, FALSE);
	if (ps_core_init())
		goto done;
	rc = ps_run();
	purple_core_quit();
	if (ps.sax_fixes)
		ps_event("xml-sax1-fixes count=%u", ps.sax_fixes);
	ps_event("exit status=%d", rc);
done:
	g_main_loop_unref(ps.loop);
	if (ps.own_dir)
		nftw(ps.dir, ps_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	g_free(ps.dir);
	return rc;
}
