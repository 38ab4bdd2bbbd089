# shellcheck shell=bash
# pool-lib.sh - front ends of a pool for the tests (bash, sourced after lib.sh and
# tests/pg/pg-cluster.sh).
#
# pool_key: the pool's secret ($T/pool.key).
# fe_conf N PORT [INI lines...]: front end N's greenwich.conf in $T/feN (UDP and TCP
#   on 127.0.0.1:PORT, [store] on $PG_CONNINFO, [pool] id feN, heartbeat 1 s,
#   dead-after $DEAD_AFTER (default 3), log level notice), then the extra lines.
# fe_start N: start front end N (log $T/greenwichd-feN.log), its pid in FE_PID[N].
# fe_sql_bound FILE: every binding in the store (AOR and URI, one a line) into FILE.
# load_users FILE NAME COUNT: users NAME1..NAMECOUNT (password "secret") in the
#   store and an injection file for tests/sipp/load_register.xml.

declare -a FE_PID FE_PORT
# the background loads' pids and exit statuses, by name (for the tests that source this)
# shellcheck disable=SC2034
declare -A LOAD RC
DEAD_AFTER=${DEAD_AFTER:-3}

pool_key() {
	head -c 48 /dev/urandom | base64 > "$T/pool.key"
	chmod 600 "$T/pool.key"
}

fe_conf() {
	local n=$1 port=$2 dir="$T/fe$1"
	shift 2
	FE_PORT[n]=$port
	mkdir -p "$dir/state"
	{
		cat <<CONF
[server]
udp = 127.0.0.1:$port
tcp = 127.0.0.1:$port
domains = $DOMAIN
workers = 2
state-directory = $dir/state
pid-file = $dir/greenwichd.pid
control-socket = $dir/control.sock
[auth]
digest-algorithms = MD5
[log]
level = notice
[registrar]
max-contacts = 1000
[store]
backend = postgresql
conninfo = $PG_CONNINFO
pool-size = 4
[pool]
secret-file = $T/pool.key
id = fe$n
heartbeat = 1
dead-after = $DEAD_AFTER
CONF
		for l in "$@"; do echo "$l"; done
	} > "$dir/greenwich.conf"
}

fe_start() {
	local n=$1 log="$T/greenwichd-fe$1.log" _
	local starts now
	starts=$(grep -c event=started "$log" 2>/dev/null || true)
	"$GWD" --allow-root -c "$T/fe$n/greenwich.conf" -f >> "$log" 2>&1 &
	FE_PID[n]=$!
	PIDS+=("$!")
	for _ in $(seq 1 200); do
		now=$(grep -c event=started "$log" 2>/dev/null || true)
		[ "${now:-0}" -gt "${starts:-0}" ] && return 0
		kill -0 "${FE_PID[n]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "front end $n did not start:"; tail -5 "$log"; return 1
}

fe_sql_bound() {
	pg_sql "SELECT aor || ' ' || uri FROM bindings" | sort > "$1"
}

load_users() {
	local file=$1 name=$2 count=$3 i
	echo "SEQUENTIAL" > "$file"
	for i in $(seq 1 "$count"); do
		add_user "$name$i" secret
		echo "$name$i;[authentication username=$name$i password=secret]" >> "$file"
	done
}

# reg_load N TAG RATE COUNT [sipp args...]: SIPp REGISTERs (load_register.xml) of
# $T/usersN.csv's users to front end N in the background, binding answers logged
# in $T/regN.log; its pid in LOAD[regN].
reg_load() {
	local n=$1 tag=$2 rate=$3 count=$4
	shift 4
	sipp_bg "reg$n" load_register.xml "$(free_port)" -inf "$T/users$n.csv" -set domain "$DOMAIN" \
		-set tag "$tag" -r "$rate" -m "$count" -trace_logs -log_file "$T/reg$n.log" "$@" \
		"127.0.0.1:${FE_PORT[n]}"
	LOAD[reg$n]=$SIPP_BG_PID
}

# msg_load NAME FROM TO PORT RATE COUNT: SIPp MESSAGEs (load_message.xml) from user
# FROM to TO's AOR through the front end on PORT, in the background; pid in LOAD[NAME].
msg_load() {
	sipp_bg "$1" load_message.xml "$(free_port)" -au "$2" -ap secret -set user "$2" \
		-set domain "$DOMAIN" -set to "$3@$DOMAIN" -r "$5" -m "$6" "127.0.0.1:$4"
	# shellcheck disable=SC2034 # for the test that sourced this
	LOAD[$1]=$SIPP_BG_PID
}

# bindings_lost: the bindings the load saw answered 200 ($T/reg*.log) that the store
# lacks, into $T/lost.txt (those answered in $T/acked.txt); true when some were
# answered and none is missing.
bindings_lost() {
	cat "$T"/reg*.log | sed -n 's/^bound //p' | sort > "$T/acked.txt"
	fe_sql_bound "$T/stored.txt"
	comm -23 "$T/acked.txt" "$T/stored.txt" > "$T/lost.txt"
	[ -s "$T/acked.txt" ] && [ ! -s "$T/lost.txt" ]
}
