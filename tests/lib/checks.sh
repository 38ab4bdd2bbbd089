# checks.sh - counted checks for the test scripts (bash, sourced).  Each check prints one
# line, "ok - WHAT" or "FAILED - WHAT"; checks_summary ends the test with the count,
# "N passed, M failed" (the line make's logs and CI read), and its status.
# shellcheck shell=bash
CHECKS=0
FAILS=0

pass() { CHECKS=$((CHECKS + 1)); echo "ok - $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAILED - $*"; }

# check WHAT CMD...: CMD must succeed.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# checks_summary: the count; 0 when no check failed.
checks_summary() {
	echo "$((CHECKS - FAILS)) passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}

# every test script shares the machine with the others `make check -jN` runs beside
# it, or has it alone (TEST_ALONE=1): machine.sh
# shellcheck source=tests/lib/machine.sh
. "$(dirname "${BASH_SOURCE[0]}")/machine.sh"
