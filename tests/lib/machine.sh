# machine.sh - tests that run side by side share the machine (bash, sourced; checks.sh
# takes it for every test script).  `make check -jN` runs N tests at once; most of
# them wait on timers and the network and leave the cores idle, but a few measure
# how greenwichd behaves at or beyond its capacity (floods, overload, load) and
# only mean something with the machine to themselves.  Such a test sets
# TEST_ALONE=1 before its first helper is sourced: it waits until no other test
# holds the machine and keeps the others out while it runs (and no new test
# starts while it waits).  A shared/exclusive flock on $GREENWICH_TEST_LOCK
# (default /tmp/greenwich-tests.lock), held by machine_hold.py until 0.2 s after
# the test's own shell is gone.
# shellcheck shell=bash

# machine_take [alone]: wait for the machine, shared or (alone) to this test only.
machine_take() {
	local ready me=$BASHPID # the test's shell (a subshell has its own $BASHPID)
	ready=$(mktemp "${TMPDIR:-/tmp}/gwlock.XXXXXX")
	# started from a subshell, so that the test's own `wait` never waits for it
	( python3 "$(dirname "${BASH_SOURCE[0]}")/machine_hold.py" "$me" "$ready" \
		"${GREENWICH_TEST_LOCK:-/tmp/greenwich-tests.lock}" "${1:-}" \
		< /dev/null > /dev/null 2>&1 &
	echo $! > "$ready.pid" )
	while [ ! -s "$ready" ]; do
		kill -0 "$(cat "$ready.pid")" 2> /dev/null ||
			[ -s "$ready" ] || { echo "machine.sh: cannot hold the machine" >&2; exit 1; }
		sleep 0.1
	done
	rm -f "$ready" "$ready.pid"
}

# once per test: a script the test runs that sources this again shares its hold
[ -n "${MACHINE_TAKEN:-}" ] || { machine_take ${TEST_ALONE:+alone}; export MACHINE_TAKEN=$BASHPID; }
