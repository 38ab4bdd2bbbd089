/*
 * source_net.c - the internal networks and a client address's source (see
 * source_net.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source_net.h"

struct net {
	unsigned char addr[16]; /* IPv4 mapped into IPv6 */
	unsigned bits;          /* of the 128 */
	bool v4;                /* an IPv4 network: matches IPv4 addresses only, an
				 * IPv6 one (::/0 too) IPv6 addresses only */
};

static struct net *nets;
static size_t nnets;

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* text (no brackets, no port) as 16 bytes; *v4 set when written as IPv4 */
static bool
parse_addr(const char *text, unsigned char out[16], bool *v4)
{
	struct in_addr a4;

	*v4 = false;
	if (inet_pton(AF_INET6, text, out) == 1)
		return true;
	if (inet_pton(AF_INET, text, &a4) != 1)
		return false;
	memcpy(out, v4mapped, 12);
	memcpy(out + 12, &a4, 4);
	*v4 = true;
	return true;
}

static int
net_parse(const char *cidr, struct net *n)
{
	char buf[80], *slash, *end;
	bool v4;
	long bits;

	if (strlen(cidr) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", cidr);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (!parse_addr(buf, n->addr, &v4))
		return -EINVAL;
	bits = v4 ? 32 : 128;
	if (slash) {
		errno = 0;
		bits = strtol(slash, &end, 10);
		if (errno || end == slash || *end != '\0' || bits < 0 || bits > (v4 ? 32 : 128))
			return -EINVAL;
	}
	n->bits = (unsigned)bits + (v4 ? 96 : 0);
	n->v4 = memcmp(n->addr, v4mapped, 12) == 0 && n->bits >= 96;
	return 0;
}

static bool
net_match(const struct net *n, const unsigned char a[16])
{
	unsigned full = n->bits / 8, rest = n->bits % 8;

	if (n->v4 != (memcmp(a, v4mapped, 12) == 0) || memcmp(a, n->addr, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ n->addr[full]) & (0xff << (8 - rest))) == 0;
}

int
source_net_set(const char *const *cidrs, size_t n, size_t *bad)
{
	struct net *v = calloc(n + 1, sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (net_parse(cidrs[i], &v[i]) < 0) {
			if (bad)
				*bad = i;
			free(v);
			return -EINVAL;
		}
	free(nets);
	nets = v;
	nnets = n;
	return 0;
}

void
source_net_clear(void)
{
	free(nets);
	nets = NULL;
	nnets = 0;
}

static bool
internal(const unsigned char a[16])
{
	for (size_t i = 0; i < nnets; i++)
		if (net_match(&nets[i], a))
			return true;
	return false;
}

/* sa's address as 16 bytes */
static bool
addr_of(const struct sockaddr *sa, unsigned char a[16])
{
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		memcpy(a, v4mapped, 12);
		memcpy(a + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

bool
source_net_internal(const struct sockaddr *sa)
{
	unsigned char a[16];

	return addr_of(sa, a) && internal(a);
}

/* a as its source; true when it was cut to its /64 */
static bool
group(unsigned char a[16])
{
	if (memcmp(a, v4mapped, 12) == 0 || internal(a))
		return false;
	memset(a + 8, 0, 8);
	return true;
}

bool
source_net_key(const struct sockaddr *sa, unsigned char key[16])
{
	if (!addr_of(sa, key))
		return false;
	group(key);
	return true;
}

bool
source_net_addr_text(const char *addr, unsigned char a[16])
{
	char buf[64];
	size_t n = strlen(addr);
	bool v4;

	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, addr + 1, n - 2);
		buf[n - 2] = '\0';
	} else if (n < sizeof(buf)) {
		memcpy(buf, addr, n + 1);
	} else {
		return false;
	}
	return parse_addr(buf, a, &v4);
}

bool
source_net_key_text(const char *addr, unsigned char key[16])
{
	if (!source_net_addr_text(addr, key))
		return false;
	group(key);
	return true;
}

static void
key_text(unsigned char a[16], char *out, size_t len)
{
	bool cut = group(a);
	char buf[INET6_ADDRSTRLEN];
	const char *s;

	if (memcmp(a, v4mapped, 12) == 0)
		s = inet_ntop(AF_INET, a + 12, buf, sizeof(buf));
	else
		s = inet_ntop(AF_INET6, a, buf, sizeof(buf));
	snprintf(out, len, "%s%s", s ? s : "?", s && cut ? "/64" : "");
}

void
source_net_text(const struct sockaddr *sa, char *out, size_t len)
{
	unsigned char a[16];

	if (!addr_of(sa, a)) {
		snprintf(out, len, "?");
		return;
	}
	key_text(a, out, len);
}

void
source_net_text_of(const char *addr, char *out, size_t len)
{
	unsigned char a[16];

	if (!source_net_addr_text(addr, a)) {
		snprintf(out, len, "%s", addr);
		return;
	}
	key_text(a, out, len);
}
