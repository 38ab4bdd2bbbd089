#!/bin/sh
# Install the Debian 12 packages Greenwich needs to build, run and test.
# Run as root (or with sudo).  Safe to run again.
set -e
export DEBIAN_FRONTEND=noninteractive
BUILD="autoconf automake libtool pkg-config make gcc libc6-dev
	libsofia-sip-ua-dev libsqlite3-dev libssl-dev libxml2-dev libjson-c-dev libedit-dev
	libkrb5-dev libldap2-dev libsasl2-dev libwbclient-dev libcmocka-dev"
RUN="openssl sqlite3 python3"
TEST="sip-tester sipsak samba winbind krb5-user adcli ldb-tools ldap-utils
	libsasl2-modules-gssapi-mit iproute2 util-linux bind9-host procps psmisc
	groff-base man-db kamailio kamailio-presence-modules baresip-core sqlite3 faketime
	libfaketime python3-gssapi python3-pycryptodome python3-jsonschema python3-dnspython
	libpurple-dev pidgin-sipe"
PACKAGE="debhelper dpkg-dev lintian fakeroot systemd adduser"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: run as root (sudo ./deps.sh)" >&2
	exit 1
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $BUILD $RUN $TEST $PACKAGE >/dev/null
echo "deps.sh: build, run and test dependencies installed"
