# wait.sh - bounded waits for the tests (bash, sourced).
# shellcheck shell=bash

# wait_for FILE REGEX [TENTHS]: until FILE has a line matching the extended REGEX, at most
# TENTHS tenths of a second (WAIT_TENTHS, 100 unless the test sets it); 1 when it did not.
wait_for() {
	local _
	for _ in $(seq 1 "${3:-${WAIT_TENTHS:-100}}"); do
		grep -a -q -E -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_file FILE [PID] [TENTHS]: until FILE exists, at most TENTHS tenths of a second
# (WAIT_TENTHS, 100 unless the test sets it); 1 when it did not, or when process PID
# (the one to make FILE) ended first.
wait_file() {
	local _
	for _ in $(seq 1 "${3:-${WAIT_TENTHS:-100}}"); do
		[ -e "$1" ] && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wait_gone PID...: until none of the processes runs any more (they were told to stop).
wait_gone() {
	local p
	for p in "$@"; do
		while [ -n "$p" ] && kill -0 "$p" 2>/dev/null; do sleep 0.05; done
	done
}

# write_exec_pid FILE: a wrapper script, FILE PIDFILE CMD..., that writes its own PID to
# PIDFILE and then becomes CMD.  For commands started through another that forks
# (addc.sh run-with-hosts): the PID to stop is CMD's, read from PIDFILE.
write_exec_pid() {
	# shellcheck disable=SC2016 # the wrapper's own $$ and "$@"
	printf '#!/bin/sh\necho $$ > "$1"\nshift\nexec "$@"\n' > "$1"
	chmod +x "$1"
}
