# shellcheck shell=bash
# lib.sh - shared helpers for greenwichd integration tests (bash, sourced).
#
# Each test gets a private directory with a generated greenwich.conf, starts
# greenwichd on free loopback ports, and drives it with SIPp and friends.
# Only processes started here are stopped, by their PIDs.

set -eu

: "${top_builddir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
GWD="${GWD_BINARY:-$top_builddir/daemon/greenwichd}" # GWD_BINARY: e.g. daemon/greenwichd-ledger
MMC="${MMC:-$top_builddir/mmc-cli/greenwich-mmc}"
SCEN="$top_srcdir/tests/sipp"
SIPP="${SIPP:-sipp}"

T="$(mktemp -d "${TMPDIR:-/tmp}/gwtest.XXXXXX")"
PIDS=()
# shellcheck source=tests/lib/checks.sh
. "$top_srcdir/tests/lib/checks.sh"

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$T"
	else
		echo "test files kept in $T"
	fi
}
trap cleanup EXIT
# sanitizer builds: known leaks of libraries, nothing of ours (see the file)
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$top_srcdir/tests/integration/lsan-sofia.supp"

# free_port, wait_for, wait_gone, write_exec_pid
# shellcheck source=tests/lib/ports.sh
. "$top_srcdir/tests/lib/ports.sh"
# shellcheck source=tests/lib/wait.sh
. "$top_srcdir/tests/lib/wait.sh"

finish() {
	# a clean stop, and nothing the sanitizers found (ASan/UBSan builds report in the log)
	if [ -n "${GWD_PID:-}" ] && kill -0 "$GWD_PID" 2>/dev/null; then
		stop_gwd
		# shellcheck disable=SC2016 # $1 is the inner script's argument
		check "greenwichd stops cleanly on SIGTERM (exit $GWD_RC)" \
			bash -c '[ "$1" = 0 ] || [ "$1" = - ]' - "$GWD_RC"
	fi
	local logs=("$T"/greenwichd*.log)
	if [ -e "${logs[0]}" ]; then
		check "no leak or sanitizer report from greenwichd" \
			bash -c '! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$@"' - "${logs[@]}"
	fi
	checks_summary
}

DOMAIN=example.test
# test_cert: a self-signed certificate for greenwichd ($T/server.crt, $T/server.key; the
# name greenwich.<domain>, or $FQDN when set), made once.
test_cert() {
	[ -s "$T/server.crt" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.crt" \
		-days 2 -subj "/CN=${FQDN:-greenwich.$DOMAIN}" 2>/dev/null
}
# write_conf [extra INI lines...]: the test's greenwich.conf.  WITH_TLS=1: also TLS on
# 127.0.0.1:$TLSPORT with test_cert's certificate (Kerberos and NTLM need TLS by default).
write_conf() {
	PORT=${PORT:-$(free_port)}
	# shellcheck disable=SC2034 # for the tests that listen on TLS
	TLSPORT=$((PORT + 1))
	mkdir -p "$T/state"
	[ -z "${WITH_TLS:-}" ] || test_cert
	{
		echo "[server]"
		echo "udp = 127.0.0.1:$PORT"
		echo "tcp = 127.0.0.1:$PORT"
		[ -z "${WITH_TLS:-}" ] || echo "tls = 127.0.0.1:$TLSPORT"
		echo "domains = $DOMAIN"
		echo "workers = ${WORKERS:-2}"
		echo "state-directory = $T/state"
		echo "pid-file = $T/greenwichd.pid"
		echo "control-socket = $T/control.sock"
		echo "[auth]"
		echo "digest-algorithms = MD5"
		echo "[log]"
		echo "level = debug"
		if [ -n "${WITH_TLS:-}" ]; then
			echo "[tls]"
			echo "certificate = $T/server.crt"
			echo "key = $T/server.key"
		fi
		for l in "$@"; do echo "$l"; done
	} > "$T/greenwich.conf"
}

# run_cases SCRIPT NAME ARGS...: a Python cases script of this folder (SCRIPT NAME
# ARGS...), its "ok - " and "FAILED - " lines counted as checks, others shown;
# its output is kept in $T/case-NAME.out.
run_cases() {
	local script="$1" name="$2" line
	shift 2
	/usr/bin/python3 "$top_srcdir/tests/integration/$script" "$name" "$@" > "$T/case-$name.out" 2>&1 || true
	while read -r line; do
		case "$line" in
		"ok - "*) pass "${line#ok - }" ;;
		"FAILED - "*) fail "${line#FAILED - }" ;;
		*) echo "$line" ;;
		esac
	done < "$T/case-$name.out"
}

add_user() { # add_user USER PASSWORD
	echo "$2" | "$MMC" -c "$T/greenwich.conf" local-user add "$1@$DOMAIN" --password-stdin >/dev/null
}
# add_tlsidle_users N: the accounts bench/tlsidle.py's first N clients sign in as
# (u000000 with password pw-u000000, ...).
add_tlsidle_users() {
	local i u
	for i in $(seq 0 $(($1 - 1))); do
		u=$(printf "u%06d" "$i")
		add_user "$u" "pw-$u"
	done
}

# start_gwd: run greenwichd in the foreground (background job), wait for its ports.
start_gwd() {
	${GWD_WRAP:-} "$GWD" --allow-root -c "$T/greenwich.conf" -f >> "$T/greenwichd.log" 2>&1 &
	GWD_PID=$!
	PIDS+=("$GWD_PID")
	local _
	for _ in $(seq 1 100); do
		if grep -q "event=started" "$T/greenwichd.log" 2>/dev/null &&
			[ "$(grep -c event=started "$T/greenwichd.log")" -ge "${GWD_STARTS:=1}" ]; then
			GWD_STARTS=$((GWD_STARTS + 1))
			return 0
		fi
		if ! kill -0 "$GWD_PID" 2>/dev/null; then
			echo "greenwichd exited:"; tail -5 "$T/greenwichd.log"; return 1
		fi
		sleep 0.05
	done
	echo "greenwichd did not start"; return 1
}

stop_gwd() { # stop_gwd [SIGNAL]: its exit status is left in GWD_RC ("-" when unknown)
	kill -"${1:-TERM}" "$GWD_PID" 2>/dev/null || true
	wait "$GWD_PID" 2>/dev/null && GWD_RC=0 || GWD_RC=$?
	if [ "$GWD_RC" = 127 ]; then
		# started through a wrapper (GWD_WRAP): not our child, wait for it to go
		while kill -0 "$GWD_PID" 2>/dev/null; do sleep 0.05; done
		GWD_RC=-
	fi
}

# sipp_run NAME SCENARIO [sipp args...]: run a UAC scenario to completion; its exit
# status is left in SIPP_RC (0 when the scenario passed).
sipp_run() {
	local name="$1" scen="$2"; shift 2
	# shellcheck disable=SC2034 # SIPP_RC is for the caller
	(cd "$T" && timeout 60 "$SIPP" -sf "$SCEN/$scen" -i "${SIPP_LOCAL:-127.0.0.1}" -p "$(free_port)" -m 1 \
		-timeout 15 -nostdin \
		-trace_err -trace_msg -message_file "$T/$name.msg" -error_file "$T/$name.err" \
		"$@" "${TARGET_HOST:-127.0.0.1}:${TARGET_PORT:-$PORT}" > "$T/$name.out" 2>&1) && SIPP_RC=0 || SIPP_RC=$?
	return 0
}

# sipp_bg NAME SCENARIO LOCALPORT [args...]: a UAS in the background; sets SIPP_BG_PID.
sipp_bg() {
	local name="$1" scen="$2" lport="$3"; shift 3
	(cd "$T" && exec timeout 90 "$SIPP" -sf "$SCEN/$scen" -i "${SIPP_LOCAL:-127.0.0.1}" -p "$lport" -nostdin \
		-trace_err -trace_msg -message_file "$T/$name.msg" -error_file "$T/$name.err" \
		"$@" > "$T/$name.out" 2>&1) &
	SIPP_BG_PID=$!
	PIDS+=("$SIPP_BG_PID")
	sleep 0.3
}

# sipp_wait PID: wait for a background SIPp; 0 when it succeeded.
sipp_wait() {
	wait "$1"
}

# register NAME USER PASS CONTACT-URI EXPIRES [CSEQ] [sipp args]: one REGISTER with Digest.
register() {
	local n="$1" u="$2" p="$3" c="$4" e="$5" q="${6:-1}"
	shift 5; [ $# -gt 0 ] && shift
	sipp_run "$n" register.xml -au "$u" -ap "$p" -set user "$u" -set domain "$DOMAIN" \
		-set expires "$e" -set contact "$c" -set cseq "$q" "$@"
}

# im_delivered NAME PORT: alice (password alice-pw) sends bob a MESSAGE "text-NAME"; true
# when it got 200 and bob's device, a SIPp UAS on PORT, received it.
im_delivered() {
	sipp_bg "uas-$1" uas_message.xml "$2" -m 1
	local p=$SIPP_BG_PID
	sipp_run "$1" uac_message.xml -au alice -ap alice-pw -set user alice -set domain "$DOMAIN" \
		-set to "bob@$DOMAIN" -set body "text-$1"
	[ "$(last_status "$1")" = 200 ] && sipp_wait "$p" && grep -q "text-$1" "$T/uas-$1.msg"
}

# last_status NAME: the last status code SIPp received in trace NAME.
last_status() {
	grep -a '^SIP/2.0 [0-9]' "$T/$1.msg" 2>/dev/null | tail -1 | awk '{print $2}'
}

# until_status WANT TRIES PAUSE SEND NAME ARG...: runs SEND NAME-N ARG... (a function
# that sends with sipp_run) until the status it got is WANT, at most TRIES times, PAUSE
# seconds apart. ST is the last status, TRIED the number of tries; fails without WANT.
until_status() {
	local want=$1 tries=$2 pause=$3 send=$4 name=$5
	shift 5
	ST=
	for TRIED in $(seq 1 "$tries"); do
		"$send" "$name-$TRIED" "$@"
		ST=$(last_status "$name-$TRIED")
		[ "$ST" != "$want" ] || return 0
		sleep "$pause"
	done
	return 1
}

# legit_im NAME: the legitimate user during an attack: bob (password bob-pw) registers
# a UDP device, alice (alice-pw) sends him a MESSAGE with body NAME; checks that the
# registration and the MESSAGE got 200 and that bob's device received that body.
legit_im() {
	local n="$1" port
	port=$(free_port)
	register "$n-reg" bob bob-pw "<sip:bob@127.0.0.1:$port>" 600
	check "$n: bob registers" [ "$(last_status "$n-reg")" = 200 ]
	sipp_bg "$n-uas" uas_message.xml "$port" -m 1
	local uas=$SIPP_BG_PID
	sipp_run "$n-msg" uac_message.xml -au alice -ap alice-pw -set user alice \
		-set domain "$DOMAIN" -set to "bob@$DOMAIN" -set body "$n-body" "$@"
	check "$n: alice's MESSAGE answered 200" [ "$(last_status "$n-msg")" = 200 ]
	check "$n: bob's device received it" sipp_wait "$uas"
	check "$n: ... with its body" grep -q "$n-body" "$T/$n-uas.msg"
}

# tcp_device NAME USER COUNT: USER's device (password USER-pw) registers over TCP with a
# Contact nobody can connect to, so that only its connection (worker 0's) reaches it,
# and takes COUNT MESSAGEs over it (trace NAME); its PID in DEVICE_PID.
tcp_device() {
	local n="$1" u="$2" count="$3"
	sipp_bg "$n" uas_reg_message.xml "$(free_port)" -t t1 -m "$count" \
		-oocsf "$SCEN/uas_message.xml" -au "$u" -ap "$u-pw" -set user "$u" \
		-set domain "$DOMAIN" -set contact "<sip:$u@192.0.2.1:5999;transport=tcp>" \
		"127.0.0.1:$PORT"
	# shellcheck disable=SC2034 # read by the tests that call it
	DEVICE_PID=$SIPP_BG_PID
	sleep 1
}
