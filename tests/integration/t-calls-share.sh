#!/bin/bash
# t-calls-share.sh: one address's share of the requests a worker forwards
# ([limits] calls-per-source = 5).  dave, signed in from 127.0.0.5, keeps calls
# ringing at bob's device, which never answers them: 5 ring, the next gets 503 with
# Retry-After and never reaches the device, while alice (127.0.0.1) calls bob and
# that call goes through; a BYE of dave's answered call passes; a CANCEL gives the
# room back; a reload changes the share at once.  The cases are calls_share_cases.py's;
# here the log lines and the status.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

SHARE=5
write_conf "[limits]" "calls-per-source = $SHARE"
add_user alice alice-pw
add_user bob bob-pw
add_user dave dave-pw
start_gwd

run_cases calls_share_cases.py share "$PORT" "$MMC" "$T/greenwich.conf" "$GWD_PID" "$SHARE"

check "the log names the address and the share" \
	grep -q "event=calls-refused source=127.0.0.5 limit=$SHARE " "$T/greenwichd.log"
check "... and never alice's address" \
	bash -c "! grep -q 'event=calls-refused source=127.0.0.1' '$T/greenwichd.log'"
check "the reload applied the share at once" \
	grep -q 'event=reload key="\[limits\] calls-per-source" applied=now' "$T/greenwichd.log"
"$MMC" -c "$T/greenwich.conf" server status > "$T/status.out" 2>&1
check "server status shows the share" grep -qE "^limit calls-per-source +$((SHARE + 1))$" "$T/status.out"
check "server status counts the refusals" grep -qE "^calls refused +4$" "$T/status.out"
check "greenwichd still running" kill -0 "$GWD_PID"
finish
