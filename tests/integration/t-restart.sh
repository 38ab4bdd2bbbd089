#!/bin/bash
# Bindings are durable: they survive a clean restart and a kill -9, and
# messages are routed from them afterwards; a binding made over a TCP connection
# that is gone after the restart answers 480 (the user is not reachable now), not
# a server error; SIGHUP re-reads the configuration.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf
add_user alice alice-pw
add_user bob bob-pw
add_user carol carol-pw
start_gwd

B=$(free_port)
register rb bob bob-pw "<sip:bob@127.0.0.1:$B>" 600
check "bob registered" [ "$(last_status rb)" = 200 ]

deliver() { im_delivered "$1" "$B"; } # alice sends bob a MESSAGE; his device must get it

check "delivered before restart" deliver before
# carol's device registers over TCP, with a Contact nobody listens on: only its
# connection reached it, and that connection does not survive the restart
CLOSED=$(free_port)
register rc carol carol-pw "<sip:carol@127.0.0.1:$CLOSED;transport=tcp>" 600 1 -t t1
check "carol registered over TCP" [ "$(last_status rc)" = 200 ]
stop_gwd TERM
check "clean stop logged with the bindings kept" grep -q "event=stopping.*bindings=2" "$T/greenwichd.log"
start_gwd
check "restart loaded the bindings" grep -q "event=started.*bindings=2" "$T/greenwichd.log"
check "delivered after a clean restart" deliver after-term
sipp_run mc uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
	-set to "carol@$DOMAIN" -set body "to-a-gone-connection"
check "MESSAGE to carol, whose connection is gone: 480, not 500 (got $(last_status mc))" \
	[ "$(last_status mc)" = 480 ]
check "... and bob's device still gets its messages" deliver after-gone

stop_gwd KILL
start_gwd
check "delivered after kill -9" deliver after-kill

# SIGHUP with a broken file keeps the running configuration
cp "$T/greenwich.conf" "$T/good.conf"
echo "bogus-key = 1" >> "$T/greenwich.conf"
kill -HUP "$GWD_PID"; sleep 0.5
check "broken reload is refused with the reason" grep -q "event=reload-failed.*unknown key 'bogus-key'" "$T/greenwichd.log"
check "still running after a broken reload" kill -0 "$GWD_PID"
cp "$T/good.conf" "$T/greenwich.conf"
sed -i 's/^level = debug/level = notice/' "$T/greenwich.conf"
kill -HUP "$GWD_PID"; sleep 0.5
check "reload applies the new log level" grep -q "event=reload level=notice" "$T/greenwichd.log"
check "reload names the key it applied at once" \
	grep -q 'event=reload key="\[log\] level" applied=now' "$T/greenwichd.log"
# one key that applies at once and one that waits for a restart
printf '[registrar]\nmax-contacts = 3\n' >> "$T/greenwich.conf"
printf '[auth]\nguess-limit = 7\n' >> "$T/greenwich.conf"
kill -HUP "$GWD_PID"; sleep 0.5
check "a live key is applied at reload" \
	grep -q 'event=reload key="\[auth\] guess-limit" applied=now' "$T/greenwichd.log"
check "a restart-only key is said to wait for the restart" \
	grep -q 'event=reload key="\[registrar\] max-contacts" applied=on-restart' "$T/greenwichd.log"
check "the reload counts what it changed" \
	grep -q 'event=reload level=notice changed=2 on-restart=1' "$T/greenwichd.log"
check "delivered after reload" deliver after-hup
finish
