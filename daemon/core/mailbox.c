/*
 * mailbox.c - cross-thread completions for a worker's event loop.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "mailbox.h"

struct mailbox {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct mailbox_item *head;
	struct mailbox_item **tail;
	unsigned long expected; /* announced and not yet run */
	int fd;
	su_root_t *root;
	su_wait_t wait[1];
	int index; /* su_root registration, or -1 */
};

static struct mailbox_item *
take_all(struct mailbox *mb)
{
	struct mailbox_item *list = mb->head;

	mb->head = NULL;
	mb->tail = &mb->head;
	return list;
}

static void
run_list(struct mailbox *mb, struct mailbox_item *list)
{
	unsigned long n = 0;

	while (list) {
		struct mailbox_item *next = list->next;
		list->fn(list);
		list = next;
		n++;
	}
	pthread_mutex_lock(&mb->mu);
	mb->expected -= n;
	pthread_mutex_unlock(&mb->mu);
}

static int
mailbox_cb(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
	struct mailbox *mb = (struct mailbox *)arg;
	uint64_t v;
	struct mailbox_item *list;

	(void)magic;
	(void)w;
	if (read(mb->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	pthread_mutex_lock(&mb->mu);
	list = take_all(mb);
	pthread_mutex_unlock(&mb->mu);
	run_list(mb, list);
	return 0;
}

int
mailbox_alloc(struct mailbox **out, su_root_t *root)
{
	struct mailbox *mb = calloc(1, sizeof(*mb));

	*out = NULL;
	if (mb == NULL)
		return -ENOMEM;
	pthread_mutex_init(&mb->mu, NULL);
	pthread_cond_init(&mb->cv, NULL);
	mb->tail = &mb->head;
	mb->root = root;
	mb->index = -1;
	mb->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mb->fd < 0 || su_wait_create(mb->wait, mb->fd, SU_WAIT_IN) < 0) {
		mailbox_free(mb);
		return -EIO;
	}
	mb->index = su_root_register(root, mb->wait, mailbox_cb, (su_wakeup_arg_t *)mb, 0);
	if (mb->index < 0) {
		mailbox_free(mb);
		return -EIO;
	}
	*out = mb;
	return 0;
}

void
mailbox_free(struct mailbox *mb)
{
	if (mb == NULL)
		return;
	pthread_mutex_lock(&mb->mu);
	while (mb->expected > 0) {
		while (mb->head == NULL)
			pthread_cond_wait(&mb->cv, &mb->mu);
		struct mailbox_item *list = take_all(mb);
		pthread_mutex_unlock(&mb->mu);
		run_list(mb, list);
		pthread_mutex_lock(&mb->mu);
	}
	pthread_mutex_unlock(&mb->mu);
	if (mb->index >= 0)
		su_root_deregister(mb->root, mb->index);
	else
		su_wait_destroy(mb->wait);
	if (mb->fd >= 0)
		close(mb->fd);
	pthread_cond_destroy(&mb->cv);
	pthread_mutex_destroy(&mb->mu);
	free(mb);
}

void
mailbox_expect(struct mailbox *mb)
{
	pthread_mutex_lock(&mb->mu);
	mb->expected++;
	pthread_mutex_unlock(&mb->mu);
}

void
mailbox_post(struct mailbox *mb, struct mailbox_item *item)
{
	bool wake;
	uint64_t one = 1;

	item->next = NULL;
	pthread_mutex_lock(&mb->mu);
	wake = mb->head == NULL;
	*mb->tail = item;
	mb->tail = &item->next;
	pthread_cond_signal(&mb->cv);
	pthread_mutex_unlock(&mb->mu);
	if (wake && write(mb->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
}
