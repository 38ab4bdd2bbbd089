/*
 * main.c - greenwichd: configuration, start-up, signals and shut-down.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sofia-sip/su.h>

#include "accept_guard.h"
#include "addr_count.h"
#include "control.h"
#include "directory.h"
#include "federation.h"
#include "sipae.h"
#include "accounts.h"
#include "auth_guard.h"
#include "sip_dialog.h"
#include "sip_nonce.h"
#include "sip_policy.h"
#include "sofia_log.h"
#include "gwd.h"
#include "loc.h"
#include "log.h"
#include "notify.h"
#include "pool.h"
#include "reuseport.h"
#include "gwstore.h"
#include "heap_trim.h"
#include "presence.h"
#include "service.h"
#include "sip_proxy.h"
#include "sip_request.h"
#include "tlsfiles.h"
#ifdef GW_TPORT_LEDGER
#include "tport_ledger.h"
#endif

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: greenwichd [--config FILE] [--foreground] [--check-config] [--allow-root]\n"
		"                  [--version] [--print-config-keys]\n"
		"  -c, --config FILE   configuration file (default " SYSCONFDIR
		"/greenwich/greenwich.conf)\n"
		"  -f, --foreground    stay in the foreground and log to stderr\n"
		"  -n, --check-config  validate the configuration (and reach a PostgreSQL store), "
		"exit\n"
		"      --allow-root    run even as root (refused otherwise)\n"
		"  -V, --version       print the version and exit\n"
		"      --print-config-keys  print every configuration key (section, name, type,\n"
		"                      default, min, max, reload, help; tab-separated) and exit\n");
}

/* Split "host:port" / "[v6]:port" and bind a probe socket without SO_REUSEPORT. */
static int
port_probe(const char *addr, int socktype, char *err, size_t errlen)
{
	char host[128], port[16] = "5060";
	const char *colon;
	struct addrinfo hints = {.ai_socktype = socktype, .ai_flags = AI_NUMERICHOST}, *ai = NULL;
	int fd = -1, ret = -1;

	if (addr[0] == '[') {
		const char *e = strchr(addr, ']');
		if (e == NULL || (size_t)(e - addr - 1) >= sizeof(host))
			goto bad;
		memcpy(host, addr + 1, (size_t)(e - addr - 1));
		host[e - addr - 1] = '\0';
		colon = e[1] == ':' ? e + 1 : NULL;
	} else {
		colon = strrchr(addr, ':');
		size_t hl = colon ? (size_t)(colon - addr) : strlen(addr);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, addr, hl);
		host[hl] = '\0';
	}
	if (colon)
		snprintf(port, sizeof(port), "%s", colon + 1);
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		goto bad;
	fd = socket(ai->ai_family, socktype | SOCK_CLOEXEC, 0);
	/* closed connections of a previous run (TIME_WAIT) must not stop a restart;
	 * a live listener still does */
	if (fd >= 0 && socktype == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		snprintf(err, errlen, "cannot bind %s/%s: %s", addr,
			 socktype == SOCK_DGRAM ? "udp" : "tcp", strerror(errno));
		goto done;
	}
	ret = 0;
	goto done;
bad:
	snprintf(err, errlen, "'%s' is not a numeric host:port address", addr);
done:
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	return ret;
}

static int
ports_check(const struct gw_conf *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->udp.n; i++)
		if (port_probe(c->udp.v[i], SOCK_DGRAM, err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < c->tcp.n; i++)
		if (port_probe(c->tcp.v[i], SOCK_STREAM, err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < c->tls.n; i++)
		if (port_probe(c->tls.v[i], SOCK_STREAM, err, errlen) < 0)
			return -1;
	return 0;
}

static int
pidfile_write(const char *path)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

static int
daemonize(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* What a reload applies to the running server: one hook for each key the
 * configuration table marks live (gwconf.c); reload_hooks_check() holds the
 * two lists together at start.  Every other changed key is reported as
 * taking effect on the next start. */
static void
apply_log_level(struct gwd *g, const struct gw_conf *n)
{
	log_level_set(n->log_level);
	g->conf->log_level = n->log_level;
}

static void
apply_guess(struct gwd *g, const struct gw_conf *n)
{
	g->conf->guess_limit = n->guess_limit;
	g->conf->guess_source_limit = n->guess_source_limit;
	g->conf->guess_window = n->guess_window;
	guard_configure(n->guess_limit, n->guess_source_limit, n->guess_window);
}

static void
apply_conn_cap(struct gwd *g, const struct gw_conf *n)
{
	g->conf->conn_per_source = n->conn_per_source;
	accept_guard_configure(n->conn_per_source);
}

/* read by the workers at each handoff: an int, written whole */
static void
apply_handoff_share(struct gwd *g, const struct gw_conf *n)
{
	g->conf->handoff_per_source = n->handoff_per_source;
}

/* read by the workers at each new proxied request: an int, written whole */
static void
apply_calls_share(struct gwd *g, const struct gw_conf *n)
{
	g->conf->calls_per_source = n->calls_per_source;
}

/* read at each new dialog-creating request: an int, written whole */
static void
apply_dialogs_share(struct gwd *g, const struct gw_conf *n)
{
	g->conf->dialogs_per_source = n->dialogs_per_source;
}

static const struct reload_hook {
	const char *section, *name;
	void (*apply)(struct gwd *g, const struct gw_conf *next);
} reload_hooks[] = {
    {"log", "level", apply_log_level},
    {"auth", "guess-limit", apply_guess},
    {"auth", "guess-source-limit", apply_guess},
    {"auth", "guess-window", apply_guess},
    {"limits", "connections-per-source", apply_conn_cap},
    {"limits", "handoff-per-source", apply_handoff_share},
    {"limits", "calls-per-source", apply_calls_share},
    {"limits", "dialogs-per-source", apply_dialogs_share},
};

static const struct reload_hook *
reload_hook(const struct gw_conf_key_info *k)
{
	for (size_t i = 0; i < sizeof(reload_hooks) / sizeof(reload_hooks[0]); i++)
		if (!strcmp(reload_hooks[i].section, k->section) &&
		    !strcmp(reload_hooks[i].name, k->name))
			return &reload_hooks[i];
	return NULL;
}

/* Every live key has a hook and every hook a live key. */
static int
reload_hooks_check(char *err, size_t errlen)
{
	const struct gw_conf_key_info *k;
	size_t n = gw_conf_keys(&k), live = 0;

	for (size_t i = 0; i < n; i++) {
		if (k[i].reload != GW_RELOAD_LIVE)
			continue;
		live++;
		if (reload_hook(&k[i]) == NULL) {
			snprintf(err, errlen, "[%s] %s is marked live but has no reload hook",
				 k[i].section, k[i].name);
			return -1;
		}
	}
	if (live != sizeof(reload_hooks) / sizeof(reload_hooks[0])) {
		snprintf(err, errlen, "a reload hook names a key that is not live");
		return -1;
	}
	return 0;
}

struct reload_run {
	struct gwd *g;
	const struct gw_conf *next;
	int restart; /* changed keys that wait for a restart */
};

static void
reload_key(const struct gw_conf_key_info *k, void *arg)
{
	struct reload_run *r = arg;
	const struct reload_hook *h = reload_hook(k);

	if (k->reload == GW_RELOAD_LIVE && h) {
		h->apply(r->g, r->next);
		log_notice("event=reload key=\"[%s] %s\" applied=now", k->section, k->name);
	} else {
		r->restart++;
		log_notice("event=reload key=\"[%s] %s\" applied=on-restart", k->section, k->name);
	}
}

/* SIGHUP and the control socket's reload: re-read the file; apply the keys
 * that can change while running.  Both may ask at once, hence the lock. */
static int
gwd_reload(struct gwd *g, char *err, size_t errlen)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct gw_conf *n = gw_conf_load(g->config_path, err, errlen);
	struct reload_run r = {.g = g, .next = n};

	if (n == NULL) {
		log_err("event=reload-failed reason=\"%s\" (keeping the running configuration)",
			err);
		return -1;
	}
	pthread_mutex_lock(&lock);
	size_t changed = gw_conf_diff(g->conf, n, reload_key, &r);
	log_notice("event=reload level=%s changed=%zu on-restart=%d",
		   log_level_name(g->conf->log_level), changed, r.restart);
	pthread_mutex_unlock(&lock);
	gw_conf_free(n);
	sip_policy_reload();
	return 0;
}

/* What the workers run, bottom layer first: a worker attaches them in this
 * order and detaches them in the reverse one (service.h). */
static int
services_register(struct gwd *g)
{
	const struct gw_service *order[] = {
	    &dir_service,       /* directory lookups the others wait for */
	    &fed_service,       /* partners' DNS looked up ahead */
	    &sipae_service,     /* sign-ins and the security associations */
	    &sip_proxy_service, /* calls in progress; requests other workers hand over */
	    &presence_service,  /* subscriptions and publications */
	    &fanout_service,    /* their NOTIFYs, sent from the watchers' workers */
	    &control_service,   /* the control socket's questions */
	};

	g->intake = &sip_intake;
	g->reload = gwd_reload;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (gwd_service_add(g, order[i]) < 0)
			return -1;
	return 0;
}

static int
workers_start(struct gwd *g)
{
	int n = g->conf->workers > 0 ? g->conf->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);

	if (services_register(g) < 0)
		return -1;

	if (n < 1)
		n = 1;
	if (n > 64)
		n = 64;
	g->workers = calloc((size_t)n, sizeof(*g->workers));
	if (g->workers == NULL)
		return -ENOMEM;
	g->nworkers_planned = n;
	if ((g->queued = addr_count_alloc()) == NULL)
		return -ENOMEM;
	reuseport_set((unsigned)n);
	for (int i = 0; i < n; i++) {
		struct worker *w = &g->workers[i];
		w->w_id = i;
		w->w_gwd = g;
		if (worker_start(w) < 0) {
			log_err("worker=%d cannot start: %s", i, w->w_error);
			return -1;
		}
		g->nworkers++;
		/* wait until it listens, so a bind error is reported here */
		while (atomic_load(&w->w_state) == 0)
			usleep(1000);
		if (atomic_load(&w->w_state) < 0) {
			log_err("worker=%d cannot start: %s", i, w->w_error);
			return -1;
		}
	}
	return 0;
}

static void
workers_stop(struct gwd *g)
{
	for (int i = 0; i < g->nworkers; i++)
		worker_stop(&g->workers[i]);
	free(g->workers);
	g->workers = NULL;
	g->nworkers = 0;
	addr_count_free(g->queued);
	g->queued = NULL;
}

static int
run(struct gwd *g, bool foreground)
{
	char err[512];
	sigset_t set;
	int sig, ret = 1;

	if (mkdir(g->conf->state_dir, 0750) < 0 && errno != EEXIST) {
		log_err("cannot create state directory %s: %s", g->conf->state_dir,
			strerror(errno));
		return 1;
	}
	if (tlsfiles_prepare(g, err, sizeof(err)) < 0 ||
	    ports_check(g->conf, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 1;
	}
	if (RAND_bytes(g->secret, sizeof(g->secret)) != 1) {
		log_err("no random numbers for the server secret");
		return 1;
	}
	if (!foreground && daemonize() < 0) {
		log_err("cannot become a daemon: %s", strerror(errno));
		return 1;
	}
	if (!foreground && pidfile_write(g->conf->pid_file) < 0)
		log_warnx("cannot write pid file %s", g->conf->pid_file);
	/* after the fork: the location writer's thread, a PostgreSQL connection and
	 * SQLite's file locks do not cross it */
	ret = gwstore_open_conf(&g->store, g->conf, GWSTORE_LOCATION, err, sizeof(err));
	if (ret < 0) {
		log_err("cannot open the store: %s", err);
		return 1;
	}
	ret = 1;
	if (loc_alloc(&g->loc, g->store) < 0) {
		log_err("cannot load registrations from the %s store: %s", g->conf->store_backend,
			gwstore_error(g->store));
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
#ifdef GW_TPORT_LEDGER
	sigaddset(&set, SIGUSR2); /* a test build: dump the transport ledger */
#endif
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	g->started = time(NULL);
	nonce_ids_start(g->started);
	guard_configure(g->conf->guess_limit, g->conf->guess_source_limit, g->conf->guess_window);
	accept_guard_configure(g->conf->conn_per_source);
	if (dlg_configure((size_t)g->conf->max_dialogs, g->conf->invite_timeout) < 0)
		goto stop;
	if (dir_open(g) < 0 || sip_policy_start(g) < 0)
		goto stop;
	if (sipae_server_init(g) < 0)
		goto stop;
	if (accounts_start(g, err, sizeof(err)) < 0 || pool_start(g, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto stop;
	}
	pool_set_control(g, control_remote); /* server ... --front-end, through the store */
	if (workers_start(g) < 0)
		goto stop;
	if (control_start(g, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto stop;
	}
	/* after control_start: the pool's thread runs relayed control requests */
	if (pool_run(g) < 0)
		goto stop;
	struct rlimit nofile = {0};
	(void)getrlimit(RLIMIT_NOFILE, &nofile); /* raised to the hard limit (nofile.c) */
	log_notice("event=started version=" PACKAGE_VERSION
		   " workers=%d bindings=%zu domain=%s descriptors=%llu",
		   g->nworkers, loc_count(g->loc), g->conf->domains.v[0],
		   (unsigned long long)nofile.rlim_cur);
	notify_send("READY=1");
	/* the main thread waits for signals and, meanwhile, gives back the memory of
	 * connections that closed (heap_trim.c) */
	struct heap_trim trim = {0};
	const struct timespec second = {1, 0};
	for (;;) {
		sig = sigtimedwait(&set, NULL, &second);
		if (sig < 0) {
			heap_trim_tick(&trim, time(NULL));
			continue;
		}
		if (sig == SIGHUP) {
			notify_send("RELOADING=1");
			gwd_reload(g, err, sizeof(err));
			notify_send("READY=1");
			continue;
		}
#ifdef GW_TPORT_LEDGER
		if (sig == SIGUSR2) {
			tport_ledger_dump("sigusr2");
			continue;
		}
#endif
		break;
	}
	notify_send("STOPPING=1");
	log_notice("event=stopping signal=%d bindings=%zu", sig, loc_count(g->loc));
#ifdef GW_TPORT_LEDGER
	tport_ledger_dump("exit"); /* before the agents free their transports */
#endif
	ret = 0;
stop:
	pool_stop(g); /* its thread posts to worker 0, and runs control requests */
	control_stop(g);
	workers_stop(g);
	sip_policy_stop();
	dlg_clear();
	nonce_table_clear();
	guard_clear();
	sipae_server_shutdown(g);
	accounts_stop(g);
	dir_close(g);
	if (!foreground)
		unlink(g->conf->pid_file);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"foreground", no_argument, NULL, 'f'},
					     {"check-config", no_argument, NULL, 'n'},
					     {"version", no_argument, NULL, 'V'},
					     {"help", no_argument, NULL, 'h'},
					     {"allow-root", no_argument, NULL, 'R'},
					     {"print-config-keys", no_argument, NULL, 'K'},
					     {NULL, 0, NULL, 0}};
	struct gwd g = {0};
	const char *path = SYSCONFDIR "/greenwich/greenwich.conf";
	bool foreground = false, check = false, allow_root = false;
	char err[512];
	int c, ret;

	/* the state directory holds secrets (keytab, TLS key, Digest HA1s): whatever
	 * greenwichd creates is never readable by others, also when started by hand */
	umask(027);
	while ((c = getopt_long(argc, argv, "c:fnVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'R':
			allow_root = true;
			break;
		case 'V':
			printf("greenwichd " PACKAGE_VERSION "\n");
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'K':
			gw_conf_print_keys(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (reload_hooks_check(err, sizeof(err)) < 0) {
		fprintf(stderr, "greenwichd: %s\n", err);
		return 1;
	}
	g.conf = gw_conf_load(path, err, sizeof(err));
	if (g.conf == NULL) {
		fprintf(stderr, "greenwichd: %s\n", err);
		return 1;
	}
	if (check) {
		/* the store too: reachable, and a schema this build knows */
		char note[256];
		if (gwstore_check_conf(g.conf, note, sizeof(note), err, sizeof(err)) < 0) {
			fprintf(stderr, "greenwichd: %s: [store] %s\n", path, err);
			gw_conf_free(g.conf);
			return 1;
		}
		printf("%s: configuration OK%s%s\n", path, note[0] ? "; " : "", note);
		gw_conf_free(g.conf);
		return 0;
	}
	/* everything an outsider can reach runs in this process: as root, a flaw in it
	 * would be the machine's; the package's unit runs it as the greenwich user */
	if (geteuid() == 0 && !allow_root) {
		fprintf(stderr, "greenwichd: refusing to run as root; run it as the greenwich "
				"user (as the package's greenwichd.service does), or pass "
				"--allow-root\n");
		gw_conf_free(g.conf);
		return 1;
	}
	g.config_path = strdup(path);
	log_init("greenwichd", foreground, g.conf->syslog_facility);
	log_level_set(g.conf->log_level);
	if (geteuid() == 0)
		log_warnx("event=running-as-root note=\"--allow-root given: a flaw reachable from "
			  "the network would run with root's rights\"");
	su_init();
	sofia_log_start();
	ret = run(&g, foreground);
	sofia_log_flush();
	loc_free(g.loc);
	gwstore_close(g.store);
	su_deinit();
	free(g.config_path);
	gw_conf_free(g.conf);
	return ret;
}
