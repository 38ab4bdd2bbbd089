#!/bin/bash
# t-server.sh - greenwich-mmc `server ...` against a running greenwichd over its control
# socket: status, registrations (UDP devices from SIPp, a TCP device held open),
# connections, a failed sign-in counted, log-level, reload, sign-out; --json output
# validated against server-schema.json (python3-jsonschema); the socket's mode and group;
# every error: unknown user, bad level, permission denied for a user outside the
# socket's group (setpriv), daemon not running, a stale socket after kill -9; a console
# session under a pty that goes to Servers > <server> > Registrations and signs a user out.
set -eu
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/../integration/lib.sh"
PY=/usr/bin/python3
SCHEMA=$HERE/server-schema.json

# The socket lives in a directory others may enter, so that only the socket's own
# permissions decide who gets in.
chmod 0711 "$T"
mkdir -m 0755 "$T/run"
SOCK=$T/run/control.sock
write_conf
sed -i "s|^control-socket = .*|control-socket = $SOCK|" "$T/greenwich.conf"
cp "$T/greenwich.conf" "$T/run/greenwich.conf"
chmod 0644 "$T/run/greenwich.conf"
CONF=$T/run/greenwich.conf
add_user alice alice-pw
add_user bob bob-pw

# mmc NAME ARGS...: run greenwich-mmc, keep stdout/stderr in $T/NAME.{out,err}, exit in RC.
mmc() {
	local n=$1
	shift
	RC=0
	"$MMC" -c "$CONF" "$@" >"$T/$n.out" 2>"$T/$n.err" || RC=$?
}
# valid NAME DEF: $T/NAME.out is one JSON document matching $defs/DEF of the schema.
valid() {
	"$PY" - "$SCHEMA" "$2" "$T/$1.out" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[3]))
jsonschema.validate(doc, {"$ref": "#/$defs/" + sys.argv[2], "$defs": schema["$defs"]})
PY
}
# jq_ NAME EXPR: evaluate a python expression on the JSON document d of $T/NAME.out.
jq_() {
	"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$T/$1.out"
}
has() { grep -qE -- "$2" "$T/$1"; }

echo "# not running yet"
mmc down server status
check "no daemon: exit 6" [ "$RC" = 6 ]
check "no daemon: says so and names the socket" \
	has down.err "greenwichd is not running \(no control socket at $SOCK\)"

start_gwd
check "the socket is there, mode 0660" [ "$(stat -c %a "$SOCK")" = 660 ]
if getent group greenwich-admins >/dev/null; then
	check "the socket belongs to greenwich-admins" \
		[ "$(stat -c %G "$SOCK")" = greenwich-admins ]
else
	check "the socket belongs to the daemon's group" [ "$(stat -c %g "$SOCK")" = "$(id -g)" ]
fi

echo "# devices sign in"
register r1 alice alice-pw "<sip:alice@127.0.0.1:6101>" 600
register r2 alice alice-pw "<sip:alice@127.0.0.1:6102>" 300
register bad alice wrong-pw "<sip:alice@127.0.0.1:6103>" 300
exec 7> >(exec "$PY" "$HERE/tcpreg.py" "$PORT" bob bob-pw "$DOMAIN" >"$T/tcpreg.out" 2>&1)
TCPREG=$!
PIDS+=("$TCPREG")
for _ in $(seq 1 50); do
	grep -q "SIP/2.0" "$T/tcpreg.out" 2>/dev/null && break
	sleep 0.1
done
check "bob registered over TCP" grep -q "SIP/2.0 200" "$T/tcpreg.out"

echo "# server status"
mmc st server status
check "status: exit 0" [ "$RC" = 0 ]
check "status: version and domain" has st.out "^server +greenwichd [0-9.]+ \(pid $GWD_PID\)"
check "status: domain row" has st.out "^domain +$DOMAIN$"
check "status: three registrations" has st.out "^registrations +3$"
check "status: sign-in failure counted" has st.out "^sign-in failures +[1-9]"
check "status: subscriptions 0 (no presence yet)" has st.out "^subscriptions +0$"
check "status: requests/s" has st.out "^requests/s +[0-9.]+ \(last 10 s\)$"
mmc stj --json server status
check "status --json: exit 0" [ "$RC" = 0 ]
check "status --json matches the schema" valid stj status
check "status --json: pid" [ "$(jq_ stj 'd["pid"]')" = "$GWD_PID" ]
check "status --json: registrations 3" [ "$(jq_ stj 'd["counters"]["registrations"]')" = 3 ]
check "status --json: the limits in force (guess-limit 5, signin-pending-max 1024)" \
	[ "$(jq_ stj 'd["limits"]["guess_limit"]')-$(jq_ stj 'd["limits"]["signin_pending_max"]')" = 5-1024 ]
check "status: the limits in the table" has st.out "^limit guess-limit +5$"
check "status --json: requests counted" [ "$(jq_ stj 'd["counters"]["requests"] >= 7')" = True ]

echo "# registrations"
mmc reg server registrations
check "registrations: exit 0" [ "$RC" = 0 ]
check "registrations: table header" has reg.out "^USER +CONTACT +TRANSPORT +SOURCE +EXPIRES +USER-AGENT$"
check "registrations: alice's first device" has reg.out "^alice@$DOMAIN +<?sip:alice@127.0.0.1:6101>? +udp +127.0.0.1:[0-9]+ +[0-9]+s"
check "registrations: bob over tcp" has reg.out "^bob@$DOMAIN +sip:bob@127.0.0.1:[0-9]+;transport=tcp +tcp .*tcpreg/1$"
mmc regj --json server registrations alice
check "registrations alice --json matches the schema" valid regj registrations
check "registrations alice --json: two devices" \
	[ "$(jq_ regj 'len(d["registrations"][0]["contacts"])')" = 2 ]
mmc regall --json server registrations
check "registrations --json matches the schema" valid regall registrations
check "registrations --json: two users" [ "$(jq_ regall 'len(d["registrations"])')" = 2 ]
mmc regnone server registrations carol
check "registrations of a user without devices: exit 3" [ "$RC" = 3 ]
check "registrations of a user without devices: message" \
	has regnone.err "carol@$DOMAIN is not signed in anywhere"

echo "# connections"
mmc conn server connections
check "connections: exit 0" [ "$RC" = 0 ]
check "connections: bob's TCP connection" has conn.out "^[0-9]+ +tcp +127.0.0.1:[0-9]+ +bob@$DOMAIN$"
mmc connj --json server connections
check "connections --json matches the schema" valid connj connections
check "connections --json: one open TCP connection" \
	[ "$(jq_ connj '[c["transport"] for c in d["connections"] if c["open"]]')" = "['tcp']" ]

echo "# log level and reload"
mmc ll server log-level notice
check "log-level notice: exit 0" [ "$RC" = 0 ]
check "log-level notice: confirmed" has ll.out "^greenwichd logs at level notice$"
check "log-level: the daemon logged it" grep -q "event=log-level level=notice" "$T/greenwichd.log"
mmc llj --json server status
check "status shows the new level" [ "$(jq_ llj 'd["log_level"]')" = notice ]
mmc llbad server log-level loud
check "log-level loud: exit 2" [ "$RC" = 2 ]
check "log-level loud: lists the levels" has llbad.err "level must be one of error, warning"
mmc llnone server log-level
check "log-level without a level: usage, exit 2" [ "$RC" = 2 ]
mmc rl --json server reload
check "reload: exit 0" [ "$RC" = 0 ]
check "reload --json matches the schema" valid rl loglevel
check "reload: the file's level (debug) is back" [ "$(jq_ rl 'd["log_level"]')" = debug ]
check "reload: the daemon logged it" grep -q "event=reload level=debug" "$T/greenwichd.log"

echo "# permissions"
GID=$(stat -c %g "$SOCK")
RC=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$MMC" -c "$CONF" server status \
	>"$T/perm.out" 2>"$T/perm.err" || RC=$?
check "outside the group: exit 5" [ "$RC" = 5 ]
check "outside the group: says what to do" \
	has perm.err "permission denied: add yourself to greenwich-admins"
RC=0
setpriv --reuid=nobody --regid=nogroup --groups="$GID" "$MMC" -c "$CONF" server status \
	>"$T/perm2.out" 2>"$T/perm2.err" || RC=$?
check "a member of the socket's group gets in" [ "$RC" = 0 ]
RC=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$MMC" -c "$CONF" --socket "$T/run/none.sock" \
	server status >"$T/perm3.out" 2>"$T/perm3.err" || RC=$?
check "--socket: a path without a socket is 'not running'" \
	has perm3.err "no control socket at $T/run/none.sock"
mmc nodir --socket "$T/nodir/control.sock" server status
# shellcheck disable=SC2016 # $1.. are the inner script's arguments
check "a socket whose directory is missing: exit 6, and the directory named" \
	sh -c '[ "$1" = 6 ] && grep -qF "$2/nodir does not exist" "$3"' - "$RC" "$T" "$T/nodir.err"

echo "# sign-out"
mmc so server sign-out alice
check "sign-out alice: exit 0" [ "$RC" = 0 ]
check "sign-out alice: two registrations removed" has so.out "^signed out alice@$DOMAIN \(2 registrations removed\)$"
mmc so2 server registrations alice
check "alice has no registrations left" [ "$RC" = 3 ]
mmc so3 server signout "alice@$DOMAIN"
check "signing out again: exit 3" [ "$RC" = 3 ]
check "signing out again: says why" has so3.err "alice@$DOMAIN has no registrations"
mmc so4 server sign-out
check "sign-out without a user: exit 2" [ "$RC" = 2 ]

echo "# the console"
HOST=$(hostname)
HOSTRE=$(printf '%s' "$HOST" | sed 's/[.]/[.]/g')
# what <TAB> typed <TAB> what the terminal must show next
{
	printf 'prompt\t\tGreenwich> \n'
	printf 'cd to the server\tcd /%s/Servers/%s\\r\tServers > %s> \n' "$DOMAIN" "$HOST" "$HOSTRE"
	printf 'ls lists the live nodes\tls\\r\tRegistrations +registrations\n'
	printf 'cd Registrations\tcd Registrations\\r\t%s > Registrations> \n' "$HOSTRE"
	printf "ls shows bob's device\\tls\\\\r\\tbob@%s +sip:bob@127[.]0[.]0[.]1\\n" "$DOMAIN"
	printf 'sign-out bob\tsign-out bob\\r\tsigned out bob@%s [(]1 registrations removed[)]\n' "$DOMAIN"
	printf 'refresh shows nothing left\trefresh\\r\tno registrations\n'
	printf 'show Status\tshow ../Status\\r\tregistrations +0\n'
	printf 'log-level debug\tlog-level debug\\r\tgreenwichd logs at level debug\n'
} >"$T/steps"
if "$PY" "$HERE/ptysteps.py" "$T/steps" "$MMC" -c "$CONF" >"$T/drive.out" 2>&1; then
	pass "console session"
else
	fail "console session"
fi
cat "$T/drive.out"
# bob's client closes first, so no TIME_WAIT holds the server's port for the restarts
exec 7>&-
wait "$TCPREG" 2>/dev/null || true

echo "# stopped, and a stale socket"
stop_gwd
check "a clean stop removes the socket" [ ! -e "$SOCK" ]
mmc down2 server status
check "stopped: exit 6" [ "$RC" = 6 ]
check "stopped: not running" has down2.err "greenwichd is not running"
start_gwd
stop_gwd KILL
check "kill -9 leaves the socket file" [ -S "$SOCK" ]
mmc stale server status
check "stale socket: exit 6, not running" [ "$RC" = 6 ]
check "stale socket: says it refuses connections" has stale.err "refuses connections"
start_gwd
check "the stale socket was replaced" grep -q "event=control-stale-removed" "$T/greenwichd.log"
mmc back --json server status
check "the restarted daemon answers" [ "$RC" = 0 ]
check "its status --json matches the schema" valid back status
check "status shows no registrations from before (alice and bob signed out)" \
	[ "$(jq_ back 'd["counters"]["registrations"]')" = 0 ]
stop_gwd
finish
