#!/bin/bash
# Build Greenwich and run every test: once in a normal build, once under
# AddressSanitizer/UBSan.  Needs root (the test domain controller runs in a
# network namespace of its own).  Usage (as root): ./run-tests.sh [--no-deps] [--no-sanitizers]
set -euo pipefail
cd "$(dirname "$0")"
SRC=$(pwd)
deps=1 san=1
for a in "$@"; do
	case "$a" in
	--no-deps) deps=0 ;;
	--no-sanitizers) san=0 ;;
	*) echo "usage: $0 [--no-deps] [--no-sanitizers]" >&2; exit 2 ;;
	esac
done
[ "$deps" = 1 ] && ./deps.sh
./autogen.sh >/dev/null 2>&1 || { ./autogen.sh; exit 1; }
JOBS=$(nproc)
# tests run side by side: most wait on timers, the network and the DC and keep about a
# third of a core busy; the few that measure greenwichd at its capacity take the
# machine alone (TEST_ALONE, tests/lib/machine.sh).  TEST_JOBS=1: one at a time.
TEST_JOBS=${TEST_JOBS:-$((JOBS + 1))}
total_pass=0 total_fail=0 status=0

# Lint, before the long runs: shellcheck, cppcheck and clang-format (check-format) fail
# the run on any finding.
FORMAT_ENFORCED=1
LINTLOG="$SRC/_build-lint"
lint() { # lint NAME [report]: tests/lint/NAME.sh, its output in _build-lint/NAME.log
	local name=$1 mode=${2:-enforce}
	if tests/lint/"$name".sh > "$LINTLOG/$name.log" 2>&1; then
		total_pass=$((total_pass + 1)); echo "PASS: lint $name ($(tail -1 "$LINTLOG/$name.log"))"
	elif [ "$mode" = report ]; then
		echo "REPORT: lint $name, not counted until FORMAT_ENFORCED=1 in run-tests.sh:"
		grep -A3 -E '^check-format: [0-9]+ of' "$LINTLOG/$name.log" | head -4 || true
	else
		total_fail=$((total_fail + 1)); status=1; echo "FAIL: lint $name"
		tail -40 "$LINTLOG/$name.log"
	fi
}
echo "== lint: shellcheck, cppcheck, clang-format"
rm -rf "$LINTLOG"; mkdir -p "$LINTLOG"
lint check-shell
lint check-cppcheck
if [ "$FORMAT_ENFORCED" = 1 ]; then lint check-format; else lint check-format report; fi

run_suite() { # run_suite NAME CONFIGURE-ARGS...
	local name="$1"; shift
	local dir="$SRC/_build-$name"
	rm -rf "$dir"; mkdir -p "$dir"
	echo "== $name build: configure $*"
	(cd "$dir" && "$SRC/configure" -q "$@" && make -s -j"$JOBS") || { status=1; return; }
	echo "== $name: make check"
	local rc=0
	(cd "$dir" && make -s -k check -j"$TEST_JOBS" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1) || rc=$?
	local p f
	p=$( (find "$dir" -name '*.trs' -exec grep -h '^:test-result: PASS' {} + || true) | wc -l)
	f=$( (find "$dir" -name '*.trs' -exec grep -h -E '^:test-result: (FAIL|ERROR|XPASS)' {} + || true) | wc -l)
	echo "== $name: $p test programs passed, $f failed"
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
		status=1
		find "$dir" -name '*.log' -newer "$dir/config.status" -path '*test*' -print0 |
			xargs -0 grep -l -E '^(FAIL|ERROR)' 2>/dev/null | head -5 | while read -r l; do
				echo "---- $l"; tail -40 "$l"; done
	fi
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

# --with-cmocka --with-purple: the tests that need them must run here, not be skipped
run_suite normal --enable-werror --with-cmocka --with-purple
[ "$san" = 1 ] && run_suite sanitizers --enable-werror --enable-sanitizers --with-cmocka --with-purple
# our parsers under libFuzzer (clang): the regression inputs, then a few seconds each
echo "== fuzzing build: every parser's regressions, then 5 s of fuzzing each"
if (rm -rf "$SRC/_build-fuzzing" && mkdir "$SRC/_build-fuzzing" && cd "$SRC/_build-fuzzing" &&
	"$SRC/configure" -q CC=clang --enable-fuzzing && make -s -j"$JOBS" &&
	make -s -C fuzz check) > "$SRC/_build-normal/fuzzing.log" 2>&1; then
	total_pass=$((total_pass + 1)); echo "PASS: fuzz (make -C fuzz check)"
else
	total_fail=$((total_fail + 1)); status=1; echo "FAIL: fuzz (make -C fuzz check)"
	tail -30 "$SRC/_build-normal/fuzzing.log"
fi
echo "== Debian packages: build, install, check, purge"
if packaging/test-package.sh > "$SRC/_build-normal/test-package.log" 2>&1; then
	total_pass=$((total_pass + 1)); echo "PASS: packaging/test-package.sh"
else
	total_fail=$((total_fail + 1)); status=1; echo "FAIL: packaging/test-package.sh"
	tail -30 "$SRC/_build-normal/test-package.log"
fi
echo "$total_pass passed, $total_fail failed"
exit "$status"
