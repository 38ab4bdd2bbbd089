#!/bin/bash
# greenwichd --check-config and start-up errors: each names file, line and key.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf
check "valid configuration: --check-config exits 0" "$GWD" --check-config -c "$T/greenwich.conf"
check "greenwichd --version" bash -c "'$GWD' --version | grep -q '^greenwichd [0-9]'"

bad() { # bad NAME EXPECTED-TEXT LINES...: the file must be refused with that text
	local name="$1" want="$2"; shift 2
	printf '%s\n' "$@" > "$T/$name.conf"
	local out rc=0
	out=$("$GWD" --check-config -c "$T/$name.conf" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && grep -qF -- "$want" <<<"$out"; then
		pass "$name: refused ($out)"
	else
		fail "$name: rc=$rc out=$out"
	fi
}
bad unknown-key "$T/unknown-key.conf:2: unknown key 'colour' in [server]" "[server]" "colour = blue"
bad unknown-section "$T/unknown-section.conf:1: unknown section [nope]" "[nope]"
bad not-a-number "$T/not-a-number.conf:2: [registrar] min-expires: 'soon' is not a number" "[registrar]" "min-expires = soon"
bad out-of-range "$T/out-of-range.conf:2: [server] workers: 500 is out of range 0..64" "[server]" "workers = 500"
bad no-section "$T/no-section.conf:1: key 'udp' outside of any [section]" "udp = 1.2.3.4:5060"
bad bad-level "$T/bad-level.conf:2: [log] level: 'loud' is not a log level" "[log]" "level = loud"
bad min-max "min-expires is larger than max-expires" "[registrar]" "min-expires = 600" "max-expires = 60" "default-expires = 600"
bad tls-nocert "[server] tls needs [tls] certificate and key" "[server]" "tls = 127.0.0.1:5061"
bad bad-alg "'SHA-1' is not SHA-256 or MD5" "[auth]" "digest-algorithms = SHA-1"
bad fed-noca "[federation] allow needs [tls] ca-file" "[server]" "udp = 127.0.0.1:5060" \
	"domains = example.test" "[federation]" "allow = partner.example.net"
out=$("$GWD" --check-config -c "$T/missing.conf" 2>&1) && rc=0 || rc=$?
check "missing file: non-zero exit naming the file" bash -c "[ $rc -ne 0 ] && grep -q 'missing.conf: cannot open' <<<'$out'"

# a port already taken: a clear error and exit, no half start.  The holder takes a port
# the system gives it and names it (a port merely found free may be taken by another test
# before the holder binds it); greenwichd runs under a timeout, so a start that wrongly
# succeeds fails the check instead of hanging the test.
python3 -c "import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',0)); print(s.getsockname()[1], flush=True); time.sleep(30)" > "$T/held.port" &
HOLD=$!; PIDS+=("$HOLD")
for _ in $(seq 1 100); do [ -s "$T/held.port" ] && break; sleep 0.1; done
PORT=$(cat "$T/held.port")
write_conf
rc=0; timeout 20 "$GWD" --allow-root -f -c "$T/greenwich.conf" > "$T/busy.log" 2>&1 || rc=$?
# shellcheck disable=SC2016 # $1 is the inner script's argument
check "port in use: exits non-zero (exit $rc; 124: still running after 20 s)" \
	bash -c '[ "$1" -ne 0 ] && [ "$1" -ne 124 ]' - "$rc"
check "port in use: says which address" grep -q "cannot bind 127.0.0.1:$PORT/udp" "$T/busy.log"
kill "$HOLD" 2>/dev/null || true

# TLS with a key that is not a key
printf 'not a key\n' > "$T/bad.key"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ok.key" -out "$T/ok.crt" -days 2 -subj "/CN=$DOMAIN" 2>/dev/null
write_conf "[tls]" "certificate = $T/ok.crt" "key = $T/bad.key"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"
rc=0; "$GWD" --allow-root -f -c "$T/greenwich.conf" > "$T/tls.log" 2>&1 || rc=$?
check "unusable TLS key: refused at start with the file named" bash -c "[ $rc -ne 0 ] && grep -q 'bad.key is not a PEM private key' '$T/tls.log'"
finish
