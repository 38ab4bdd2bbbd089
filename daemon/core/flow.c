/*
 * flow.c - connection ids for registered stream transports.
 */
#include "config.h"

#include <stdlib.h>

#include "flow.h"

struct flow {
	uint64_t id;
	tport_t *tp;
};

struct flow_table {
	struct flow *v;
	size_t n, cap;
	uint64_t next_id;
};

struct flow_table *
flow_table_alloc(void)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));

	if (ft)
		ft->next_id = 1;
	return ft;
}

void
flow_table_free(struct flow_table *ft)
{
	if (ft == NULL)
		return;
	for (size_t i = 0; i < ft->n; i++)
		tport_unref(ft->v[i].tp);
	free(ft->v);
	free(ft);
}

uint64_t
flow_id(struct flow_table *ft, tport_t *tp)
{
	for (size_t i = 0; i < ft->n; i++)
		if (ft->v[i].tp == tp)
			return ft->v[i].id;
	if (ft->n == ft->cap) {
		size_t cap = ft->cap ? ft->cap * 2 : 64;
		struct flow *nv = realloc(ft->v, cap * sizeof(*nv));
		if (nv == NULL)
			return 0;
		ft->v = nv;
		ft->cap = cap;
	}
	ft->v[ft->n].id = ft->next_id++;
	ft->v[ft->n].tp = tport_ref(tp);
	return ft->v[ft->n++].id;
}

tport_t *
flow_get(struct flow_table *ft, uint64_t id)
{
	for (size_t i = 0; i < ft->n; i++)
		if (ft->v[i].id == id) {
			tport_t *tp = ft->v[i].tp;
			if (tport_is_closed(tp) || tport_is_shutdown(tp))
				return NULL;
			return tp;
		}
	return NULL;
}

int
flow_prune(struct flow_table *ft)
{
	size_t k = 0;
	int gone = 0;

	for (size_t i = 0; i < ft->n; i++) {
		if (tport_is_closed(ft->v[i].tp) || tport_is_shutdown(ft->v[i].tp)) {
			tport_unref(ft->v[i].tp);
			gone++;
			continue;
		}
		ft->v[k++] = ft->v[i];
	}
	ft->n = k;
	return gone;
}

void
flow_each(struct flow_table *ft, flow_each_fn *fn, void *arg)
{
	for (size_t i = 0; i < ft->n; i++)
		fn(ft->v[i].id, ft->v[i].tp, arg);
}
