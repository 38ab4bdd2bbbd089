#!/bin/bash
# Bindings are durable: they survive a clean restart and a kill -9, and
# messages are routed from them afterwards; SIGHUP re-reads the configuration.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf
add_user alice alice-pw
add_user bob bob-pw
start_gwd

B=$(free_port)
register rb bob bob-pw "<sip:bob@127.0.0.1:$B>" 600
check "bob registered" [ "$(last_status rb)" = 200 ]

deliver() { # deliver NAME: alice sends bob a MESSAGE; his device must get it
	sipp_bg "uas-$1" uas_message.xml "$B" -m 1
	local p=$SIPP_BG_PID
	sipp_run "$1" uac_message.xml -au alice -ap alice-pw -set user alice -set domain $DOMAIN \
		-set to "bob@$DOMAIN" -set body "text-$1"
	[ "$(last_status "$1")" = 200 ] && sipp_wait "$p" && grep -q "text-$1" "$T/uas-$1.msg"
}

check "delivered before restart" deliver before
stop_gwd TERM
check "clean stop logged with the bindings kept" grep -q "event=stopping.*bindings=1" "$T/greenwichd.log"
start_gwd
check "restart loaded the binding" grep -q "event=started.*bindings=1" "$T/greenwichd.log"
check "delivered after a clean restart" deliver after-term

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
check "delivered after reload" deliver after-hup
finish
