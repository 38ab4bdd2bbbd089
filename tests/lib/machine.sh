# machine.sh - tests that run side by side share the machine (bash, sourced; checks.sh
# takes it for every test script).  `make check -jN` runs N tests at once; most of
# them wait on timers and the network and leave the cores idle, but a few measure
# how greenwichd behaves at or beyond its capacity (floods, overload, load) and
# only mean something with the machine to themselves.  Such a test sets
# TEST_ALONE=1 before its first helper is sourced: it waits until no other test
# holds the machine and keeps the others out while it runs.  A shared/exclusive
# flock on $GREENWICH_TEST_LOCK (default /tmp/greenwich-tests.lock), held by a
# small process that ends within 0.2 s of the test's own shell.
# shellcheck shell=bash

# machine_take [alone]: wait for the machine, shared or (alone) to this test only.
machine_take() {
	local mode=-s ready me=$BASHPID # the test's shell (a subshell has its own $BASHPID)
	[ "${1:-}" = alone ] && mode=-x
	ready=$(mktemp "${TMPDIR:-/tmp}/gwlock.XXXXXX")
	# started from a subshell, so that the test's own `wait` never waits for it
	# shellcheck disable=SC2016 # $1 and $2 are the inner script's arguments
	( flock -o "$mode" "${GREENWICH_TEST_LOCK:-/tmp/greenwich-tests.lock}" \
		sh -c 'echo taken > "$2"; exec tail -s 0.2 --pid="$1" -f /dev/null' - "$me" "$ready" \
		< /dev/null > /dev/null 2>&1 & )
	while [ ! -s "$ready" ]; do sleep 0.1; done
	rm -f "$ready"
}

# once per test: a script the test runs that sources this again shares its hold
[ -n "${MACHINE_TAKEN:-}" ] || { machine_take ${TEST_ALONE:+alone}; export MACHINE_TAKEN=$BASHPID; }
