#!/bin/sh
# check-layers-test.sh - check-layers.sh tests itself: on a copy of daemon/'s sources it
# passes, and it fails, naming the file and the include, once an upward include is
# planted in the copy (a header of sip/ in a .c file of core/, one of presence/ in a
# header of location/) or a source file is left loose beside main.c.  Run by make check.
set -u
dir=${srcdir:-$(dirname "$0")}
layers="sofia location core rules signin presence sip control"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gw-layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bad=0

# copy: a fresh copy of the layer folders and main.c in $tmp/daemon
copy() {
	rm -rf "$tmp/daemon"
	mkdir "$tmp/daemon"
	for l in $layers; do
		mkdir "$tmp/daemon/$l"
		cp "$dir/$l"/*.[ch] "$tmp/daemon/$l/"
	done
	cp "$dir/main.c" "$tmp/daemon/"
}

# expect_fail WHAT LINE: check-layers.sh on the copy fails and prints LINE
expect_fail() {
	if sh "$dir/check-layers.sh" "$tmp/daemon" >"$tmp/out" 2>&1; then
		echo "FAIL: $1: check-layers.sh passed"
		bad=1
	elif grep -qxF "$2" "$tmp/out"; then
		echo "PASS: $1: check-layers.sh fails with \"$2\""
	else
		echo "FAIL: $1: check-layers.sh failed without \"$2\":"
		sed 's/^/    /' "$tmp/out"
		bad=1
	fi
}

copy
if sh "$dir/check-layers.sh" "$tmp/daemon" >"$tmp/out" 2>&1; then
	echo "PASS: the unchanged copy passes"
else
	echo "FAIL: the unchanged copy fails:"
	sed 's/^/    /' "$tmp/out"
	bad=1
fi

printf '#include "sip_request.h"\n' >>"$tmp/daemon/core/overload.c"
expect_fail "core/overload.c includes sip/sip_request.h" \
	"FAIL: daemon/core/overload.c includes sip/sip_request.h (a layer above core)"

copy
printf '#include "presence.h" /* planted */\n' >>"$tmp/daemon/location/loc.h"
expect_fail "location/loc.h includes presence/presence.h" \
	"FAIL: daemon/location/loc.h includes presence/presence.h (a layer above location)"

copy
printf 'int stray;\n' >"$tmp/daemon/stray.c"
expect_fail "a loose daemon/stray.c" "FAIL: daemon/stray.c belongs in a layer folder"

exit $bad
