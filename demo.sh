#!/bin/bash
# demo.sh - bring up a Greenwich demo on this machine: a throw-away Active Directory
# domain DEMO.GREENWICH.TEST (a Samba DC from tests/addc/addc.sh, users alice and bob,
# group Support), greenwichd joined to it and listening on 127.0.0.1:5060 (UDP and TCP)
# and 5061 (TLS, a self-signed certificate: Kerberos and NTLM sign-in are accepted over
# TLS only), and two local Digest accounts (carol, dave) for standard SIP clients.  It runs in the
# background until `demo.sh --stop`; running it again while it is up prints its status.
#
#   ./demo.sh [--no-ad] [--listen IP] [--port N] [--domain NAME] [--state-dir DIR]
#             [--netns NAME] [--build-dir DIR] [--install-deps]
#   ./demo.sh [--state-dir DIR] --status | --stop | --purge | --run CMD [ARG...]
#   ./demo.sh [--state-dir DIR] --admin [CMD [ARG...]]
#   (as root; prefix sudo if you are not root)
#
# --admin: a shell (or CMD) as the demo domain's Administrator: a Kerberos ticket in a
# private ccache and greenwich-mmc with the demo's configuration.
# See "Trying it out: the demo" in docs/admin-guide.md for what it does and why.
set -euo pipefail
SRC=$(cd "$(dirname "$0")" && pwd)
ADDC=$SRC/tests/addc/addc.sh
SELF=$SRC/demo.sh
S=${GREENWICH_DEMO_DIR:-/var/lib/greenwich-demo}
ACTION=start MODE=ad LISTEN=127.0.0.1 PORT=5060 DOMAIN=demo.greenwich.test NETNS="" BUILD=""
DEPS=0 GIVEN=" "
LOCAL_USERS="carol dave" AD_USERS="alice bob"

die() { echo "demo.sh: $*" >&2; exit 1; }
usage() { sed -n '8,15s/^# \{0,1\}//p' "$SELF" >&2; exit "${1:-2}"; }

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--no-ad) MODE=local ;;
		--listen | --port | --domain | --state-dir | --netns | --build-dir)
			[ $# -ge 2 ] || usage
			set_opt "$1" "$2"; shift ;;
		--install-deps) DEPS=1 ;;
		--status | --stop | --purge) ACTION=${1#--} ;;
		--admin)
			ACTION="admin"
			shift
			[ "${1:-}" != -- ] || shift
			RUN_ARGS=("$@")
			return 0 ;;
		-h | --help) usage 0 ;;
		--run)
			ACTION=run
			shift
			[ "${1:-}" != -- ] || shift
			[ $# -gt 0 ] || usage
			RUN_ARGS=("$@")
			return 0 ;;
		*) usage ;;
		esac
		shift
	done
}

set_opt() {
	case $1 in
	--listen) LISTEN=$2 ;;
	--port) PORT=$2 ;;
	--domain) DOMAIN=${2,,} ;;
	--state-dir) S=$2 ;;
	--netns) NETNS=$2 ;;
	--build-dir) BUILD=$2 ;;
	esac
	GIVEN+="${1#--} "
}

given() { [[ $GIVEN == *" $1 "* ]]; }

# The settings of an existing demo (DIR/demo.env) win over defaults; --port, --listen
# and --build-dir given now win over them.
load_settings() {
	local l=$LISTEN p=$PORT b=$BUILD
	[ -f "$S/demo.env" ] || return 0
	# shellcheck disable=SC1091
	. "$S/demo.env"
	! given listen || LISTEN=$l
	! given port || PORT=$p
	! given build-dir || BUILD=$b
}

save_settings() {
	local v
	for v in MODE LISTEN PORT DOMAIN NETNS BUILD; do
		printf "%s='%s'\n" "$v" "${!v}"
	done >"$S/demo.env"
}

# --------------------------------------------------------------------------- processes

# pid_of FILE NAME: the PID in FILE if that process runs and is NAME.
pid_of() {
	local pid
	[ -f "$1" ] && read -r pid <"$1" 2>/dev/null || return 1
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
	echo "$pid"
}

gwd_pid() { pid_of "$S/greenwichd.pid" greenwichd; }
dc_up() { [ "$MODE" = local ] || "$ADDC" status "$S/dc" >/dev/null 2>&1; }

# Starts greenwichd in the background, in the domain's name space (hosts, resolv.conf,
# krb5.conf, winbindd socket) when joined; its PID goes to DIR/greenwichd.pid.
gwd_start() {
	local wrap=()
	[ "$MODE" = local ] || wrap=("$ADDC" run-with-hosts "$S/dc" --)
	rm -f "$S/greenwichd.pid"
	[ ! -f "$S/greenwichd.log" ] || mv "$S/greenwichd.log" "$S/greenwichd.log.old"
	# The demo runs as root (it provisions a DC and joins it): greenwichd refuses root
	# unless told; a real server runs as the greenwich user (packaging/systemd).
	local root=()
	[ "$(id -u)" != 0 ] || root=(--allow-root)
	# shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
	setsid "${wrap[@]}" /bin/sh -c 'echo $$ >"$0"; exec "$@"' "$S/greenwichd.pid" \
		"$GWD" "${root[@]}" --config "$S/greenwich.conf" --foreground \
		>"$S/greenwichd.log" 2>&1 </dev/null &
	STARTED_GWD=1
	for _ in $(seq 1 200); do
		if grep -q "event=started" "$S/greenwichd.log" && gwd_pid >/dev/null; then
			# greenwich-mmc server ... would not reach it: say so here, not only in the log
			grep -h "event=control-disabled" "$S/greenwichd.log" >&2 || true
			return 0
		fi
		kill -0 $! 2>/dev/null || break
		sleep 0.1
	done
	tail -n 15 "$S/greenwichd.log" >&2
	die "greenwichd did not start (log: $S/greenwichd.log)"
}

gwd_stop() {
	local pid
	pid=$(gwd_pid) || return 0
	kill -TERM "$pid"
	for _ in $(seq 1 100); do
		[ -d "/proc/$pid" ] || break
		sleep 0.1
	done
	[ ! -d "/proc/$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	while [ -d "/proc/$pid" ]; do sleep 0.1; done
	rm -f "$S/greenwichd.pid"
	echo "demo.sh: greenwichd stopped (pid $pid)"
}

# Deletes the network namespace demo.sh made once nothing runs in it any more.
netns_down() {

	[ -n "$NETNS" ] && [ -f "$S/netns-created" ] && [ -e "/run/netns/$NETNS" ] || return 0
	for _ in $(seq 1 50); do
		[ -n "$(ip netns pids "$NETNS")" ] || break
		sleep 0.1
	done
	if [ -n "$(ip netns pids "$NETNS")" ]; then
		echo "demo.sh: network namespace $NETNS kept: processes still run in it" >&2
		return 0
	fi
	ip netns delete "$NETNS"
	rm -f "$S/netns-created"
}

stop_all() {
	gwd_stop
	[ "$MODE" = local ] || [ ! -f "$S/dc/env" ] || "$ADDC" stop "$S/dc"
	netns_down
}

# --------------------------------------------------------------------------- set-up

need_root() { [ "$(id -u)" -eq 0 ] || die "run as root (prefix sudo if you are not root)"; }

check_commands() {
	local c missing=() cmds=(openssl setsid)
	[ -n "$BUILD" ] || cmds+=(autoreconf gcc make pkg-config)
	[ "$MODE" = local ] || cmds+=(samba samba-tool adcli ldapsearch ldbmodify kinit klist
		nsenter unshare ip ss iconv)
	for c in "${cmds[@]}"; do
		command -v "$c" >/dev/null || missing+=("$c")
	done
	[ ${#missing[@]} -eq 0 ] || die "missing commands: ${missing[*]}
  install the Debian packages with: $SRC/deps.sh  (or run demo.sh --install-deps)"
}

build() {
	if [ -n "$BUILD" ]; then
		BUILD=$(cd "$BUILD" && pwd)
	else
		BUILD=$SRC/_build-demo
		echo "demo.sh: building in $BUILD (log: $BUILD/build.log)"
		mkdir -p "$BUILD"
		(cd "$SRC" && { [ -x configure ] || ./autogen.sh; } &&
			cd "$BUILD" && { [ -f Makefile ] || "$SRC/configure" -q; } &&
			make -s -j"$(nproc)") >"$BUILD/build.log" 2>&1 ||
			{ tail -n 20 "$BUILD/build.log" >&2; die "the build failed"; }
	fi
	build_paths
}

build_paths() {
	[ -n "$BUILD" ] || BUILD=$SRC/_build-demo
	GWD=$BUILD/daemon/greenwichd
	MMC=$BUILD/mmc-cli/greenwich-mmc
	{ [ -x "$GWD" ] && [ -x "$MMC" ]; } || die "no greenwichd and greenwich-mmc in $BUILD"
}

# Fails naming the ports of PROTO (t or u) on 127.0.0.1 or any address that are taken.
ports_free() {
	local proto=$1 p busy=()
	shift
	for p in "$@"; do
		[ -z "$(ss -Hln"$proto" "( sport = :$p )" | awk -v ip="$LISTEN" '$4 ~ "^(127.0.0.1|"ip"|0.0.0.0|\\*|\\[::\\]):"')" ] ||
			busy+=("$p")
	done
	[ ${#busy[@]} -eq 0 ] && return 0
	echo "demo.sh: ports in use on this machine's loopback ($proto): ${busy[*]}" >&2
	return 1
}

check_ports() {
	local ok=1
	if ! gwd_pid >/dev/null; then
		ports_free t "$PORT" && ports_free u "$PORT" || ok=0
	fi
	if [ "$MODE" = ad ] && ! dc_up; then
		ports_free t 53 88 135 139 389 445 464 636 3268 3269 && ports_free u 53 88 389 464 || ok=0
	fi
	[ "$ok" = 1 ] || die "stop what uses them, or use --port N, --netns NAME (the whole demo in a
  network namespace of its own) or --no-ad"
}

# DIR/passwords (mode 0600): one "user password" line per demo user, made once.
password() { awk -v u="$1" '$1 == u { print $2 }' "$S/passwords"; }

make_passwords() {
	local u
	(
		umask 077
		touch "$S/passwords"
		for u in $AD_USERS $LOCAL_USERS; do
			[ -n "$(password "$u")" ] ||
				printf '%s Gw-%s-7k\n' "$u" "$(openssl rand -hex 6)" >>"$S/passwords"
		done
	)
	chmod 0600 "$S/passwords"
}

# A new demo domain in DIR/dc, the DC on the loopback of the network namespace demo.sh
# runs in, alice and bob with the passwords of DIR/passwords.
dc_provision() {
	local u
	[ ! -f "$S/dc/env" ] || return 0
	rm -rf "$S/dc"
	PROVISIONING=1
	echo "demo.sh: provisioning the domain $DOMAIN in $S/dc"
	"$ADDC" provision "$S/dc" --demo --realm "$DOMAIN" --host-loopback >"$S/provision.log" 2>&1 ||
		{ tail -n 20 "$S/provision.log" >&2; die "provisioning the demo domain failed"; }
	printf '127.0.0.1\tgreenwich.%s greenwich\n' "$DOMAIN" >>"$S/dc/hosts"
	for u in $AD_USERS; do
		samba-tool user setpassword "$u" --newpassword="$(password "$u")" \
			-H "$S/dc/private/sam.ldb" -s "$S/dc/etc/smb.conf" >>"$S/provision.log" 2>&1 ||
			{ tail -n 5 "$S/provision.log" >&2; die "cannot set the password of $u"; }
	done
	PROVISIONING=0
}

dc_start() {
	dc_up && return 0
	STARTED_DC=1
	"$ADDC" start "$S/dc" >"$S/dc-start.log" 2>&1 ||
		{ cat "$S/dc-start.log" >&2; die "the demo domain controller did not start"; }
	echo "demo.sh: domain controller of $DOMAIN up"
}

# greenwich-mmc domain join: computer account (adcli, SPN HTTP/, keytab 0600) and sip/ on
# an account of its own (gwsip-greenwich, state/sip.keytab, [domain] sip-keytab).
dc_join() {
	[ -s "$S/state/greenwich.keytab" ] && grep -q '^\[domain\]' "$S/greenwich.conf" && return 0
	# shellcheck disable=SC2016 # expanded inside the domain
	"$ADDC" run-with-hosts "$S/dc" -- /bin/sh -c 'printf "%s\n" "$ADDC_ADMIN_PASSWORD" |
		"$0" -c "$1" domain join --domain "$ADDC_DNS_DOMAIN" --fqdn "greenwich.$ADDC_DNS_DOMAIN" \
		--user Administrator --password-stdin' "$MMC" "$S/greenwich.conf" >"$S/join.log" 2>&1 ||
		{ cat "$S/join.log" >&2; die "joining greenwichd to $DOMAIN failed"; }
	echo "demo.sh: greenwichd joined to $DOMAIN as greenwich.$DOMAIN"
}

# A self-signed certificate for the demo's TLS port: Kerberos and NTLM are accepted over
# TLS only ([auth] sipae-transports); clients must accept (or be told of) this certificate.
demo_cert() {
	[ -s "$S/state/tls.crt" ] && [ -s "$S/state/tls.key" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$S/state/tls.key" \
		-out "$S/state/tls.crt" -days 3650 -subj "/CN=greenwich.$DOMAIN" \
		-addext "subjectAltName=DNS:greenwich.$DOMAIN,IP:$LISTEN" >/dev/null 2>&1 ||
		die "cannot make the demo's TLS certificate (openssl)"
	chmod 0640 "$S/state/tls.key"
}

write_conf() {
	TLSPORT=$((PORT + 1))
	if [ -f "$S/greenwich.conf" ]; then
		sed -i -E "s/^(udp|tcp) = .*/\\1 = $LISTEN:$PORT/; s/^tls = .*/tls = $LISTEN:$TLSPORT/" \
			"$S/greenwich.conf"
		# demos made before domain sign-in needed TLS: a TLS port and its certificate
		if ! grep -q '^tls = ' "$S/greenwich.conf"; then
			demo_cert
			sed -i "/^tcp = /a tls = $LISTEN:$TLSPORT" "$S/greenwich.conf"
			printf '\n[tls]\ncertificate = %s\nkey = %s\n' "$S/state/tls.crt" \
				"$S/state/tls.key" >>"$S/greenwich.conf"
		fi
		# demos made before the control socket moved into the state directory
		grep -q '^control-socket' "$S/greenwich.conf" ||
			sed -i "/^pid-file = /a control-socket = $S/state/control.sock" "$S/greenwich.conf"
		return 0
	fi
	mkdir -p "$S/state" && chmod 0750 "$S/state"
	demo_cert
	cat >"$S/greenwich.conf" <<CONF
# Demo configuration written by demo.sh; the [domain] section is written by
# greenwich-mmc domain join.
[server]
udp = $LISTEN:$PORT
tcp = $LISTEN:$PORT
# Kerberos and NTLM sign-in: over TLS only ([auth] sipae-transports)
tls = $LISTEN:$TLSPORT
domains = $DOMAIN
state-directory = $S/state
pid-file = $S/state/greenwichd.pid
# under the state directory: /run/greenwich (the packaged default) is made by systemd
control-socket = $S/state/control.sock
server-name = greenwich.$DOMAIN

[auth]
# MD5 first: some SIP clients answer only the first challenge and know no
# SHA-256 (the packaged default offers SHA-256 first, as RFC 8760 advises)
digest-algorithms = MD5, SHA-256
# Digest first for the same reason; Microsoft-protocol clients pick Kerberos or
# NTLM from the same challenge (the packaged default offers them first)
schemes = Digest, Kerberos, NTLM

[tls]
# self-signed, made by demo.sh (clients: accept it, or trust this file)
certificate = $S/state/tls.crt
key = $S/state/tls.key

[log]
level = info
CONF
}

add_local_users() {
	local u
	for u in $LOCAL_USERS; do
		password "$u" | "$MMC" -c "$S/greenwich.conf" local-user add "$u@$DOMAIN" \
			--password-stdin >/dev/null
	done
}

# ------------------------------------------------------------------------------- output

print_status() {
	local pid
	if [ "$MODE" = ad ]; then
		"$ADDC" status "$S/dc" 2>/dev/null | sed 's/^/domain controller: /; s/ netns=none$//' || true
	fi
	if pid=$(gwd_pid); then
		echo "greenwichd: running pid=$pid sip=$LISTEN:$PORT"
	else
		echo "greenwichd: stopped"
	fi
	[ -z "$NETNS" ] || [ ! -e "/run/netns/$NETNS" ] || echo "network namespace: $NETNS"
}

print_users() {
	local u
	if [ "$MODE" = ad ]; then
		echo "Domain users (Active Directory; sign in with NTLM or Kerberos):"
		for u in $AD_USERS; do
			printf '  %-28s password %s' "$u@$DOMAIN" "$(password "$u")"
			[ "$u" != bob ] || printf '   (member of Support)'
			echo
		done
	fi
	echo "Local accounts (Digest; any standard SIP client):"
	for u in $LOCAL_USERS; do
		printf '  %-28s password %s\n' "$u@$DOMAIN" "$(password "$u")"
	done
}

print_info() {
	local in="" pw me="$SELF${GIVEN_DIR:-}" run="$SELF${GIVEN_DIR:-} --run" nb=DEMO
	pw=$(password carol)
	# shellcheck disable=SC1091
	[ ! -f "$S/dc/env" ] || nb=$(. "$S/dc/env" && echo "$ADDC_DOMAIN")
	[ -z "$NETNS" ] || in="ip netns exec $NETNS "
	echo
	if [ "$MODE" = ad ]; then
		echo "Greenwich demo: domain ${DOMAIN^^} (DC dc1.$DOMAIN at 127.0.0.1)," \
			"server greenwich.$DOMAIN"
	else
		echo "Greenwich demo (local accounts only): SIP domain $DOMAIN"
	fi
	echo "SIP server: $LISTEN:$PORT (UDP and TCP), $LISTEN:$((PORT + 1)) (TLS," \
		"certificate $S/state/tls.crt)${NETNS:+ in network namespace $NETNS}"
	echo
	print_users
	cat <<EOF

Standard SIP client (Digest): SIP address carol@$DOMAIN, user name carol, the
  password above, outbound proxy $LISTEN:$PORT (UDP or TCP); message or call
  dave@$DOMAIN.
SIPp, from $SRC:
  ${in}sipp -sf tests/sipp/register.xml -au carol -ap '$pw' -set user carol \\
    -set domain $DOMAIN -set expires 60 -set contact '<sip:carol@127.0.0.1:7399>' \\
    -set cseq 1 -i 127.0.0.1 -p 7398 -m 1 $LISTEN:$PORT
EOF
	[ "$MODE" = local ] || cat <<EOF
Domain credentials (NTLM or Kerberos, over TLS only), e.g. pidgin-sipe: Username
  alice@$DOMAIN, Login $nb\\alice, the password above; Advanced: Server[:Port]
  $LISTEN:$((PORT + 1)), Connection type SSL/TLS, Authentication scheme NTLM; accept
  the demo's self-signed certificate when asked.  Kerberos also needs the realm
  and the name greenwich.$DOMAIN (Server[:Port] greenwich.$DOMAIN:$((PORT + 1))):
  run the client with $run CLIENT.
Messages to alice and bob go through the directory: 480 until they sign in.
Check the join: $run \\
  $BUILD/mmc-cli/greenwich-mmc -c $S/greenwich.conf domain test

Administrator: $me --admin opens a shell as ${DOMAIN^^}'s Administrator (a
  Kerberos ticket in a private ccache; greenwich-mmc with the demo's configuration,
  $S/greenwich.conf); with a command it runs just that:
  $me --admin greenwich-mmc server status
  $me --admin greenwich-mmc users list
Walkthrough, the headline policy: block IM from the Internet except to Support.
  $me --admin greenwich-mmc policy add 'rule "internet-im" priority 100 { class im; from zone external; except to group Support; action deny 403 "Forbidden"; }'
  $me --admin greenwich-mmc policy list
  $me --admin greenwich-mmc policy test --from sip:guest@example.net --to sip:alice@$DOMAIN --class im
  $me --admin greenwich-mmc policy test --from sip:guest@example.net --to sip:bob@$DOMAIN --class im
  Within seconds greenwichd applies it: a message from outside (SIPp, from $SRC)
  ${in}sipp -sf tests/sipp/uac_message.xml -set user guest -set domain example.net \\
    -set to alice@$DOMAIN -set body hi -i 127.0.0.1 -p 7396 -m 1 $LISTEN:$PORT
  gets 403 Forbidden; to bob@$DOMAIN (in Support) it is let through: 480 while he
  is not signed in.  Undo: $me --admin greenwich-mmc policy delete internet-im
EOF
	[ "$MODE" = ad ] || cat <<EOF

Console: $me --admin opens a shell where greenwich-mmc uses the demo's
  configuration ($S/greenwich.conf), e.g. $me --admin greenwich-mmc server status
EOF
	cat <<EOF
State and logs: $S (greenwichd.log).  Stop: $me --stop
EOF
}

# ------------------------------------------------------------------------------ actions

# --run: CMD where greenwichd runs: in the demo's network namespace (--netns) and, with
# the domain, with its hosts, resolv.conf, krb5.conf (KRB5_CONFIG) and winbindd socket.
run_in_demo() {
	local cmd=()
	[ -f "$S/demo.env" ] || die "no demo in $S"
	[ -z "$NETNS" ] || cmd=(nsenter --net="/run/netns/$NETNS" --)
	[ "$MODE" = local ] || cmd+=("$ADDC" run-with-hosts "$S/dc" --)
	exec "${cmd[@]}" "${RUN_ARGS[@]}"
}

# --admin: CMD (or an interactive shell) as the demo's administrator: where greenwichd
# runs (see run_in_demo), greenwich-mmc on PATH with the demo's configuration and, with the
# domain, a Kerberos ticket for Administrator in a ccache of its own (DIR/admin/krb5cc).
run_as_admin() {
	local a=$S/admin cmd=()
	[ -f "$S/demo.env" ] || die "no demo in $S"
	build_paths
	mkdir -p "$a/bin" && chmod 0700 "$a"
	printf '#!/bin/sh\n# greenwich-mmc with the demo configuration (written by demo.sh --admin)\nexec %q -c %q "$@"\n' \
		"$MMC" "$S/greenwich.conf" >"$a/bin/greenwich-mmc"
	chmod 0755 "$a/bin/greenwich-mmc"
	cat >"$a/bashrc" <<'RC'
[ ! -f ~/.bashrc ] || . ~/.bashrc
PS1="(demo admin) ${PS1:-\\$ }"
RC
	export PATH="$a/bin:$PATH" GREENWICH_DEMO_ADMIN=1
	[ -z "$NETNS" ] || cmd=(nsenter --net="/run/netns/$NETNS" --)
	if [ "$MODE" = ad ]; then
		dc_up || die "the demo's domain controller is not running (start the demo: $SELF${GIVEN_DIR:-})"
		# shellcheck disable=SC1091 # the domain's settings; the ccache is the admin's own
		. "$S/dc/env"
		export KRB5CCNAME="FILE:$a/krb5cc"
		cmd+=("$ADDC" run-with-hosts "$S/dc" --)
		# shellcheck disable=SC2016 # expanded inside the domain
		"${cmd[@]}" /bin/sh -c 'klist -s 2>/dev/null ||
			printf "%s\n" "$ADDC_ADMIN_PASSWORD" | kinit "Administrator@$ADDC_REALM" >/dev/null' ||
			die "kinit Administrator@$ADDC_REALM failed"
	fi
	if [ ${#RUN_ARGS[@]} -eq 0 ]; then
		echo "demo.sh: a shell as the demo's administrator${ADDC_REALM:+ (Kerberos: Administrator@$ADDC_REALM, ccache $a/krb5cc)};"
		echo "  greenwich-mmc uses $S/greenwich.conf; leave with exit"
		RUN_ARGS=(/bin/bash --rcfile "$a/bashrc" -i)
	fi
	exec "${cmd[@]}" "${RUN_ARGS[@]}"
}

on_exit() {
	local rc=$?
	[ "$rc" -ne 0 ] && [ "${DONE:-0}" = 0 ] || return 0
	echo "demo.sh: failed; stopping what this run started (state kept in $S)" >&2
	[ "${STARTED_GWD:-0}" = 0 ] || gwd_stop >&2 || true
	[ "${STARTED_DC:-0}" = 0 ] || "$ADDC" stop "$S/dc" >&2 || true
	[ "${PROVISIONING:-0}" = 0 ] || rm -rf "$S/dc"
}

start() {
	if gwd_pid >/dev/null && dc_up; then
		echo "demo.sh: the demo is already up"
		print_status
		print_info
		return 0
	fi
	trap on_exit EXIT
	# with --netns, deps.sh ran outside, where the package mirrors can be reached
	[ "$DEPS" = 0 ] || [ -n "${GREENWICH_DEMO_IN_NETNS:-}" ] || "$SRC/deps.sh"
	check_commands
	build
	check_ports
	save_settings
	write_conf
	make_passwords
	if [ "$MODE" = ad ]; then
		dc_provision
		dc_start
		dc_join
	fi
	add_local_users
	gwd_pid >/dev/null || gwd_start
	DONE=1
	print_status
	print_info
}

# With --netns, everything runs inside that network namespace (made here if missing,
# deleted by --stop): this script again, under nsenter.
start_in_netns() {
	local rc=0
	[ "$DEPS" = 0 ] || "$SRC/deps.sh"
	if [ ! -e "/run/netns/$NETNS" ]; then
		ip netns add "$NETNS"
		touch "$S/netns-created"
	fi
	ip -n "$NETNS" link set lo up
	GREENWICH_DEMO_IN_NETNS=$NETNS nsenter --net="/run/netns/$NETNS" -- "$SELF" "$@" || rc=$?
	[ "$rc" -eq 0 ] || netns_down
	return "$rc"
}

main() {
	parse_args "$@"
	case $S in /*) ;; *) S=$PWD/$S ;; esac
	! given state-dir || GIVEN_DIR=" --state-dir $S"
	load_settings
	need_root
	case $ACTION in
	status)
		[ -f "$S/demo.env" ] || die "no demo in $S"
		print_status
		{ gwd_pid >/dev/null && dc_up; } || exit 3 ;;
	stop)
		[ -f "$S/demo.env" ] || die "no demo in $S"
		stop_all ;;
	run) run_in_demo ;;
	admin) run_as_admin ;;
	purge)
		[ ! -f "$S/demo.env" ] || stop_all
		rm -rf "$S"
		echo "demo.sh: $S removed" ;;
	start)
		mkdir -p "$S" && chmod 0700 "$S"
		if [ -n "$NETNS" ] && [ "${GREENWICH_DEMO_IN_NETNS:-}" != "$NETNS" ]; then
			start_in_netns "$@"
		else
			start
		fi ;;
	esac
}

main "$@"
