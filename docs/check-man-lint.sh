#!/bin/bash
# check-man-lint.sh: every manual page renders with groff's warnings all on
# (-ww) and produces no diagnostic at all.
set -eu
srcdir=${srcdir:-.}
fail=0
for page in greenwichd.8 greenwich-mmc.8 greenwich.conf.5; do
	out=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$srcdir/$page" 2>&1) || fail=1
	if [ -n "$out" ]; then
		printf 'FAIL: %s:\n%s\n' "$page" "$out"
		fail=1
	fi
	# The page's own name line must be there for whatis/apropos.
	if ! grep -q '^\.SH NAME' "$srcdir/$page"; then
		echo "FAIL: $page has no NAME section"
		fail=1
	fi
done
[ "$fail" -eq 0 ] && echo "ok: manual pages render without warnings"
exit "$fail"
