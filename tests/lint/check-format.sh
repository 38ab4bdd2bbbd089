#!/bin/bash
# check-format.sh - every C file of ours against .clang-format, with clang-format 14
# (Debian 12's): prints each difference and exits 1 when there is any.
# Usage: tests/lint/check-format.sh [FILE...]   (default: all of lint_c_files)
set -euo pipefail
# shellcheck source=tests/lint/files.sh
. "$(dirname "${BASH_SOURCE[0]}")/files.sh"
CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
command -v "$CLANG_FORMAT" >/dev/null ||
	{ echo "check-format: $CLANG_FORMAT not found (apt-get install clang-format-14)"; exit 2; }
cd "$LINT_TOP"
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(lint_c_files); fi
bad=()
for f in "${files[@]}"; do
	"$CLANG_FORMAT" --style=file --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -eq 0 ]; then
	echo "check-format: ${#files[@]} C files, all as .clang-format has them"
	exit 0
fi
for f in "${bad[@]}"; do
	"$CLANG_FORMAT" --style=file "$f" | diff -u --label "$f" --label "$f (clang-format)" "$f" - || true
done
echo "check-format: ${#bad[@]} of ${#files[@]} C files differ from .clang-format:"
printf '  %s\n' "${bad[@]}"
echo "check-format: fix with $CLANG_FORMAT -i FILE..."
exit 1
