#!/bin/bash
# t-tls-churn.sh: TLS clients sign in (REGISTER with Digest on a new connection), close
# (every other time with a reset) and come again, for GW_CHURN_SECONDS (20; the issue's
# run took 600 under ASan), after a 5 s warm-up.  Whatever a connection holds must go
# with it: greenwichd's resident memory grows by at most GW_CHURN_GROWTH_KB (4096) over
# the second half of the churn (the allocator's caches fill in the first), and a
# sanitizer build reports no leak at exit.  Under ASan the quarantine of freed memory
# is kept at 8 MB (it would otherwise grow to 256 MB, and be the growth measured).  Clients: bench/tlsidle.py --churn.
# Also: the listener takes a crowd of connects (its backlog).
# a flood (or load) against greenwichd's capacity: the machine to itself (tests/lib/machine.sh)
TEST_ALONE=1
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

SECS=${GW_CHURN_SECONDS:-20}
BOUND=${GW_CHURN_GROWTH_KB:-4096}
CLIENTS=20
if nm -D "$GWD" 2>/dev/null | grep -q __asan_init || ldd "$GWD" | grep -q libasan; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
fi
WITH_TLS=1 write_conf
add_tlsidle_users "$CLIENTS"
start_gwd
# Sofia's own backlog is 64 (daemon/sofia/listen_backlog.c raises it)
backlog=$(ss -Hltn "sport = :$TLSPORT" | awk '{ print $3; exit }')
check "the TLS listener's backlog is at least 1024 (${backlog:-none})" test "${backlog:-0}" -ge 1024

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$GWD_PID/status"; }
churn() { # churn SECONDS OUTFILE
	python3 "$top_srcdir/bench/tlsidle.py" --port "$TLSPORT" --domain "$DOMAIN" \
		-n "$CLIENTS" --churn "$1" > "$2" 2>&1 || true
}
churn 5 "$T/warm.out"
warm=$(rss)
# in two halves: a leak grows with every connection, while the allocator's caches
# (and ASan's quarantine) fill up once; the second half must not grow
churn $(((SECS + 1) / 2)) "$T/churn1.out"
half=$(rss)
churn $(((SECS + 1) / 2)) "$T/churn2.out"
after=$(rss)
echo "# $(tail -1 "$T/churn1.out"), $(tail -1 "$T/churn2.out"); RSS $warm -> $half -> $after kB"
check "the warm-up's clients all signed in: $(tail -1 "$T/warm.out")" \
	grep -qE "^churn signins=[1-9][0-9]* failed=0 " "$T/warm.out"
for h in 1 2; do
	check "every sign-in of the churn's half $h succeeded: $(tail -1 "$T/churn$h.out")" \
		grep -qE "^churn signins=[1-9][0-9]* failed=0 " "$T/churn$h.out"
done
check "resident memory over the second half within $BOUND kB ($half -> $after kB)" \
	test "$after" -le $((half + BOUND))
check "no event-loop anomaly: $(grep -m1 'wait-anomaly' "$T/greenwichd.log")" \
	bash -c "! grep -q 'event=wait-anomaly' '$T/greenwichd.log'"
finish
