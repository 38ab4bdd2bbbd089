#!/bin/sh
# check-target.sh FUZZ-PROGRAM - what `make check` runs for each libFuzzer
# target (the LOG_COMPILER of fuzz/Makefile.am):
#   1. every input in fuzz/regressions/<target>/ is run once (a crash fails);
#   2. the target fuzzes for FUZZ_SECONDS (default 5) and at most FUZZ_RUNS
#      inputs, from fuzz/corpus/<target>/ and a scratch corpus in
#      <builddir>/work/<target>/ (the checked-in corpus is never written).
# A crash leaves its input as <builddir>/<target>-crash-<sha1>; README.md
# says how it becomes a regression input.
set -u
prog=$1
name=$(basename "$prog")
target=${name#fuzz-}
src=${FUZZ_SRCDIR:-$(cd "$(dirname "$0")" && pwd)}
build=${FUZZ_BUILDDIR:-$(cd "$(dirname "$prog")" && pwd)}
secs=${FUZZ_SECONDS:-5}
runs=${FUZZ_RUNS:-2000000}
opts="-timeout=10 -rss_limit_mb=2048 -artifact_prefix=$build/$target-"

reg=$src/regressions/$target
if [ -d "$reg" ] && [ -n "$(find "$reg" -type f ! -name '*.md' -print -quit)" ]; then
	echo "== $target: replaying regressions/$target/"
	# shellcheck disable=SC2086
	find "$reg" -type f ! -name '*.md' -exec "$prog" $opts {} + || {
		echo "FAIL: a regression input of $target crashes again"
		exit 1
	}
fi

work=$build/work/$target
rm -rf "$work"
mkdir -p "$work"
echo "== $target: fuzzing for ${secs}s (at most $runs inputs) from corpus/$target/"
# shellcheck disable=SC2086
"$prog" $opts -max_total_time="$secs" -runs="$runs" -print_final_stats=1 \
	"$work" "$src/corpus/$target"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "FAIL: $target found a crash (exit $rc); the input is $build/$target-crash-*"
	exit 1
fi
exit 0
