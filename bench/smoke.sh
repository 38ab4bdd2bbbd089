#!/bin/bash
# smoke.sh - make check: the benchmark's smoke mode against the greenwichd of
# this build (GW_BUILDDIR, set by bench/Makefile.am); fails when a scenario
# does not complete.  Needs sipp (sip-tester) and kamailio.
set -eu
: "${GW_BUILDDIR:?GW_BUILDDIR is set by make check}"
: "${BENCH_SRCDIR:=$(cd "$(dirname "$0")" && pwd)}"
exec python3 "$BENCH_SRCDIR/run" --smoke \
	--gwd "$GW_BUILDDIR/daemon/greenwichd" --mmc "$GW_BUILDDIR/mmc-cli/greenwich-mmc"
