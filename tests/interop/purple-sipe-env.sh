# shellcheck shell=bash
# purple-sipe-env.sh - sourced by the purple-sipe tests (after integration/lib.sh).
# PS: the program; PS_ENV: its environment. In a sanitizer build, leaks inside libpurple and
# pidgin-sipe are not ours (purple-sipe.supp); purple-sipe.c's own allocations are checked.
: "${top_srcdir:?purple-sipe-env.sh is sourced after tests/integration/lib.sh}"
PS="${PURPLE_SIPE:-$top_builddir/tests/interop/purple-sipe}"
PS_SUPP="$top_srcdir/tests/interop/purple-sipe.supp"
# shellcheck disable=SC2034 # used by the tests that source this
PS_ENV=(G_DEBUG=resident-modules
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
	LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$PS_SUPP:print_suppressions=0")
if [ ! -x "$PS" ] || [ ! -f /usr/lib/purple-2/libsipe.so ]; then
	echo "purple-sipe (make -C tests/interop check) and pidgin-sipe are needed:"
	echo "apt-get install libpurple-dev pidgin-sipe"
	exit 1
fi
