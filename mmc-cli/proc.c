/*
 * proc.c - run an outside tool (adcli) with a secret on its stdin and collect what
 * it printed.  No shell is involved: argv goes to execvp as it is.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmc.h"

static char *
slurp(FILE *fp)
{
	long n;
	char *buf;

	if (fflush(fp) != 0 || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0)
		return strdup("");
	rewind(fp);
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		return NULL;
	buf[fread(buf, 1, (size_t)n, fp)] = '\0';
	return buf;
}

static void
child(char *const argv[], int in, FILE *out, FILE *err)
{
	if (dup2(in, STDIN_FILENO) < 0 || dup2(fileno(out), STDOUT_FILENO) < 0 ||
	    dup2(fileno(err), STDERR_FILENO) < 0)
		_exit(127);
	execvp(argv[0], argv);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Returns the tool's exit status (0..255), or -errno when it could not be run. */
int
mmc_run(char *const argv[], const char *input, struct mmc_proc_out *po)
{
	FILE *out = tmpfile(), *err = tmpfile();
	int fds[2] = {-1, -1}, status = 0, ret = -EIO;
	pid_t pid;

	po->out = po->err = NULL;
	if (out == NULL || err == NULL || pipe2(fds, O_CLOEXEC) < 0)
		goto done;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		goto done;
	if (pid == 0)
		child(argv, fds[0], out, err);
	close(fds[0]);
	fds[0] = -1;
	if (input != NULL) {
		/* A password is far smaller than a pipe buffer: this write never blocks. */
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);
		ssize_t w = write(fds[1], input, strlen(input));
		(void)w;
		signal(SIGPIPE, old);
	}
	close(fds[1]);
	fds[1] = -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			goto done;
	po->out = slurp(out);
	po->err = slurp(err);
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (ret == 127 && po->err && strstr(po->err, "cannot run "))
		ret = -ENOENT;
done:
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (out != NULL)
		fclose(out);
	if (err != NULL)
		fclose(err);
	return ret;
}

void
mmc_proc_out_free(struct mmc_proc_out *po)
{
	free(po->out);
	free(po->err);
	po->out = po->err = NULL;
}
