/*
 * sip_dialog.h - the dialogs greenwichd routes: who is in them, where each
 * side is reached and which route set lies beyond us.  An in-dialog request
 * is forwarded only when it matches one of these in every respect.  Shared
 * by every worker.  Private to daemon/.
 */
#ifndef GW_SIP_DIALOG_H
#define GW_SIP_DIALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include <sofia-sip/sip.h>
#include <sofia-sip/tport.h>

#include "dialog_table.h"
#include "sip.h"

/* What an in-dialog request is allowed to do, once matched. */
struct dlg_match {
	char peer_aor[GW_AOR_MAX + 1];    /* the party the request goes to */
	char sender_aor[GW_AOR_MAX + 1];  /* the party it comes from */
	char target[512];                 /* the peer's remote target (its Contact) */
	char sender_user[GW_AOR_MAX + 1]; /* the sender as it was authenticated, or "" */
	int zone;                         /* the sender's policy zone when the dialog began */
	sip_method_t method;              /* the method that created the dialog */
};

/* Retry-After of a request refused for want of room: seconds in which
 * unacknowledged calls give theirs back. */
#define DLG_RETRY_AFTER "5"

/* At start, before any worker: at most max live dialogs (dialog_table.h);
 * early ones live invite_timeout seconds and a margin.  0, or -1 (logged)
 * when the table's keyed hash cannot be made. */
int dlg_configure(size_t max, int invite_timeout);
/* A dialog-creating request is about to be forwarded: room for its dialog.
 * src: the client address it came from (NULL: not counted, a pool hop), which
 * may hold limit live dialogs and reservations (0: no limit; a remote IPv6
 * address with its /64, source_net.h).  DLG_ROOM: held (with *share) until
 * dlg_record() takes both or dlg_unreserve(*share) gives them back (the
 * transaction ended without a dialog).  DLG_FULL: the table has no room
 * (logged here as the start of an overload); DLG_SOURCE_FULL: src holds its
 * share (logged at most once a minute per address).  The request is then
 * refused. */
enum dlg_room { DLG_ROOM, DLG_FULL, DLG_SOURCE_FULL };
struct addr_entry;
enum dlg_room dlg_reserve(const struct sockaddr *src, unsigned limit, struct addr_entry **share);
void dlg_unreserve(struct addr_entry *share);
/* The dialog-creating request req and a 1xx/2xx answer resp with a To tag
 * passed through; sender_user/zone: how the creator was admitted; *reserved
 * and *share: the request's reservation, taken (cleared) when a new dialog is
 * recorded with them. */
void dlg_record(const sip_t *req, const sip_t *resp, const char *sender_user, int zone,
		const char *own_token, bool *reserved, struct addr_entry **share);
/* A final answer above 2xx to a dialog-creating request: the early dialog
 * its To tag named is over. */
void dlg_failed(const sip_t *resp);
/* The dialog-creating request req was answered above 2xx upstream (a timeout, a
 * CANCEL, every branch failing): all the early dialogs it made are over. */
void dlg_call_failed(const sip_t *req);
/* Match an in-dialog request (To tag present) whose own Route entries are
 * already removed; 0 with *m filled, -ENOENT (no such dialog), -EPERM (it
 * matches a dialog but not its parties, target or route set: why).  A match
 * renews a confirmed dialog; an ACK confirms an answered call. */
int dlg_match(const sip_t *sip, struct dlg_match *m, const char **why);
/* A target refresh inside a dialog (re-INVITE, UPDATE, SUBSCRIBE, NOTIFY, or a 2xx to
 * one; already matched or answered through us): its Contact becomes its sender's target. */
void dlg_refresh(const sip_t *msg);
/* A 2xx to INVITE that matches no transaction (a retransmission): true when it
 * is the answer of a dialog we routed and goes back to where its INVITE came from. */
bool dlg_answer_ok(const sip_t *resp);
/* A BYE (or a SUBSCRIBE/NOTIFY ending the subscription) was forwarded: the
 * dialog goes soon (its ACK and retransmissions still pass). */
void dlg_ending(const sip_t *sip);
/* How many are kept in each state, the reservations and the cap (for the status). */
void dlg_counts(struct dlg_counts *c);
/* Drop every dialog and the table's hash (at shutdown). */
void dlg_clear(void);

#endif
