/*
 * tport_ledger.h - a test build's account of every reference to a Sofia
 * transport (tport_ledger.c; built only with ./configure --enable-tport-ledger).
 */
#ifndef GW_TPORT_LEDGER_H
#define GW_TPORT_LEDGER_H

#include <sofia-sip/tport.h>

/* tport_unref() of tp, which has `before` references, is about to go to Sofia
 * (refused: greenwichd's guard, tport_refs.c, refuses it).  frames/n: the
 * backtrace from tport_unref() outwards (frames[0] is its caller). */
void tport_ledger_release(tport_t *tp, unsigned long before, int refused, void *const *frames,
			  int n);

/* Writes the ledger: a summary line to the log and, when GREENWICH_TPORT_LEDGER
 * names a file, everything to that file (replaced at once).  Any thread. */
void tport_ledger_dump(const char *reason);

#endif
