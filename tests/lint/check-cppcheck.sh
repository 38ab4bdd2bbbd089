#!/bin/bash
# check-cppcheck.sh - cppcheck over our C code (warnings, performance, portability), with
# our headers' folders on the include path, cppcheck.cfg for the library macros it must
# know, and cppcheck.supp for the findings that are wrong (each with its reason).
# Exits 1 on any finding.  Usage: tests/lint/check-cppcheck.sh [FILE.c...]
set -euo pipefail
# shellcheck source=tests/lint/files.sh
. "$(dirname "${BASH_SOURCE[0]}")/files.sh"
command -v cppcheck >/dev/null ||
	{ echo "check-cppcheck: cppcheck not found (apt-get install cppcheck)"; exit 2; }
cd "$LINT_TOP"
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(lint_c_files | grep '\.c$'); fi
incs=()
while IFS= read -r d; do incs+=(-I "$d"); done < <(lint_c_files | grep '\.h$' | xargs -n1 dirname | sort -u)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
printf '%s\n' "${files[@]}" | cppcheck -j "$(nproc)" --quiet --std=c11 \
	--enable=warning,performance,portability --inline-suppr \
	--library=tests/lint/cppcheck.cfg --suppressions-list=tests/lint/cppcheck.supp \
	--error-exitcode=1 --template='{file}:{line}: {severity}: {message} [{id}]' \
	"${incs[@]}" --file-list=- 2>"$out" || rc=$?
cat "$out"
if [ "$rc" -eq 0 ] && [ -s "$out" ]; then rc=1; fi
if [ "$rc" -eq 0 ]; then
	echo "check-cppcheck: ${#files[@]} C files, no finding"
else
	echo "check-cppcheck: findings above (of ${#files[@]} C files)"
fi
exit "$rc"
