/*
 * mailbox.h - work posted to a SIP worker's thread from any other thread.
 *
 * The poster fills a struct mailbox_item (usually embedded in its own
 * object) and posts it; the worker's su_root runs fn(item) on its thread.
 * One eventfd wakes the loop when the mailbox goes from empty to not empty,
 * so a burst of completions costs one wakeup.
 */
#ifndef GW_MAILBOX_H
#define GW_MAILBOX_H

#include <sofia-sip/su_wait.h>

struct mailbox_item {
	struct mailbox_item *next;
	void (*fn)(struct mailbox_item *item);
};

struct mailbox;

int mailbox_alloc(struct mailbox **out, su_root_t *root);
/* At worker exit, on its thread: run what was announced and is still to come,
 * then free. */
void mailbox_free(struct mailbox *mb);
/* On the worker's thread: one more post is coming (mailbox_free waits for it). */
void mailbox_expect(struct mailbox *mb);
/* Any thread. */
void mailbox_post(struct mailbox *mb, struct mailbox_item *item);

#endif
