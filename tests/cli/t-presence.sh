#!/bin/bash
# t-presence.sh - greenwich-mmc `users contacts|contact-add|contact-remove|acl|allow|block|
# acl-remove`: server-stored contact lists and presence authorization lists in the
# server's database, and the push to a running greenwichd (control command
# presence-changed): a signed-in device gets the new contact list and a watcher blocked
# from the console sees the user offline at once, allowed again online.
set -eu
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/../integration/lib.sh"
PY=/usr/bin/python3
export PYTHONPATH="$top_srcdir/tests/integration"

write_conf
for u in alice bob; do add_user "$u" "$u-pw"; done
CONF=$T/greenwich.conf
mmc() { "$MMC" -c "$CONF" "$@"; }
# expect WHAT RC PATTERN CMD...: CMD exits RC, its output (both streams) matches PATTERN.
expect() {
	local what=$1 want=$2 pat=$3 rc=0
	shift 3
	"$@" >"$T/out" 2>&1 || rc=$?
	if [ "$rc" -eq "$want" ] && grep -qE -- "$pat" "$T/out"; then pass "$what"; else
		fail "$what (exit $rc, wanted $want and /$pat/)"; sed 's/^/     /' "$T/out"; fi
}
# wait_file NAME: bounded wait for $T/NAME.
wait_file() {
	for _ in $(seq 1 100); do [ -e "$T/$1" ] && return 0; sleep 0.05; done
	return 1
}

# ---- greenwichd not running: the tables are edited all the same ----
expect "contact-add without greenwichd: stored, says it is not reachable" 0 \
	"not reachable" mmc users contact-add alice@example.test sip:Bob@Example.test \
	--group Colleagues --name Bob
expect "contacts lists bob in group Colleagues" 0 "^Bob@example.test +Colleagues +Bob" \
	mmc users contacts alice@example.test
expect "--json contacts" 0 '"uri":"Bob@example.test","name":"Bob","groups":"Colleagues"' \
	mmc --json users contacts alice@example.test
expect "contact-remove of a contact not on the list: exit 3" 3 "not on alice" \
	mmc users contact-remove alice@example.test dave@example.test
expect "a user of a domain not served: exit 2" 2 "not in a domain this server serves" \
	mmc users contacts alice@elsewhere.test
expect "not an address: exit 2" 2 "is not a user@domain address" \
	mmc users block alice@example.test nobody
expect "block needs a watcher: usage, exit 2" 2 "usage: users block USER@DOMAIN WATCHER-URI" \
	mmc users block alice@example.test
expect "help lists the presence commands" 0 "users contact-add USER@DOMAIN URI" mmc help users

# ---- with greenwichd: the devices and watchers are told at once ----
start_gwd
"$PY" - "$PORT" "$T" > "$T/ua.out" 2>&1 <<'PY' &
import os, sys, time
from presua import UA, Sub, pidf, publish
port, t = int(sys.argv[1]), sys.argv[2]
def ok(what, cond):
    print(("ok - " if cond else "FAILED - ") + what, flush=True)
def step(name):  # tell the shell, wait for its go
    open(os.path.join(t, name), "w").close()
    for _ in range(200):
        if os.path.exists(os.path.join(t, name + ".go")):
            return
        time.sleep(0.05)
alice, bob = UA("alice", "alice-pw", port, "tcp"), UA("bob", "bob-pw", port)
alice.register(); bob.register()
rc = Sub(alice, "alice@example.test", event="vnd-microsoft-roaming-contacts",
         headers=["Accept: application/vnd-microsoft-roaming-contacts+xml"])
n = rc.notify()
ok("alice's device has her list with bob", n is not None and 'uri="Bob@example.test"' in n.body)
watch = Sub(alice, "bob@example.test")
ok("alice sees bob online", watch.notify() is not None)
step("list")
n = rc.notify(lambda m: "carol@example.test" in m.body)
ok("contact-add from the console: alice's device gets the new list at once", n is not None)
step("block")
n = watch.notify()
ok("block from the console: alice sees bob closed at once",
   n is not None and "<basic>closed</basic>" in n.body)
step("allow")
n = watch.notify()
ok("allow from the console: alice sees bob open again",
   n is not None and "<basic>open</basic>" in n.body)
rc.refresh(0); watch.refresh(0); alice.register(0); bob.register(0)
PY
UA_PID=$!
PIDS+=("$UA_PID")
check "the device subscribed" wait_file list
expect "contact-add with greenwichd: told" 0 "greenwichd told: alice@example.test's contact list" \
	mmc users contact-add alice@example.test carol@example.test
touch "$T/list.go"
check "the watcher is in place" wait_file block
expect "block: rule stored, greenwichd told" 0 "block bob@example.test|greenwichd told" \
	mmc users block bob@example.test sip:alice@example.test
touch "$T/block.go"
check "blocked seen" wait_file allow
expect "acl shows the rule" 0 "^alice@example.test +block" mmc users acl bob@example.test
expect "allow: replaces it" 0 "allow alice@example.test" \
	mmc users allow bob@example.test alice@example.test
touch "$T/allow.go"
wait "$UA_PID" || true
cat "$T/ua.out"
CHECKS=$((CHECKS + $(grep -c '^\(ok\|FAILED\) - ' "$T/ua.out" || true)))
FAILS=$((FAILS + $(grep -c '^FAILED - \|Traceback' "$T/ua.out" || true)))
expect "acl --json" 0 '"watcher":"alice@example.test","rule":"allow"' \
	mmc --json users acl bob@example.test
expect "acl-remove" 0 "rule for alice@example.test removed \(was allow\)" \
	mmc users acl-remove bob@example.test alice@example.test
expect "contact-remove" 0 "removed from alice@example.test's contacts" \
	mmc users contact-remove alice@example.test bob@example.test
expect "the list has carol only" 0 "^carol@example.test" mmc users contacts alice@example.test
check "bob is gone from it" bash -c "! '$MMC' -c '$CONF' users contacts alice@example.test | grep -qi bob"
check "greenwichd logged the pushes (contacts, acl)" bash -c "grep -q \
	'event=presence-changed user=alice@example.test list=contacts' '$T/greenwichd.log' &&
	grep -q 'event=presence-changed user=bob@example.test list=acl' '$T/greenwichd.log'"
check "greenwichd still runs" kill -0 "$GWD_PID"
finish
