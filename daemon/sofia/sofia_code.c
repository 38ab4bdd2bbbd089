/*
 * sofia_code.c - where Sofia's code lies in this process.
 *
 * The interpositions under Sofia (tlsleak.c, tlspolicy.c) act only on calls
 * made by Sofia's library.  Asking dladdr() for every call walked the loaded
 * objects' symbol tables each time, a visible share of a TLS connection's
 * close.  The library's executable segments are read once, with
 * dl_iterate_phdr(), and every question after that is a range check.
 */
#define _GNU_SOURCE
#include "config.h"

#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "sofia_code.h"

#define SOFIA_LIB "libsofia-sip-ua"
#define MAX_RANGES 4

static struct {
	uintptr_t start, end;
} ranges[MAX_RANGES];
static size_t n_ranges;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int
collect(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	if (info->dlpi_name == NULL || strstr(info->dlpi_name, SOFIA_LIB) == NULL)
		return 0;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum && n_ranges < MAX_RANGES; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		ranges[n_ranges].start = info->dlpi_addr + ph->p_vaddr;
		ranges[n_ranges].end = ranges[n_ranges].start + ph->p_memsz;
		n_ranges++;
	}
	return 1; /* one Sofia library per process */
}

static void
find_sofia(void)
{
	dl_iterate_phdr(collect, NULL);
}

bool
sofia_code_contains(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	pthread_once(&once, find_sofia);
	for (size_t i = 0; i < n_ranges; i++)
		if (a >= ranges[i].start && a < ranges[i].end)
			return true;
	return false;
}
