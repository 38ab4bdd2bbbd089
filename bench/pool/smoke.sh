#!/bin/bash
# smoke.sh - make check: the pool rows (bench/pool/run.sh --smoke) against this
# build's greenwichd: every row a moment at a low rate, not timed; fails when a
# row's SIPp runs do not complete or a presence change does not arrive.
set -eu
: "${GW_BUILDDIR:?GW_BUILDDIR is set by make check}"
: "${BENCH_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
exec bash "$BENCH_SRCDIR/pool/run.sh" --smoke
