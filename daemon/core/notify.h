/*
 * notify.h - tell systemd (Type=notify) about start-up, reloads and stopping.
 */
#ifndef GW_NOTIFY_H
#define GW_NOTIFY_H

/* Send "READY=1", "RELOADING=1", "STOPPING=1", ...; 0 when not under systemd. */
int notify_send(const char *state);

#endif
