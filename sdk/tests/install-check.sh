#!/bin/bash
# Install the kit into a temporary DESTDIR, then build helpdesk-router from a
# copy of its sources with its own Makefile and pkg-config only, as an
# application developer would, and run it.
set -eu
D=$(mktemp -d /tmp/gwp-install-XXXXXX)
trap 'rm -rf "$D"' EXIT

"$MAKE" -C "$GWP_BUILDDIR" install DESTDIR="$D/root" >"$D/install.log" 2>&1 ||
	{ cat "$D/install.log"; echo "FAIL: make install"; exit 1; }
pcdir=$(dirname "$(find "$D/root" -name greenwich-proxy.pc | head -1)")
test -f "$pcdir/greenwich-proxy.pc" || { echo "FAIL: greenwich-proxy.pc not installed"; exit 1; }
incs=$(find "$D/root" -path '*/include/*' -type f)
[ "$(basename "$incs")" = proxy.h ] || { echo "FAIL: installed headers: $incs"; exit 1; }
if [ -z "$(find "$D/root" -name libgreenwich-proxy.so.0)" ] ||
	[ -z "$(find "$D/root" -name libgreenwich-proxy.a)" ]; then
	echo "FAIL: shared or static library missing"; exit 1
fi

export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$D/root"
ver=$(pkg-config --modversion greenwich-proxy)
[ -n "$ver" ] || { echo "FAIL: pkg-config does not know greenwich-proxy"; exit 1; }

mkdir "$D/app"
cp "$GWP_SRCDIR"/examples/helpdesk-router/{Makefile,*.c,*.h} "$D/app/"
# same CFLAGS/LDFLAGS as the kit (a sanitizer build needs its runtime in the app)
"$MAKE" --no-silent -C "$D/app" CFLAGS="${GWP_APP_CFLAGS:--O2} -Wall -Wextra" LDFLAGS="${GWP_APP_LDFLAGS:-}" \
	>"$D/build.log" 2>&1 || { cat "$D/build.log"; echo "FAIL: example build"; exit 1; }
grep -q -- "-I$D/root" "$D/build.log" || { echo "FAIL: not built against the installed headers"; exit 1; }

libdir=$(dirname "$(ls "$D"/root/*/*/lib/libgreenwich-proxy.so.0)")
out=$(LD_LIBRARY_PATH="$libdir" "$D/app/helpdesk-router" 2>&1 || true)
echo "$out" | grep -q "libgreenwich-proxy $ver" || { echo "FAIL: run: $out"; exit 1; }
LD_LIBRARY_PATH="$libdir" ldd "$D/app/helpdesk-router" | grep -q "$libdir/libgreenwich-proxy.so.0" ||
	{ echo "FAIL: not linked with the installed library"; exit 1; }
echo "ok: installed kit $ver, example built with pkg-config and run"
