#!/bin/bash
# check-fresh.sh - proves the README on a fresh machine: builds a minimal Debian 12 root
# file system (mmdebstrap, variant minbase, from this machine's configured mirror), copies
# the source tree into it and there, as root, runs the README's first command verbatim
# (./demo.sh --install-deps), then signs in against the running demo: carol with Digest
# (SIPp, tests/sipp/register.xml) and alice with NTLM (tests/sipae/sipae_client.py);
# greenwich-mmc server status as the domain administrator (./demo.sh --admin); and
# ./demo.sh --stop.  Needs root.  See README.md in this folder.
#
#   tests/fresh/check-fresh.sh [--src DIR] [--cache DIR] [--work DIR] [--keep]
#
# --cache DIR (or $GREENWICH_FRESH_CACHE): keeps the downloaded .debs there for the next
# run; without it, everything is downloaded.  --keep keeps the root file system.
set -Eeuo pipefail
# pass, fail, checks_summary (CHECKS, FAILS): the lines "ok - ..." and "FAILED - ..."
# shellcheck source=tests/lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"
trap 'rc=$?; fail "check-fresh.sh line $LINENO: $BASH_COMMAND (exit $rc)"' ERR

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${GREENWICH_FRESH_CACHE:-}
WORKBASE=${TMPDIR:-/var/tmp}
KEEP=0
SUITE=bookworm
# the whole run inside the root file system (package installation, build, demo)
INNER_TIMEOUT=${FRESH_TIMEOUT:-2700}

usage() { sed -n '10,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--src) SRC=$(cd "${2:?}" && pwd); shift ;;
	--cache) CACHE=${2:?}; shift ;;
	--work) WORKBASE=${2:?}; shift ;;
	--keep) KEEP=1 ;;
	*) usage ;;
	esac
	shift
done

now() { date +%s; }
T0=$(now)

[ "$(id -u)" -eq 0 ] || { echo "check-fresh.sh: run as root" >&2; exit 2; }
if ! command -v mmdebstrap >/dev/null; then
	echo "# installing mmdebstrap"
	apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null; }
fi

# This machine's configured package sources (deb822 or one-line format); mmdebstrap
# takes the files as they are, so no host name is written here.
SOURCES=()
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
	[ -s "$f" ] && grep -qE '^[[:space:]]*(deb[[:space:]]|URIs:)' "$f" && SOURCES+=("$f")
done
[ ${#SOURCES[@]} -gt 0 ] || { fail "no Debian mirror configured in /etc/apt"; checks_summary; exit 1; }

W=$(mktemp -d "$WORKBASE/gw-fresh.XXXXXX")
ROOT=$W/root
LOG=$W/log
mkdir -p "$LOG"
INNER_PID=""

mounts_under() { awk -v r="$1" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo; }

finish() {
	local rc=$?
	trap - ERR
	if [ -n "$INNER_PID" ] && kill -0 "$INNER_PID" 2>/dev/null; then
		# unshare --kill-child: its child is PID 1 of the namespace, whose end ends all
		kill -TERM "$INNER_PID" 2>/dev/null || true
		wait "$INNER_PID" 2>/dev/null || true
	fi
	[ "$rc" -eq 0 ] || [ "$CHECKS" -gt 0 ] || fail "check-fresh.sh ended (exit $rc)"
	echo "# check-fresh took $(($(now) - T0)) s"
	if [ -n "$(mounts_under "$W")" ]; then
		echo "# kept $W: still mounted: $(mounts_under "$W" | tr '\n' ' ')"
	elif [ "$FAILS" -ne 0 ] || [ "$KEEP" = 1 ]; then
		echo "# kept $W (root file system in root/, logs in log/)"
	else
		rm -rf "$W"
	fi
	checks_summary && exit 0 || exit 1
}
trap finish EXIT

# ------------------------------------------------------------------ the root file system
echo "# a minimal Debian 12 ($SUITE, minbase) in $ROOT from ${SOURCES[*]}"
CACHE_HOOKS=()
if [ -n "$CACHE" ]; then
	mkdir -p "$CACHE"
	CACHE=$(cd "$CACHE" && pwd)
	# the essential packages from the cache, and back into it (hard links where possible)
	CACHE_HOOKS=(--skip=essential/unlink
		--setup-hook="mkdir -p \"\$1/var/cache/apt/archives\"; for f in '$CACHE'/*.deb; do [ -e \"\$f\" ] || continue; ln \"\$f\" \"\$1/var/cache/apt/archives/\" 2>/dev/null || cp \"\$f\" \"\$1/var/cache/apt/archives/\"; done"
		--customize-hook="for f in \"\$1\"/var/cache/apt/archives/*.deb; do [ -e \"\$f\" ] || continue; [ -e '$CACHE'/\"\${f##*/}\" ] || ln \"\$f\" '$CACHE'/ 2>/dev/null || cp \"\$f\" '$CACHE'/; done")
fi
t=$(now)
if mmdebstrap --variant=minbase --mode=root "${CACHE_HOOKS[@]}" "$SUITE" "$ROOT" "${SOURCES[@]}" \
	>"$LOG/mmdebstrap.log" 2>&1; then
	pass "minimal Debian 12 root file system ($(du -sm "$ROOT" | cut -f1) MB, $(($(now) - t)) s)"
else
	tail -n 20 "$LOG/mmdebstrap.log"
	fail "mmdebstrap $SUITE (log: $LOG/mmdebstrap.log)"
	exit 1
fi
# What an installed machine has and minbase lacks: a hosts file and a resolver.
printf '127.0.0.1\tlocalhost\n127.0.1.1\tfresh\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	>"$ROOT/etc/hosts"
echo fresh >"$ROOT/etc/hostname"
rm -f "$ROOT/etc/resolv.conf"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

# --------------------------------------------------------------------- the source tree
DST=$ROOT/root/greenwich
mkdir -p "$DST"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# the tracked files as they are in the work tree (no build directories)
	(cd "$SRC" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$DST"
	how="git ls-files"
else
	tar -C "$SRC" --exclude='./_build*' --exclude=./.git -cf - . | tar -xf - -C "$DST"
	how="a copy without _build*"
fi
if [ -x "$DST/demo.sh" ] && [ -f "$DST/README.md" ]; then
	pass "source tree copied into /root/greenwich ($how, $(find "$DST" -type f | wc -l) files)"
else
	fail "source tree copied into /root/greenwich"
	exit 1
fi

# The network: the README's command runs as written, in this machine's network
# namespace: apt must reach the mirror, which a namespace of our own could only do
# through routing or NAT set up on this machine.  The demo then binds 127.0.0.1 (the
# DC's 53, 88, 389, 445, ... and SIP 5060, 5061) here; when one of them is taken (a demo
# of this machine, say), the command is run with demo.sh's own --netns instead, which
# still installs the packages outside and puts the demo into a namespace of its own.
DEMO_ARGS=""
busy=$(ss -Hlntu 2>/dev/null | awk '{ n = split($5, a, ":"); p = a[n]; h = substr($5, 1, length($5) - length(p) - 1)
	if (h ~ /^(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]|\[::1\])$/ && p ~ /^(53|88|135|139|389|445|464|636|3268|3269|5060|5061)$/) print p }' |
	sort -un | tr '\n' ' ')
if [ -n "$busy" ]; then
	DEMO_ARGS="--netns gwfresh$$"
	echo "# ports taken on this machine's loopback: $busy- the demo runs with $DEMO_ARGS"
fi
[ -z "$CACHE" ] || mkdir -p "$ROOT/var/cache/apt/archives"

# ------------------------------------------------------------------ inside, as root
cat >"$ROOT/root/check-fresh-steps.sh" <<'STEPS'
#!/bin/bash
# Runs inside the fresh root file system as root; an "ok - " or "FAILED - " line for
# each step (tests/lib/checks.sh, of the copied tree).
set -uo pipefail
cd /root/greenwich
ARGS=$1
S=/var/lib/greenwich-demo
# the outer script holds the machine (tests/lib/machine.sh); in here nothing runs
# beside these steps, and a fresh system has no python3 for the holder before step 1
export MACHINE_TAKEN=check-fresh
# shellcheck source=tests/lib/checks.sh
. tests/lib/checks.sh
step() { # step NAME LOG CMD...: CMD with its output in LOG; the time it took in the line
	local name=$1 log=$2 t rc=0
	shift 2
	t=$(date +%s)
	"$@" >"$log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$name ($(($(date +%s) - t)) s)"
	else
		tail -n 25 "$log" | sed 's/^/    /'
		fail "$name (exit $rc, log: $log)"
	fi
	return "$rc"
}
pw() { awk -v u="$1" '$1 == u { print $2 }' "$S/passwords"; }

# shellcheck disable=SC2086 # ARGS: nothing, or --netns NAME
if ! step "README: ./demo.sh --install-deps${ARGS:+ $ARGS}" /root/demo.out ./demo.sh --install-deps $ARGS; then
	./demo.sh --stop >/dev/null 2>&1
	exit 1
fi
sed -n '/^Greenwich demo/,$p' /root/demo.out

# README: carol signs in with Digest (SIPp and the test scenario), expecting 200
./demo.sh --run sipp -sf tests/sipp/register.xml -au carol -ap "$(pw carol)" \
	-set user carol -set domain demo.greenwich.test -set expires 60 \
	-set contact "<sip:carol@127.0.0.1:7399>" -set cseq 1 \
	-i 127.0.0.1 -p 7398 -m 1 -nostdin -timeout 20 \
	-trace_msg -message_file /root/carol.msg 127.0.0.1:5060 >/root/carol.out 2>&1
st=$(grep -a '^SIP/2.0 [0-9]' /root/carol.msg 2>/dev/null | tail -1 | awk '{ print $2 }')
if [ "$st" = 200 ]; then
	pass "carol signs in with Digest (SIPp REGISTER): 200"
else
	tail -n 20 /root/carol.out | sed 's/^/    /'
	fail "carol signs in with Digest (SIPp REGISTER): ${st:-no answer}"
fi

# alice signs in with her domain credentials: NTLM, signed (MS-SIPAE)
./demo.sh --run python3 tests/sipae/sipae_client.py --server 127.0.0.1:5061 --tls \
	--domain demo.greenwich.test --user alice --ntlm-domain DEMO --password "$(pw alice)" \
	--scheme ntlm register >/root/alice.out 2>&1
if grep -q '^signed-in scheme=' /root/alice.out; then
	pass "alice signs in with NTLM over TLS (MS-SIPAE client): $(grep -m1 '^signed-in' /root/alice.out)"
else
	tail -n 20 /root/alice.out | sed 's/^/    /'
	fail "alice signs in with NTLM over TLS (MS-SIPAE client)"
fi

# the administrator's console reaches the running greenwichd
if ./demo.sh --admin greenwich-mmc server status >/root/status.out 2>&1; then
	pass "./demo.sh --admin greenwich-mmc server status"
	sed 's/^/    /' /root/status.out | head -n 12
else
	sed 's/^/    /' /root/status.out | tail -n 10
	fail "./demo.sh --admin greenwich-mmc server status"
fi

gwd=$(cat "$S/greenwichd.pid" 2>/dev/null || echo 0)
dc=$(cat "$S/dc/run/samba.pid" 2>/dev/null || echo 0)
step "./demo.sh --stop" /root/stop.out ./demo.sh --stop
if [ ! -d "/proc/$gwd" ] && [ ! -d "/proc/$dc" ]; then
	pass "greenwichd (pid $gwd) and the DC (pid $dc) are gone"
else
	fail "greenwichd (pid $gwd) or the DC (pid $dc) still runs after --stop"
fi
STEPS
chmod +x "$ROOT/root/check-fresh-steps.sh"

# Private mount and PID namespaces: /proc, /sys, a minimal /dev, /run and /tmp of the
# root file system's own; every mount goes with the namespace, and every process left
# in it ends with its PID 1 (unshare --kill-child ends that one when we are stopped).
cat >"$W/enter.sh" <<'ENTER'
#!/bin/sh
set -e
R=$1 CACHE=$2 ARGS=$3
# the root a mount point of its own, as on a machine: unshare --propagation (addc.sh
# run-with-hosts) cannot change the propagation of a / that is none
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount -t sysfs -o ro sysfs "$R/sys"
mount -t tmpfs -o mode=0755,size=16m dev "$R/dev"
for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
	set -- $n
	mknod -m 0666 "$R/dev/$1" c "$2" "$3"
done
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mkdir -m 0755 "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777 shm "$R/dev/shm"
mount -t tmpfs -o mode=0755 run "$R/run"
[ -z "$CACHE" ] || mount --bind "$CACHE" "$R/var/cache/apt/archives"
exec chroot "$R" /usr/bin/env -i HOME=/root USER=root LOGNAME=root TERM=dumb SHELL=/bin/bash \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/bash /root/check-fresh-steps.sh "$ARGS"
ENTER
echo "# in $ROOT (private mount and PID namespaces), as root: cd /root/greenwich && ./demo.sh --install-deps ..."
t=$(now)
: >"$LOG/inside.log" # before tail -f looks for it
timeout --kill-after=30 "$INNER_TIMEOUT" unshare --mount --pid --fork --kill-child \
	--propagation private -- /bin/sh "$W/enter.sh" "$ROOT" "$CACHE" "$DEMO_ARGS" \
	>"$LOG/inside.log" 2>&1 &
INNER_PID=$!
tail -n +1 -f --pid="$INNER_PID" "$LOG/inside.log" 2>/dev/null || true
rc=0
wait "$INNER_PID" || rc=$?
INNER_PID=""
echo "# inside: $(($(now) - t)) s, exit $rc"
inner_pass=$(grep -c '^ok - ' "$LOG/inside.log" || true)
inner_fail=$(grep -c '^FAILED - ' "$LOG/inside.log" || true)
CHECKS=$((CHECKS + inner_pass + inner_fail))
FAILS=$((FAILS + inner_fail))
# the README's command, two sign-ins, server status, --stop and nothing left running
[ "$inner_pass" -ge 6 ] || fail "inside: $inner_pass of 6 steps passed (exit $rc, log: $LOG/inside.log)"
