#!/bin/bash
# Calls above the cap of live dialogs ([proxy] max-dialogs = 20): the calls up to it
# complete, the next INVITE gets 503 with Retry-After before anything is forwarded
# (bob's device never sees it), ACK and BYE of established calls pass while the table
# is full, a BYE gives the room back at once, and a call answered but never
# acknowledged gives it back after 64*T1 (32 s; this test waits for that).  First a
# call that rang and whose callee then went away (its connection closed): our CANCEL
# cannot reach it, so the caller's CANCEL gets 487 at once; then one whose callee
# stays and ignores the CANCEL: 487 64*T1 later; the ringing dialog goes with each.
# The cases are call_cases.py's; here the log lines and the status.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

CAP=20
write_conf "[proxy]" "max-dialogs = $CAP" "invite-timeout = 5"
add_user alice alice-pw
add_user bob bob-pw
add_user carol carol-pw
start_gwd

run_cases call_cases.py overload "$PORT" "$MMC" "$T/greenwich.conf" "$CAP"

check "refusing is logged once when it starts" \
	grep -q "event=overload reason=dialogs action=refusing live=$CAP reserved=0" "$T/greenwichd.log"
check "... and its end, with the count refused" \
	grep -qE "event=overload-end reason=dialogs refused=[1-9]" "$T/greenwichd.log"
check "the call whose callee went is logged as given up at once" \
	grep -q 'event=call-gave-up reason="CANCEL could not reach the callee" status=5' "$T/greenwichd.log"
check "the call whose callee ignored the CANCEL is logged as given up" \
	grep -q 'event=call-gave-up reason="no final answer after CANCEL" branches=1' "$T/greenwichd.log"
check "no dialog was dropped for want of room" \
	bash -c "! grep -q event=dialog-table-full '$T/greenwichd.log'"
"$MMC" -c "$T/greenwich.conf" server status > "$T/status.out" 2>&1
check "server status shows the cap" grep -qE "^limit max-dialogs +$CAP$" "$T/status.out"
check "server status shows the refusals" grep -qE "^dialogs refused +[1-9][0-9]*$" "$T/status.out"
check "server status shows the dialogs in each state" \
	grep -qE "^dialogs (ringing|unacknowledged|confirmed|ending|reserved) +[0-9]+$" "$T/status.out"

check "greenwichd still running" kill -0 "$GWD_PID"
finish
