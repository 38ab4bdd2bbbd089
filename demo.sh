#!/bin/bash
# Bring up a working Greenwich server on this machine for trying it out:
# installs the dependencies, builds, writes a demo configuration with two
# local accounts (alice and bob) and runs greenwichd in the foreground.
# Usage: sudo ./demo.sh [--listen IP] [--port N] [--domain NAME]
set -euo pipefail
cd "$(dirname "$0")"
SRC=$(pwd)
LISTEN=127.0.0.1 PORT=5060 DOMAIN=demo.greenwich.test
while [ $# -gt 0 ]; do
	case "$1" in
	--listen) LISTEN="$2"; shift 2 ;;
	--port) PORT="$2"; shift 2 ;;
	--domain) DOMAIN="$2"; shift 2 ;;
	*) echo "usage: $0 [--listen IP] [--port N] [--domain NAME]" >&2; exit 2 ;;
	esac
done
./deps.sh
./autogen.sh >/dev/null
mkdir -p _build-demo
(cd _build-demo && { [ -f Makefile ] || "$SRC/configure" -q; } && make -s -j"$(nproc)")
RUN="$SRC/demo-run"
mkdir -p "$RUN/state"
chmod 0750 "$RUN/state"
cat > "$RUN/greenwich.conf" <<CONF
# Demo configuration written by demo.sh
[server]
udp = $LISTEN:$PORT
tcp = $LISTEN:$PORT
domains = $DOMAIN
state-directory = $RUN/state
pid-file = $RUN/greenwichd.pid
[auth]
# MD5 first: some SIP clients answer only the first challenge and know no
# SHA-256 (the packaged default offers SHA-256 first, as RFC 8760 advises)
digest-algorithms = MD5, SHA-256
[log]
level = info
CONF
MMC="$SRC/_build-demo/mmc-cli/greenwich-mmc -c $RUN/greenwich.conf"
for u in alice bob; do
	f="$RUN/$u.password"
	[ -s "$f" ] || (umask 077; openssl rand -hex 6 > "$f")
	$MMC local-user add "$u@$DOMAIN" --password-stdin < "$f" >/dev/null
done
cat <<MSG

Greenwich demo server: sip:$DOMAIN at $LISTEN:$PORT (UDP and TCP)
  user alice@$DOMAIN  password $(cat "$RUN/alice.password")
  user bob@$DOMAIN    password $(cat "$RUN/bob.password")
Point a SIP client at $LISTEN:$PORT (outbound proxy), sign in as one of them
(authentication user name: alice or bob, realm $DOMAIN) and send the other a
message or call.  Stop the server with Ctrl-C.

MSG
exec "$SRC/_build-demo/daemon/greenwichd" --foreground --config "$RUN/greenwich.conf"
