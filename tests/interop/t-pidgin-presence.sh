#!/bin/bash
# Interoperability: presence between two real pidgin-sipe 1.25 clients (driven by
# purple-sipe) signed in to greenwichd with Active Directory credentials -- alice with
# NTLM, bob (sip:robert@...) with Kerberos -- and a local Digest user on a standard SIP
# client (carol, tests/interop/presence-ua.py: PUBLISH/SUBSCRIBE with PIDF).
#
# Each user's server-stored contact list holds the others (pidgin-sipe deletes local
# buddies that are not on it): alice's is filled by her client (sipe's setContact SOAP),
# bob's by the administrator (greenwich-mmc users contact-add).  Then every status change
# must reach the others: available, away, busy, and offline when a client signs out.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/interop/purple-sipe-env.sh
. "$(dirname "$0")/purple-sipe-env.sh"
# shellcheck source=tests/interop/sipe-domain.sh
. "$(dirname "$0")/sipe-domain.sh"

PY=/usr/bin/python3

# cmd NAME LINE: one command to a running client (its NAME.in FIFO).
cmd() {
	echo "$2" >&"$(fifo_fd "$1")"
}
declare -A FIFO_FD=()
fifo_fd() { echo "${FIFO_FD[$1]}"; }
# fifo NAME: NAME.in, kept open for reading and writing by this shell (no EOF, no block).
fifo() {
	local fd
	mkfifo "$T/$1.in"
	exec {fd}<>"$T/$1.in"
	FIFO_FD[$1]=$fd
}

# sees WATCHER BUDDY STATUS: WATCHER's client reports BUDDY in STATUS (bounded wait):
# a status change, or the buddy coming online or going offline in that status.
sees() {
	wait_for "$T/$1.out" \
		"buddy-(status-changed buddy=$2 old=[^ ]+ new=$3|signed-(on|off) buddy=$2 status=$3)\$" \
		"${4:-100}"
}
# carol_sees AOR STATUS: carol's client got a NOTIFY saying AOR is STATUS.
carol_sees() {
	wait_for "$T/carol.out" "notify entity=sip:$1 status=$2\$" "${3:-100}"
}

domain_up "[presence]" "max-expires = 3600"
MMCD=("$MMC" -c "$T/greenwich.conf")
check "carol is a local Digest account in $DOMAIN" bash -c \
	"echo carol-pw | $(printf '%q ' "${MMCD[@]}") local-user add carol@$DOMAIN --password-stdin"

ALICE=sip:alice@$DOMAIN
ROBERT=sip:robert@$DOMAIN
CAROL=sip:carol@$DOMAIN

# bob's list from the console: alice and carol
check "mmc: contact-add alice to robert's list" "${MMCD[@]}" users contact-add "robert@$DOMAIN" \
	"$ALICE" --group Colleagues
check "mmc: contact-add carol to robert's list" "${MMCD[@]}" users contact-add "robert@$DOMAIN" \
	"$CAROL"

# ---- alice: NTLM; she adds robert and carol from her client ----
fifo alice
client alice ntlm "$ALICE" --login 'CORP\alice' --password Apple-Pie-11 --commands \
	--timeout 120
if ! wait_for "$T/alice.out" " signed-on " 300; then
	fail "alice signed in with NTLM: $(why alice)"
	finish
	exit 1
fi
pass "alice signed in with NTLM"
check "alice subscribed to her contact list" wait_for "$T/alice.err" \
	"^Event: vnd-microsoft-roaming-contacts" 50
sleep 1
cmd alice "add-buddy $ROBERT Colleagues"
cmd alice "add-buddy $CAROL Colleagues"
check "alice's client sent setContact for robert (SOAP in SERVICE)" wait_for "$T/greenwichd.log" \
	"event=contact-set owner=alice@$DOMAIN contact=robert@$DOMAIN" 100
check "robert is on alice's server-stored list (mmc users contacts)" bash -c \
	"$(printf '%q ' "${MMCD[@]}") users contacts alice@$DOMAIN | grep -q '^robert@$DOMAIN '"

# ---- bob: Kerberos from his ticket cache ----
check "kinit bob@$ADDC_REALM" kinit_user bob bob Blue-Sky-22
fifo bob
client bob kerberos "$ROBERT" --sso --commands --timeout 120
if ! wait_for "$T/bob.out" " signed-on " 300; then
	fail "bob signed in with Kerberos: $(why bob)"
	finish
	exit 1
fi
pass "bob signed in with Kerberos"
check "bob's client has alice from his server-stored list, available" sees bob "$ALICE" available
check "alice sees robert available" sees alice "$ROBERT" available

# ---- status changes between the two pidgin-sipe users ----
cmd bob "status away"
check "alice sees robert away" sees alice "$ROBERT" away
cmd bob "status busy"
check "alice sees robert busy" sees alice "$ROBERT" busy
cmd alice "status away"
check "bob sees alice away" sees bob "$ALICE" away
cmd alice "status available"
check "bob sees alice available again" wait_for "$T/bob.out" \
	"buddy-status-changed buddy=$ALICE old=away new=available" 100

# ---- carol: a local user on a standard SIP client (PIDF) ----
fifo carol
in_domain_bg carol "$PY" "$top_srcdir/tests/interop/presence-ua.py" --port "$PORT" \
	--user carol --password carol-pw --domain "$DOMAIN"
check "carol registered with Digest" wait_for "$T/carol.out" "^registered" 50
cmd carol "subscribe alice@$DOMAIN"
cmd carol "subscribe robert@$DOMAIN"
check "carol sees alice available" carol_sees "alice@$DOMAIN" available
check "carol sees robert busy" carol_sees "robert@$DOMAIN" busy
check "alice sees carol available" sees alice "$CAROL" available
cmd carol "publish away"
check "alice sees carol away (PIDF PUBLISH)" sees alice "$CAROL" away
check "bob sees carol away" sees bob "$CAROL" away
cmd carol "publish busy"
check "alice sees carol busy" sees alice "$CAROL" busy
cmd alice "status busy"
check "carol sees alice busy" carol_sees "alice@$DOMAIN" busy
cmd bob "status away"
check "carol sees robert away" carol_sees "robert@$DOMAIN" away

# ---- sign-out: offline for everybody ----
cmd bob quit
check "bob's client signed out (exit 0)" [ "$(exit_status bob 150)" = 0 ]
check "alice sees robert offline" sees alice "$ROBERT" offline
check "carol sees robert offline (closed)" carol_sees "robert@$DOMAIN" offline
cmd carol quit
check "alice sees carol offline after carol's un-REGISTER" sees alice "$CAROL" offline
cmd alice quit
check "alice's client signed out (exit 0)" [ "$(exit_status alice 150)" = 0 ]

gwd_stop_clean
finish
