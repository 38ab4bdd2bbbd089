/*
 * reuseport.h - SO_REUSEPORT for the UDP sockets Sofia binds (see reuseport.c).
 */
#ifndef GW_REUSEPORT_H
#define GW_REUSEPORT_H

#include <stdbool.h>

/* Workers that will bind each UDP port (2 or more: SO_REUSEPORT on every UDP
 * bind from now on, and REGISTERs spread over the workers; 0 or 1: off). */
void reuseport_set(unsigned workers);

/* Put the program on fd's reuseport group that sends each REGISTER to one of
 * the group's first `workers` sockets at random (anything else by the
 * sender's address); 0, or -1 with errno. */
int reuseport_spread_register(int fd, unsigned workers);

#endif
