/* The dialog table: dialogs by Call-ID and tags, bounded in size and time.
 * A dialog answered 2xx waits for its ACK GWP_DIALOG_UNACKED_S (64*T1), then
 * goes; acknowledged, it lives idle_s after its last request. Each of the two
 * has a queue in which all live equally long, so its head expires first and
 * a dialog used again goes to the tail. Room is counted with the INVITEs
 * being forwarded (reserved). Knows nothing of SIP messages. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gwp_internal.h"

static size_t
hash_str(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

int
gwp_dtable_init(struct gwp_dtable *t, size_t max, unsigned idle_s)
{
	memset(t, 0, sizeof(*t));
	if (max == 0 || idle_s == 0)
		return GWP_ERR_INVAL;
	t->n_buckets = 64;
	while (t->n_buckets < max && t->n_buckets < 65536)
		t->n_buckets *= 2;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	if (!t->buckets)
		return GWP_ERR_NOMEM;
	t->max = max;
	t->idle_s = idle_s;
	return GWP_OK;
}

void
gwp_dialog_free(struct gwp_dialog *d)
{
	int i;

	if (!d)
		return;
	free(d->call_id);
	for (i = 0; i < 2; i++) {
		free(d->tag[i]);
		free(d->target[i]);
		free(d->routes[i]);
	}
	free(d->app_target);
	free(d);
}

void
gwp_dtable_fini(struct gwp_dtable *t)
{
	struct gwp_dialog *d;

	while ((d = t->q[GWP_DQ_UNACKED].head) || (d = t->q[GWP_DQ_ACKED].head)) {
		gwp_dtable_remove(t, d);
		gwp_dialog_free(d);
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

struct gwp_dialog *
gwp_dialog_make(const char *call_id, const char *const tag[2], const char *const target[2],
		const char *const routes[2], const char *app_target)
{
	struct gwp_dialog *d = calloc(1, sizeof(*d));
	int i, bad;

	if (!d)
		return NULL;
	d->call_id = gwp_strdup(call_id);
	d->app_target = gwp_strdup(app_target);
	bad = !d->call_id || (app_target && !d->app_target);
	for (i = 0; i < 2; i++) {
		d->tag[i] = gwp_strdup(tag[i]);
		d->target[i] = gwp_strdup(target[i]);
		d->routes[i] = gwp_strdup(routes[i] ? routes[i] : "");
		bad |= !d->tag[i] || !d->target[i] || !d->routes[i];
	}
	if (bad) {
		gwp_dialog_free(d);
		return NULL;
	}
	return d;
}

static struct gwp_dialog **
bucket(struct gwp_dtable *t, const char *call_id)
{
	return &t->buckets[hash_str(call_id) & (t->n_buckets - 1)];
}

static struct gwp_dqueue *
queue_of(struct gwp_dtable *t, const struct gwp_dialog *d)
{
	return &t->q[d->acked ? GWP_DQ_ACKED : GWP_DQ_UNACKED];
}

/* At the tail of its queue, living from now. */
static void
queue_append(struct gwp_dtable *t, struct gwp_dialog *d, time_t now)
{
	struct gwp_dqueue *q = queue_of(t, d);

	d->expires = now + (d->acked ? t->idle_s : GWP_DIALOG_UNACKED_S);
	d->next = NULL;
	d->prev = q->tail;
	if (q->tail)
		q->tail->next = d;
	else
		q->head = d;
	q->tail = d;
}

static void
queue_unlink(struct gwp_dtable *t, struct gwp_dialog *d)
{
	struct gwp_dqueue *q = queue_of(t, d);

	if (d->prev)
		d->prev->next = d->next;
	else
		q->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		q->tail = d->prev;
	d->prev = d->next = NULL;
}

void
gwp_dtable_remove(struct gwp_dtable *t, struct gwp_dialog *d)
{
	struct gwp_dialog **pp;

	for (pp = bucket(t, d->call_id); *pp; pp = &(*pp)->hnext) {
		if (*pp == d) {
			*pp = d->hnext;
			d->hnext = NULL;
			queue_unlink(t, d);
			t->count--;
			return;
		}
	}
}

/* No room for another INVITE: the dialogs and the INVITEs being forwarded fill it. */
int
gwp_dtable_full(const struct gwp_dtable *t)
{
	return t->count + t->reserved >= t->max;
}

/* Returns the dialog pushed out to make room, for the caller to report and
 * free, or NULL: only when more answers come than INVITEs reserved room for
 * (two branches of one call answered 2xx), the oldest unacknowledged, else
 * the one idle longest. An existing dialog with the same Call-ID and tags
 * is replaced. */
struct gwp_dialog *
gwp_dtable_insert(struct gwp_dtable *t, struct gwp_dialog *d, time_t now)
{
	struct gwp_dialog *old, *evicted = NULL;
	int dir;

	old = gwp_dtable_find(t, d->call_id, d->tag[GWP_CALLER], d->tag[GWP_CALLEE], now, &dir);
	if (old && dir == GWP_CALLER) {
		d->ended = old->ended;
		d->acked = old->acked;
		gwp_dtable_remove(t, old);
		gwp_dialog_free(old);
	}
	if (t->count >= t->max) {
		evicted =
		    t->q[GWP_DQ_UNACKED].head ? t->q[GWP_DQ_UNACKED].head : t->q[GWP_DQ_ACKED].head;
		gwp_dtable_remove(t, evicted);
	}
	d->hnext = *bucket(t, d->call_id);
	*bucket(t, d->call_id) = d;
	queue_append(t, d, now);
	t->count++;
	return evicted;
}

/* The dialog a request with these Call-ID and tags belongs to; *dir is the
 * party that sent it (GWP_CALLER or GWP_CALLEE). Expired dialogs are not
 * found (gwp_dtable_expired() collects them). */
struct gwp_dialog *
gwp_dtable_find(struct gwp_dtable *t, const char *call_id, const char *from_tag, const char *to_tag,
		time_t now, int *dir)
{
	struct gwp_dialog *d;

	if (!call_id || !from_tag || !to_tag)
		return NULL;
	for (d = *bucket(t, call_id); d; d = d->hnext) {
		if (d->expires <= now || strcmp(d->call_id, call_id) != 0)
			continue;
		/* Tags are compared exactly (RFC 3261 12.2.2: case-sensitive tokens). */
		if (strcmp(d->tag[GWP_CALLER], from_tag) == 0 &&
		    strcmp(d->tag[GWP_CALLEE], to_tag) == 0) {
			*dir = GWP_CALLER;
			return d;
		}
		if (strcmp(d->tag[GWP_CALLEE], from_tag) == 0 &&
		    strcmp(d->tag[GWP_CALLER], to_tag) == 0) {
			*dir = GWP_CALLEE;
			return d;
		}
	}
	return NULL;
}

/* A request of the dialog passed: an ACK confirms it; a confirmed dialog lives
 * idle_s from now. An unacknowledged one keeps its 32 s. */
void
gwp_dtable_touch(struct gwp_dtable *t, struct gwp_dialog *d, int ack, time_t now)
{
	if (!d->acked && !ack)
		return;
	queue_unlink(t, d);
	d->acked = 1;
	queue_append(t, d, now);
}

/* Unlink and return one dialog past its expiry, or NULL. */
struct gwp_dialog *
gwp_dtable_expired(struct gwp_dtable *t, time_t now)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct gwp_dialog *d = t->q[i].head;

		if (d && d->expires <= now) {
			gwp_dtable_remove(t, d);
			return d;
		}
	}
	return NULL;
}

int
gwp_dialog_set_target(struct gwp_dialog *d, int party, const char *uri)
{
	char *copy = gwp_strdup(uri);

	if (!copy)
		return GWP_ERR_NOMEM;
	free(d->target[party]);
	d->target[party] = copy;
	return GWP_OK;
}
