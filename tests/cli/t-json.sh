#!/bin/bash
# t-json.sh - greenwich-mmc --json: the output of every one-shot verb that needs no domain
# controller and no running greenwichd (local-user, policy with a [policy] rules-file, the
# presence lists, domain show, the tree's ls and show, and the error object of each kind of
# failure) validated against mmc-schema.json with python3-jsonschema, and its exit code.
# The verbs that need a DC are validated the same way in t-users.sh and t-domain.sh, the
# server verbs in t-server.sh (server-schema.json).
set -eu
# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CONF=$T/greenwich.conf
# partners need [tls] ca-file, which needs a TLS listener (nothing here reads the files)
write_conf "$CONF" "[policy]
rules-file = $T/rules.pol
[server]
tls = 127.0.0.1:5061
[tls]
certificate = $T/server.crt
key = $T/server.key
ca-file = $T/ca.crt
[federation]
allow = partner.example.net
block = blocked.example.org"
SCHEMA=$HERE/mmc-schema.json

# js NAME DEF RC ARG...: `greenwich-mmc --json ARG...` exits RC, its stdout matches $defs/DEF.
js()
{
	local name=$1 def=$2 want=$3 rc=0
	shift 3
	"$MMC" -c "$CONF" --json "$@" >"$T/$name.json" 2>"$T/$name.err" </dev/null || rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit $rc, wanted $want"
		sed 's/^/     /' "$T/$name.json" "$T/$name.err"
	elif /usr/bin/python3 "$HERE/schemacheck.py" "$SCHEMA" "$def" "$T/$name.json" >"$T/$name.why"; then
		pass "$name: exit $rc, $def"
	else
		fail "$name: $(cat "$T/$name.why")"
	fi
}
# field NAME EXPR: a python expression on the document d of $T/NAME.json is true.
field()
{
	check "$1: $2" /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$T/$1.json"
}

echo "# local-user"
printf 'Secret-1\n' | "$MMC" -c "$CONF" --json local-user add alice@example.com --password-stdin >"$T/lu-add.json"
check "local-user add: local-user-change" /usr/bin/python3 "$HERE/schemacheck.py" "$SCHEMA" local-user-change "$T/lu-add.json"
field lu-add 'd["change"] == "added" and d["realm"] == "example.com"'
printf 'Secret-2\n' | "$MMC" -c "$CONF" local-user add bob@example.com --password-stdin >/dev/null
printf 'Secret-3\n' | "$MMC" -c "$CONF" --json local-user passwd alice@example.com --password-stdin >"$T/lu-passwd.json"
check "local-user passwd: local-user-change" /usr/bin/python3 "$HERE/schemacheck.py" "$SCHEMA" local-user-change "$T/lu-passwd.json"
field lu-passwd 'd == {"aor": "alice@example.com", "change": "password changed"}'
js lu-passwd-missing error 3 local-user passwd nobody@example.com --password-stdin
printf 'Secret-4\n' | "$MMC" -c "$CONF" local-user passwd bob@example.com --password-stdin >"$T/lu-passwd.out" 2>&1
check "local-user passwd: says so" grep -qx "password of bob@example.com changed" "$T/lu-passwd.out"
js lu-list local-user-list 0 local-user list
field lu-list '[u["aor"] for u in d] == ["alice@example.com", "bob@example.com"]'
js lu-show local-user-show 0 show "/example.com/Local users/alice@example.com"
js lu-remove local-user-change 0 local-user remove bob@example.com
field lu-remove 'd == {"aor": "bob@example.com", "change": "removed"}'
js lu-remove-missing error 3 local-user remove bob@example.com
field lu-remove-missing 'd["exit"] == 3 and "no local user bob@example.com" in d["error"]'
js lu-add-bad error 2 local-user add nobody --password-stdin
js lu-add-empty error 2 local-user add carol@example.com --password-stdin

echo "# policy (rules file)"
js pol-add policy-change 0 policy add 'rule "outside-im" priority 10 { from zone external; class im; action allow; }'
field pol-add 'd == {"rule": "outside-im", "change": "added", "priority": 10}'
js pol-add2-refused error 7 policy add 'rule "no-calls" priority 20 { class call; action deny 403 "No calls"; }'
field pol-add2-refused '"add --force" in d["error"]'
js pol-add2-dry policy-change 0 policy add --dry-run 'rule "no-calls" priority 20 { class call; action deny 403 "No calls"; }'
field pol-add2-dry 'd["dry_run"] is True and "denies every internal user (call)" in d["warnings"][0]'
js pol-add2 policy-change 0 policy add --force 'rule "no-calls" priority 20 { class call; action deny 403 "No calls"; }'
field pol-add2 'd["priority"] == 20 and len(d["warnings"]) == 1'
js pol-list policy-list 0 policy list
field pol-list '[r["name"] for r in d] == ["outside-im", "no-calls"]'
js pol-show rule 0 policy show no-calls
field pol-show 'd["priority"] == 20'
js pol-set policy-change 0 policy set no-calls --force 'rule "no-calls" priority 20 { class call; action deny 486 "Busy"; }'
field pol-set 'd["change"] == "changed"'
js pol-move policy-change 0 policy move no-calls --before outside-im
field pol-move 'd["change"] == "moved" and d["priority"] < 10'
js pol-test policy-test 0 policy test --from sip:x@outside.org --to sip:alice@example.com --class im
field pol-test 'd["decision"] == "allow" and d["rule"] == "outside-im" and d["zone"] == "external"'
js pol-test-deny policy-test 0 policy test --from sip:x@outside.org --to sip:alice@example.com --class call
field pol-test-deny 'd["decision"] == "deny" and d["code"] == 486'
field pol-test 'd["arrival"] == "unproven" and d["network"] == "remote" and d["class"] == "im" and d["notes"] == []'
js pol-test-internal policy-test 0 policy test --from sip:bob@example.com --to sip:alice@example.com --class call
field pol-test-internal 'd["zone"] == "internal" and d["arrival"] == "authenticated" and d["network"] == "internal" and d["decision"] == "deny" and d["code"] == 486'
# a partner's user is federated only with its server's proof, and says so
js pol-test-partner policy-test 0 policy test --from sip:x@partner.example.net --to sip:alice@example.com --class im
field pol-test-partner 'd["zone"] == "external" and d["arrival"] == "unproven" and len(d["notes"]) == 1 and "--arrival verified-peer" in d["notes"][0]'
js pol-test-peer policy-test 0 policy test --from sip:x@partner.example.net --to sip:alice@example.com --class im --arrival verified-peer
field pol-test-peer 'd["zone"] == "federated" and d["arrival"] == "verified-peer" and d["notes"] == [] and d["decision"] == "deny" and d["default"]'
js pol-test-blocked policy-test 0 policy test --from sip:x@blocked.example.org --to sip:alice@example.com --class im --arrival verified-peer
field pol-test-blocked 'd["blocked"] and d["decision"] == "deny" and d["code"] == 403 and d["rule"] == "federation-blocked" and d["zone"] == "external"'
js pol-test-other policy-test 0 policy test --from sip:x@outside.org --to sip:alice@example.com --class other
field pol-test-other 'd["class"] == "other" and d["decided_as"] == "call" and d["code"] == 486 and d["rule"] == "no-calls"'
js pol-test-dialog policy-test 0 policy test --from sip:x@outside.org --to sip:alice@example.com --class call --zone internal
field pol-test-dialog '"arrival" not in d and d["zone"] == "internal" and d["code"] == 486'
js pol-test-arrival-bad error 2 policy test --from sip:x@outside.org --to sip:alice@example.com --class im --arrival trusted
js pol-test-not-ours error 2 policy test --from sip:x@outside.org --to sip:alice@example.com --class im --arrival authenticated
field pol-test-not-ours '"only users of this server" in d["error"]'
js pol-test-ours-unproven error 2 policy test --from sip:bob@example.com --to sip:alice@example.com --class im --arrival unproven
js pol-test-both error 2 policy test --from sip:x@outside.org --to sip:alice@example.com --class im --arrival unproven --zone external
js pol-show-missing error 3 policy show nothing
js pol-add-bad error 2 policy add 'rule "x" priority 1 { class imm; action allow; }'
js pol-add-dup error 7 policy add 'rule "no-calls" priority 30 { class im; action allow; }'
js pol-test-usage error 2 policy test --from sip:a@b
js pol-move-self error 2 policy move no-calls --after no-calls
js pol-move-dry policy-change 0 policy move outside-im --before no-calls --dry-run
field pol-move-dry 'd["dry_run"] is True and d["writes"][0]["rule"] == "outside-im"'
js pol-add-noprio policy-change 0 policy add 'rule "later" { class presence; from zone external; action allow; }'
field pol-add-noprio 'd["priority"] == 20'
js pol-remove policy-change 0 policy remove later
js fed-bad error 2 federation allow 'not a domain'
js fed-wildcard error 2 federation block '*.example.net'
js fed-own error 7 federation allow example.com
js usage-verb error 2 policy frobnicate
js usage-noun error 2 frobnicate
js usage-option error 2 --frobnicate policy list
js usage-set error 2 set
js usage-join error 2 domain join --frobnicate
js audit audit 0 audit
field audit 'any(e["verb"] == "policy add" and e["object"] == "no-calls" and e["admin"] == "-" for e in d)'
js pol-tree-ls policy-list 0 ls /example.com/Policies/no-calls/..
js pol-tree-show rule 0 show /example.com/Policies/no-calls
js pol-tree-new policy-change 0 new /example.com/Policies/extra 'rule "extra" priority 40 { class im; action allow; }'
js pol-tree-prio policy-change 0 set /example.com/Policies/extra priority 45
js pol-delete policy-change 0 delete /example.com/Policies/extra
js pol-delete-missing error 3 policy delete extra

echo "# federation and users need a domain"
js fed-list-no-domain error 3 federation list
field fed-list-no-domain '"join a domain first" in d["error"]'
js users-no-domain error 1 users list
field users-no-domain '"not joined to a domain" in d["error"]'

echo "# presence lists"
js pl-add list-change 0 users contact-add alice@example.com sip:Bob@Example.com --group Team --name Bob
field pl-add 'd["change"] == "contact-add" and d["uri"] == "Bob@example.com" and not d["server_told"]'
js pl-contacts contacts 0 users contacts alice@example.com
field pl-contacts 'd["contacts"][0]["groups"] == "Team"'
js pl-block list-change 0 users block alice@example.com eve@example.com
js pl-acl acl 0 users acl alice@example.com
field pl-acl 'd["acl"] == [{"watcher": "eve@example.com", "rule": "block"}]'
js pl-tree-contact contact-node 0 show /example.com/Users/alice/Contacts/Bob@example.com
js pl-tree-watcher watcher-node 0 show /example.com/Users/alice/Watchers/eve@example.com
js pl-tree-set list-change 0 set /example.com/Users/alice/Watchers/eve@example.com rule allow
js pl-tree-ls tree-ls 0 ls /example.com/Users/alice@example.com
field pl-tree-ls '[n["type"] for n in d] == ["contacts", "watchers"]'
js pl-tree-ls-watchers acl 0 ls /example.com/Users/alice/Watchers
field pl-tree-ls-watchers 'd["acl"][0]["rule"] == "allow"'
js pl-acl-remove list-change 0 users acl-remove alice@example.com eve@example.com
js pl-remove list-change 0 delete /example.com/Users/alice/Contacts/bob@example.com
js pl-remove-missing error 3 users contact-remove alice@example.com bob@example.com
js pl-not-served error 2 users contacts alice@elsewhere.org
js pl-tree-missing error 3 show /example.com/Users/alice/Contacts/bob@example.com

echo "# domain show, the tree, the server without greenwichd"
js domain-show domain-show 0 domain show
js tree-ls tree-ls 0 ls /example.com
js tree-ls-root tree-ls 0 ls /
js server-down error 6 server status
field server-down '"greenwichd is not running" in d["error"]'

echo "# completion of rule names (the bash completion and the console use it)"
check "complete: rule names after policy remove" \
	test "$("$MMC" -c "$CONF" complete "policy remove no" </dev/null)" = "no-calls"
check "complete: rule names after --before, no options there" \
	test "$("$MMC" -c "$CONF" complete "policy move no-calls --before out" </dev/null)" = "outside-im"
check "complete: the new options" \
	test "$("$MMC" -c "$CONF" complete "policy add x --" </dev/null | tr '\n' ' ')" = "--force --dry-run "

echo "# the audit file of a state directory that belongs to the server's user"
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$T/own-state"
	chown 65534:65534 "$T/own-state"
	sed "s|^state-directory = .*|state-directory = $T/own-state|" "$CONF" >"$T/own.conf"
	"$MMC" -c "$T/own.conf" policy add 'rule "own" priority 500 { class im; action allow; }' >/dev/null 2>&1 || true
	check "root's first change gives mmc-audit.log to the directory's owner" \
		test "$(stat -c %u:%g:%a "$T/own-state/mmc-audit.log" 2>/dev/null)" = 65534:65534:640
	check "... and writes the line" grep -q 'verb="policy add" object=own priority=500' "$T/own-state/mmc-audit.log"
fi
finish
