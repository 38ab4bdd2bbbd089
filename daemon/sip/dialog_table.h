/*
 * dialog_table.h - the bookkeeping of the dialog table: each dialog's state
 * and how long it lives in it, the cap on live dialogs and the room reserved
 * for calls being forwarded.  Knows nothing of SIP messages (sip_dialog.c
 * fills the entries and holds the lock); every function takes the time.
 * Private to daemon/.
 *
 *   early        a 1xx with a To tag passed: as long as an INVITE may ring
 *                ([proxy] invite-timeout) and DLG_MARGIN; gone at once when
 *                its INVITE fails
 *   unacked      a 2xx to INVITE passed, no ACK yet: DLG_LIFE_UNACKED (64*T1)
 *   confirmed    the ACK passed (or a SUBSCRIBE/REFER was answered 2xx):
 *                DLG_LIFE_CALL or DLG_LIFE_OTHER, renewed by each request
 *   ending       a BYE (or a SUBSCRIBE/NOTIFY ending a subscription) passed:
 *                DLG_LIFE_ENDING, so that its answer and retransmissions pass
 *
 * Early, unacked and confirmed dialogs and the reservations are live: at most
 * max of them.  Ending dialogs are not counted there; there are at most max
 * of them too, the oldest dropped to make room.  Entries of one queue all
 * live equally long, so a queue is in order of expiry: its head goes first,
 * a few at a time, never by a scan of the table.
 */
#ifndef GW_DIALOG_TABLE_H
#define GW_DIALOG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "keyed_hash.h"

#define DLG_LIFE_CALL (12 * 3600) /* a call, after its last request */
#define DLG_LIFE_OTHER 3600       /* a subscription or a REFER, after its last request */
#define DLG_LIFE_UNACKED 32       /* 64*T1: the answerer gives up its 2xx by then */
#define DLG_LIFE_ENDING 64        /* 64*T1 and more: the last answers go through */
#define DLG_MARGIN 32             /* an early dialog outlives its ringing by this */
#define DLG_BUCKETS 16384
#define DLG_ID_MAX 256
#define DLG_TAG_MAX 128

enum dlg_state { DLG_EARLY, DLG_UNACKED, DLG_CONFIRMED, DLG_ENDING };

/* One queue per lifetime: early, unacked, confirmed calls, other confirmed, ending. */
enum dlg_queue { DLG_Q_EARLY, DLG_Q_UNACKED, DLG_Q_CALL, DLG_Q_OTHER, DLG_Q_ENDING, DLG_NQUEUES };

/* The head of an entry; sip_dialog.c's entries begin with it. */
struct dlg_node {
	struct dlg_node *hnext, **hprev; /* its hash bucket */
	struct dlg_node *qprev, *qnext;  /* its queue, oldest first */
	enum dlg_queue queue;
	bool call; /* made by an INVITE */
	time_t expires;
	/* in storage its owner holds (DLG_ID_MAX and DLG_TAG_MAX bytes at most, with the NUL) */
	const char *call_id;
	const char *tag[2]; /* the creator's (From of the request), the answerer's */
};

struct dlg_fifo {
	struct dlg_node *head, *tail;
	size_t n;
};

struct dlg_table {
	struct dlg_node *buckets[DLG_BUCKETS];
	struct dlg_fifo q[DLG_NQUEUES];
	time_t life[DLG_NQUEUES];
	size_t max;      /* live dialogs and reservations */
	size_t reserved; /* room held for requests being forwarded */
	unsigned long refused;
	void (*free_node)(struct dlg_node *n); /* how an entry is freed (NULL: free()) */
	struct gw_keyed_hash *hash;            /* Call-IDs to buckets, with a key of its own */
};

struct dlg_counts {
	size_t early, unacked, confirmed, ending, reserved, max;
	unsigned long refused; /* reservations refused since the start */
};

/* An empty table: at most max live dialogs; early ones live invite_timeout + DLG_MARGIN;
 * an entry dropped is given to free_node (NULL: free()).  Call-IDs, which outsiders
 * choose, are spread over the buckets by a hash with a random key: 0, or -1 when
 * there is no such hash (the table is then left empty and unusable). */
int dlg_table_init(struct dlg_table *t, size_t max, int invite_timeout,
		   void (*free_node)(struct dlg_node *n));
/* Free every entry (the reservations and limits stay). */
void dlg_table_clear(struct dlg_table *t);
/* Free every entry and the hash: dlg_table_init() again before any other use. */
void dlg_table_destroy(struct dlg_table *t);
/* Drop entries past their time from the head of each queue, at most budget per queue. */
void dlg_table_expire(struct dlg_table *t, time_t now, unsigned budget);
/* Room for one more live dialog: true (and counted) when there is some. */
bool dlg_table_reserve(struct dlg_table *t, time_t now);
/* Give back room reserved and not used. */
void dlg_table_unreserve(struct dlg_table *t);
/* The entry with these Call-ID and tags (creator's, answerer's), alive at now, or NULL. */
struct dlg_node *dlg_table_find(struct dlg_table *t, const char *call_id, const char *t0,
				const char *t1, time_t now);
/* Add n (call_id, tag and call filled in): early, or as answered (final 2xx).  It takes
 * *reserved when set (clearing it); without one (another branch of a forked call, whose
 * first dialog took the reservation) it is added while the live dialogs stay under
 * twice the cap.  0, or -ENOSPC (n not added: the caller frees it). */
int dlg_table_add(struct dlg_table *t, struct dlg_node *n, bool answered, bool *reserved,
		  time_t now);
/* A 2xx answered the request: early becomes unacked (a call) or confirmed. */
void dlg_table_answered(struct dlg_table *t, struct dlg_node *n, time_t now);
/* A request inside the dialog passed: an ACK confirms an unacked call; a confirmed
 * dialog lives on from now. */
void dlg_table_used(struct dlg_table *t, struct dlg_node *n, bool ack, time_t now);
/* The dialog is ending (BYE, a subscription's end). */
void dlg_table_ending(struct dlg_table *t, struct dlg_node *n, time_t now);
/* The request failed (a final answer above 2xx): an early dialog goes now. */
void dlg_table_failed(struct dlg_table *t, struct dlg_node *n);
/* The dialog-creating request (Call-ID, the creator's From tag) ended without a 2xx:
 * every early dialog it made goes now, whatever its To tag (also when the final
 * answer carries none, as a timeout of our own). */
void dlg_table_call_failed(struct dlg_table *t, const char *call_id, const char *from_tag);
enum dlg_state dlg_table_state(const struct dlg_node *n);
void dlg_table_counts(const struct dlg_table *t, struct dlg_counts *c);

#endif
