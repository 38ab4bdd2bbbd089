#!/bin/bash
# The pool's hops over TLS ([pool] transport = tls): three greenwichd on loopback
# share one throw-away PostgreSQL and have no plain TCP listener at all, so every
# hop between them is TLS, each front end verifying the other's certificate
# against [tls] ca-file.  Users on different front ends (TLS and UDP clients)
# message each other and alice calls bob across the pool; a front end whose
# certificate the pool's CA did not sign gets nothing.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/pg/pg-cluster.sh
. "$top_srcdir/tests/pg/pg-cluster.sh"
trap 'cleanup; pg_cluster_stop' EXIT
# Sofia's certificate-check leak (as in t-federation.sh: these tests verify certificates)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"

check "a throw-away PostgreSQL cluster starts" pg_cluster_start
# the pool's CA, and one certificate every front end presents (its address's host)
ca() { openssl "$@" 2>/dev/null; }
ca req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.crt" -days 2 \
	-subj "/CN=Greenwich pool test CA"
ca req -newkey rsa:2048 -nodes -keyout "$T/fe.key" -out "$T/fe.csr" -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1,DNS:127.0.0.1\n' > "$T/fe.ext"
ca x509 -req -in "$T/fe.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
	-out "$T/fe.crt" -extfile "$T/fe.ext"
head -c 48 /dev/urandom | base64 > "$T/pool.key"
chmod 600 "$T/pool.key"

# front end N's configuration: UDP and TLS only, the pool over TLS
fe_conf() { # fe_conf N UDPPORT TLSPORT
	local dir="$T/fe$1"
	mkdir -p "$dir/state"
	cat > "$dir/greenwich.conf" <<CONF
[server]
udp = 127.0.0.1:$2
tcp =
tls = 127.0.0.1:$3
domains = $DOMAIN
workers = 2
state-directory = $dir/state
pid-file = $dir/greenwichd.pid
control-socket = $dir/control.sock
[auth]
digest-algorithms = MD5
[log]
level = debug
[tls]
certificate = $T/fe.crt
key = $T/fe.key
ca-file = $T/ca.crt
[store]
backend = postgresql
conninfo = $PG_CONNINFO
pool-size = 4
[pool]
secret-file = $T/pool.key
id = fe$1
transport = tls
heartbeat = 1
dead-after = 4
CONF
}
declare -a U L
for n in 1 2 3; do
	U[n]=$(free_port)
	L[n]=$(free_port)
	fe_conf "$n" "${U[n]}" "${L[n]}"
done
cp "$T/fe1/greenwich.conf" "$T/greenwich.conf" # add_user's configuration
check "[pool] transport = tls is accepted by --check-config" \
	"$GWD" --check-config -c "$T/fe1/greenwich.conf"
sed '/^ca-file/d' "$T/fe1/greenwich.conf" > "$T/no-ca.conf"
refused() { ! "$GWD" --check-config -c "$1" 2> "$2" && grep -q "$3" "$2"; }
check "and refused without [tls] ca-file to verify the others" \
	refused "$T/no-ca.conf" "$T/no-ca.err" ca-file
for u in alice bob carol; do add_user "$u" secret; done
for n in 1 2 3; do
	"$GWD" --allow-root -c "$T/fe$n/greenwich.conf" -f >> "$T/greenwichd-fe$n.log" 2>&1 &
	PIDS+=("$!")
done
for n in 1 2 3; do
	for _ in $(seq 1 100); do grep -q event=started "$T/greenwichd-fe$n.log" && break; sleep 0.05; done
	check "front end $n started" grep -q "event=pool-joined frontend=fe$n" "$T/greenwichd-fe$n.log"
done
check "each front end is recorded with its TLS address" \
	[ "$(pg_sql "SELECT string_agg(id || '=' || address, ',' ORDER BY id) FROM frontends")" = \
	"fe1=127.0.0.1:${L[1]},fe2=127.0.0.1:${L[2]},fe3=127.0.0.1:${L[3]}" ]

run_cases pool_cases.py tls "${L[1]}" "${L[2]}" "${U[3]}" "$T/ca.crt"
check "front end 2 took the hops (no plain TCP listener: over TLS)" \
	grep -q "event=pool-hop user=alice@$DOMAIN" "$T/greenwichd-fe2.log"
check "no front end failed a certificate check" \
	bash -c '! grep -qiE "certificate verify failed|tls.*(verify|handshake).*fail" "$@"' - \
	"$T"/greenwichd-fe*.log

# front end 3 again, with a certificate of its own making: the others refuse it
ca req -x509 -newkey rsa:2048 -nodes -keyout "$T/rogue.key" -out "$T/rogue.crt" -days 2 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1"
stops() { # stops PID: it ends within 10 s of SIGTERM
	kill -TERM "$1"
	for _ in $(seq 1 100); do kill -0 "$1" 2> /dev/null || return 0; sleep 0.1; done
	return 1
}
check "front end 3 stops" stops "${PIDS[2]}"
sed -i -e "s|^certificate = .*|certificate = $T/rogue.crt|" -e "s|^key = .*|key = $T/rogue.key|" \
	"$T/fe3/greenwich.conf"
"$GWD" --allow-root -c "$T/fe3/greenwich.conf" -f >> "$T/greenwichd-fe3b.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 100); do grep -q event=started "$T/greenwichd-fe3b.log" && break; sleep 0.05; done
check "front end 3 started again with a rogue certificate" grep -q "event=started" "$T/greenwichd-fe3b.log"
run_cases pool_cases.py tlsrogue "${L[1]}" "${U[3]}" "$T/ca.crt"
finish
