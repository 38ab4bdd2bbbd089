#!/bin/sh
# run-long.sh TARGET SECONDS [libFuzzer options...] - fuzz one target for a
# long time in a fuzzing build, e.g.  fuzz/run-long.sh policy 3600
#
# TARGET is ntlm, pac, sipae, policy, pidf, soap, conf, control or kit.  The
# program is looked for in $FUZZ_BUILDDIR, else _build-fuzz/fuzz/ of the
# source tree (build it first: see fuzz/README.md).  The corpus grows in
# $FUZZ_WORK (default <builddir>/work/long-TARGET/) and is kept between runs;
# the checked-in seeds of fuzz/corpus/TARGET/ are read, never written.
# FUZZ_JOBS=N runs N processes at once (default 1: these machines are shared).
# Crashes are left as <builddir>/TARGET-crash-<sha1>.
set -eu
if [ $# -lt 2 ]; then
	echo "usage: $0 TARGET SECONDS [libFuzzer options...]" >&2
	exit 2
fi
target=$1
secs=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
build=${FUZZ_BUILDDIR:-$src/../_build-fuzz/fuzz}
prog=$build/fuzz-$target
if [ ! -x "$prog" ]; then
	echo "$0: no $prog: build with --enable-fuzzing first (fuzz/README.md)" >&2
	exit 2
fi
if [ ! -d "$src/corpus/$target" ]; then
	echo "$0: unknown target $target (see $src/corpus/)" >&2
	exit 2
fi
work=${FUZZ_WORK:-$build/work/long-$target}
mkdir -p "$work"
jobs=${FUZZ_JOBS:-1}
set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$build/$target-" "$@"
if [ "$jobs" -gt 1 ]; then
	set -- -jobs="$jobs" -workers="$jobs" "$@"
fi
echo "fuzz-$target for ${secs}s, corpus $work (+ corpus/$target)"
exec "$prog" "$@" "$work" "$src/corpus/$target"
