#!/bin/bash
# shellcheck disable=SC2016,SC2154 # scripts run in the domain; top_srcdir from lib.sh
# Domain users while the domain controller is down: a real Samba AD DC (tests/addc) in its
# own network namespace, greenwichd joined and running there with short directory cache
# lifetimes (3 s). alice and erin sign in with Kerberos (MS-SIPAE, tests/sipae's client)
# while the DC runs; nothing looks erin up by her SIP address. The DC is stopped for longer
# than every cache lifetime: alice signs in again (her service ticket needs no KDC) and her
# MESSAGE reaches erin's device, from erin's sign-in entry, used as the last known answer;
# carol, seen disabled, stays refused; a user never seen gets 503 with Retry-After. The
# outage is logged once. greenwichd restarts during the outage: the cache comes back from
# the state directory, erin signs in again and gets alice's next MESSAGE. The DC starts
# again: a change (carol enabled) and a user unknown before are seen without a restart.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/domain-lib.sh
. "$(dirname "$0")/domain-lib.sh"
domain_setup

PY=/usr/bin/python3
SAE="$top_srcdir/tests/sipae"
FQDN="greenwich.$DOMAIN"
in_dc() { "$ADDC" run-with-hosts "$D" -- "$@"; }

# erin is disabled and carol enabled in the fixtures: here it is the other way round
ldap_admin() { # ldap_admin LDIF: applied by Administrator over LDAP (DC running)
	printf '%s\n' "$1" | KRB5CCNAME="FILE:$D/admin.ccache" in_dc ldapmodify -Q -Y GSSAPI \
		-H "ldap://$ADDC_DC_FQDN" > "$T/ldapmodify.out" 2>&1
}
uac() { printf 'dn: CN=%s,CN=Users,%s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: %s\n' \
	"$1" "$ADDC_BASE_DN" "$2"; }
ldap_admin "$(uac erin 512)

$(uac carol 514)" || { cat "$T/ldapmodify.out"; exit 1; }

WITH_TLS=1 write_conf "[domain]" "name = $DOMAIN" "keytab = $D/gw.keytab" "sip-keytab = $D/sip.keytab" "fqdn = $FQDN" \
	"enabled-group = Greenwich Users" "cache-ttl = 3" "cache-negative-ttl = 3"
sed -i "s/^\[auth\]\$/[auth]\nschemes = Kerberos,NTLM/" "$T/greenwich.conf"
start_gwd
GWD_PID=$(cat "$T/gwd.realpid")
PIDS+=("$GWD_PID")

# Each user signs in from a credential cache of their own, with a TGT got now.
echo Apple-Pie-11 | KRB5CCNAME="FILE:$T/alice.cc" in_dc kinit alice > /dev/null
echo Emerald-55 | KRB5CCNAME="FILE:$T/erin.cc" in_dc kinit erin > /dev/null

client() { # client NAME USER ARGS...: the MS-SIPAE client (Kerberos) as USER; status in CRC
	local name="$1" who="$2"; shift 2
	KRB5CCNAME="FILE:$T/$who.cc" in_dc "$PY" "$SAE/sipae_client.py" --server "127.0.0.1:$TLSPORT" --tls \
		--domain "$DOMAIN" --scheme kerberos --user "$who" --trace "$T/$name.trace" "$@" \
		> "$T/$name.out" 2>&1 && CRC=0 || CRC=$?
}
erin_listens() { # erin_listens NAME: erin signs in and waits for one MESSAGE (background)
	rm -f "$T/$1.pid"
	KRB5CCNAME="FILE:$T/erin.cc" in_dc "$T/exec-pid" "$T/$1.pid" "$PY" "$SAE/sipae_client.py" \
		--server "127.0.0.1:$TLSPORT" --tls --domain "$DOMAIN" --scheme kerberos --user erin \
		--trace "$T/$1.trace" receive --count 1 --wait 40 > "$T/$1.log" 2>&1 &
	PIDS+=("$!")
	local _
	for _ in $(seq 1 100); do
		grep -q "^registered \|^exit=" "$T/$1.log" 2>/dev/null && break
		sleep 0.1
	done
	[ -s "$T/$1.pid" ] && PIDS+=("$(cat "$T/$1.pid")")
	grep -q "^registered " "$T/$1.log"
}
erin_got() { # erin_got NAME TEXT: erin's device received alice's MESSAGE with TEXT
	local _
	for _ in $(seq 1 50); do
		grep -q "^exit=" "$T/$1.log" && break
		sleep 0.1
	done
	grep -q "^MESSAGE from sip:alice@$DOMAIN .*: $2\$" "$T/$1.log"
}
send() { # send NAME TO TEXT [client options]: alice signs in and sends a MESSAGE
	local name="$1" to="$2" text="$3"; shift 3
	client "$name" alice "$@" send-message --to "sip:$to@$DOMAIN" --text "$text"
}

# --- the DC runs: both sign in; erin's sign-in is the only lookup of erin
check "erin signs in (Kerberos)" erin_listens erin-1
client alice-in alice register
check "alice signs in (Kerberos) (exit $CRC)" [ "$CRC" = 0 ]
send carol-before carol x --expect-status 403
check "carol (disabled) refused while the DC runs (exit $CRC)" [ "$CRC" = 0 ]
check "erin was never looked up by her SIP address" \
	bash -c '! grep -q "event=directory-lookup user=erin@" "$1"' - "$T/greenwichd.log"

# --- the DC stops, for longer than every cache lifetime
"$ADDC" stop "$D" > /dev/null
sleep 4
send m1 erin "while the DC is down"
check "DC down, caches expired: alice's MESSAGE to erin answered 2xx (exit $CRC)" [ "$CRC" = 0 ]
check "... and erin's device got it" erin_got erin-1 "while the DC is down"
check "erin found in the directory cache her sign-in filled" \
	grep -q "event=directory-found user=sip:erin@$DOMAIN" "$T/greenwichd.log"
send never gina x --expect-status 503
check "a user never seen: 503 (exit $CRC)" [ "$CRC" = 0 ]
check "... with Retry-After" grep -qiE "^ *Retry-After: *[0-9]" "$T/never.out"
check "... logged as unavailable" grep -q "event=directory-unavailable user=sip:gina@" \
	"$T/greenwichd.log"
send carol-down carol x --expect-status 403
check "carol, seen disabled, still refused (exit $CRC)" [ "$CRC" = 0 ]
check "... as disabled" grep -q "SIP/2.0 403 Account disabled" "$T/carol-down.trace"
check "the outage logged once" [ "$(grep -c "event=directory-offline" "$T/greenwichd.log")" = 1 ]
check "no 503 for erin" bash -c '! grep -q "event=directory-unavailable user=sip:erin@" "$1"' - \
	"$T/greenwichd.log"

# --- greenwichd restarts during the outage: the directory cache comes from disk
check "the cache file is in the state directory, mode 0600" \
	bash -c '[ "$(stat -c %a "$1")" = 600 ]' - "$T/state/directory-cache.db"
kill "$GWD_PID"
while kill -0 "$GWD_PID" 2>/dev/null; do sleep 0.05; done
start_gwd
GWD_PID=$(cat "$T/gwd.realpid")
PIDS+=("$GWD_PID")
check "restarted with the cache loaded from disk" \
	grep -Eq "event=directory .*cached=[1-9]" "$T/greenwichd.log"
check "erin signs in again, DC still down" erin_listens erin-2
send m2 erin "after the restart"
check "after the restart: alice's MESSAGE to erin answered 2xx (exit $CRC)" [ "$CRC" = 0 ]
check "... and erin's device got it" erin_got erin-2 "after the restart"
send never-2 gina x --expect-status 503
check "after the restart: a user never seen still 503 (exit $CRC)" [ "$CRC" = 0 ]

# --- the DC is back: what changed is seen without a restart
"$ADDC" start "$D" > /dev/null
ldap_admin "$(uac carol 512)" || { cat "$T/ldapmodify.out"; exit 1; }
st=
for i in $(seq 1 20); do
	send "carol-back-$i" carol x --expect-status 480
	[ "$CRC" = 0 ] && st=480 && break
	sleep 1
done
check "DC back: carol, enabled meanwhile, is known again (480, not signed in)" [ "$st" = 480 ]
send unknown-back gina x --expect-status 404
check "DC back: the user never seen is answered: 404 (exit $CRC)" [ "$CRC" = 0 ]
check "the return logged, with the stale answers counted" \
	grep -Eq "event=directory-online .*stale-answers=[1-9]" "$T/greenwichd.log"
check "greenwichd still running" kill -0 "$GWD_PID"
finish
