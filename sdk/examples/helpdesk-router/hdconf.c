/* helpdesk-router: configuration file.
 *
 *   domain helpdesk.test
 *   service helpdesk
 *   listen udp 127.0.0.1 5300
 *   timeout 10
 *   max_calls 2
 *   tls /path/cert.pem /path/key.pem
 *   operator bob sip:bob@127.0.0.1:5312   (static contact)
 *   operator alice                        (must REGISTER)
 *   password alice s3cret                 (Digest password of an operator;
 *                                          one without a password cannot
 *                                          register)
 *   realm helpdesk.test                   (Digest realm; default: the domain)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hdconf.h"

static int
parse_transport(const char *s)
{
	if (strcmp(s, "udp") == 0)
		return 0;
	if (strcmp(s, "tcp") == 0)
		return 1;
	if (strcmp(s, "tls") == 0)
		return 2;
	return -1;
}

static int
conf_line(struct hd_conf *c, struct hd_table *t, int n, char **w)
{
	if (strcmp(w[0], "domain") == 0 && n == 2)
		return snprintf(c->domain, sizeof(c->domain), "%s", w[1]) < 0;
	if (strcmp(w[0], "service") == 0 && n == 2)
		return snprintf(c->service, sizeof(c->service), "%s", w[1]) < 0;
	if (strcmp(w[0], "timeout") == 0 && n == 2)
		return (c->timeout_s = (unsigned)atoi(w[1])) == 0;
	if (strcmp(w[0], "max_calls") == 0 && n == 2)
		return (t->max_calls = (unsigned)atoi(w[1])) == 0;
	if (strcmp(w[0], "tls") == 0 && n == 3) {
		snprintf(c->tls_cert, sizeof(c->tls_cert), "%s", w[1]);
		snprintf(c->tls_key, sizeof(c->tls_key), "%s", w[2]);
		return 0;
	}
	if (strcmp(w[0], "operator") == 0 && (n == 2 || n == 3))
		return hd_op_add(t, w[1], n == 3 ? w[2] : NULL);
	if (strcmp(w[0], "password") == 0 && n == 3)
		return hd_op_set_password(t, w[1], w[2]);
	if (strcmp(w[0], "realm") == 0 && n == 2)
		return snprintf(c->realm, sizeof(c->realm), "%s", w[1]) < 0;
	if (strcmp(w[0], "listen") == 0 && n == 4 && c->n_listen < HD_MAX_LISTEN) {
		struct hd_listen *l = &c->listen[c->n_listen++];

		l->transport = parse_transport(w[1]);
		snprintf(l->host, sizeof(l->host), "%s", w[2]);
		l->port = (unsigned)atoi(w[3]);
		return l->transport < 0 || l->port == 0;
	}
	return -1;
}

static int
split(char *line, char **w, int max)
{
	int n = 0;
	char *save = NULL, *tok;

	line[strcspn(line, "#\r\n")] = '\0';
	for (tok = strtok_r(line, " \t", &save); tok && n < max; tok = strtok_r(NULL, " \t", &save))
		w[n++] = tok;
	return n;
}

int
hd_conf_load(struct hd_conf *c, struct hd_table *t, const char *path, char *err, size_t errlen)
{
	char line[512], *w[5];
	int lineno = 0, n, rc = 0;
	FILE *f = fopen(path, "r");

	memset(c, 0, sizeof(*c));
	snprintf(c->service, sizeof(c->service), "helpdesk");
	c->timeout_s = 10;
	if (!f) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		n = split(line, w, 5);
		if (n > 0 && conf_line(c, t, n, w) != 0) {
			snprintf(err, errlen, "%s:%d: invalid line", path, lineno);
			rc = -1;
		}
	}
	fclose(f);
	if (rc == 0 && (c->n_listen == 0 || !c->domain[0])) {
		snprintf(err, errlen, "%s: 'domain' and 'listen' are required", path);
		rc = -1;
	}
	if (rc == 0 && !c->realm[0])
		snprintf(c->realm, sizeof(c->realm), "%s", c->domain);
	return rc;
}
