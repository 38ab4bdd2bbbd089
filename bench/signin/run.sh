#!/bin/bash
# bench/signin/run.sh - sign-ins per second (MS-SIPAE NTLM and Kerberos) against a real
# Samba AD DC (tests/addc), and the anchors: greenwichd's own primitives in a loop
# (sipae_ntlm_check through winbind, sipae_krb_accept), with no SIP around them.
#
#   GW_BUILDDIR=/path/to/build bench/signin/run.sh [--smoke] [--seconds S] [--procs N]
#                                                  [--profile DIR] [--only "SCHEMES"]
#                                                  [--transport tls|tcp]
#
# Schemes: ntlm, ntlm-resumed, kerberos, kerberos-tls, kerberos-resumed.  Every
# sign-in goes over TLS (greenwichd accepts Kerberos and NTLM over TLS only, [auth]
# sipae-transports), each load process a device that reconnects: with a full
# handshake (ntlm, kerberos; kerberos-tls is the same load as kerberos, kept as its
# own row of bench/run's table), or resuming its last TLS session (*-resumed: the
# session ticket a reconnecting client offers; load.py fails when none is resumed).
# --transport tcp: the same sign-ins over plain TCP (greenwichd with
# `sipae-transports = tls, tcp`), to tell the TLS handshake's cost from the rest.
#
# --profile DIR: perf record (call graphs) of greenwichd during each scheme's load,
# DIR/perf-SCHEME.data.
# The DC runs in a network namespace of its own; greenwichd and the clients run there
# (addc.sh run-with-hosts).  Prints markdown rows; exits non-zero when a part fails.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
B=${GW_BUILDDIR:-$SRC}
ADDC="$SRC/tests/addc/addc.sh"
top_srcdir=$SRC
# shellcheck source=tests/lib/ports.sh
. "$SRC/tests/lib/ports.sh"
# shellcheck source=tests/lib/wait.sh
. "$SRC/tests/lib/wait.sh"
# shellcheck source=tests/lib/dc.sh
. "$SRC/tests/lib/dc.sh"
PY=/usr/bin/python3
SECONDS_RUN=10 PROCS=4 N=2000 KRB_N=20000 PROFILE="" SCHEMES="ntlm ntlm-resumed kerberos kerberos-tls kerberos-resumed" TRANSPORT=tls
while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) SECONDS_RUN=2 PROCS=2 N=20 KRB_N=20 ;;
	--profile) PROFILE=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
	--only) SCHEMES=$2; shift ;;
	--seconds) SECONDS_RUN=$2; shift ;;
	--procs) PROCS=$2; shift ;;
	--transport) TRANSPORT=$2; shift ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

case "$TRANSPORT" in
tls) SIPAE_TRANSPORTS=tls ;;
tcp) SIPAE_TRANSPORTS="tls, tcp" ;;
*) echo "--transport: tls or tcp" >&2; exit 2 ;;
esac

W=$(mktemp -d /tmp/gwsib.XXXXXX)
T=$W # dc.sh's step logs
D="$W/dc"
GWD_PID=
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	[ -z "$GWD_PID" ] || { kill "$GWD_PID" 2>/dev/null || true; wait_gone "$GWD_PID"; }
	dc_down "$D"
	if [ -n "${KEEP:-}" ]; then echo "work files kept in $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
in_dc() { "$ADDC" run-with-hosts "$D" -- "$@"; }

# the join as an admin makes it (greenwich-mmc's default: sip/ on an account of its own)
MMC=$B/mmc-cli/greenwich-mmc
dc_up "$D" join >&2
FQDN="greenwich.$ADDC_DNS_DOMAIN"

PORT=$(free_port 2)
TLSPORT=$((PORT + 1))
mkdir -p "$W/state"
# Kerberos and NTLM are accepted over TLS only ([auth] sipae-transports): a TLS port with a
# self-signed certificate, and the clients sign in over it
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/server.key" -out "$W/server.crt" \
	-days 2 -subj "/CN=$FQDN" -addext "subjectAltName=DNS:$FQDN,IP:127.0.0.1" 2>/dev/null
cat > "$W/greenwich.conf" <<CONF
[server]
udp = 127.0.0.1:$PORT
tcp = 127.0.0.1:$PORT
tls = 127.0.0.1:$TLSPORT
domains = $ADDC_DNS_DOMAIN
workers = 2
state-directory = $W/state
pid-file = $W/greenwichd.pid
control-socket = $W/control.sock
[registrar]
max-contacts = 1000
[domain]
name = $ADDC_DNS_DOMAIN
keytab = $D/gw.keytab
sip-keytab = $D/sip.keytab
fqdn = $FQDN
enabled-group = Greenwich Users
[auth]
schemes = Kerberos,NTLM
sipae-transports = $SIPAE_TRANSPORTS
[tls]
certificate = $W/server.crt
key = $W/server.key
[log]
level = notice
CONF
write_exec_pid "$W/exec-pid"
in_dc "$W/exec-pid" "$W/gwd.pid" "$B/daemon/greenwichd" --allow-root -c "$W/greenwich.conf" -f \
	> "$W/greenwichd.log" 2>&1 &
started=0
wait_for "$W/greenwichd.log" event=started || started=1
GWD_PID=$(cat "$W/gwd.pid")
[ "$started" -eq 0 ] || { tail -5 "$W/greenwichd.log" >&2; exit 1; }

# alice's TGT, once: Kerberos sign-ins then cost the DC nothing but the first TGS
export KRB5CCNAME="FILE:$W/alice.cc"
printf 'Apple-Pie-11\n' | in_dc env KRB5CCNAME="$KRB5CCNAME" kinit alice > "$W/kinit.out" 2>&1 ||
	{ cat "$W/kinit.out" >&2; exit 1; }

rc=0
for scheme in $SCHEMES; do
	PERF_PID=
	if [ -n "$PROFILE" ]; then
		perf record -F 999 --call-graph dwarf,8192 -o "$PROFILE/perf-$scheme.data" \
			-p "$GWD_PID" -- sleep "$SECONDS_RUN" > /dev/null 2>&1 &
		PERF_PID=$!
	fi
	if [ "$TRANSPORT" = tls ]; then
		target=(--server "127.0.0.1:$TLSPORT" --tls)
	else
		target=(--server "127.0.0.1:$PORT")
	fi
	in_dc env KRB5CCNAME="$KRB5CCNAME" "$PY" "$HERE/load.py" "${target[@]}" \
		--domain "$ADDC_DNS_DOMAIN" --user alice --ntlm-domain "$ADDC_DOMAIN" \
		--password Apple-Pie-11 --scheme "$scheme" --procs "$PROCS" \
		--seconds "$SECONDS_RUN" --pid "$GWD_PID" 2> "$W/load-$scheme.err" || rc=1
	head -3 "$W/load-$scheme.err" >&2
	[ -z "$PERF_PID" ] || wait "$PERF_PID" || true
done
# the anchors, with what clients would send prepared beforehand
in_dc "$B/bench/signin/anchor" challenges "$N" "$ADDC_DOMAIN" GREENWICH "$ADDC_DNS_DOMAIN" \
	"$FQDN" > "$W/chal.txt"
"$PY" "$HERE/tokens.py" ntlm alice "$ADDC_DOMAIN" Apple-Pie-11 < "$W/chal.txt" > "$W/ntlm.txt"
in_dc "$B/bench/signin/anchor" ntlm "$PROCS" < "$W/ntlm.txt" || rc=1
# the GSSAPI loop runs 10 times as many tokens: 2,000 accepts took under 0.4 s, too short
# to measure on a shared machine
in_dc env KRB5CCNAME="$KRB5CCNAME" "$PY" "$HERE/tokens.py" krb "$KRB_N" "sip/$FQDN" > "$W/krb.txt"
in_dc "$B/bench/signin/anchor" krb "$D/sip.keytab" "$PROCS" < "$W/krb.txt" || rc=1
exit $rc
