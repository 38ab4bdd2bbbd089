# files.sh - which files of the tree the lint checks read (bash, sourced): ours, as git
# tracks them (outside a git checkout, e.g. an unpacked release: the files found below the
# top, build trees left out).  Generated files (config.h, Makefile.in, anything a build
# writes) are not tracked, so never checked.
# shellcheck shell=bash

LINT_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

lint_tracked() {
	if git -C "$LINT_TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$LINT_TOP" ls-files
	else
		(cd "$LINT_TOP" && find . -path './_build*' -prune -o -path ./.git -prune -o \
			-path ./build-aux -prune -o -path ./autom4te.cache -prune -o -type f -print |
			sed 's|^\./||' | grep -v -e '^config\.h' -e 'Makefile\.in$' -e '^configure$')
	fi
}

# lint_c_files: our C sources and headers.
lint_c_files() {
	lint_tracked | grep -E '\.[ch]$'
}

# lint_shell_files: every shell script: *.sh, files whose first line runs sh or bash
# (.ci/run, the package's maintainer scripts), and the bash completion.
lint_shell_files() {
	local f
	lint_tracked | while IFS= read -r f; do
		[ -f "$LINT_TOP/$f" ] || continue
		case $f in
		*.sh | *.bash-completion) echo "$f" ;;
		*.py | *.c | *.h | *.xml | *.md | *.dat | *.out | *.json | *.supp) ;;
		*) head -n 1 "$LINT_TOP/$f" 2>/dev/null | grep -qE '^#!.*[/ ](ba)?sh( |$)' && echo "$f" ;;
		esac
	done
}
