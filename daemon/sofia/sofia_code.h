/*
 * sofia_code.h - is this address code of Sofia's library? (see sofia_code.c)
 */
#ifndef GW_SOFIA_CODE_H
#define GW_SOFIA_CODE_H

#include <stdbool.h>

/* True when addr lies in an executable segment of libsofia-sip-ua. */
bool sofia_code_contains(const void *addr);

#endif
