#!/bin/sh
# check-layers.sh - greenwichd's folders call only downwards.
#
# The folders of daemon/, lowest first; a file may include the headers of
# its own folder and of the folders before it, never of one after it.
# main.c, at the top, may include anything.  Run by `make check`.
set -u
dir=${1:-${srcdir:-$(dirname "$0")}}
order="sofia location core rules signin presence sip control"
bad=0

rank() {
	i=0
	for l in $order; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo 99
}

for layer in $order; do
	[ -d "$dir/$layer" ] || { echo "FAIL: daemon/$layer is missing"; bad=1; continue; }
	me=$(rank "$layer")
	for f in "$dir/$layer"/*.[ch]; do
		while read -r h; do
			for other in $order; do
				[ -f "$dir/$other/$h" ] || continue
				if [ "$(rank "$other")" -gt "$me" ]; then
					echo "FAIL: daemon/$layer/$(basename "$f") includes $other/$h (a layer above $layer)"
					bad=1
				fi
			done
		done <<EOF
$(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
EOF
	done
done
# nothing of greenwichd's own stays loose beside main.c
for f in "$dir"/*.[ch]; do
	[ "$(basename "$f")" = main.c ] && continue
	echo "FAIL: daemon/$(basename "$f") belongs in a layer folder"
	bad=1
done
[ $bad -eq 0 ] && echo "PASS: every include of daemon/ points down ($order)"
exit $bad
