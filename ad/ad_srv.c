/*
 * ad_srv.c - domain controllers from DNS: _ldap._tcp.dc._msdcs.<domain> SRV records.
 */
#include "config.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_private.h"

static int
srv_cmp(const void *a, const void *b)
{
	const struct ad_srv *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->target, y->target);
}

/* One SRV answer record into @srv. 1 if it is one, 0 if another type, or an error. */
static int
srv_record(ns_msg *msg, ns_rr *rr, struct ad_srv *srv)
{
	const unsigned char *rd = ns_rr_rdata(*rr);

	if (ns_rr_type(*rr) != ns_t_srv || ns_rr_class(*rr) != ns_c_in)
		return 0;
	if (ns_rr_rdlen(*rr) < 7)
		return -AD_ERR_PARSE;
	srv->priority = ns_get16(rd);
	srv->weight = ns_get16(rd + 2);
	srv->port = ns_get16(rd + 4);
	if (dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), rd + 6, srv->target,
		      sizeof(srv->target)) < 0)
		return -AD_ERR_PARSE;
	/* "." means: no service here (RFC 2782). */
	if (srv->target[0] == '\0' || strcmp(srv->target, ".") == 0)
		return 0;
	return 1;
}

int
ad_srv_parse(const unsigned char *msg, size_t len, struct ad_srv **srvp, size_t *countp)
{
	struct ad_srv *srv = NULL;
	size_t count = 0;
	ns_msg handle;
	ns_rr rr;
	int i, n, ret;

	if (len > 65535 || ns_initparse(msg, (int)len, &handle) < 0) {
		ret = -AD_ERR_PARSE;
		goto done;
	}
	n = ns_msg_count(handle, ns_s_an);
	srv = calloc(n > 0 ? (size_t)n : 1, sizeof(*srv));
	if (srv == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (ns_parserr(&handle, ns_s_an, i, &rr) < 0) {
			ret = -AD_ERR_PARSE;
			goto done;
		}
		ret = srv_record(&handle, &rr, &srv[count]);
		if (ret < 0)
			goto done;
		count += (size_t)ret;
	}
	if (count == 0) {
		ret = -AD_ERR_DNS;
		goto done;
	}
	qsort(srv, count, sizeof(*srv), srv_cmp);
	*srvp = srv;
	*countp = count;
	srv = NULL;
	ret = 0;
done:
	free(srv);
	return ret;
}

int
ad_srv_lookup(const char *domain, int timeout_ms, struct ad_srv **srvp, size_t *countp,
	      char *reason)
{
	struct __res_state res;
	unsigned char answer[8192];
	char name[NS_MAXDNAME];
	int len, ret;

	memset(&res, 0, sizeof(res));
	snprintf(name, sizeof(name), "_ldap._tcp.dc._msdcs.%s", domain);
	if (res_ninit(&res) != 0) {
		ad_reason_set(reason, "cannot initialise the resolver");
		return -AD_ERR_DNS;
	}
	res.retrans = timeout_ms > 1000 ? timeout_ms / 1000 : 1;
	res.retry = 1;
	len = res_nquery(&res, name, ns_c_in, ns_t_srv, answer, sizeof(answer));
	if (len < 0) {
		ad_reason_set(reason, "DNS SRV %s: %s", name, hstrerror(res.res_h_errno));
		ret = res.res_h_errno == TRY_AGAIN ? -AD_ERR_UNAVAILABLE : -AD_ERR_DNS;
		goto done;
	}
	ret = ad_srv_parse(answer, (size_t)len, srvp, countp);
	if (ret < 0)
		ad_reason_set(reason, "DNS SRV %s: %s", name, ad_strerror(ret));
done:
	res_nclose(&res);
	return ret;
}

int
ad_dc_find(const char *domain, int timeout_ms, char *dc, size_t len, char *reason)
{
	struct ad_srv *srv = NULL;
	size_t n = 0;
	int ret = ad_srv_lookup(domain, timeout_ms > 0 ? timeout_ms : 3000, &srv, &n, reason);

	if (ret == 0)
		ad_str_copy(dc, len, srv[0].target);
	free(srv);
	return ret;
}
