/* A FIFO between threads; its eventfd is readable while it holds items. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "gwp_internal.h"

int
gwp_queue_init(struct gwp_queue *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->closed = 0;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0)
		return GWP_ERR_THREAD;
	if (pthread_mutex_init(&q->mu, NULL) != 0) {
		close(q->efd);
		q->efd = -1;
		return GWP_ERR_THREAD;
	}
	return GWP_OK;
}

void
gwp_queue_fini(struct gwp_queue *q)
{
	if (q->efd < 0)
		return;
	pthread_mutex_destroy(&q->mu);
	close(q->efd);
	q->efd = -1;
}

int
gwp_queue_push(struct gwp_queue *q, int kind, void *ptr)
{
	struct gwp_qitem *it = malloc(sizeof(*it));
	uint64_t one = 1;

	if (!it)
		return GWP_ERR_NOMEM;
	it->next = NULL;
	it->kind = kind;
	it->ptr = ptr;
	pthread_mutex_lock(&q->mu);
	if (q->closed) {
		pthread_mutex_unlock(&q->mu);
		free(it);
		return GWP_ERR_STATE;
	}
	*q->tail = it;
	q->tail = &it->next;
	/* The counter only wakes the reader; it cannot overflow in practice. */
	if (write(q->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		one = 0;
	pthread_mutex_unlock(&q->mu);
	return GWP_OK;
}

/* Returns 1 with an item, 0 when empty. The eventfd is cleared when the
 * queue becomes empty, under the same lock as the pushes. */
int
gwp_queue_pop(struct gwp_queue *q, int *kind, void **ptr)
{
	struct gwp_qitem *it;
	uint64_t v;

	pthread_mutex_lock(&q->mu);
	it = q->head;
	if (it) {
		q->head = it->next;
		if (!q->head)
			q->tail = &q->head;
	}
	if (!q->head && read(q->efd, &v, sizeof(v)) < 0)
		v = 0;
	pthread_mutex_unlock(&q->mu);
	if (!it)
		return 0;
	*kind = it->kind;
	*ptr = it->ptr;
	free(it);
	return 1;
}

void
gwp_queue_close(struct gwp_queue *q, int closed)
{
	pthread_mutex_lock(&q->mu);
	q->closed = closed;
	pthread_mutex_unlock(&q->mu);
}
