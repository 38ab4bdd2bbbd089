#!/bin/bash
# bench/pool/run.sh - the pool rows (issue 16): greenwichd front ends on one
# PostgreSQL, under SIPp at a fixed rate, on loopback.
#
#   GW_BUILDDIR=/path/to/build bench/pool/run.sh           # the rows (~3 min)
#   GW_BUILDDIR=/path/to/build bench/pool/run.sh --smoke   # each row a moment at a
#                                                          # low rate; make check
# Rows: REGISTER with Digest and MESSAGE across front ends (a user on front end i
# to a device on front end i+1) with 1, 2 and 3 front ends on one throw-away
# PostgreSQL cluster (tests/pg/pg-cluster.sh), and one front end on SQLite; for
# each, the operations answered 200, the CPU per operation of each front end and
# of PostgreSQL (utime+stime of its processes from /proc over the step, divided by
# the operations of the whole pool), and the failed calls.  Then the time from a
# PUBLISH on front end 1 to the NOTIFY a watcher on front end 2 receives (p50/p99).
# Then the durable anchor: Kamailio with usrloc written through to the same
# PostgreSQL (kamailio-pg.cfg; Debian's kamailio-postgres-modules), REGISTER with
# Digest at RATE: its CPU per operation and PostgreSQL's.
# The load average is printed before and after: on a shared machine compare the
# CPU per operation, not the rates.  Options (environment): RATE (REGISTERs or
# MESSAGEs per second per front end, 150), SECS (10), CHANGES (presence changes, 100).
#
#   GW_BUILDDIR=/path/to/build bench/pool/run.sh --peak    # the pool's peak rates
# --peak: instead of the rows, the highest rate that passes, as bench/run finds it
# (doubling from PEAK_START, 500/s, then bisecting until the bounds are within 8 %
# or 50/s; steps of PSTEP seconds, 5; a step passes when under 0.1 % of its calls
# failed or were not answered and SIPp finished within 10 % of the step) for REGISTER
# with Digest spread evenly over 1, 2 and 3 front ends on PostgreSQL (one SIPp per
# front end) and for Kamailio with usrloc written through to the same PostgreSQL; then
# the ratios.  SIPp runs on the same machine and takes its share of the cores.
#
#   GW_BUILDDIR=/path/to/build bench/pool/run.sh --peak-message
# --peak-message: MESSAGE across front ends, snd1 on front end 1 to dev2's device
# (a SIPp UAS) on front end 2, and the same pair on Kamailio (kamailio-pg.cfg's
# MESSAGE route: Digest, usrloc lookup in memory, t_relay): first ROUNDS (3) rounds
# of a fixed MRATE (1000/s) for PSTEP seconds, the pool and Kamailio alternately,
# each with the CPU per MESSAGE of front end 1, front end 2 (or Kamailio) and
# PostgreSQL; then each one's peak rate as for --peak.
# Only 127.0.0.1 is addressed; only processes started here are stopped, by PID.
SMOKE="" PEAK="" PEAKMSG=""
[ "${1:-}" = --smoke ] && SMOKE=1
[ "${1:-}" = --peak ] && PEAK=1
[ "${1:-}" = --peak-message ] && PEAKMSG=1
: "${GW_BUILDDIR:?set GW_BUILDDIR to a configured build directory}"
HERE=$(cd "$(dirname "$0")" && pwd)
top_builddir=$GW_BUILDDIR
top_srcdir=$(cd "$HERE/../.." && pwd)
export top_builddir top_srcdir
# shellcheck source=tests/integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
# shellcheck source=tests/pg/pg-cluster.sh
. "$top_srcdir/tests/pg/pg-cluster.sh"
# shellcheck source=tests/integration/pool-lib.sh
. "$top_srcdir/tests/integration/pool-lib.sh"
trap 'cleanup; pg_cluster_stop' EXIT
if [ -n "$SMOKE" ]; then RATE=10 SECS=2 CHANGES=5; fi
RATE=${RATE:-150} SECS=${SECS:-10} CHANGES=${CHANGES:-100}
COUNT=$((RATE * SECS))
HZ=$(getconf CLK_TCK)

ticks() { # ticks PID...: utime+stime of these processes, in clock ticks
	local p sum=0 f
	for p in "$@"; do
		f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
		# shellcheck disable=SC2086
		set -- $f
		sum=$((sum + ${12} + ${13}))
	done
	echo "$sum"
}
pg_pids() { # the postmaster and its children
	local pm
	pm=$(head -1 "$PG_DIR/data/postmaster.pid")
	echo "$pm"
	ps -o pid= --ppid "$pm"
}
us_per_op() { # us_per_op TICKS OPS
	if [ "$2" -gt 0 ]; then echo $(( $1 * 1000000 / HZ / $2 )); else echo -; fi
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
check "a throw-away PostgreSQL cluster starts" pg_cluster_start
pool_key
for n in 1 2 3; do fe_conf "$n" "$(free_port)"; done
cp "$T/fe1/greenwich.conf" "$T/greenwich.conf"
users_file() { # users_file FILE NAME COUNT: bench/scenarios/reg_auth.xml's injection file
	local i
	echo "SEQUENTIAL" > "$1"
	for i in $(seq 1 "$3"); do
		add_user "$2$i" secret
		echo "$2$i;[authentication username=$2$i password=secret];$((20000 + i))" >> "$1"
	done
}
add_all() { # the users of every row in the store of $T/greenwich.conf
	local n
	for n in 1 2 3; do users_file "$T/users$n.csv" "b${n}x" 50; add_user "dev$n" secret; add_user "snd$n" secret; done
	for u in alice carol; do add_user "$u" secret; done
}
add_all

# load NAME SCENARIO PORT [sipp args]: a SIPp UAC (a scenario file) at RATE for COUNT calls
load() {
	local name=$1 scen=$2 port=$3
	shift 3
	(cd "$T" && exec timeout $((SECS * 4 + 30)) "$SIPP" -sf "$scen" -i 127.0.0.1 \
		-p "$(free_port)" -nostdin -r "$RATE" -m "$COUNT" -trace_err -error_file "$T/$name.err" \
		"$@" "127.0.0.1:$port" > "$T/$name.out" 2>&1) &
	LOAD[$name]=$!
	PIDS+=("$!")
}

# row NAME KIND N [sqlite]: KIND reg or msg with front ends 1..N running
row() {
	local name=$1 kind=$2 n=$3 store=$4 i pgb=0 pga=0 fails=0 cpu="" pgcpu=-
	local ops=$((COUNT * n))
	local -a b=()
	if [ "$kind" = msg ]; then # a device on each front end: dev<i> on front end i
		for i in $(seq 1 "$n"); do
			[ -z "${DEV_UP[i]:-}" ] || continue # one for the whole run, registered once
			local dp
			dp=$(free_port)
			TARGET_PORT=${FE_PORT[i]} register "dev$i-$name" "dev$i" secret "<sip:dev$i@127.0.0.1:$dp>" 3600
			sipp_bg "uas$i-$name" uas_message.xml "$dp"
			DEV_UP[i]=$SIPP_BG_PID
		done
		sleep 1
	fi
	for i in $(seq 1 "$n"); do b+=("$(ticks "${FE_PID[i]}")"); done
	# shellcheck disable=SC2046
	[ "$store" = sqlite ] || pgb=$(ticks $(pg_pids))
	for i in $(seq 1 "$n"); do
		if [ "$kind" = reg ]; then
			load "$name-$i" "$HERE/../scenarios/reg_auth.xml" "${FE_PORT[i]}" \
				-inf "$T/users$i.csv"
		else # snd<i> on front end i to dev<i+1>'s device on the next one
			load "$name-$i" "$SCEN/load_message.xml" "${FE_PORT[i]}" -au "snd$i" -ap secret \
				-set user "snd$i" -set domain "$DOMAIN" -set to "dev$((i % n + 1))@$DOMAIN"
		fi
	done
	for i in $(seq 1 "$n"); do
		wait "${LOAD[$name-$i]}" || fails=$((fails + 1))
	done
	# shellcheck disable=SC2046
	[ "$store" = sqlite ] || pga=$(ticks $(pg_pids))
	for i in $(seq 1 "$n"); do
		cpu+="$(us_per_op $(($(ticks "${FE_PID[i]}") - b[i - 1])) "$ops") "
	done
	[ "$store" = sqlite ] || pgcpu=$(us_per_op $((pga - pgb)) "$ops")
	printf '%-24s %d fe %6d ops %2d SIPp runs failed | front ends µs/op: %s| PostgreSQL µs/op: %s\n' \
		"$name" "$n" "$ops" "$fails" "$cpu" "$pgcpu"
	check "row $name: every SIPp run completed without a failed call" [ "$fails" = 0 ]
}

# the durable anchor: Kamailio, usrloc written through to the same PostgreSQL
# (kamailio-pg.cfg), REGISTER with Digest from front end 1's users at RATE
KAM=${KAMAILIO:-$(command -v kamailio || echo /usr/sbin/kamailio)}
KAM_CONN="host=$PG_DIR/sock port=$PG_PORT dbname=kamailio user=greenwich"
kam_start() { # kam_start: its database, then Kamailio on port KAM_PORT (pid KAM_PID)
	local k="$T/kam" kp sql=/usr/share/kamailio/postgres conn=$KAM_CONN
	mkdir -p "$k"
	kp=$(free_port)
	KAM_PORT=$kp
	pg_sql "CREATE DATABASE kamailio" || return 1
	for f in standard usrloc htable; do
		"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$conn" -f "$sql/$f-create.sql" > /dev/null || return 1
	done
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$conn" -c "INSERT INTO htable (key_name, key_value)
		SELECT 'b1x' || i, md5('b1x' || i || ':$DOMAIN:secret') FROM generate_series(1, 50) i
		UNION ALL SELECT u, md5(u || ':$DOMAIN:secret') FROM unnest(ARRAY['snd1', 'dev2']) u" ||
		return 1
	sed -e "s|@PORT@|$kp|g" -e "s|@DBURL@|postgres://greenwich@127.0.0.1:$PG_PORT/kamailio|g" \
		-e "s|@SECRET@|$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')|" \
		"$HERE/kamailio-pg.cfg" > "$k/kamailio.cfg"
	"$KAM" -f "$k/kamailio.cfg" -DD -E -P "$k/kamailio.pid" -m 256 -M 32 -w "$k" -Y "$k" \
		> "$k/kamailio.log" 2>&1 &
	KAM_PID=$!
	PIDS+=("$KAM_PID")
	sleep 2
	kill -0 "$KAM_PID" 2>/dev/null || { tail -5 "$k/kamailio.log"; return 1; }
}
kam_row() {
	local kp kb kpgb ka kpga fails=0 conn=$KAM_CONN
	kam_start || return 1
	kp=$KAM_PORT
	# shellcheck disable=SC2046
	kb=$(ticks "$KAM_PID" $(ps -o pid= --ppid "$KAM_PID")) kpgb=$(ticks $(pg_pids))
	load kam-reg "$HERE/../scenarios/reg_auth.xml" "$kp" -inf "$T/users1.csv"
	wait "${LOAD[kam-reg]}" || fails=1
	# shellcheck disable=SC2046
	ka=$(ticks "$KAM_PID" $(ps -o pid= --ppid "$KAM_PID")) kpga=$(ticks $(pg_pids))
	printf '%-24s %d fe %6d ops %2d SIPp runs failed | kamailio µs/op: %s | PostgreSQL µs/op: %s\n' \
		reg-digest-kamailio-pg 1 "$COUNT" "$fails" "$(us_per_op $((ka - kb)) "$COUNT")" \
		"$(us_per_op $((kpga - kpgb)) "$COUNT")"
	grep -h "Successful call\|Failed call" "$T/kam-reg.out" | tail -2
	KAM_ROWS=$("$PG_BIN/psql" -X -q -A -t "$conn" -c "SELECT count(*) FROM location")
	kill "$KAM_PID"
	wait "$KAM_PID" 2>/dev/null || true
	[ "$fails" = 0 ]
}
# ---- --peak: the highest passing rate ----
PSTEP=${PSTEP:-5} PEAK_START=${PEAK_START:-500} MAX_STEPS=${MAX_STEPS:-10}
sipp_count() { # sipp_count FILE LABEL: the cumulative count on SIPp's last "LABEL" line
	grep -a "$2" "$1" | tail -1 | awk -F'|' '{ gsub(/ /, "", $3); print ($3 == "" ? 0 : $3) }'
}
# peak_step NAME RATE PORT...: REGISTER with Digest at RATE per second in all, shared
# evenly by one SIPp per PORT (the i-th with $T/users<i>.csv) for PSTEP seconds; STEP_PASS
# 1 when it passed.
peak_step() {
	local name=$1 rate=$2 nf i=0 per count want ok=0 failed=0 t0 wall port p
	shift 2
	local -a sp=()
	nf=$#
	per=$(((rate + nf - 1) / nf))
	count=$((per * PSTEP))
	want=$((count * nf))
	t0=$(date +%s%N)
	for port in "$@"; do
		i=$((i + 1))
		(cd "$T" && exec timeout $((PSTEP * 3 + 25)) "$SIPP" -sf "$HERE/../scenarios/reg_auth.xml" \
			-i 127.0.0.1 -p "$(free_port)" -nostdin -r "$per" -rp 1000 -m "$count" \
			-recv_timeout 4000 -inf "$T/users$i.csv" "127.0.0.1:$port" > "$T/$name-$i.out" 2>&1) &
		sp+=("$!")
		PIDS+=("$!")
	done
	for p in "${sp[@]}"; do wait "$p" || true; done # a failed call is counted below
	wall=$((($(date +%s%N) - t0) / 1000000))
	for i in $(seq 1 "$nf"); do
		ok=$((ok + $(sipp_count "$T/$name-$i.out" "Successful call")))
		failed=$((failed + $(sipp_count "$T/$name-$i.out" "Failed call")))
	done
	STEP_PASS=0
	if [ $(((want - ok) * 1000)) -le "$want" ] && [ $((failed * 1000)) -le "$want" ] &&
		[ "$wall" -le $((PSTEP * 1100 + 500)) ]; then STEP_PASS=1; fi
	printf '  %-22s rate %6d/s: ok %d/%d failed %d in %d.%03d s -> %s\n' "$name" "$rate" "$ok" \
		"$want" "$failed" $((wall / 1000)) $((wall % 1000)) "$([ "$STEP_PASS" = 1 ] && echo pass || echo FAIL)"
}
# settle PID...: after a failed step, wait (at most 40 s, past SIP's 32 s transaction
# timeout) until these processes use under 5 % of a core
settle() {
	local t0 c0 _
	for _ in $(seq 1 80); do
		c0=$(ticks "$@")
		sleep 0.5
		[ $((($(ticks "$@") - c0) * 40)) -lt "$HZ" ] && break
	done
}
# peak NAME PIDS PORT...: double from PEAK_START while steps pass, then bisect; PEAK_RATE
peak() {
	local name=$1 pids=$2 rate=$PEAK_START lo=0 hi="" steps=0 tol
	shift 2
	while [ "$steps" -lt "$MAX_STEPS" ]; do
		steps=$((steps + 1))
		"${PEAK_STEP:-peak_step}" "$name-$rate" "$rate" "$@"
		if [ "$STEP_PASS" = 1 ]; then lo=$rate; else
			hi=$rate
			# shellcheck disable=SC2086
			settle $pids
		fi
		if [ -z "$hi" ]; then rate=$((rate * 2)); continue; fi
		tol=$((lo * 8 / 100))
		[ "$tol" -ge 50 ] || tol=50
		[ $((hi - lo)) -gt "$tol" ] || break
		rate=$(((lo + hi) / 2))
	done
	PEAK_RATE=$lo
	local bound="no step failed: a lower bound"
	[ -z "$hi" ] || bound="failed at $hi/s"
	echo "peak $name: $lo ${PEAK_UNIT:-REGISTERs}/s ($bound; load average $(cut -d' ' -f1-3 /proc/loadavg))"
}
ratio() { # ratio A B: A/B with two decimals
	if [ "$2" -gt 0 ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; else echo -; fi
}
# msg_step NAME RATE PORT: snd1's MESSAGEs to dev2 through PORT at RATE for PSTEP
# seconds (one SIPp); STEP_PASS as peak_step's
msg_step() {
	local name=$1 rate=$2 port=$3 count ok failed t0 wall
	count=$((rate * PSTEP))
	t0=$(date +%s%N)
	(cd "$T" && exec timeout $((PSTEP * 3 + 25)) "$SIPP" -sf "$SCEN/load_message.xml" \
		-i 127.0.0.1 -p "$(free_port)" -nostdin -r "$rate" -rp 1000 -m "$count" \
		-recv_timeout 4000 -au snd1 -ap secret -set user snd1 -set domain "$DOMAIN" \
		-set to "dev2@$DOMAIN" "127.0.0.1:$port" > "$T/$name.out" 2>&1) &
	PIDS+=("$!")
	wait "$!" || true # a failed call is counted below
	wall=$((($(date +%s%N) - t0) / 1000000))
	ok=$(sipp_count "$T/$name.out" "Successful call")
	failed=$(sipp_count "$T/$name.out" "Failed call")
	STEP_PASS=0 STEP_OK=$ok
	if [ $(((count - ok) * 1000)) -le "$count" ] && [ $((failed * 1000)) -le "$count" ] &&
		[ "$wall" -le $((PSTEP * 1100 + 500)) ]; then STEP_PASS=1; fi
	printf '  %-22s rate %6d/s: ok %d/%d failed %d in %d.%03d s -> %s\n' "$name" "$rate" "$ok" \
		"$count" "$failed" $((wall / 1000)) $((wall % 1000)) "$([ "$STEP_PASS" = 1 ] && echo pass || echo FAIL)"
}
# msg_cpu NAME PORT PID...: one msg_step at MRATE; the CPU per MESSAGE answered 200 of
# each PID (with its children: Kamailio's) and of PostgreSQL
msg_cpu() {
	local name=$1 port=$2 p out="" pgb pga
	shift 2
	local -a b=()
	# shellcheck disable=SC2046 # the children's pids, one a word
	for p in "$@"; do b+=("$(ticks "$p" $(ps -o pid= --ppid "$p"))"); done
	# shellcheck disable=SC2046
	pgb=$(ticks $(pg_pids))
	msg_step "$name" "$MRATE" "$port"
	# shellcheck disable=SC2046
	pga=$(ticks $(pg_pids))
	local i=0
	for p in "$@"; do
		# shellcheck disable=SC2046
		out+="$(us_per_op $(($(ticks "$p" $(ps -o pid= --ppid "$p")) - b[i])) "$STEP_OK") "
		i=$((i + 1))
	done
	printf '%-28s %6d MESSAGEs answered 200 | µs/MESSAGE: %s| PostgreSQL µs/MESSAGE: %s | load average %s\n' \
		"$name" "$STEP_OK" "$out" "$(us_per_op $((pga - pgb)) "$STEP_OK")" "$(cut -d' ' -f1-3 /proc/loadavg)"
	[ "$STEP_OK" = $((MRATE * PSTEP)) ] # every one answered 200 (late or not: CPU is what counts)
}
both_passed() { [ "$PKP" -gt 0 ] && [ "$PKK" -gt 0 ]; }
if [ -n "$PEAKMSG" ]; then
	MRATE=${MRATE:-1000} ROUNDS=${ROUNDS:-3}
	for n in 1 2; do check "front end $n started" fe_start "$n"; done
	check "Kamailio (usrloc write-through on PostgreSQL, MESSAGE route) started" kam_start
	# dev2's device: a SIPp UAS, registered on front end 2 and on Kamailio
	DP=$(free_port) KDP=$(free_port)
	TARGET_PORT=${FE_PORT[2]} register dev2-fe dev2 secret "<sip:dev2@127.0.0.1:$DP>" 3600
	check "dev2 registered on front end 2" [ "$(last_status dev2-fe)" = 200 ]
	TARGET_PORT=$KAM_PORT register dev2-kam dev2 secret "<sip:dev2@127.0.0.1:$KDP>" 3600
	check "dev2 registered on Kamailio" [ "$(last_status dev2-kam)" = 200 ]
	sipp_bg uas-fe uas_message.xml "$DP"
	sipp_bg uas-kam uas_message.xml "$KDP"
	sleep 2 # front end 1 hears of dev2's binding (gw_bindings)
	KAMP="$KAM_PID"
	for r in $(seq 1 "$ROUNDS"); do
		check "round $r: the pool's MESSAGEs at $MRATE/s all answered" \
			msg_cpu "msg-pool-r$r(fe1,fe2)" "${FE_PORT[1]}" "${FE_PID[1]}" "${FE_PID[2]}"
		check "round $r: Kamailio's MESSAGEs at $MRATE/s all answered" \
			msg_cpu "msg-kamailio-r$r(kam)" "$KAM_PORT" "$KAMP"
	done
	PEAK_STEP=msg_step PEAK_UNIT=MESSAGEs
	peak msg-pool-fe1-to-fe2 "${FE_PID[*]} $(pg_pids | tr '\n' ' ')" "${FE_PORT[1]}"
	PKP=$PEAK_RATE
	peak msg-kamailio "$KAM_PID $(ps -o pid= --ppid "$KAM_PID" | tr '\n' ' ')" "$KAM_PORT"
	PKK=$PEAK_RATE
	echo "peak MESSAGE/s: pool (front end 1 -> 2) $PKP, Kamailio $PKK; pool / Kamailio $(ratio "$PKP" "$PKK")"
	echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	check "some MESSAGE rate passed on the pool ($PKP) and on Kamailio ($PKK)" both_passed
	checks_summary
	exit
fi
if [ -n "$PEAK" ]; then
	declare -A PK
	ports=()
	for n in 1 2 3; do
		check "front end $n started" fe_start "$n"
		ports+=("${FE_PORT[n]}")
		sleep 1
		peak "reg-digest-pg-$n" "${FE_PID[*]} $(pg_pids | tr '\n' ' ')" "${ports[@]}"
		PK[$n]=$PEAK_RATE
	done
	for n in 1 2 3; do kill "${FE_PID[n]}"; wait "${FE_PID[n]}" 2>/dev/null || true; done
	check "Kamailio (usrloc write-through on PostgreSQL) started" kam_start
	peak reg-digest-kamailio-pg "$KAM_PID $(ps -o pid= --ppid "$KAM_PID" | tr '\n' ' ') $(pg_pids | tr '\n' ' ')" "$KAM_PORT"
	PK[kam]=$PEAK_RATE
	kill "$KAM_PID"
	wait "$KAM_PID" 2>/dev/null || true
	echo "peak REGISTER Digest/s on PostgreSQL: 1 fe ${PK[1]}, 2 fe ${PK[2]}, 3 fe ${PK[3]}, Kamailio ${PK[kam]}"
	echo "ratios: 2 fe / 1 fe $(ratio "${PK[2]}" "${PK[1]}"), 3 fe / 1 fe $(ratio "${PK[3]}" "${PK[1]}")," \
		"1 fe / Kamailio $(ratio "${PK[1]}" "${PK[kam]}"), 3 fe / Kamailio $(ratio "${PK[3]}" "${PK[kam]}")"
	echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	for n in 1 2 3 kam; do check "peak $n: some rate passed" [ "${PK[$n]}" -gt 0 ]; done
	checks_summary
	exit
fi

for n in 1 2 3; do
	check "front end $n started" fe_start "$n"
	sleep 1
	row "reg-digest-pg-$n" reg "$n" pg
	row "message-across-pg-$n" msg "$n" pg
done

# presence: a watcher on front end 2, PUBLISHes on front end 1
python3 - "${FE_PORT[1]}" "${FE_PORT[2]}" "$CHANGES" > "$T/presence.out" 2>&1 <<'PY'
import os, sys, time
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "integration"))
from presua import UA, Sub, pidf, publish
p1, p2, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
alice = UA("alice", "secret", p1, "tcp"); alice.register()
carol = UA("carol", "secret", p2, "tcp"); carol.register()
time.sleep(1.0)
s = Sub(carol, "alice@example.test"); s.notify()
lat, ans, etag = [], [], None
for i in range(n):
    note = "bench-%d" % i
    t0 = time.time()
    r = publish(alice, pidf(alice.aor, activity="busy" if i % 2 else "away", note=note), etag=etag)
    ans.append((time.time() - t0) * 1000)
    etag = r.h("sip-etag") if r is not None and r.status == 200 else None
    m = s.notify(lambda m: note in m.body, timeout=5.0)
    if m is not None:
        lat.append((time.time() - t0) * 1000)
lat.sort()
ans.sort()
pct = lambda v, q: v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")
print("presence change front end 1 -> watcher on front end 2: %d of %d seen, p50 %.1f ms, p99 %.1f ms"
      " (of which the PUBLISH, durable, answered: p50 %.1f ms, p99 %.1f ms)"
      % (len(lat), n, pct(lat, 0.5), pct(lat, 0.99), pct(ans, 0.5), pct(ans, 0.99)))
sys.exit(0 if len(lat) == n else 1)
PY
PRC=$?
cat "$T/presence.out"
check "every presence change reached the watcher on the other front end" [ "$PRC" = 0 ]

for n in 1 2 3; do kill "${FE_PID[n]}"; wait "${FE_PID[n]}" 2>/dev/null || true; done

check "Kamailio (usrloc write-through on PostgreSQL): every REGISTER with Digest answered" kam_row
check "and its bindings are in PostgreSQL (${KAM_ROWS:-0} rows)" [ "${KAM_ROWS:-0}" -gt 0 ]

# one front end on SQLite, alone (its device registers there anew)
DEV_UP=()
sed -i -e '/^\[store\]/,/^pool-size/d' -e '/^\[pool\]/,$d' "$T/fe1/greenwich.conf"
cp "$T/fe1/greenwich.conf" "$T/greenwich.conf"
add_all
check "front end 1 started alone on SQLite" fe_start 1
row "reg-digest-sqlite-1" reg 1 sqlite
row "message-sqlite-1" msg 1 sqlite
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
checks_summary
