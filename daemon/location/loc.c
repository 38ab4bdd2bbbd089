/*
 * loc.c - the in-memory location table, written through to the store.
 *
 * Two hash indexes over the same contact nodes: by address of record
 * (routing) and by contact URI (in-dialog requests that target a registered
 * contact).  One rwlock guards both; writes also hold it while the store
 * commits, which keeps memory and disk in the same order.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "loc.h"
#include "loc_int.h"
#include "log.h"
#include "gwstore.h"

#define LOC_BUCKETS (1u << 16)

struct loc {
	pthread_rwlock_t lock;
	struct loc_writer *writer;
	struct loc_node *by_aor[LOC_BUCKETS];
	struct loc_node *by_uri[LOC_BUCKETS];
	size_t count;
	char self[40]; /* [pool] id, "" outside a pool */
};

static uint32_t
hash_ci(const char *s)
{
	return gw_hash_str_ci(s) & (LOC_BUCKETS - 1);
}

/*
 * The device a contact URI names, whatever its spelling: lower-case user and
 * host and the port (5060, 5061 for sips, when none is given); scheme case,
 * password, parameters and headers do not count.  Two contacts with one key
 * reach the same device, so they belong to one AOR.
 */
void
loc_uri_key(char *out, size_t len, const char *uri)
{
	const char *p = uri, *at, *end;
	bool sips = strncasecmp(p, "sips:", 5) == 0;
	size_t o = 0;

	if (len == 0)
		return;
	p += sips ? 5 : strncasecmp(p, "sip:", 4) == 0 ? 4 : 0;
	end = p + strcspn(p, ";?>");
	at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		size_t ulen = strcspn(p, ":@");
		for (size_t i = 0; i < ulen && o + 1 < len; i++)
			out[o++] = (char)tolower((unsigned char)p[i]);
		if (o + 1 < len)
			out[o++] = '@';
		p = at + 1;
	}
	const char *hend = *p == '[' ? memchr(p, ']', (size_t)(end - p)) : NULL;
	hend = hend ? hend + 1 : p + strcspn(p, ":;?>");
	if (hend > end)
		hend = end;
	for (const char *q = p; q < hend && o + 1 < len; q++)
		out[o++] = (char)tolower((unsigned char)*q);
	long port = sips ? 5061 : 5060;
	if (*hend == ':') {
		char *pe = NULL;
		long v = strtol(hend + 1, &pe, 10);
		if (pe != hend + 1 && v > 0 && v < 65536)
			port = v;
	}
	snprintf(out + o, len - o, ":%ld", port);
}

static uint32_t
hash_key(const char *uri)
{
	char key[300];

	loc_uri_key(key, sizeof(key), uri);
	return hash_ci(key);
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void
loc_contact_clear(struct loc_contact *c)
{
	free(c->aor);
	free(c->uri);
	free(c->call_id);
	free(c->path);
	free(c->instance);
	free(c->user_agent);
	memset(c, 0, sizeof(*c));
}

void
loc_contacts_free(struct loc_contact *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		loc_contact_clear(&v[i]);
	free(v);
}

int
loc_contact_copy(struct loc_contact *dst, const struct loc_contact *src)
{
	*dst = *src;
	dst->aor = dup_or_null(src->aor);
	dst->uri = dup_or_null(src->uri);
	dst->call_id = dup_or_null(src->call_id);
	dst->path = dup_or_null(src->path);
	dst->instance = dup_or_null(src->instance);
	dst->user_agent = dup_or_null(src->user_agent);
	if (!dst->aor || !dst->uri || !dst->call_id || (src->path && !dst->path) ||
	    (src->instance && !dst->instance) || (src->user_agent && !dst->user_agent)) {
		loc_contact_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

static void
node_link(struct loc *loc, struct loc_node *n)
{
	uint32_t ha = hash_ci(n->c.aor), hu = hash_key(n->c.uri);

	n->next_aor = loc->by_aor[ha];
	loc->by_aor[ha] = n;
	n->next_uri = loc->by_uri[hu];
	loc->by_uri[hu] = n;
	loc->count++;
}

static void
node_unlink(struct loc *loc, struct loc_node *n)
{
	struct loc_node **pp;

	for (pp = &loc->by_aor[hash_ci(n->c.aor)]; *pp; pp = &(*pp)->next_aor)
		if (*pp == n) {
			*pp = n->next_aor;
			break;
		}
	for (pp = &loc->by_uri[hash_key(n->c.uri)]; *pp; pp = &(*pp)->next_uri)
		if (*pp == n) {
			*pp = n->next_uri;
			break;
		}
	loc->count--;
}

static void
node_free(struct loc_node *n)
{
	loc_contact_clear(&n->c);
	free(n);
}

void
loc_contact_view(struct loc_contact *c, const struct gwstore_binding *b)
{
	*c = (struct loc_contact){
	    .aor = (char *)b->aor,
	    .uri = (char *)b->uri,
	    .call_id = (char *)b->call_id,
	    .cseq = b->cseq,
	    .expires = (time_t)b->expires,
	    .q = b->q,
	    .path = (char *)b->path,
	    .instance = (char *)b->instance,
	    .user_agent = (char *)b->user_agent,
	    .flow.worker = -1,
	};
	snprintf(c->flow.transport, sizeof(c->flow.transport), "%s",
		 b->transport ? b->transport : "");
	snprintf(c->flow.addr, sizeof(c->flow.addr), "%s", b->addr ? b->addr : "");
	c->flow.frontend = loc_frontend_intern(b->frontend);
}

static int
load_one(const struct gwstore_binding *b, void *arg)
{
	struct loc *loc = arg;
	struct loc_node *n = calloc(1, sizeof(*n));
	struct loc_contact c;

	loc_contact_view(&c, b);
	if (n == NULL || loc_contact_copy(&n->c, &c) < 0) {
		free(n);
		return -1;
	}
	node_link(loc, n);
	return 0;
}

int
loc_alloc(struct loc **out, struct gwstore *store)
{
	struct loc *loc = calloc(1, sizeof(*loc));

	*out = NULL;
	if (loc == NULL)
		return -ENOMEM;
	pthread_rwlock_init(&loc->lock, NULL);
	/* what expired while stopped goes now; later, rows go with their nodes */
	if (gwstore_binding_each(store, time(NULL), load_one, loc) < 0 ||
	    gwstore_binding_expire(store, time(NULL)) < 0 ||
	    loc_writer_alloc(&loc->writer, loc, store) < 0) {
		loc_free(loc);
		return -EIO;
	}
	*out = loc;
	return 0;
}

void
loc_free(struct loc *loc)
{
	if (loc == NULL)
		return;
	loc_writer_free(loc->writer);
	for (size_t i = 0; i < LOC_BUCKETS; i++) {
		struct loc_node *n = loc->by_aor[i];
		while (n) {
			struct loc_node *next = n->next_aor;
			node_free(n);
			n = next;
		}
	}
	pthread_rwlock_destroy(&loc->lock);
	free(loc);
}

static bool
contact_matches(const struct loc_contact *c, const char *aor, const char *uri, const char *instance)
{
	if (strcasecmp(c->aor, aor) != 0)
		return false;
	if (instance && c->instance)
		return strcmp(c->instance, instance) == 0;
	return strcmp(c->uri, uri) == 0;
}

static struct loc_node *
find_contact(struct loc *loc, const char *aor, const char *uri, const char *instance)
{
	for (struct loc_node *n = loc->by_aor[hash_ci(aor)]; n; n = n->next_aor)
		if (contact_matches(&n->c, aor, uri, instance))
			return n;
	return NULL;
}

static size_t
count_live(struct loc *loc, const char *aor, time_t now)
{
	size_t k = 0;

	for (struct loc_node *n = loc->by_aor[hash_ci(aor)]; n; n = n->next_aor)
		if (n->c.expires > now && strcasecmp(n->c.aor, aor) == 0)
			k++;
	return k;
}

static struct loc_node *
node_make(struct loc *loc, const struct loc_register_req *req, const struct loc_update *u,
	  time_t now)
{
	struct loc_node *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->c.aor = strdup(req->aor);
	n->c.uri = strdup(u->uri);
	n->c.call_id = strdup(req->call_id);
	n->c.cseq = req->cseq;
	n->c.expires = now + u->expires;
	n->c.q = u->q;
	n->c.path = dup_or_null(req->path);
	n->c.instance = dup_or_null(u->instance);
	n->c.user_agent = dup_or_null(req->user_agent);
	n->c.flow = req->flow;
	n->c.flow.frontend = loc_frontend_intern(loc->self);
	if (!n->c.aor || !n->c.uri || !n->c.call_id || (req->path && !n->c.path) ||
	    (u->instance && !n->c.instance) || (req->user_agent && !n->c.user_agent)) {
		node_free(n);
		return NULL;
	}
	return n;
}

/* RFC 3261 10.3 step 7: same Call-ID needs a higher CSeq.  An equal CSeq is a
 * retransmission of the request already applied and changes nothing. */
static int
order_check(const struct loc_node *old, const struct loc_register_req *req)
{
	if (old == NULL || strcmp(old->c.call_id, req->call_id) != 0)
		return 1;
	if (req->cseq > old->c.cseq)
		return 1;
	return req->cseq == old->c.cseq ? 0 : -1;
}

/* The pending change that already removes n or adds uri, or NULL. */
static struct loc_change *
change_find(struct loc_change *ch, size_t k, const struct loc_node *n, const char *uri)
{
	for (size_t j = 0; j < k; j++)
		if ((n && ch[j].old == n) || (ch[j].new &&strcmp(ch[j].new->c.uri, uri) == 0))
			return &ch[j];
	return NULL;
}

/* Another binding of the AOR with the URI the update adds (the store keys
 * on AOR and URI): it goes too. */
static struct loc_node *
find_clash(struct loc *loc, const struct loc_register_req *req, const char *uri,
	   const struct loc_node *old)
{
	for (struct loc_node *n = loc->by_aor[hash_ci(req->aor)]; n; n = n->next_aor)
		if (n != old && strcasecmp(n->c.aor, req->aor) == 0 && strcmp(n->c.uri, uri) == 0)
			return n;
	return NULL;
}

static enum loc_result
plan_changes(struct loc *loc, const struct loc_register_req *req, time_t now, struct loc_change *ch,
	     size_t *nch, bool *in_flight)
{
	size_t k = 0;

	if (req->remove_all) {
		for (struct loc_node *n = loc->by_aor[hash_ci(req->aor)]; n; n = n->next_aor) {
			if (strcasecmp(n->c.aor, req->aor) != 0)
				continue;
			if (order_check(n, req) < 0)
				return LOC_OUT_OF_ORDER;
			ch[k].old = n;
			ch[k].new = NULL;
			k++;
		}
		*nch = k;
		return LOC_OK;
	}
	for (size_t i = 0; i < req->nupdates; i++) {
		const struct loc_update *u = &req->updates[i];
		struct loc_node *old = find_contact(loc, req->aor, u->uri, u->instance);
		int ord = order_check(old, req);

		if (ord < 0)
			return LOC_OUT_OF_ORDER;
		if (ord == 0 && old->c.expires > now && u->expires > 0) {
			/* retransmission: already applied (and maybe not yet durable) */
			if (atomic_load_explicit(&old->pending, memory_order_relaxed))
				*in_flight = true;
			continue;
		}
		if (old == NULL && u->expires == 0)
			continue;
		struct loc_change *dup = change_find(ch, k, old, u->uri);
		if (dup != NULL) {
			/* the same contact twice in one request: the last one wins */
			if (dup->new)
				node_free(dup->new);
			dup->new = u->expires > 0 ? node_make(loc, req, u, now) : NULL;
			if (u->expires > 0 && dup->new == NULL)
				return LOC_STORE_FAILED;
			continue;
		}
		struct loc_node *clash = u->expires > 0 ? find_clash(loc, req, u->uri, old) : NULL;
		if (clash && !change_find(ch, k, clash, "")) {
			ch[k].old = clash;
			ch[k].new = NULL;
			k++;
			*nch = k;
		}
		ch[k].old = old;
		ch[k].new = NULL;
		if (u->expires > 0) {
			ch[k].new = node_make(loc, req, u, now);
			if (ch[k].new == NULL)
				return LOC_STORE_FAILED;
		}
		k++;
		*nch = k;
	}
	*nch = k;
	return LOC_OK;
}

static bool
limit_exceeded(struct loc *loc, const struct loc_register_req *req, time_t now,
	       const struct loc_change *ch, size_t nch)
{
	long live = (long)count_live(loc, req->aor, now);

	for (size_t i = 0; i < nch; i++) {
		if (ch[i].old && ch[i].old->c.expires > now)
			live--;
		if (ch[i].new)
			live++;
	}
	return live > req->max_contacts;
}

static int
collect_locked(struct loc *loc, const char *aor, time_t now, struct loc_contact **out, size_t *nout)
{
	size_t n = count_live(loc, aor, now), k = 0;
	struct loc_contact *v = NULL;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (struct loc_node *p = loc->by_aor[hash_ci(aor)]; p && k < n; p = p->next_aor) {
		if (p->c.expires <= now || strcasecmp(p->c.aor, aor) != 0)
			continue;
		if (loc_contact_copy(&v[k], &p->c) < 0) {
			loc_contacts_free(v, k);
			return -ENOMEM;
		}
		k++;
	}
	/* highest q first; insertion sort, lists are short */
	for (size_t i = 1; i < k; i++) {
		struct loc_contact t = v[i];
		size_t j = i;
		while (j > 0 && v[j - 1].q < t.q) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = t;
	}
	*out = v;
	*nout = k;
	return 0;
}

static void
changes_apply(struct loc *loc, struct loc_change *ch, size_t nch)
{
	for (size_t i = 0; i < nch; i++) {
		if (ch[i].old)
			node_unlink(loc, ch[i].old);
		if (ch[i].new) {
			atomic_store_explicit(&ch[i].new->pending, true, memory_order_relaxed);
			node_link(loc, ch[i].new);
		}
	}
}

void
loc_ops_undo(struct loc *loc, struct loc_op *ops)
{
	struct loc_op *rev = NULL;

	while (ops) {
		struct loc_op *next = ops->next;
		ops->next = rev;
		rev = ops;
		ops = next;
	}
	for (struct loc_op *op = rev; op; op = op->next)
		for (size_t i = op->nch; i-- > 0;) {
			struct loc_change *c = &op->ch[i];
			if (c->new) {
				node_unlink(loc, c->new);
				node_free(c->new);
				c->new = NULL;
			}
			if (c->old)
				node_link(loc, c->old);
			c->old = NULL;
		}
	/* the list goes back in the order it came, for the answers */
	ops = NULL;
	while (rev) {
		struct loc_op *next = rev->next;
		rev->next = ops;
		ops = rev;
		rev = next;
	}
}

void
loc_ops_durable(struct loc_op *ops)
{
	for (struct loc_op *op = ops; op; op = op->next)
		for (size_t i = 0; i < op->nch; i++)
			if (op->ch[i].new)
				atomic_store_explicit(&op->ch[i].new->pending, false,
						      memory_order_relaxed);
}

void
loc_op_free(struct loc_op *op)
{
	for (size_t i = 0; i < op->nch; i++)
		if (op->ch[i].old)
			node_free(op->ch[i].old);
	loc_contacts_free(op->out, op->nout);
	free(op->ch);
	free(op);
}

void
loc_lock_write(struct loc *loc)
{
	pthread_rwlock_wrlock(&loc->lock);
}

void
loc_unlock(struct loc *loc)
{
	pthread_rwlock_unlock(&loc->lock);
}

/* Planned changes not applied: the new nodes go. */
static void
changes_drop(struct loc_change *ch, size_t nch)
{
	for (size_t i = 0; ch && i < nch; i++)
		if (ch[i].new)
			node_free(ch[i].new);
	free(ch);
}

/* Under the write lock: answer at once when nothing changes and everything
 * in memory is durable; else apply and return LOC_PENDING, with *here set
 * when the caller commits op itself (the writer was idle), else queued. */
static enum loc_result
register_locked(struct loc *loc, const struct loc_register_req *req, time_t now, struct loc_op *op,
		struct loc_contact **out, size_t *nout, bool *here)
{
	enum loc_result res = LOC_STORE_FAILED;
	bool in_flight = false;

	/* sized under the lock: Contact * may remove every binding of the AOR */
	op->ch = calloc(req->remove_all ? loc->count + 1 : 2 * req->nupdates + 1, sizeof(*op->ch));
	if (op->ch != NULL)
		res = plan_changes(loc, req, now, op->ch, &op->nch, &in_flight);
	if (res == LOC_OK && limit_exceeded(loc, req, now, op->ch, op->nch))
		res = LOC_TOO_MANY;
	if (res != LOC_OK)
		return res;
	if (op->nch == 0 && !req->remove_all && req->nupdates > 0 && req->repeated)
		*req->repeated = true;
	if (op->nch == 0 && in_flight && req->absorb_in_flight)
		return LOC_IN_FLIGHT;
	if (op->nch == 0 && loc_writer_depth(loc->writer) == 0)
		return collect_locked(loc, req->aor, now, out, nout) < 0 ? LOC_STORE_FAILED
									 : LOC_OK;
	bool was_empty = count_live(loc, req->aor, now) == 0;
	changes_apply(loc, op->ch, op->nch);
	if (collect_locked(loc, req->aor, now, &op->out, &op->nout) < 0)
		log_warnx("event=register-answer-incomplete user=%s", log_value(req->aor));
	if (req->flipped)
		*req->flipped = was_empty != (count_live(loc, req->aor, now) == 0);
	*here = op->nch > 0 && loc_writer_claim(loc->writer);
	if (!*here)
		loc_writer_submit(loc->writer, op);
	return LOC_PENDING;
}

/* Commit op on this thread (no hand-off when nothing else is waiting). */
static enum loc_result
register_here(struct loc *loc, struct loc_op *op, struct loc_contact **out, size_t *nout)
{
	int rc = loc_writer_commit_here(loc->writer, op);

	if (rc == -EAGAIN)
		return LOC_PENDING; /* the writer has it now */
	if (rc == 0) {
		*out = op->out;
		*nout = op->nout;
		op->out = NULL;
		op->nout = 0;
	}
	loc_op_free(op);
	return rc == 0 ? LOC_OK : LOC_STORE_FAILED;
}

enum loc_result
loc_register_start(struct loc *loc, const struct loc_register_req *req, time_t now,
		   loc_done_f *done, void *arg, struct loc_contact **out, size_t *nout)
{
	struct loc_op *op = calloc(1, sizeof(*op));
	enum loc_result res = LOC_STORE_FAILED;
	bool here = false;

	*out = NULL;
	*nout = 0;
	if (op == NULL)
		return res;
	op->done = done;
	op->arg = arg;
	pthread_rwlock_wrlock(&loc->lock);
	res = register_locked(loc, req, now, op, out, nout, &here);
	pthread_rwlock_unlock(&loc->lock);
	if (here)
		return register_here(loc, op, out, nout);
	if (res != LOC_PENDING) {
		changes_drop(op->ch, op->nch);
		free(op);
	}
	return res;
}

/* The synchronous form: wait for the writer. */
struct loc_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	enum loc_result res;
	struct loc_contact *out;
	size_t nout;
};

static void
wait_done(void *arg, enum loc_result res, struct loc_contact *v, size_t n)
{
	struct loc_wait *lw = arg;

	pthread_mutex_lock(&lw->mu);
	lw->res = res;
	lw->out = v;
	lw->nout = n;
	lw->done = true;
	pthread_cond_signal(&lw->cv);
	pthread_mutex_unlock(&lw->mu);
}

static enum loc_result
wait_for(struct loc_wait *lw, struct loc_contact **out, size_t *nout)
{
	pthread_mutex_lock(&lw->mu);
	while (!lw->done)
		pthread_cond_wait(&lw->cv, &lw->mu);
	pthread_mutex_unlock(&lw->mu);
	pthread_cond_destroy(&lw->cv);
	pthread_mutex_destroy(&lw->mu);
	if (out) {
		*out = lw->out;
		*nout = lw->nout;
	} else {
		loc_contacts_free(lw->out, lw->nout);
	}
	return lw->res;
}

enum loc_result
loc_register(struct loc *loc, const struct loc_register_req *req, time_t now,
	     struct loc_contact **out, size_t *nout)
{
	struct loc_wait lw = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	enum loc_result res = loc_register_start(loc, req, now, wait_done, &lw, out, nout);

	if (res != LOC_PENDING) {
		pthread_cond_destroy(&lw.cv);
		pthread_mutex_destroy(&lw.mu);
		return res;
	}
	return wait_for(&lw, out, nout);
}

long
loc_stall_ms(struct loc *loc)
{
	return loc_writer_stall_ms(loc->writer);
}

size_t
loc_pending(struct loc *loc)
{
	return loc_writer_depth(loc->writer);
}

int
loc_lookup(struct loc *loc, const char *aor, time_t now, struct loc_contact **out, size_t *nout)
{
	int ret;

	pthread_rwlock_rdlock(&loc->lock);
	ret = collect_locked(loc, aor, now, out, nout);
	pthread_rwlock_unlock(&loc->lock);
	return ret;
}

int
loc_lookup_uri(struct loc *loc, const char *uri, time_t now, struct loc_contact *out)
{
	char key[300], k2[300];
	const struct loc_node *hit = NULL;
	int ret = -ENOENT;

	loc_uri_key(key, sizeof(key), uri);
	pthread_rwlock_rdlock(&loc->lock);
	for (struct loc_node *n = loc->by_uri[hash_ci(key)]; n; n = n->next_uri) {
		if (n->c.expires <= now)
			continue;
		if (strcmp(n->c.uri, uri) == 0) {
			hit = n;
			break;
		}
		loc_uri_key(k2, sizeof(k2), n->c.uri);
		if (hit == NULL && strcmp(k2, key) == 0)
			hit = n; /* another spelling of the same device */
	}
	if (hit)
		ret = loc_contact_copy(out, &hit->c);
	pthread_rwlock_unlock(&loc->lock);
	return ret;
}

bool
loc_uri_taken(struct loc *loc, const char *uri, const char *aor, time_t now)
{
	char key[300], k2[300];
	bool taken = false;

	loc_uri_key(key, sizeof(key), uri);
	pthread_rwlock_rdlock(&loc->lock);
	for (struct loc_node *n = loc->by_uri[hash_ci(key)]; n && !taken; n = n->next_uri) {
		if (n->c.expires <= now || strcasecmp(n->c.aor, aor) == 0)
			continue;
		loc_uri_key(k2, sizeof(k2), n->c.uri);
		taken = strcmp(k2, key) == 0;
	}
	pthread_rwlock_unlock(&loc->lock);
	return taken;
}

/* Which bindings a removal takes: those of aor, or, without aor, the expired
 * ones. */
struct remove_filter {
	const char *aor;
	time_t now;
};

static bool
remove_hit(const struct loc_node *n, const struct remove_filter *f)
{
	if (f->aor == NULL)
		return n->c.expires <= f->now;
	return strcasecmp(n->c.aor, f->aor) == 0;
}

/* Under the write lock: the removals as changes of op; how many. */
static int
remove_plan(struct loc *loc, const struct remove_filter *f, struct loc_op *op)
{
	size_t lo = f->aor ? hash_ci(f->aor) : 0, hi = f->aor ? lo + 1 : LOC_BUCKETS, k = 0;

	for (size_t i = lo; i < hi; i++)
		for (struct loc_node *n = loc->by_aor[i]; n; n = n->next_aor)
			k += remove_hit(n, f);
	if (k == 0)
		return 0;
	op->ch = calloc(k, sizeof(*op->ch));
	if (op->ch == NULL)
		return -ENOMEM;
	for (size_t i = lo; i < hi; i++)
		for (struct loc_node *n = loc->by_aor[i]; n; n = n->next_aor)
			if (remove_hit(n, f))
				op->ch[op->nch++].old = n;
	return (int)k;
}

static int
remove_where(struct loc *loc, const struct remove_filter *f)
{
	struct loc_wait lw = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct loc_op *op = calloc(1, sizeof(*op));
	int removed = -ENOMEM;

	if (op == NULL)
		goto done;
	op->done = wait_done;
	op->arg = &lw;
	pthread_rwlock_wrlock(&loc->lock);
	removed = remove_plan(loc, f, op);
	if (removed > 0) {
		changes_apply(loc, op->ch, op->nch);
		loc_writer_submit(loc->writer, op);
	}
	pthread_rwlock_unlock(&loc->lock);
	if (removed > 0)
		return wait_for(&lw, NULL, NULL) == LOC_OK ? removed : -EIO;
	free(op->ch);
	free(op);
done:
	pthread_cond_destroy(&lw.cv);
	pthread_mutex_destroy(&lw.mu);
	return removed;
}

int
loc_remove_aor(struct loc *loc, const char *aor)
{
	const struct remove_filter f = {.aor = aor, .now = time(NULL)};

	return remove_where(loc, &f);
}

int
loc_expire(struct loc *loc, time_t now)
{
	const struct remove_filter f = {.now = now};

	return remove_where(loc, &f);
}

size_t
loc_count(struct loc *loc)
{
	size_t n;

	pthread_rwlock_rdlock(&loc->lock);
	n = loc->count;
	pthread_rwlock_unlock(&loc->lock);
	return n;
}

static int
contact_order(const void *a, const void *b)
{
	const struct loc_contact *x = a, *y = b;
	int r = strcasecmp(x->aor, y->aor);

	return r ? r : strcmp(x->uri, y->uri);
}

int
loc_list(struct loc *loc, time_t now, struct loc_contact **out, size_t *nout)
{
	struct loc_contact *v;
	size_t k = 0;
	int ret = 0;

	*out = NULL;
	*nout = 0;
	pthread_rwlock_rdlock(&loc->lock);
	v = calloc(loc->count + 1, sizeof(*v));
	if (v == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < LOC_BUCKETS && ret == 0; i++)
		for (struct loc_node *n = loc->by_aor[i]; n && ret == 0; n = n->next_aor)
			if (n->c.expires > now && (ret = loc_contact_copy(&v[k], &n->c)) == 0)
				k++;
done:
	pthread_rwlock_unlock(&loc->lock);
	if (ret < 0) {
		loc_contacts_free(v, k);
		return ret;
	}
	qsort(v, k, sizeof(*v), contact_order);
	*out = v;
	*nout = k;
	return 0;
}

/* The front ends' ids: a handful in a pool, none outside one; never freed. */
static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static struct interned {
	struct interned *next;
	char id[];
} * interned;

const char *
loc_frontend_intern(const char *id)
{
	struct interned *e;

	if (id == NULL || id[0] == '\0')
		return "";
	pthread_mutex_lock(&intern_lock);
	for (e = interned; e; e = e->next)
		if (strcmp(e->id, id) == 0)
			break;
	size_t len = strlen(id) + 1;
	if (e == NULL && (e = malloc(sizeof(*e) + len)) != NULL) {
		memcpy(e->id, id, len);
		e->next = interned;
		interned = e;
	}
	pthread_mutex_unlock(&intern_lock);
	return e ? e->id : "?"; /* out of memory: no front end of the pool is "?" */
}

void
loc_set_frontend(struct loc *loc, const char *id)
{
	snprintf(loc->self, sizeof(loc->self), "%s", id ? id : "");
}

const char *
loc_frontend(const struct loc *loc)
{
	return loc->self;
}

bool
loc_contact_foreign(const struct loc *loc, const struct loc_contact *c)
{
	return loc->self[0] && c->flow.frontend && c->flow.frontend[0] &&
	       strcmp(c->flow.frontend, loc->self) != 0;
}

/* Under the write lock: drop the foreign nodes of aor (every AOR: NULL), and
 * the ones of ours that v shows held elsewhere now. */
static void
foreign_drop(struct loc *loc, const char *aor, const struct loc_contact *v, size_t n, bool idle)
{
	size_t lo = aor ? hash_ci(aor) : 0, hi = aor ? lo + 1 : LOC_BUCKETS;

	for (size_t i = lo; i < hi; i++)
		for (struct loc_node *nd = loc->by_aor[i], *next; nd; nd = next) {
			next = nd->next_aor;
			if (aor && strcasecmp(nd->c.aor, aor) != 0)
				continue;
			bool drop = loc_contact_foreign(loc, &nd->c);
			for (size_t k = 0; !drop && idle && k < n; k++)
				drop = loc_contact_foreign(loc, &v[k]) &&
				       strcasecmp(v[k].aor, nd->c.aor) == 0 &&
				       strcmp(v[k].uri, nd->c.uri) == 0;
			if (drop) {
				node_unlink(loc, nd);
				node_free(nd);
			}
		}
}

int
loc_foreign_set(struct loc *loc, const char *aor, const struct loc_contact *v, size_t n)
{
	struct loc_node **nodes = n ? calloc(n, sizeof(*nodes)) : NULL;
	size_t k = 0;
	int ret = 0;

	if (loc->self[0] == '\0')
		goto done;
	if (n && nodes == NULL)
		return -ENOMEM;
	/* copies first: nothing allocated under the lock */
	for (size_t i = 0; i < n; i++) {
		if (!loc_contact_foreign(loc, &v[i]))
			continue;
		nodes[k] = calloc(1, sizeof(**nodes));
		if (nodes[k] == NULL || loc_contact_copy(&nodes[k]->c, &v[i]) < 0) {
			free(nodes[k]);
			ret = -ENOMEM;
			goto done;
		}
		nodes[k]->c.flow.worker = -1;
		nodes[k]->c.flow.id = 0;
		k++;
	}
	pthread_rwlock_wrlock(&loc->lock);
	foreign_drop(loc, aor, v, n, loc_writer_depth(loc->writer) == 0);
	for (size_t i = 0; i < k; i++) {
		node_link(loc, nodes[i]);
		nodes[i] = NULL;
	}
	pthread_rwlock_unlock(&loc->lock);
done:
	for (size_t i = 0; nodes && i < k; i++)
		if (nodes[i])
			node_free(nodes[i]);
	free(nodes);
	return ret;
}
