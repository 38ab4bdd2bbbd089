/*
 * reuseport.h - SO_REUSEPORT for the UDP sockets Sofia binds (see reuseport.c).
 */
#ifndef GW_REUSEPORT_H
#define GW_REUSEPORT_H

#include <stdbool.h>

void reuseport_set(bool on);

#endif
