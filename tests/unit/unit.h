/*
 * unit.h - small helpers shared by the cmocka unit tests: scratch
 * directories and files under $TMPDIR, removed again by the test; socket
 * addresses from text.
 */
#ifndef GW_UNIT_H
#define GW_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* A fresh private directory (mkdtemp); 0 or -errno. */
int unit_dir_make(char *out, size_t len);
/* Remove dir and everything below it. */
void unit_dir_remove(const char *dir);
/* Write text to a new file made by mkstemp in dir; its name goes to out. */
int unit_file_write(char *out, size_t len, const char *dir, const char *text);
/* True when the file holds the bytes needle[0..n) anywhere; false when missing. */
bool unit_file_contains(const char *path, const void *needle, size_t n);
/* ip ("192.0.2.1", "2001:db8::1") and port as a socket address; false when ip
 * is neither. */
bool unit_sockaddr(struct sockaddr_storage *ss, const char *ip, unsigned short port);

#endif
