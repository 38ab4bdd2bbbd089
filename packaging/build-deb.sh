#!/bin/bash
# build-deb.sh [--source DIR] [OUTDIR]
# Build the Debian packages (greenwich, libgreenwich-proxy0,
# libgreenwich-proxy-dev) from a clean copy of the source tree, with
# packaging/debian as ./debian, and put the .deb, .buildinfo and .changes
# files into OUTDIR (default: ./deb).
#
# The copy is `git archive HEAD` of the repository this script is in, or,
# with --source (or outside a git checkout, e.g. in an unpacked release
# tarball), a copy of DIR (default: the tree this script is in).
# Nothing is built inside the repository.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
source_dir=
if [ "${1:-}" = --source ]; then
	source_dir=$(cd "${2:?--source needs a directory}" && pwd)
	shift 2
fi
outdir=${1:-$PWD/deb}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/greenwich-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/greenwich"
if [ -z "$source_dir" ] && git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$top" archive HEAD | tar -x -C "$work/greenwich"
else
	cp -a "${source_dir:-$top}/." "$work/greenwich/"
fi
rm -rf "$work/greenwich/debian"
cp -a "$work/greenwich/packaging/debian" "$work/greenwich/debian"

# The package version (debian/changelog) must be the one configure.ac declares.
cd "$work/greenwich"
deb_version=$(dpkg-parsechangelog -S Version)
ac_version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' configure.ac)
if [ "$deb_version" != "$ac_version" ]; then
	echo "build-deb.sh: debian/changelog has $deb_version, configure.ac has $ac_version" >&2
	exit 1
fi

dpkg-buildpackage -us -uc -b
cd "$work"
mv ./*.deb ./*.buildinfo ./*.changes "$outdir/"
echo "build-deb.sh: packages in $outdir:"
ls -1 "$outdir"/*.deb
