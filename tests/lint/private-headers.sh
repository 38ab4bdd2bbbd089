#!/bin/bash
# private-headers.sh - a folder's private headers stay in the folder: fails when a file
# includes a private header of another folder.  Private are *_private.h and *_int.h
# (ad/ad_private.h, sipae/sipae_private.h, policy/pol_private.h, daemon/location/loc_int.h...) and
# every header that includes a private one (ad/ad_conn.h includes ad_private.h).  A file
# may include the private headers of its own folder and of the folders above it (so
# ad/tests/ may include ad/ad_private.h).  A library's public header (gwad.h, gwsipae.h,
# gwpolicy.h) is its contract; everything else is its own business.
#
# Usage: private-headers.sh [TREE]   (default: the source tree this script is in)
# First checks itself on a small tree with one violation, then checks TREE.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Prints "FILE includes HEADER" for every violation in the tree at $1; returns 1 if any.
check_tree()
{
	local root=$1
	(
		cd "$root" || exit 2
		find . \( -name .git -o -name '_build*' -o -name autom4te.cache \) -prune -o \
			-type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' \) -print |
			sed 's|^\./||' | LC_ALL=C sort >"$WORK/files"
		# file<TAB>included name, for every #include "..."
		while IFS= read -r f; do
			sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
				while IFS= read -r inc; do printf '%s\t%s\n' "$f" "$inc"; done
		done <"$WORK/files" >"$WORK/includes"
		awk -F'\t' '
		function base(p) { sub(/.*\//, "", p); return p }
		function dir(p) { if (p !~ /\//) return "."; sub(/\/[^\/]*$/, "", p); return p }
		function inside(f, d) { return d == "." || index(f, d "/") == 1 }
		FILENAME == ARGV[1] {
			if ($0 ~ /\.h$/) { hdr[$0] = 1; byname[base($0)] = byname[base($0)] " " $0 }
			if ($0 ~ /(_private|_int)\.h$/) priv[$0] = 1
			next
		}
		{ from[NR] = $1; name[NR] = $2; n = NR }
		END {
			# a header that includes a private header of its own folder is private too
			do {
				changed = 0
				for (i = 1; i <= n; i++) {
					f = from[i]
					if (!(f in hdr) || (f in priv)) continue
					c = dir(f) "/" name[i]; sub(/^\.\//, "", c)
					if (c in priv) { priv[f] = 1; changed = 1 }
				}
			} while (changed)
			bad = 0
			for (i = 1; i <= n; i++) {
				f = from[i]
				local = dir(f) "/" name[i]; sub(/^\.\//, "", local)
				if (local in hdr) continue   # the including file'"'"'s own folder
				split(byname[base(name[i])], cand, " ")
				for (k in cand) {
					h = cand[k]
					if (h == "" || !(h in priv) || inside(f, dir(h))) continue
					printf "%s includes %s, private to %s/\n", f, h, dir(h)
					bad = 1
				}
			}
			exit bad
		}' "$WORK/files" "$WORK/includes"
	)
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gw-privhdr.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fails=0

# The check must be able to fail: a tree with one violation and allowed includes.
T=$WORK/selftest
mkdir -p "$T/lib/tests" "$T/lib/sub" "$T/app"
printf '#include "lib_private.h"\n' >"$T/lib/lib_conn.h"
printf '#include "lib_private.h"\n#include "lib_conn.h"\n' >"$T/lib/lib.c"
printf '#include "lib_private.h"\n' >"$T/lib/tests/test_lib.c"
printf '/* private */\n' >"$T/lib/lib_private.h"
printf '/* public */\n' >"$T/lib/gwlib.h"
printf '#include "gwlib.h"\n#include "lib_conn.h"\n' >"$T/app/main.c"
if ! out=$(check_tree "$T") && [ "$out" = "app/main.c includes lib/lib_conn.h, private to lib/" ]; then
	echo "ok - the check finds a header that is private through what it includes"
else
	echo "FAIL - self-test: expected one violation (app/main.c, lib/lib_conn.h), got: ${out:-none}"
	fails=1
fi

TREE=${1:-${top_srcdir:-$HERE/../..}}
if out=$(check_tree "$TREE"); then
	echo "ok - no file includes another folder's private header"
else
	echo "FAIL - private headers included outside their folder:"
	printf '%s\n' "$out" | sed 's/^/  /'
	fails=1
fi
exit "$fails"
