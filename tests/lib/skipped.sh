#!/bin/sh
# skipped.sh LIBRARY PACKAGE TEST...: stands in for the tests that could not be built
# because configure did not find LIBRARY (tests/lib/cmocka.am, tests/interop): names
# each one and why, and exits 77, which make check counts as skipped.
lib=$1 pkg=$2
shift 2
for t in "$@"; do
	echo "SKIP: $t: needs $lib, which configure did not find (apt-get install $pkg, then configure again)"
done
exit 77
