#!/bin/bash
# test-package.sh [--source DIR] - CI check of the Debian packages.  Run as root
# on a Debian 12 machine where greenwich is not installed.
#
# Builds the packages from a clean copy of the tree (build-deb.sh), runs
# lintian, compares the package contents with package-contents.txt, installs
# the packages with apt-get, checks the installed files, modes, user and
# groups, the unit file and the man pages, starts the installed greenwichd
# with the shipped configuration (in a private network namespace), then
# removes the packages (state kept) and purges them (state deleted).
#
# Needs: dpkg-dev, debhelper, lintian, the Build-Depends of debian/control,
# systemd (systemd-analyze), man-db, iproute2, sipsak.
# To accept a deliberate change of the package contents:
#   PACKAGE_CONTENTS_UPDATE=1 packaging/test-package.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s)
step() { printf '\n== %s\n' "$*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || fail "run as root (it installs packages)"
if dpkg-query -W -f '${Status}' greenwich 2>/dev/null | grep -q installed; then
	fail "greenwich is already installed; purge it first (apt-get purge greenwich)"
fi

work=$(mktemp -d /tmp/greenwich-pkgtest.XXXXXX)
installed=0
cleanup() {
	local rc=$?
	if [ "$installed" = 1 ]; then
		echo "cleaning up: purging the packages"
		apt-get purge -y -q greenwich libgreenwich-proxy-dev libgreenwich-proxy0 >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
	echo "test-package.sh: $([ $rc -eq 0 ] && echo PASS || echo FAIL) after $(($(date +%s) - start)) s"
	exit $rc
}
trap cleanup EXIT

step "build"
"$here/build-deb.sh" "$@" "$work/deb" >"$work/build.log" 2>&1 || {
	tail -50 "$work/build.log"
	fail "the package build failed (log above)"
}
grep -E '^(PASS|FAIL|ERROR):' "$work/build.log" || true
debs=("$work"/deb/greenwich_*.deb "$work"/deb/libgreenwich-proxy0_*.deb
	"$work"/deb/libgreenwich-proxy-dev_*.deb)
version=$(dpkg-deb -f "${debs[0]}" Version)

step "lintian"
lintian --fail-on error --allow-root \
	"$work"/deb/*.changes || fail "lintian reports errors"

step "package contents"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for deb in "${debs[@]}"; do
	pkg=$(dpkg-deb -f "$deb" Package)
	dpkg-deb -c "$deb" | awk -v p="$pkg" '{
		path = $6; for (i = 7; i <= NF; i++) path = path " " $i
		sub(/^\.\//, "", path); if (path == "") next
		print p, $1, $2, path }'
done | sed "s|$multiarch|MULTIARCH|g" | sort >"$work/contents.txt"
if [ "${PACKAGE_CONTENTS_UPDATE:-}" = 1 ]; then
	cp "$work/contents.txt" "$here/package-contents.txt"
	echo "updated $here/package-contents.txt"
fi
diff -u "$here/package-contents.txt" "$work/contents.txt" ||
	fail "package contents differ from packaging/package-contents.txt"
echo "ok: $(wc -l <"$work/contents.txt") entries as listed"

step "install"
installed=1
apt-get install -y -q "${debs[@]}" >"$work/install.log" 2>&1 || {
	cat "$work/install.log"
	fail "apt-get install failed"
}
conf=/etc/greenwich/greenwich.conf

step "installed programs"
/usr/sbin/greenwichd --check-config --config "$conf"
[ "$(/usr/sbin/greenwichd --version)" = "greenwichd $version" ] || fail "greenwichd --version"
[ "$(greenwich-mmc --version)" = "greenwich-mmc $version" ] || fail "greenwich-mmc --version"
echo "ok: greenwichd and greenwich-mmc $version"

step "user, groups, modes"
getent passwd greenwich >/dev/null || fail "no user greenwich"
getent group greenwich >/dev/null || fail "no group greenwich"
getent group greenwich-admins >/dev/null || fail "no group greenwich-admins"
[ "$(id -u greenwich)" -lt 1000 ] || fail "greenwich is not a system user"
[ "$(getent passwd greenwich | cut -d: -f7)" = /usr/sbin/nologin ] || fail "greenwich has a login shell"
check_mode() {
	local got
	got=$(stat -c '%a %U:%G' "$1")
	[ "$got" = "$2" ] || fail "$1 is $got, expected $2"
	echo "ok: $1 $got"
}
check_mode "$conf" "644 root:root"
check_mode /var/lib/greenwich "750 greenwich:greenwich"
check_mode /usr/sbin/greenwichd "755 root:root"
dpkg-query -W -f '${Conffiles}\n' greenwich | grep -q "^ $conf " || fail "$conf is not a conffile"
echo "ok: $conf is a conffile"

step "systemd unit"
unit=/lib/systemd/system/greenwichd.service
[ -f "$unit" ] || fail "no $unit"
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
echo "ok: systemd-analyze verify $unit"
[ -L /etc/systemd/system/multi-user.target.wants/greenwichd.service ] ||
	fail "greenwichd.service is not enabled"
echo "ok: greenwichd.service enabled"
for unit in /lib/systemd/system/greenwich-machine-password.service \
	/lib/systemd/system/greenwich-machine-password.timer; do
	[ -f "$unit" ] || fail "no $unit"
	out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	echo "ok: systemd-analyze verify $unit"
done
[ -L /etc/systemd/system/timers.target.wants/greenwich-machine-password.timer ] ||
	fail "greenwich-machine-password.timer is not enabled"
echo "ok: greenwich-machine-password.timer enabled"

step "manual pages"
for page in greenwichd.8 greenwich-mmc.8 greenwich.conf.5; do
	f=$(man -w "${page%.*}" 2>/dev/null | head -1)
	[ -n "$f" ] || fail "man cannot find ${page%.*}"
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
	[ -z "$out" ] || fail "man $page: $out"
	echo "ok: $f"
done

step "the kit: the example builds against the installed package"
ex=/usr/share/doc/libgreenwich-proxy-dev/examples/helpdesk-router
# shellcheck disable=SC2046 # pkg-config prints several words
cc -o "$work/helpdesk-router" "$ex"/*.c $(pkg-config --cflags --libs greenwich-proxy) -lpthread ||
	fail "helpdesk-router does not build against the installed kit"
ldd "$work/helpdesk-router" | grep -Eq "libgreenwich-proxy.so.0 => (/usr)?/lib/$multiarch/" ||
	fail "helpdesk-router is not linked with the installed libgreenwich-proxy.so.0"
# its usage line names the library version it runs with
{ "$work/helpdesk-router" -h 2>&1 || true; } | grep -q "libgreenwich-proxy " ||
	fail "helpdesk-router does not run against the installed library"
echo "ok: helpdesk-router built, greenwich-proxy $(pkg-config --modversion greenwich-proxy)"

step "greenwichd starts with the shipped configuration"
# In a private network namespace, so that the shipped 127.0.0.1:5060 cannot
# collide with anything else on this machine; as the package's user.
log=$work/greenwichd.log
# shellcheck disable=SC2016 # expanded by the inner bash
unshare --net -- bash -c '
	set -eu
	ip link set lo up
	umask 0027  # as UMask= in greenwichd.service
	setpriv --reuid=greenwich --regid=greenwich --init-groups \
		/usr/sbin/greenwichd --foreground --config "$1" 2>"$2" &
	pid=$!
	for _ in $(seq 50); do grep -q event=started "$2" && break; sleep 0.1; done
	grep -q event=started "$2" || { echo "no event=started"; exit 1; }
	sipsak -s sip:127.0.0.1:5060 || { echo "no 200 OK to OPTIONS"; exit 1; }
	kill -TERM "$pid"
	wait "$pid" || { echo "greenwichd exited with $? on SIGTERM"; exit 1; }' _ "$conf" "$log" || {
	cat "$log"
	fail "greenwichd did not start, answer OPTIONS and stop cleanly"
}
grep -q event=stopping "$log" || fail "no event=stopping in the log"
check_mode /var/lib/greenwich/greenwich.db "640 greenwich:greenwich"
check_mode /var/lib/greenwich/location.db "640 greenwich:greenwich"
echo "ok: started, answered OPTIONS on 127.0.0.1:5060, stopped"

step "remove keeps the state and the configuration"
apt-get remove -y -q greenwich >/dev/null 2>&1 || fail "apt-get remove"
[ -f /var/lib/greenwich/greenwich.db ] || fail "remove deleted the state"
[ -f "$conf" ] || fail "remove deleted the conffile"
echo "ok: /var/lib/greenwich and $conf kept"

step "purge deletes them"
apt-get purge -y -q greenwich libgreenwich-proxy-dev libgreenwich-proxy0 >/dev/null 2>&1 ||
	fail "apt-get purge"
installed=0
[ ! -e /var/lib/greenwich ] || fail "purge left /var/lib/greenwich"
[ ! -e /etc/greenwich ] || fail "purge left /etc/greenwich"
[ ! -e "$unit" ] || fail "purge left $unit"
echo "ok: state and configuration gone (the system user and groups stay)"
