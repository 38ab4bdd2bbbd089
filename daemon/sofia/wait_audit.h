/*
 * wait_audit.h - what greenwichd checks of the descriptors registered in Sofia's
 * event loops (wait_audit.c).
 */
#ifndef GW_WAIT_AUDIT_H
#define GW_WAIT_AUDIT_H

/* fd is about to be closed by code at caller (greenwichd's close(),
 * accept_guard.c): logs it when a registration in an event loop still watches
 * it.  Any thread. */
void wait_audit_closing(int fd, const void *caller);

/* Anomalies seen so far (every kind together). */
unsigned long wait_audit_anomalies(void);

#endif
