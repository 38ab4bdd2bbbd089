/*
 * fuzz_control.c - the control socket (daemon/control/control.c, control_cmd.c): a
 * client's bytes, in the chunks read() returns, split into lines, each
 * parsed as JSON (json-c) and executed; every reply goes back on the
 * connection.  The input is what a client writes to the socket.
 *
 * control.c is compiled into this file (its
 * client_read() is static), control_cmd.c into control_cmd_unit.c, and
 * control_stubs.c stands in for the location store, worker 0 and reload.
 * No SIP worker runs, so commands that ask worker 0 answer "unavailable".
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>

#include "control.c"

#include "fuzz.h"

static struct gwd gwd;
int fuzz_gwd_reload(struct gwd *g, char *err, size_t errlen);
static struct control ctl;
static int to_reader[2], from_reader[2];

/* read() and write() of the harness, again after a signal (libFuzzer's timers). */
static ssize_t
rd(int fd, void *buf, size_t len)
{
	ssize_t n;

	while ((n = read(fd, buf, len)) < 0 && errno == EINTR)
		;
	return n;
}

static void
wr(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while ((n = write(fd, buf, len)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)len)
		abort();
}

/* The client's side: for each connection handed over, read the replies until
 * the server closes, then say so.  One thread for the whole run. */
static void *
reader_main(void *arg)
{
	char buf[4096];
	int fd;

	(void)arg;
	while (rd(to_reader[0], &fd, sizeof(fd)) == (ssize_t)sizeof(fd)) {
		while (rd(fd, buf, sizeof(buf)) > 0)
			;
		wr(from_reader[1], &fd, sizeof(fd));
	}
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pthread_t reader;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	gwd.conf = gw_conf_defaults();
	gwd.reload = fuzz_gwd_reload;
	if (gwd.conf == NULL || pipe(to_reader) < 0 || pipe(from_reader) < 0 ||
	    pthread_create(&reader, NULL, reader_main, NULL) != 0)
		abort();
	pthread_detach(reader);
	gwd.nworkers = 0;
	gwd.started = time(NULL);
	ctl.g = &gwd;
	ctl.listen_fd = -1;
	for (size_t i = 0; i < CTL_CLIENTS; i++)
		ctl.clients[i].fd = -1;
	sample(&ctl);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_client *cl = &ctl.clients[0];
	size_t off = 0;
	int sv[2], done;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	log_level_set(LOG_ERR); /* a loglevel command may have raised it */
	cl->fd = sv[0];
	cl->len = 0;
	wr(to_reader[1], &sv[1], sizeof(sv[1]));
	/* what fits in the server's line buffer, then one read() of it */
	while (off < size && cl->fd >= 0) {
		size_t n = sizeof(cl->buf) - cl->len - 1;
		n = n < size - off ? n : size - off;
		wr(sv[1], data + off, n);
		off += n;
		client_read(&ctl, cl);
		FUZZ_ASSERT(cl->fd < 0 || cl->len < sizeof(cl->buf));
	}
	shutdown(sv[1], SHUT_WR);
	while (cl->fd >= 0)
		client_read(&ctl, cl); /* the rest, then end of file */
	if (rd(from_reader[0], &done, sizeof(done)) != (ssize_t)sizeof(done))
		abort();
	close(sv[1]);
	return 0;
}
