#!/bin/bash
# The shared library exports exactly the gwp_ symbols listed in abi/gwp-0.sigs.
set -eu
so="$GWP_BUILDDIR/.libs/libgreenwich-proxy.so"
sigs="$GWP_SRCDIR/abi/gwp-0.sigs"
test -f "$so" || { echo "missing $so"; exit 1; }
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
# defined dynamic symbols, without the version-node marker and @VERSION suffix
nm -D --defined-only "$so" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort > "$actual"
if grep -v '^gwp_' "$actual"; then
	echo "FAIL: symbols above are exported without the gwp_ prefix"
	exit 1
fi
if ! diff -u "$sigs" "$actual"; then
	echo "FAIL: exported symbols differ from $sigs (update it and the libtool version)"
	exit 1
fi
echo "ok: $(wc -l < "$actual") gwp_ symbols exported, matching abi/gwp-0.sigs"
