/* Digest nonces and responses (RFC 2617 MD5 with qop=auth).
 *
 * A nonce is hex(issued time, serial, slot) followed by hex(HMAC-MD5 of
 * them under a key drawn at start). The slot remembers the serial it was
 * issued with and the highest nonce-count seen, so a nonce is accepted only
 * while it is ours, unexpired, still in its slot, and with a nonce-count
 * above every one used before. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include <sofia-sip/su_md5.h>

#include "gwp_internal.h"

#define NONCE_DATA 20 /* 8 time + 8 serial + 4 slot */
#define NONCE_MAC 16

static void
hmac_md5(const unsigned char key[32], const unsigned char *data, size_t len, unsigned char out[16])
{
	unsigned char pad[64];
	su_md5_t ctx;
	size_t i;

	for (i = 0; i < 64; i++)
		pad[i] = (unsigned char)((i < 32 ? key[i] : 0) ^ 0x36);
	su_md5_init(&ctx);
	su_md5_update(&ctx, pad, 64);
	su_md5_update(&ctx, data, len);
	su_md5_digest(&ctx, out);
	for (i = 0; i < 64; i++)
		pad[i] = (unsigned char)((i < 32 ? key[i] : 0) ^ 0x5c);
	su_md5_init(&ctx);
	su_md5_update(&ctx, pad, 64);
	su_md5_update(&ctx, out, 16);
	su_md5_digest(&ctx, out);
}

static int
random_fill(unsigned char *buf, size_t len)
{
	ssize_t n = getrandom(buf, len, 0);
	int fd;

	if (n == (ssize_t)len)
		return 0;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

int
gwp_nonces_init(struct gwp_nonces *n, size_t slots, unsigned ttl)
{
	memset(n, 0, sizeof(*n));
	if (slots == 0 || slots > UINT32_MAX || ttl == 0)
		return GWP_ERR_INVAL;
	if (random_fill(n->key, sizeof(n->key)) < 0)
		return GWP_ERR_THREAD;
	n->slots = calloc(slots, sizeof(*n->slots));
	if (!n->slots)
		return GWP_ERR_NOMEM;
	n->n_slots = slots;
	n->ttl = ttl;
	return GWP_OK;
}

void
gwp_nonces_fini(struct gwp_nonces *n)
{
	free(n->slots);
	memset(n, 0, sizeof(*n));
}

static void
put_be(unsigned char *p, uint64_t v, int bytes)
{
	int i;

	for (i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t
get_be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

static void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
hex_decode(const char *in, unsigned char *out, size_t len)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		hi = in[2 * i];
		lo = in[2 * i + 1];
		hi = hi >= '0' && hi <= '9'   ? hi - '0'
		     : hi >= 'a' && hi <= 'f' ? hi - 'a' + 10
					      : -1;
		lo = lo >= '0' && lo <= '9'   ? lo - '0'
		     : lo >= 'a' && lo <= 'f' ? lo - 'a' + 10
					      : -1;
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void
gwp_nonce_make(struct gwp_nonces *n, time_t now, char out[GWP_NONCE_LEN + 1])
{
	unsigned char raw[NONCE_DATA + NONCE_MAC];
	uint64_t serial = ++n->serial;
	size_t slot = (size_t)(serial % n->n_slots);

	n->slots[slot].serial = serial;
	n->slots[slot].issued = now;
	n->slots[slot].last_nc = 0;
	put_be(raw, (uint64_t)now, 8);
	put_be(raw + 8, serial, 8);
	put_be(raw + 16, slot, 4);
	hmac_md5(n->key, raw, NONCE_DATA, raw + NONCE_DATA);
	hex_encode(raw, sizeof(raw), out);
}

/* Constant-time comparison of equal-length byte strings. */
static int
bytes_equal(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	unsigned char diff = 0;
	size_t i;

	for (i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

enum gwp_nonce_result
gwp_nonce_check(struct gwp_nonces *n, const char *nonce, unsigned long nc, time_t now)
{
	unsigned char raw[NONCE_DATA + NONCE_MAC], mac[NONCE_MAC];
	struct gwp_nonce_slot *s;
	uint64_t issued, serial, slot;

	if (!nonce || strlen(nonce) != GWP_NONCE_LEN || hex_decode(nonce, raw, sizeof(raw)) < 0)
		return GWP_NONCE_BAD;
	hmac_md5(n->key, raw, NONCE_DATA, mac);
	if (!bytes_equal(mac, raw + NONCE_DATA, NONCE_MAC))
		return GWP_NONCE_BAD;
	issued = get_be(raw, 8);
	serial = get_be(raw + 8, 8);
	slot = get_be(raw + 16, 4);
	if (slot >= n->n_slots)
		return GWP_NONCE_BAD;
	s = &n->slots[slot];
	if (s->serial != serial || (uint64_t)s->issued != issued || now < s->issued ||
	    now - s->issued >= (time_t)n->ttl)
		return GWP_NONCE_STALE;
	if (nc <= s->last_nc)
		return GWP_NONCE_REPLAY;
	s->last_nc = nc;
	return GWP_NONCE_OK;
}

/* Lowercase hex MD5 of the parts joined by ':'. */
void
gwp_md5_hex(const char *const parts[], size_t n, char out[33])
{
	su_md5_t ctx;
	size_t i;

	su_md5_init(&ctx);
	for (i = 0; i < n; i++) {
		if (i)
			su_md5_update(&ctx, ":", 1);
		su_md5_update(&ctx, parts[i], strlen(parts[i]));
	}
	su_md5_hexdigest(&ctx, out);
}

/* The response of checked credentials against the HA1 of their user:
 * MD5(HA1:nonce:nc:cnonce:qop:MD5(method:uri)). */
int
gwp_digest_response_ok(const struct gwp_credentials *c, const char *ha1)
{
	char ha2[33], expect[33];
	const char *a2[2] = {c->method, c->uri};
	const char *parts[6] = {ha1, c->nonce, c->nc, c->cnonce, c->qop, ha2};

	if (!ha1 || strlen(ha1) != 32 || !c->response || strlen(c->response) != 32)
		return 0;
	gwp_md5_hex(a2, 2, ha2);
	gwp_md5_hex(parts, 6, expect);
	return bytes_equal(expect, c->response, 32);
}
