#!/bin/bash
# check-shell.sh - shellcheck over every shell script of ours (lint_shell_files), following
# the files each one sources (-x; paths relative to the top, as the scripts' "shellcheck
# source=" lines give them).  A finding that is wrong is silenced where it stands, with a
# comment that says why.  Exits 1 on any finding.
# Usage: tests/lint/check-shell.sh [FILE...]
set -euo pipefail
# shellcheck source=tests/lint/files.sh
. "$(dirname "${BASH_SOURCE[0]}")/files.sh"
command -v shellcheck >/dev/null ||
	{ echo "check-shell: shellcheck not found (apt-get install shellcheck)"; exit 2; }
cd "$LINT_TOP"
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(lint_shell_files); fi
rc=0
for f in "${files[@]}"; do
	shell=()
	# the completion is sourced by bash and has no #! line
	case $f in *.bash-completion) shell=(--shell=bash) ;; esac
	shellcheck -x --source-path="$LINT_TOP" "${shell[@]}" --format=gcc "$f" || rc=1
done
if [ "$rc" -eq 0 ]; then
	echo "check-shell: ${#files[@]} shell scripts, no finding"
else
	echo "check-shell: findings above (of ${#files[@]} shell scripts)"
fi
exit "$rc"
