/*
 * tlspolicy.h - TLS 1.2 or newer for every TLS context Sofia makes, and
 * whether its servers ask clients for a certificate (tlspolicy.c).
 */
#ifndef GW_TLSPOLICY_H
#define GW_TLSPOLICY_H

#include <stdbool.h>

/* Ask TLS clients for a certificate (accepting connections without one). */
void tlspolicy_request_client_cert(bool on);

#endif
