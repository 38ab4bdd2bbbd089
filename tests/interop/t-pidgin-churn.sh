#!/bin/bash
# Issue 18's abort, hunted with the transport reference ledger: real pidgin-sipe 1.25
# clients (purple-sipe) sign in to greenwichd over TLS against a real Samba AD DC --
# alice and carol with NTLM, bob (sip:robert@...) with Kerberos -- over and over, each
# with the others on its contact list, change their status (PUBLISH, NOTIFYs to the
# others), and then sign out or are killed (kill -9) at a random moment, so NOTIFYs go
# to connections that are gone (Sofia's "Broken pipe").  Beside them, Digest users over
# TLS (tests/integration/tlsstress.py) subscribe, publish and vanish with a reset, half
# a request or a close, on both workers.
#
# greenwichd is the test build with the ledger (daemon/greenwichd-ledger,
# sofia/tport_ledger.c): every tport_ref()/tport_unref() is recorded per transport and
# caller.  Asserted: greenwichd alive, no assertion, no event=wait-anomaly, no
# event=tport-unref-refused, no ledger flag (a release below a transport's baseline, a
# count changed behind the ledger, a transport used after it was freed, a connection
# zapped twice); every connection born came to zero exactly once (born = freed-clean +
# freed-by-holder + live) and, once the traffic is over, none is left and every
# listener's count is back to its baseline; and a signed-in user still receives an IM.
#
# CHURN_SECONDS (default 45) is how long the churn runs; `make check` runs that.  The
# long run (docs/DESIGN.md, HACKING.md): CHURN_SECONDS=600 KEEP=1, under
# flock /tmp/greenwich-dc.lock, also with a --enable-sanitizers build.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/interop/purple-sipe-env.sh
. "$(dirname "$0")/purple-sipe-env.sh"
# shellcheck source=tests/interop/sipe-domain.sh
. "$(dirname "$0")/sipe-domain.sh"

GWD="$top_builddir/daemon/greenwichd-ledger"
LEDGER="$T/ledger"
export GREENWICH_TPORT_LEDGER="$LEDGER"
SECS=${CHURN_SECONDS:-45}
NDIGEST=${CHURN_DIGEST_USERS:-6}

# The certificate names greenwich.<domain> (pidgin-sipe asks Kerberos for sip/ that
# name) and 127.0.0.1 (the Python clients verify it); test_cert keeps it.
CERT_FQDN=greenwich.${CHURN_DNS_DOMAIN:-corp.example.com}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.crt" \
	-days 2 -subj "/CN=$CERT_FQDN" -addext "subjectAltName=DNS:$CERT_FQDN,IP:127.0.0.1" \
	2> /dev/null
domain_up "[presence]" "max-expires = 3600" "[limits]" "connection-idle-timeout = 5"
check "the certificate names greenwichd's FQDN ($FQDN)" [ "$FQDN" = "$CERT_FQDN" ]
MMCD=("$MMC" -c "$T/greenwich.conf")
check "greenwichd is the ledger build" grep -a -q "tport_ledger_dump" "$GWD"
check "greenwichd runs two workers" grep -q "event=started .*workers=2 " "$T/greenwichd.log"
for i in $(seq 0 $((NDIGEST - 1))); do add_user "u$i" "pw-u$i"; done
# every AD user on the others' lists: their status changes become NOTIFYs
for o in alice robert carol; do
	for c in alice robert carol; do
		[ "$o" = "$c" ] || "${MMCD[@]}" users contact-add "$o@$DOMAIN" "sip:$c@$DOMAIN" \
			> /dev/null
	done
done
check "contact lists stored" [ "$("${MMCD[@]}" users contacts "robert@$DOMAIN" | wc -l)" -ge 2 ]
check "kinit bob@$ADDC_REALM" kinit_user bob bob Blue-Sky-22
# probe: a local Digest user of the load signs in over TLS from the domain's namespace
probe() {
	in_domain env GW_TEST_DOMAIN="$DOMAIN" top_srcdir="$top_srcdir" python3 - "$TLSPORT" "$T/server.crt" << 'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "integration"))
import presua
ua = presua.UA("u0", "pw-u0", int(sys.argv[1]), "tls", sys.argv[2])
r = ua.register(expires=60)
print("probe-register %s" % (r.status if r else None), flush=True)
sys.exit(0 if r is not None and r.status == 200 else 1)
PY
}
check "a local Digest user of the load registers over TLS: $(probe 2>&1 | tail -1)" probe

# ledger_dump: ask for a dump (SIGUSR2) and wait for the file to be rewritten
ledger_dump() {
	local n
	n=$(grep -c "event=tport-ledger-dump" "$T/greenwichd.log")
	kill -USR2 "$GWD_PID"
	wait_for_count "$n"
}
wait_for_count() {
	for _ in $(seq 1 50); do
		[ "$(grep -c "event=tport-ledger-dump" "$T/greenwichd.log")" -gt "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# field KEY: from the ledger's summary line
field() { sed -n "1s/.* $1=\([0-9]*\).*/\1/p" "$LEDGER"; }

# churn NAME MECH USER [client args]: sign in, change status, then sign out or be
# killed, again and again until END; one line per event in $T/churn-NAME.log.
END=$(($(date +%s) + SECS))
churn() {
	local name=$1 mech=$2 user=$3 k=0 c pid fd
	shift 3
	while [ "$(date +%s)" -lt "$END" ]; do
		k=$((k + 1))
		c="$name-$k"
		mkfifo "$T/$c.in"
		exec {fd}<> "$T/$c.in"
		[ "$mech" != kerberos ] || cp "$T/$name.cc" "$T/$c.cc" # purple-sipe's cache: NAME.cc
		client "$c" "$mech" "$user" "$@" --commands --timeout 120 || break
		pid=$(cat "$T/$c.pid")
		if wait_for "$T/$c.out" " signed-on " 300; then
			echo "signed-on $c"
			for _ in $(seq 1 $((RANDOM % 4))); do
				echo "status $(shuf -n1 -e away busy available)" >&"$fd"
				echo "status-change $c"
				sleep "0.$((RANDOM % 9 + 1))"
			done
		else
			echo "no-sign-on $c"
		fi
		case $((RANDOM % 4)) in
		0)
			echo quit >&"$fd"
			if wait_for "$T/$c.out" " exit status=" 150; then echo "signed-out $c"; fi
			;;
		1)
			# gone while its own status change is on its way to the others
			echo "status $(shuf -n1 -e away busy available)" >&"$fd"
			kill -9 "$pid" 2> /dev/null && echo "killed $c"
			;;
		*)
			sleep "0.$((RANDOM % 10))"
			kill -9 "$pid" 2> /dev/null && echo "killed $c"
			;;
		esac
		kill -9 "$pid" 2> /dev/null || true
		exec {fd}>&-
		rm -f "$T/$c.in"
		sleep "0.$((RANDOM % 5))"
	done > "$T/churn-$name.log" 2>&1
}
START=$(date +%s)
churn alice ntlm "sip:alice@$DOMAIN" --login 'CORP\alice' --password Apple-Pie-11 &
PIDS+=("$!")
CH_A=$!
churn carol ntlm "sip:carol@$DOMAIN" --login 'CORP\carol' --password Coral-Reef-33 &
PIDS+=("$!")
CH_C=$!
churn bob kerberos "sip:robert@$DOMAIN" --sso &
PIDS+=("$!")
CH_B=$!
in_domain_bg load env GW_TEST_DOMAIN="$DOMAIN" python3 \
	"$top_srcdir/tests/integration/tlsstress.py" "$TLSPORT" "$T/server.crt" "$SECS" \
	"$NDIGEST" "${CHURN_SEED:-$RANDOM}"
LOAD=$(cat "$T/load.pid")
sleep $((SECS / 2))
check "a dump in the middle of the churn (SIGUSR2)" ledger_dump
cp "$LEDGER" "$T/ledger.middle"
check "greenwichd runs in the middle of the churn" kill -0 "$GWD_PID"
wait "$CH_A" "$CH_C" "$CH_B" || true
for _ in $(seq 1 300); do kill -0 "$LOAD" 2> /dev/null || break; sleep 0.1; done
MINUTES=$((($(date +%s) - START + 30) / 60))

count() { cat "$T"/churn-*.log | grep -c "^$1 " || true; }
SIGNINS=$(count signed-on)
SIGNOUTS=$(count signed-out)
KILLS=$(count killed)
STATUS=$(count status-change)
PIPES=$(grep -a -c "NOTIFY.*Broken pipe" "$T/greenwichd.log" || true)
check "pidgin-sipe signed in again and again: $SIGNINS sign-ins, $SIGNOUTS sign-outs, \
$KILLS kills, $STATUS status changes" [ "$SIGNINS" -ge 3 ]
check "... and clients were killed ($KILLS)" [ "$KILLS" -ge 1 ]
check "NOTIFYs went into connections that were gone ($PIPES Broken pipe)" [ "$PIPES" -ge 1 ]
check "the TLS load ran: $(cat "$T/load.out")" \
	grep -qE "^cycles [0-9]+ registered [1-9][0-9]* notifies [0-9]+ publishes [1-9]" "$T/load.out"
check "greenwichd did not abort" kill -0 "$GWD_PID"
check "no assertion failed" bash -c "! grep -a -q 'Assertion' '$T/greenwichd.log'"
check "no event-loop anomaly: $(grep -m1 'event=wait-anomaly' "$T/greenwichd.log")" \
	bash -c "! grep -q 'event=wait-anomaly' '$T/greenwichd.log'"
check "no listener released by a reference nobody took" \
	bash -c "! grep -q 'event=tport-unref-refused' '$T/greenwichd.log'"

# ---- the victim: a user signed in now still gets an IM ----
fifo_open() { mkfifo "$T/$1.in"; exec {FD}<> "$T/$1.in"; }
fifo_open final-alice
A_FD=$FD
client final-alice ntlm "sip:alice@$DOMAIN" --login 'CORP\alice' --password Apple-Pie-11 \
	--commands --timeout 200
fifo_open final-bob
B_FD=$FD
cp "$T/bob.cc" "$T/final-bob.cc"
client final-bob kerberos "sip:robert@$DOMAIN" --sso --commands --timeout 200
check "alice signs in after the churn" wait_for "$T/final-alice.out" " signed-on " 300
check "bob signs in after the churn" wait_for "$T/final-bob.out" " signed-on " 300
sleep 1
echo "im sip:alice@$DOMAIN after the churn" >&"$B_FD"
check "alice's client received bob's IM" wait_for "$T/final-alice.out" \
	"received-im-msg from=sip:robert@$DOMAIN text=after the churn\$" 150
echo quit >&"$B_FD"
echo quit >&"$A_FD"
check "bob signed out" wait_for "$T/final-bob.out" " exit status=0" 150
check "alice signed out" wait_for "$T/final-alice.out" " exit status=0" 150

# ---- the ledger at rest: every connection gone, listeners back to their baseline ----
# (NOTIFY transactions to gone clients end within 32 s; idle connections after 5 s)
for _ in $(seq 1 45); do
	ledger_dump || break
	[ "$(field live-connections)" = 0 ] && [ "$(field listeners-off-baseline)" = 0 ] && break
	sleep 2
done
python3 "$top_srcdir/tests/interop/ledger-symbols.py" "$GWD" "$LEDGER" > "$T/ledger.txt"
SUMMARY=$(head -1 "$LEDGER")
echo "# $SUMMARY"
for k in negative untracked unknown zap-unknown refused freed-in-tree; do
	check "ledger: $k=0 ($(grep -m1 "^flag kind=$k" "$T/ledger.txt"))" [ "$(field "$k")" = 0 ]
done
check "ledger: connections were made and freed ($(field born) born)" [ "$(field born)" -ge 20 ]
check "ledger: every connection came to zero exactly once (born $(field born) = freed-clean \
$(field freed-clean) + freed-by-holder $(field freed-by-holder) + live $(field live-connections))" \
	[ "$(field born)" = "$(($(field freed-clean) + $(field freed-by-holder) + $(field live-connections)))" ]
check "ledger: no connection left at rest ($(grep -c '^transport .* role=s' "$T/ledger.txt") left)" \
	[ "$(field live-connections)" = 0 ]
check "ledger: every listener back to its baseline ($(grep 'off-baseline$' "$T/ledger.txt" |
	cut -d' ' -f3-7 | tr '\n' ';'))" [ "$(field listeners-off-baseline)" = 0 ]
echo "# churn: ${MINUTES} min, $SIGNINS sign-ins, $SIGNOUTS sign-outs, $KILLS kills, \
$STATUS status changes, $PIPES NOTIFYs with Broken pipe; load: $(cat "$T/load.out")"
gwd_stop_clean
check "the exit dump was written" grep -q "event=tport-ledger-dump reason=exit" "$T/greenwichd.log"
finish
