#!/bin/bash
# Policies of a server without a domain: the [policy] rules-file.  An outside sender may
# IM bob only; internal users may IM each other (the built-in default, no rule needed);
# internal networks; the file changed while greenwichd runs applies within seconds; a
# broken file keeps the last good rules; SIGHUP reads it at once; rules managed with
# greenwich-mmc edit the same file.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

RULES="$T/rules.pol"
cat > "$RULES" <<'EOF'
rule "outside-to-bob" priority 10 {
	class im;
	from zone external;
	except to user sip:bob@example.test;
	action deny 403 "Only bob takes outside messages";
}
rule "no-calls-from-lab" priority 20 {
	class call;
	from zone internal;
	from network internal;
	action deny 603;
}
EOF
write_conf "[policy]" "rules-file = $RULES" "poll-interval = 1" "internal-networks = 127.0.0.0/8, ::1"
add_user alice alice-pw
add_user bob bob-pw
start_gwd
check "rules loaded from the file" grep -q "event=policy-loaded source=file rules=2" \
	"$T/greenwichd.log"

B=$(free_port)
register rb bob bob-pw "<sip:bob@127.0.0.1:$B>" 600
sipp_bg uas-b uas_message.xml "$B" -m 2
UAS=$SIPP_BG_PID

outside() { # outside NAME TO
	sipp_run "$1" uac_message.xml -set user guest -set domain outside.test \
		-set to "$2@$DOMAIN" -set body hi
}
outside o-bob bob
check "outside -> bob: 200 (the exception)" [ "$(last_status o-bob)" = 200 ]
outside o-alice alice
check "outside -> alice: 403" [ "$(last_status o-alice)" = 403 ]
check "the phrase tells an outsider nothing" grep -aq "^SIP/2.0 403 Forbidden" "$T/o-alice.msg"
sipp_run i-bob uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "bob@$DOMAIN" -set body inside
check "alice -> bob: 200 (internal, default)" [ "$(last_status i-bob)" = 200 ]
check "bob's device got both" sipp_wait "$UAS"
sipp_run call uac_call.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "bob@$DOMAIN"
check "alice calls from an internal network: 603 from the rule" [ "$(last_status call)" = 603 ]
check "an internal sender sees the rule's phrase" grep -aq "^SIP/2.0 603 Decline" "$T/call.msg"
check "decision logged" grep -q "event=policy rule=no-calls-from-lab from=sip:alice@$DOMAIN to=sip:bob@$DOMAIN method=INVITE class=call zone=internal network=internal result=deny code=603" "$T/greenwichd.log"
check "... with the sender's address" \
	grep -Eq "event=policy rule=no-calls-from-lab .* source=127\.0\.0\.1:[0-9]+$" "$T/greenwichd.log"

# change the file while greenwichd runs (an atomic replace, as editors and mmc do)
sed 's/except to user sip:bob@example.test/except to user sip:alice@example.test/' "$RULES" \
	> "$RULES.new" && mv "$RULES.new" "$RULES"
until_status 480 30 0.3 outside o2-alice alice || true
check "changed file in force while running: outside -> alice 480" [ "$ST" = 480 ]
outside o2-bob bob
check "... and outside -> bob 403" [ "$(last_status o2-bob)" = 403 ]

# a broken file: an error with its position, and the last good rules stay
printf 'rule "x" priority 1 { class imm; action allow; }\n' > "$RULES.new" && mv "$RULES.new" "$RULES"
for _ in $(seq 1 30); do grep -q "event=policy-file-invalid" "$T/greenwichd.log" && break; sleep 0.1; done
check "broken file reported with line and column" \
	grep -q "event=policy-file-invalid file=$RULES line=1 column=29" "$T/greenwichd.log"
outside o3-bob bob
check "last good rules still in force" [ "$(last_status o3-bob)" = 403 ]

# greenwich-mmc edits the same file; SIGHUP makes greenwichd read it at once
"$MMC" -c "$T/greenwich.conf" policy add 'rule "all-outside" priority 5 { from zone external; action allow; }' \
	> "$T/mmc-broken.out" 2>&1 || true
check "mmc refuses to write over a broken file" grep -q "rules.pol:1:29: expected im" "$T/mmc-broken.out"
printf '' > "$RULES"
"$MMC" -c "$T/greenwich.conf" policy add 'rule "all-outside" priority 5 { from zone external; action allow; }' \
	> "$T/mmc-add.out" 2>&1
check "mmc adds a rule to the file" grep -q "added rule 'all-outside'" "$T/mmc-add.out"
"$MMC" -c "$T/greenwich.conf" policy test --from sip:guest@outside.test --to sip:bob@example.test \
	--class im > "$T/mmc-test.out"
check "mmc policy test names the rule" grep -q "^allow  (rule all-outside; sender zone external)" \
	"$T/mmc-test.out"
kill -HUP "$GWD_PID"
for _ in $(seq 1 20); do grep -q "source=file rules=1" "$T/greenwichd.log" && break; sleep 0.1; done
outside o4-alice alice
check "after SIGHUP: outside -> alice 480" [ "$(last_status o4-alice)" = 480 ]
check "greenwichd still running" kill -0 "$GWD_PID"
finish
