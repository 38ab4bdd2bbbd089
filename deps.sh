#!/bin/sh
# Install the Debian 12 packages Greenwich needs to build, run and test.
# Run as root (with sudo if you are not root; this script never calls it).  Safe to
# run again.  Works on a minimal Debian 12 (tests/fresh/check-fresh.sh proves it): the
# packages are installed without their Recommends, so every package that is needed is
# named here, also those that are only recommended by another one.
set -e
export DEBIAN_FRONTEND=noninteractive
BUILD="autoconf automake libtool pkg-config make gcc libc6-dev
	libsofia-sip-ua-dev libsqlite3-dev libpq-dev libssl-dev libxml2-dev libjson-c-dev libedit-dev
	libkrb5-dev libldap2-dev libsasl2-dev libwbclient-dev libcmocka-dev"
RUN="openssl sqlite3 python3"
# Recommended by samba, and each one needed to provision a DC (tried without it):
# samba-ad-provision (the AD schema files), samba-dsdb-modules (the directory's ldb
# modules), samba-vfs-modules (acl_xattr, which sets the sysvol's ACLs).  Not needed:
# krb5-config (everything uses the domain's own krb5.conf), sudo, ca-certificates.
TEST="sip-tester sipsak fail2ban samba samba-ad-provision samba-dsdb-modules samba-vfs-modules
	winbind krb5-user adcli ldb-tools ldap-utils
	libsasl2-modules-gssapi-mit iproute2 util-linux bind9-host procps psmisc
	groff-base man-db kamailio kamailio-presence-modules kamailio-tls-modules kamailio-postgres-modules baresip-core sqlite3 faketime
	libfaketime python3-gssapi python3-pycryptodome python3-jsonschema python3-dnspython
	libpurple-dev pidgin-sipe postgresql-15"
PACKAGE="debhelper dpkg-dev lintian fakeroot systemd adduser"
# the fuzzing build (./configure --enable-fuzzing, CC=clang): libFuzzer is in libclang-rt-14-dev;
# llvm (only recommended by clang) has llvm-symbolizer, which names the lines in a crash's stack
FUZZ="clang libclang-rt-14-dev llvm"
# the lint stage of run-tests.sh (tests/lint/)
LINT="shellcheck cppcheck clang-format-14"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: run as root (as another user: sudo ./deps.sh)" >&2
	exit 1
fi
# The daemons that come with the test tools (smbd, nmbd, winbindd, kamailio) are not
# started by their installation: the tests and the demo run instances of their own, on
# ports (139, 445, 5060) that a started one would take.  A policy-rc.d of the machine's
# own is left as it is.
RCD=/usr/sbin/policy-rc.d
if [ ! -e "$RCD" ]; then
	trap 'rm -f "$RCD"' EXIT
	trap 'exit 130' INT TERM
	printf '#!/bin/sh\n# deps.sh: no daemon starts while it installs packages\nexit 101\n' >"$RCD"
	chmod 0755 "$RCD"
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $BUILD $RUN $TEST $PACKAGE $FUZZ $LINT >/dev/null
echo "deps.sh: build, run and test dependencies installed"
