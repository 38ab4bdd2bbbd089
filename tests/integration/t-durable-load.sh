#!/bin/bash
# Durability under load: with hundreds of REGISTERs (Digest) in flight,
# greenwichd is killed with SIGKILL right after a quarter of them were
# answered 200.  Every binding answered 200 must be in the database, and
# greenwichd must load it again at restart.
# a flood (or load) against greenwichd's capacity: the machine to itself (tests/lib/machine.sh)
TEST_ALONE=1
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf "[registrar]" "max-contacts = 1000"
sed -i 's/^level = debug/level = notice/' "$T/greenwich.conf"
add_user alice alice-pw
start_gwd
echo "$GWD_PID" > "$T/kill.pid"

N=600
/usr/bin/python3 "$(dirname "$0")/regflood.py" "$PORT" alice alice-pw "$DOMAIN" $N kill \
	"$T/kill.pid" "$T/ok.txt" > "$T/flood.out"
for _ in $(seq 1 50); do kill -0 "$GWD_PID" 2>/dev/null || break; sleep 0.1; done
OK=$(wc -l < "$T/ok.txt")
check "killed after 200s with REGISTERs still in flight" \
	grep -q "killed=True" "$T/flood.out"
check "at least a quarter answered 200 ($OK)" [ "$OK" -ge $((N / 4)) ]
check "fewer answered than sent: the kill came mid-load" [ "$OK" -lt $N ]

/usr/bin/python3 - "$T/state/location.db" "$T/ok.txt" > "$T/missing.txt" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
stored = {r[0] for r in db.execute("SELECT uri FROM bindings WHERE aor LIKE 'alice@%'")}
for line in open(sys.argv[2]):
    if line.strip() not in stored:
        print(line.strip())
PY
check "every binding answered 200 is in the database" [ ! -s "$T/missing.txt" ]

start_gwd
BOUND=$(grep event=started "$T/greenwichd.log" | tail -1 | sed -n 's/.*bindings=\([0-9]*\).*/\1/p')
check "restart loads at least the bindings answered 200 ($BOUND)" [ "${BOUND:-0}" -ge "$OK" ]
finish
