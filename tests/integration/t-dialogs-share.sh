#!/bin/bash
# t-dialogs-share.sh: one address's share of the dialogs the proxy routes ([limits]
# dialogs-per-source = 3).  dave, signed in from 127.0.0.5, makes calls bob's device
# answers, which stay up: without the share one address with an answering device of
# its own could hold the whole table (max-dialogs) for the 12 hours an idle call is
# kept, and nobody else could call.  3 calls (answered or ringing) go through, the next
# gets 503 with Retry-After and never reaches the device, while alice (127.0.0.1)
# calls bob and that call goes through; a CANCEL and a BYE each give a share back.
# The cases are calls_share_cases.py's (NAME dialogs); here the log and the status.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

SHARE=3
write_conf "[limits]" "dialogs-per-source = $SHARE"
add_user alice alice-pw
add_user bob bob-pw
add_user dave dave-pw
start_gwd

run_cases calls_share_cases.py dialogs "$PORT" "$MMC" "$T/greenwich.conf" "$GWD_PID" "$SHARE"

check "the log names the address and the share" \
	grep -q "event=dialogs-refused source=127.0.0.5 limit=$SHARE " "$T/greenwichd.log"
check "... and never alice's address" \
	bash -c "! grep -q 'event=dialogs-refused source=127.0.0.1' '$T/greenwichd.log'"
"$MMC" -c "$T/greenwich.conf" server status > "$T/status.out" 2>&1
check "server status shows the share" grep -qE "^limit dialogs-per-source +$SHARE$" "$T/status.out"
check "server status counts the refusals" grep -qE "^dialog shares refused +3$" "$T/status.out"
check "greenwichd still running" kill -0 "$GWD_PID"
finish
