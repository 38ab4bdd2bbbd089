#!/bin/bash
# smoke.sh - make check: the benchmark's smoke mode against the greenwichd of
# this build (GW_BUILDDIR, set by bench/Makefile.am); fails when a scenario
# does not complete.  Needs sipp (sip-tester) and kamailio.
set -eu
: "${GW_BUILDDIR:?GW_BUILDDIR is set by make check}"
: "${BENCH_SRCDIR:=$(cd "$(dirname "$0")" && pwd)}"
# the overload rows push greenwichd past its peak: the machine to itself while
# `make check -jN` runs other tests (tests/lib/machine.sh)
TEST_ALONE=1
# shellcheck source=tests/lib/machine.sh
. "$BENCH_SRCDIR/../tests/lib/machine.sh"
exec python3 "$BENCH_SRCDIR/run" --smoke \
	--gwd "$GW_BUILDDIR/daemon/greenwichd" --mmc "$GW_BUILDDIR/mmc-cli/greenwich-mmc"
